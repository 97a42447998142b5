-- The flat whose meter the elderly alarm watches for a person on the elderly-alone list, where that
-- is not (only) the flat the hub places them at: one rule for the quality rule elderly_power_drop
-- (qc_electricity) and the scenario elderly_power_alert (tgt_person_facts.watched_household_id).
-- A listed person the hub places alone at one flat (the police's 居住地址) while the list's own
-- 居住地址 names another, room included, where nobody is on file:
-- * moved: the meters tell a move: the hub's flat stopped reading lived in (its latest reading does
--   not) and the list's flat started to (a month lived in after one that was not) no earlier than
--   the hub's flat last read lived in. The person moved to the list's flat (the police are behind):
--   its meter is theirs to watch, and the hub's flat going dark was their leaving, no alarm (the
--   street is asked whether they moved: account_vacant on the reading);
-- * police_behind: the hub's flat shows no arrival of theirs (its meter read in every month of the
--   export and never read empty: nobody moved in this year): the list is up to date and the police
--   behind, and the meter of the list's flat is theirs to watch (where they did move from the list's
--   flat to the hub's, that one's meter shows them arriving, and the list's flat going dark is their
--   leaving); the hub's flat stays watched as well.
-- Lived in, empty: the lived-in and empty shares of that month's district median
-- (normalize/domain_rules.yml). Meters: the accounts of dwellings (int_quality_household_readings,
-- as qc_electricity), each at the household its latest row was placed in.
with readings as (
    select account_no, reading_month, kwh, source_file, source_row
    from {{ ref('int_quality_household_readings') }}
),

month_medians as (
    -- the district's median reading of each month of the export
    select reading_month, median(kwh) as median_kwh from readings
    where kwh is not null
    group by reading_month
),

located as (
    -- each account at the household of its latest row
    select a.account_no, hx.household_id
    from (
        select
            account_no,
            max_by(source_file, (reading_month, source_row)) as source_file,
            max_by(source_row, (reading_month, source_row)) as source_row
        from readings
        group by account_no
    ) a
    join {{ source('master', 'household_xref') }} hx
        on
            hx.source_file = a.source_file and hx.source_row = a.source_row and hx.source = 'utility_electricity'
            and hx.delivery = {{ current_delivery() }}
),

meter_months as (
    select r.account_no, r.reading_month, bool_or(r.kwh >= {{ var('meter_lived_in_from_share') }} * mm.median_kwh) as lived_in
    from readings r
    join month_medians mm using (reading_month)
    where r.kwh is not null
    group by r.account_no, r.reading_month
),

meters_left as (
    -- meters that read lived in once and not in the export's latest month: the last month they did
    select account_no, max(reading_month) filter (where lived_in) as last_lived_month
    from meter_months
    group by account_no
    having
        max(reading_month) = {{ latest_reading_month() }}
        and max(reading_month) filter (where lived_in) < max(reading_month)
),

meter_arrivals as (
    -- the latest month a meter read lived in after a month it did not (someone came)
    select cur.account_no, max(cur.reading_month) as arrival_month
    from meter_months cur
    join meter_months prev
        on prev.account_no = cur.account_no and prev.reading_month = {{ previous_month('cur.reading_month') }}
    where cur.lived_in and not prev.lived_in
    group by cur.account_no
),

export_months as (
    select min(reading_month) as first_month from readings
),

steady_meters as (
    -- meters read from the export's first month on that never read empty
    select r.account_no
    from readings r
    join month_medians mm using (reading_month)
    where r.kwh is not null
    group by r.account_no
    having
        min(r.reading_month) = (select first_month from export_months)
        and bool_and(r.kwh >= {{ var('meter_empty_below_share') }} * mm.median_kwh)
),

list_flats as (
    -- the listed people the hub places alone at one flat while the list names another, room
    -- included, where nobody is on file
    select distinct pr.person_id, ph.household_id, lh.household_id as list_household_id
    from {{ ref('int_quality_person_rows') }} pr
    join {{ source('master', 'household') }} ph on ph.household_id = pr.household_id
    join {{ source('master', 'household') }} lh on lh.dwelling_key = pr.row_address_id || '#' || pr.room
    where
        pr.source = 'civil_affairs_elderly_alone' and pr.room is not null and pr.row_address_id is not null
        and lh.household_id <> ph.household_id
        and lh.member_count = 0 and ph.member_count = 1
),

moved as (
    select distinct f.person_id, f.household_id, f.list_household_id, 'moved' as watch
    from list_flats f
    join located pl on pl.household_id = f.household_id
    join meters_left ml on ml.account_no = pl.account_no
    join located ll on ll.household_id = f.list_household_id
    join meter_arrivals ma on ma.account_no = ll.account_no
    where ma.arrival_month >= ml.last_lived_month
),

police_behind as (
    select distinct f.person_id, f.household_id, f.list_household_id, 'police_behind' as watch
    from list_flats f
    join located pl on pl.household_id = f.household_id
    join steady_meters sm on sm.account_no = pl.account_no
),

final as (
    select * from moved
    union all
    select * from police_behind
)

select * from final
