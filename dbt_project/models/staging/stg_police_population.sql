with source as (
    select * from {{ source('raw', 'police_population') }}
    {{ new_raw_rows() }}
),

-- addresses and names staged last delivery by the same normalisers, not normalised again
known_addresses as (
    {{ known_addresses(['registered', 'residence']) }}
),

known_names as (
    {{ known_names('name') }}
),

parsed as (
    select
        source.*,
        {{ known_address_columns('kr', 'registered') }},
        {{ known_address_columns('ks', 'residence') }},
        {{ known_name_columns('kn', 'name') }},
        {{ unless_known('kr', 'cn_parse_address(source.registered_address)') }} as registered_parsed,
        {{ unless_known('ks', 'cn_parse_address(source.residence_address)') }} as residence_parsed,
        {{ unless_known('kn', 'cn_normalize_name(source.name)') }} as name_normalized
    from source
    left join known_addresses as kr on source.registered_address = kr.raw
    left join known_addresses as ks on source.residence_address = ks.raw
    left join known_names as kn on source.name = kn.raw
),

final as (
    select
        {{ lineage_columns() }},
        {{ id_number_columns('id_number') }},
        {{ name_columns('name', reused=true) }},
        sex as sex_raw,
        {{ sex_value('sex') }} as sex,
        nullif(trim(ethnicity), '') as ethnicity,
        birth_date as birth_date_raw,
        cn_parse_date(birth_date) as birth_date,
        nullif(trim(hukou_number), '') as hukou_number,
        nullif(trim(relation_to_head), '') as relation_to_head,
        {{ address_columns('registered_address', 'registered', reused=true) }},
        {{ address_columns('residence_address', 'residence', reused=true) }},
        person_status as person_status_raw,
        {{ vocab_value(
            'person_status', 'person_status',
            under_elderly_age=age_at('cn_parse_date(birth_date)', 'last_day(' ~ month_start('delivery') ~ ')') ~ ' < ' ~ var('elderly_min_age')
        ) }} as person_status,
        nullif(trim(education), '') as education,
        {{ phone_columns('phone') }},
        cn_parse_date(updated_on) as updated_on,
        {{ normalized_by() }}
    from parsed
)

select * from final
