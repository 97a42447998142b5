with source as (
    select * from {{ source('raw', 'market_business_registry') }}
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
        uscc as uscc_raw,
        cn_normalize_uscc(uscc) as uscc,
        cn_uscc_check_ok(cn_normalize_uscc(uscc)) as uscc_check_ok,
        nullif(trim(entity_name), '') as entity_name,
        nullif(trim(entity_type), '') as entity_type,
        cn_normalize_name(legal_representative) as legal_representative,
        {{ address_columns('business_address', 'business') }},
        nullif(trim(business_scope), '') as business_scope,
        cn_parse_date(established_on) as established_on,
        registration_status as registration_status_raw,
        {{ vocab_value('registration_status', 'registration_status') }} as registration_status,
        cn_parse_date(approved_on) as approved_on
    from parsed
)

select * from final
