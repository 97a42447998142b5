-- Each dwelling's electricity use in the export's latest month and the month before it, whether it
-- reads empty or lived in then, since which month it has read empty, the last month it read lived
-- in and the latest month it started to (a month lived in after one that was not: someone came)
-- (part of int_person_moves
-- and int_person_residence). A table of its own: the move rules read it five times, and Spark
-- inlines a CTE at every reference (int_person_moves' plan had grown to ~9,000 operators, most of a
-- delivery's Spark time on a small district).
with meter_use as (
    select
        coalesce(l.address_id, 'unlisted:' || coalesce(un.building_key, u.supply_address_key)) as building,
        u.supply_room as room, u.reading_month, sum(u.kwh) as kwh
    from (
        select distinct account_no, supply_address_key, supply_room, reading_month, kwh
        from {{ ref('stg_utility_electricity') }}
        where delivery = {{ current_delivery() }} and supply_room is not null and kwh is not null
    ) u
    left join {{ ref('int_address_lookup') }} l on l.address_key = u.supply_address_key
    left join {{ ref('int_address_unlisted') }} un on un.address_key = u.supply_address_key
    group by all
),

reading_months as (
    -- the month before the export's latest
    select max(reading_month) as before_month from meter_use
    where reading_month < {{ latest_reading_month() }}
),

monthly_median as (
    select reading_month, median(kwh) as median_kwh from meter_use
    group by reading_month
),

empty_run as (
    -- the first month of the run of empty readings each flat's export ends with (null: its latest
    -- month does not read empty), by the same share of each month's median dwelling
    select building, room, min(reading_month) filter (where reading_month > coalesce(last_not_empty, '')) as empty_since
    from (
        select
            u.building, u.room, u.reading_month,
            max(u.reading_month) filter (
                where u.kwh >= {{ var('meter_empty_below_share') }} * m.median_kwh
            ) over (partition by u.building, u.room) as last_not_empty
        from meter_use u
        join monthly_median m using (reading_month)
    ) r
    group by building, room
),

lived_months as (
    -- the last month each flat read lived in, and the latest month it read lived in after a month it
    -- did not (someone came), by the lived-in share of each month's median dwelling
    select
        building, room,
        max(reading_month) filter (where lived_in) as last_lived_month,
        max(reading_month) filter (
            where lived_in and not before_lived_in and before_month = {{ previous_month('reading_month') }}
        ) as arrival_month
    from (
        select
            u.building, u.room, u.reading_month,
            u.kwh >= {{ var('meter_lived_in_from_share') }} * m.median_kwh as lived_in,
            lag(u.kwh >= {{ var('meter_lived_in_from_share') }} * m.median_kwh) over (
                partition by u.building, u.room order by u.reading_month
            ) as before_lived_in,
            lag(u.reading_month) over (partition by u.building, u.room order by u.reading_month) as before_month
        from meter_use u
        join monthly_median m using (reading_month)
    ) r
    group by building, room
),

dwelling_use as (
    -- a flat "reads empty" in a month when its use is under 15% of the district's median dwelling
    -- that month, and "lived in" above 30% of it (medians of this delivery's export), in the
    -- export's latest month and in the month before it (a flat with no reading that month: null)
    select
        *,
        kwh_latest < {{ var('meter_empty_below_share') }} * median(kwh_latest) over () as reads_empty,
        kwh_latest >= {{ var('meter_lived_in_from_share') }} * median(kwh_latest) over () as lived_in,
        kwh_before < {{ var('meter_empty_below_share') }} * median(kwh_before) over () as read_empty_before,
        kwh_before >= {{ var('meter_lived_in_from_share') }} * median(kwh_before) over () as lived_in_before
    from (
        select
            u.building, u.room,
            max(u.kwh) filter (where u.reading_month = {{ latest_reading_month() }}) as kwh_latest,
            max(u.kwh) filter (where u.reading_month = m.before_month) as kwh_before
        from meter_use u
        cross join reading_months m
        group by u.building, u.room
    )
    where kwh_latest is not null
),

final as (
    select
        d.*, case when d.reads_empty then e.empty_since end as empty_since, l.last_lived_month, l.arrival_month
    from dwelling_use d
    left join empty_run e using (building, room)
    left join lived_months l using (building, room)
)

select * from final
