with source as (
    select * from {{ source('raw', 'market_food_licence') }}
    {{ new_raw_rows() }}
),

parsed as (
    select
        *,
        cn_parse_address(business_address) as business_parsed
    from source
),

final as (
    select
        {{ lineage_columns() }},
        upper(nullif(trim(licence_no), '')) as licence_no,
        nullif(trim(operator_name), '') as operator_name,
        uscc as uscc_raw,
        cn_normalize_uscc(uscc) as uscc,
        cn_uscc_check_ok(cn_normalize_uscc(uscc)) as uscc_check_ok,
        cn_normalize_name(legal_representative) as legal_representative,
        {{ address_columns('business_address', 'business') }},
        nullif(trim(business_format), '') as business_format,
        cn_parse_date(issued_on) as issued_on,
        cn_parse_date(valid_until) as valid_until
    from parsed
)

select * from final
