-- Electricity meters at dwellings: every meter row of this delivery with a supply address and
-- room, placed at its dwelling (standard address + room, or the address as written when the
-- library does not have it). A meter at a shop's premises serves the shop, not a dwelling.
with shop_meters as (
    select source_file, source_row from {{ ref('int_shop_records') }}
    where source = 'utility_electricity'
),

meters as (
    select * from {{ ref('stg_utility_electricity') }}
    where delivery = {{ current_delivery() }} and supply_room is not null and supply_address_key is not null
),

final as (
    select
        u.source_file,
        u.source_row,
        u.account_no,
        l.address_id,
        coalesce(l.address_id, 'unlisted:' || u.supply_address_key) || '#' || u.supply_room as dwelling_key,
        u.supply_address_key as address_key,
        u.supply_room as room,
        l.match_rule
    from meters u
    left join {{ ref('int_address_lookup') }} l on l.address_key = u.supply_address_key
    where (u.source_file, u.source_row) not in (select (source_file, source_row) from shop_meters)
)

select * from final
