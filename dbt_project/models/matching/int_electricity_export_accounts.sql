-- The electricity accounts of this delivery's export and of the previous one (part of
-- int_person_moves, a table of its own for Spark, as int_dwelling_meter_use).
with export_accounts as (
    -- each electricity account of this delivery's export and of the previous one: its flat and the
    -- one name it is in (an account whose rows disagree on the name, or carry none, has no name)
    select
        u.delivery, u.account_no,
        case
            when count(distinct coalesce(u.account_name_pinyin_key, '#' || u.account_name)) = 1
                then min(coalesce(u.account_name_pinyin_key, '#' || u.account_name))
        end as name_key,
        min(u.account_name) as account_name,
        min(coalesce(l.address_id, 'unlisted:' || coalesce(un.building_key, u.supply_address_key))) as building,
        min(u.supply_room) as room
    from {{ ref('stg_utility_electricity') }} u
    left join {{ ref('int_address_lookup') }} l on l.address_key = u.supply_address_key
    left join {{ ref('int_address_unlisted') }} un on un.address_key = u.supply_address_key
    where
        u.account_no is not null and u.account_name is not null
        and (
            u.delivery = {{ current_delivery() }}
            or u.delivery = (
                select max(delivery) from {{ ref('stg_utility_electricity') }}
                where delivery < {{ current_delivery() }}
            )
        )
    group by u.delivery, u.account_no
),

final as (
    select * from export_accounts
)

select * from final
