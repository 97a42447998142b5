-- Comparison vectors of record pairs drawn at random: almost all are different people, so their
-- level frequencies estimate the u probabilities of the Fellegi–Sunter model.
with sample_a as (
    {{ hash_sample(ref('int_person_records'), 'record_key', var('u_sample_records'), 17) }}
),

sample_b as (
    {{ hash_sample(ref('int_person_records'), 'record_key', var('u_sample_records'), 29) }}
),

final as (
    select {{ person_comparison_levels('a', 'b') }}
    from sample_a a
    cross join sample_b b
    where a.record_key <> b.record_key
)

select * from final
