-- The readings of the household meters (int_household_electricity_rows: this delivery's export
-- rows but the shops' meters) with an account number, which the quality rules on household meters
-- judge (qc_electricity) and the elderly alarm's meters (int_quality_elderly_watch) are read from.
-- Ephemeral: a CTE of the two, not a table.
{{ config(materialized='ephemeral') }}

with final as (
    select
        account_no, reading_month, kwh, source, source_file, source_row,
        account_name, account_name_pinyin_key, account_name_raw, supply_road, supply_lane
    from {{ ref('int_household_electricity_rows') }}
    where account_no is not null
)

select * from final
