-- Every candidate pair with its match weight per field (the explanation) and the posterior
-- probability that the two records are one person.
with comparisons as (
    select * from {{ ref('int_person_pair_comparisons') }}
),

weights as (
    select * from {{ ref('int_person_match_weights') }}
),

scored as (
    select
        c.*,
        w_id.weight as id_weight,
        w_name.weight as name_weight,
        w_birth.weight as birth_weight,
        w_sex.weight as sex_weight,
        w_address.weight as address_weight,
        w_phone.weight as phone_weight,
        log2(w_id.prior / (1 - w_id.prior))
        + w_id.weight + w_name.weight + w_birth.weight + w_sex.weight + w_address.weight + w_phone.weight
            as match_weight
    from comparisons c
    join weights w_id on w_id.field = 'id_level' and w_id.level = c.id_level
    join weights w_name on w_name.field = 'name_level' and w_name.level = c.name_level
    join weights w_birth on w_birth.field = 'birth_level' and w_birth.level = c.birth_level
    join weights w_sex on w_sex.field = 'sex_level' and w_sex.level = c.sex_level
    join weights w_address on w_address.field = 'address_level' and w_address.level = c.address_level
    join weights w_phone on w_phone.field = 'phone_level' and w_phone.level = c.phone_level
),

final as (
    select
        *,
        -- two different valid ID numbers are two people, whatever else agrees
        case
            when conflicting_ids then 0.0
            -- birth dates that differ by more than a typo (another year or month, not day and month
            -- swapped), without an ID number to vouch for them: namesakes, whom candidate blocking by
            -- name puts side by side far more often than random pairs of records. At most the review
            -- band: a person decides, the hub does not link them on its own.
            when birth_level = 'diff' and id_level not in ('exact', 'one_edit')
                then least(1.0 / (1.0 + pow(2.0, -match_weight)), {{ var('person_birth_conflict_cap') }})
            else 1.0 / (1.0 + pow(2.0, -match_weight))
        end as probability
    from scored
)

select * from final
