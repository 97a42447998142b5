-- Pairs the data labels as the same person by itself: two records carrying the same valid ID
-- number. Their comparison levels start the m probabilities (how a true match looks in these
-- registries: how often names are spelled differently, addresses stale, phones changed).
with records as (
    select * from {{ ref('int_person_records') }}
    where has_valid_id
),

pairs as (
    select {{ person_comparison_levels('a', 'b') }}
    from records a
    join records b on a.id_number = b.id_number and a.record_key < b.record_key
),

final as (
    select * from pairs using sample reservoir ({{ var('labelled_pairs_sample') }} rows) repeatable (7)
)

select * from final
