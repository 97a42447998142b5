-- This delivery's electricity export rows of dwellings: every row with an account number, but the
-- meters at a shop's premises (int_shop_records: they serve the shop). The readings the quality rules
-- on household meters judge (qc_electricity) and the elderly alarm's meters (int_quality_elderly_watch)
-- are read from. Ephemeral: a CTE of the two, not a table.
{{ config(materialized='ephemeral') }}

with shop_meters as (
    select source_file, source_row from {{ ref('int_shop_records') }}
    where source = 'utility_electricity'
),

final as (
    select
        u.account_no, u.reading_month, u.kwh, u.source, u.source_file, u.source_row,
        u.account_name, u.account_name_pinyin_key, u.account_name_raw, u.supply_road, u.supply_lane
    from {{ ref('stg_utility_electricity') }} u
    where
        u.delivery = {{ current_delivery() }} and u.account_no is not null
        and not exists (
            select 1 from shop_meters s
            where s.source_file = u.source_file and s.source_row = u.source_row
        )
)

select * from final
