with source as (
    select * from {{ source('raw', 'utility_electricity') }}
    {{ new_raw_rows() }}
),

parsed as (
    select
        *,
        cn_parse_address(supply_address) as supply_parsed
    from source
),

final as (
    select
        {{ lineage_columns() }},
        nullif(trim(account_no), '') as account_no,
        {{ name_columns('account_name', 'account_name') }},
        {{ address_columns('supply_address', 'supply') }},
        {{ phone_columns('phone') }},
        cn_parse_year_month(reading_month) as reading_month,
        try_cast(replace(trim(kwh), ',', '') as double) as kwh
    from parsed
)

select * from final
