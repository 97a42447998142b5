with source as (
    select * from {{ source('raw', 'civil_affairs_elderly_alone') }}
    {{ new_raw_rows() }}
),

parsed as (
    select
        *,
        cn_parse_address(residence_address) as residence_parsed
    from source
),

final as (
    select
        {{ lineage_columns() }},
        {{ name_columns('name') }},
        {{ id_number_columns('id_number') }},
        sex as sex_raw,
        {{ sex_value('sex') }} as sex,
        try_cast(regexp_extract(age, '\d+', 0) as integer) as age,
        {{ address_columns('residence_address', 'residence') }},
        {{ phone_columns('phone') }},
        cn_normalize_name(emergency_contact) as emergency_contact,
        {{ phone_columns('emergency_phone', 'emergency_phone') }},
        nullif(trim(community_name), '') as community_name
    from parsed
)

select * from final
