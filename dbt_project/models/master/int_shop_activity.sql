-- Is this shop operating, since when (open_since: its first open visit after the last one finding
-- it closed), on what evidence: one row per shop (cluster) of this delivery. The one place the hub decides it: the shop file (master.shop status) and the quality
-- rules on operating shops (qc_shop_operating) both read this model.
--
-- Evidence: street visits (the latest open one, the latest finding it closed) and the shop's own
-- meter (the latest month of the electricity export, which lags the delivery, or the month before it
-- when the latest has no reading (an export gap), against the median of its earlier ones: visits are
-- rare, a meter reads every month). A shop is operating when its last visit found it open within the
-- last three months (or within the streets' rhythm of visits, its own meter not gone dark), or when
-- its meter draws its usual power and no visit has found it closed since the last open one.
with records as (
    select * from {{ ref('int_shop_street_records') }}
),

month_end as (
    select {{ delivery_month_end() }} as as_of
),

visit_rows as (
    select
        cluster_key, source_file, source_row, event_date as visited_on, sign_name, inspection_result,
        coalesce(inspection_result, '') = '已停业' as found_closed
    from records
    where source in ('street_shop_visits', 'street_shop_visits_app') and event_date is not null
),

visit_counts as (
    select cluster_key, count(*) as visit_count
    from records
    where source in ('street_shop_visits', 'street_shop_visits_app')
    group by cluster_key
),

visits as (
    select
        cluster_key,
        max(visited_on) as last_visit_date,
        max_by(inspection_result, (visited_on, -source_row)) as last_inspection_result,
        max_by(sign_name, (visited_on, -source_row)) as last_sign_name,
        max(visited_on) filter (where not found_closed) as last_open,
        max(visited_on) filter (where found_closed) as last_closed
    from visit_rows
    group by cluster_key
),

-- how long the streets take between two visits of the same shop: the gap (in months) that 90% of the
-- gaps between a shop's consecutive visits in this delivery's file do not exceed. An open visit
-- within it is as recent as the streets' rhythm allows (some shops are visited every five months)
visit_gaps as (
    select {{ months_between('previous_visit', 'visited_on') }} as gap
    from (
        select visited_on, lag(visited_on) over (partition by cluster_key order by visited_on) as previous_visit
        from visit_rows
    ) g
    where previous_visit < visited_on
),

visit_rhythm as (
    select max(gap) as months
    from (
        select gap, row_number() over (order by gap) as k, count(*) over () as n
        from visit_gaps
    ) r
    where k <= ceil(0.9 * n)
),

-- the visit before the last one (on an earlier day): whether the shop was seen again within the
-- streets' rhythm of visits
previous_visits as (
    select vr.cluster_key, max(vr.visited_on) as previous_visit
    from visit_rows vr
    join visits v using (cluster_key)
    where vr.visited_on < v.last_visit_date
    group by vr.cluster_key
),

open_streak as (
    -- the first open visit after the last one finding it closed
    select vr.cluster_key, min(vr.visited_on) as open_since
    from visit_rows vr
    join visits v using (cluster_key)
    where not vr.found_closed and vr.visited_on > coalesce(v.last_closed, date '1900-01-01')
    group by vr.cluster_key
),

meter_readings as (
    select r.cluster_key, u.reading_month, u.kwh
    from records r
    join {{ ref('stg_utility_electricity') }} u on u.source_file = r.source_file and u.source_row = r.source_row
    where r.source = 'utility_electricity' and u.kwh is not null
),

meters as (
    select
        cluster_key,
        -- the latest month of the export (it lags the delivery), against the months before it; a
        -- meter with no reading in the latest month alone is an export gap: the month before it tells
        coalesce(
            max(kwh) filter (where reading_month = {{ latest_reading_month() }}),
            max(kwh) filter (where reading_month = {{ previous_month(latest_reading_month()) }})
        ) as kwh_now,
        median(kwh) filter (where reading_month < {{ latest_reading_month() }}) as kwh_usual
    from meter_readings
    group by cluster_key
),

evidence as (
    select
        c.cluster_key,
        me.as_of,
        coalesce(vc.visit_count, 0) as visit_count,
        v.last_visit_date,
        pv.previous_visit,
        vr.months as visit_rhythm_months,
        v.last_inspection_result,
        v.last_sign_name,
        v.last_open,
        v.last_closed,
        os.open_since,
        m.kwh_now,
        m.kwh_usual,
        -- still open at the last visit
        coalesce(v.last_open is not null and (v.last_closed is null or v.last_open > v.last_closed), false)
            as open_at_last_visit,
        coalesce(v.last_open > me.as_of - interval 92 day and v.last_open <= me.as_of, false) as seen_open_recently,
        -- an open visit longer ago, within the streets' rhythm of visits, with no meter of the shop's
        -- own that has gone dark since
        coalesce(
            v.last_open <= me.as_of
            and {{ months_between('v.last_open', 'me.as_of') }} <= vr.months
            and (m.kwh_usual is null or (m.kwh_now >= 0.3 * m.kwh_usual and m.kwh_now > 0)),
            false
        ) as seen_open_in_rhythm,
        coalesce(v.last_closed is not null and (v.last_open is null or v.last_closed >= v.last_open), false)
            as closed_at_last_visit,
        coalesce(m.kwh_now >= 0.3 * m.kwh_usual and m.kwh_now > 0, false) as powered
    from (select distinct cluster_key from records) c
    cross join month_end me
    cross join visit_rhythm vr
    left join visit_counts vc using (cluster_key)
    left join visits v using (cluster_key)
    left join previous_visits pv using (cluster_key)
    left join open_streak os using (cluster_key)
    left join meters m using (cluster_key)
),

final as (
    select
        *,
        case
            when open_at_last_visit and (seen_open_recently or seen_open_in_rhythm) then 'visit'
            when powered and not closed_at_last_visit then 'meter'
        end as operating_evidence,
        (open_at_last_visit and (seen_open_recently or seen_open_in_rhythm))
        or (powered and not closed_at_last_visit) as operating
    from evidence
)

select * from final
