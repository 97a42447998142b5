-- The comparison vector of every candidate pair.
with pairs as (
    select * from {{ ref('int_person_candidate_pairs') }}
),

records as (
    select * from {{ ref('int_person_records') }}
),

final as (
    select
        p.record_a,
        p.record_b,
        p.blocking_rules,
        a.has_valid_id and b.has_valid_id and a.id_number <> b.id_number as conflicting_ids,
        {{ person_comparison_levels('a', 'b') }}
    from pairs p
    join records a on a.record_key = p.record_a
    join records b on b.record_key = p.record_b
)

select * from final
