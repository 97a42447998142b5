with source as (
    select * from {{ source('raw', 'police_population') }}
    {{ new_raw_rows() }}
),

parsed as (
    select
        *,
        cn_parse_address(registered_address) as registered_parsed,
        cn_parse_address(residence_address) as residence_parsed
    from source
),

final as (
    select
        {{ lineage_columns() }},
        {{ id_number_columns('id_number') }},
        {{ name_columns('name') }},
        sex as sex_raw,
        {{ sex_value('sex') }} as sex,
        nullif(trim(ethnicity), '') as ethnicity,
        birth_date as birth_date_raw,
        cn_parse_date(birth_date) as birth_date,
        nullif(trim(hukou_number), '') as hukou_number,
        nullif(trim(relation_to_head), '') as relation_to_head,
        {{ address_columns('registered_address', 'registered') }},
        {{ address_columns('residence_address', 'residence') }},
        person_status as person_status_raw,
        {{ vocab_value(
            'person_status', 'person_status',
            under_elderly_age=age_at('cn_parse_date(birth_date)', 'last_day(' ~ month_start('delivery') ~ ')') ~ ' < ' ~ var('elderly_min_age')
        ) }} as person_status,
        nullif(trim(education), '') as education,
        {{ phone_columns('phone') }},
        cn_parse_date(updated_on) as updated_on
    from parsed
)

select * from final
