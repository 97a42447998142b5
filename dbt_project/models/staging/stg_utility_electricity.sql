with source as (
    select * from {{ source('raw', 'utility_electricity') }}
    {{ new_raw_rows() }}
),

-- addresses and names staged last delivery by the same normalisers, not normalised again
known_addresses as (
    {{ known_addresses(['supply']) }}
),

known_names as (
    {{ known_names('account_name') }}
),

parsed as (
    select
        source.*,
        {{ known_address_columns('ka', 'supply') }},
        {{ known_name_columns('kn', 'account_name') }},
        {{ unless_known('ka', 'cn_parse_address(source.supply_address)') }} as supply_parsed,
        {{ unless_known('kn', 'cn_normalize_name(source.account_name)') }} as account_name_normalized
    from source
    left join known_addresses as ka on source.supply_address = ka.raw
    left join known_names as kn on source.account_name = kn.raw
),

final as (
    select
        {{ lineage_columns() }},
        nullif(trim(account_no), '') as account_no,
        {{ name_columns('account_name', 'account_name', reused=true) }},
        {{ address_columns('supply_address', 'supply', reused=true) }},
        {{ phone_columns('phone') }},
        cn_parse_year_month(reading_month) as reading_month,
        try_cast(replace(trim(kwh), ',', '') as double) as kwh,
        {{ normalized_by() }}
    from parsed
)

select * from final
