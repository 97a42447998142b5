-- Pairs the data labels as the same person by itself: two records carrying the same valid ID
-- number. Their comparison levels start the m probabilities (how a true match looks in these
-- registries: how often names are spelled differently, addresses stale, phones changed).
with records as (
    select * from {{ ref('int_person_records') }}
    where has_valid_id
),

pairs as (
    select a.record_key || '|' || b.record_key as pair_key, {{ person_comparison_levels('a', 'b') }}
    from records a
    join records b on a.id_number = b.id_number and a.record_key < b.record_key
),

sampled as (
    {{ hash_sample('pairs', 'pair_key', var('labelled_pairs_sample'), 7) }}
),

final as (
    select id_level, name_level, birth_level, sex_level, address_level, phone_level from sampled
)

select * from final
