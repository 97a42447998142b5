-- This delivery's electricity export rows of dwellings: every row but those of the meters at a
-- shop's premises (int_shop_records: they serve the shop). The one place that says which meters are
-- households': int_household_meters places them in dwellings, the quality rules on household
-- meters (int_quality_household_readings) read their readings. Ephemeral: a CTE, not a table.
{{ config(materialized='ephemeral') }}

with shop_meters as (
    select source_file, source_row from {{ ref('int_shop_records') }}
    where source = 'utility_electricity'
),

final as (
    select
        u.delivery, u.source, u.source_file, u.source_row, u.account_no, u.account_name,
        u.account_name_pinyin_key, u.account_name_raw, u.supply_address_key, u.supply_room,
        u.supply_road, u.supply_lane, u.reading_month, u.kwh
    from {{ ref('stg_utility_electricity') }} u
    where
        u.delivery = {{ current_delivery() }}
        and not exists (
            select 1 from shop_meters s
            where s.source_file = u.source_file and s.source_row = u.source_row
        )
)

select * from final
