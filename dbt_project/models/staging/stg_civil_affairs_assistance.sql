with source as (
    select * from {{ source('raw', 'civil_affairs_assistance') }}
    {{ new_raw_rows() }}
),

parsed as (
    select
        *,
        cn_parse_address(family_address) as family_parsed
    from source
),

final as (
    select
        {{ lineage_columns() }},
        nullif(trim(aid_certificate_no), '') as aid_certificate_no,
        aid_type as aid_type_raw,
        {{ vocab_value('aid_type', 'aid_type') }} as aid_type,
        {{ name_columns('head_name', 'head_name') }},
        {{ id_number_columns('head_id_number', 'head_id_number') }},
        {{ name_columns('member_name', 'name') }},
        {{ id_number_columns('member_id_number', 'id_number') }},
        nullif(trim(relation_to_head), '') as relation_to_head,
        try_cast(trim(family_size) as integer) as family_size,
        {{ to_decimal('monthly_amount') }} as monthly_amount,
        {{ address_columns('family_address', 'family') }},
        nullif(trim(street_name), '') as street_name,
        nullif(trim(community_name), '') as community_name,
        cn_parse_year_month(aid_since) as aid_since
    from parsed
)

select * from final
