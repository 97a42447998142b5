-- Electricity use per household and reading month in this delivery's export (the accounts that
-- master.household_xref resolved to the dwelling, summed), and the latest month against the
-- household's own usual level: the median of its earlier readings in the file. "Latest" is the
-- latest 抄表月份 in the delivery's file (utility exports lag the delivery by a month), not the
-- delivery month. A month with no reading is missing, not zero. Duplicate export rows count once. A
-- meter written with the building only counts for the listed elderly person's flat the quality rule
-- elderly_power_drop takes it for (qc_electricity: the one such flat without a meter in the building).
with params as (
    select
        {{ current_delivery() }} as delivery,
        {{ latest_reading_month() }} as delivery_month
),

readings as (
    select x.household_id, u.account_no, u.reading_month, u.kwh
    from {{ source('master', 'household_xref') }} x
    join {{ ref('stg_utility_electricity') }} u
        on u.source_file = x.source_file and u.source_row = x.source_row
    cross join params
    where
        x.delivery = params.delivery and x.source = 'utility_electricity'
        and u.reading_month is not null and u.kwh is not null
    union
    -- a meter the export gives at building level only, which the quality rule elderly_power_drop
    -- takes for a listed elderly person's flat that no meter names (qc_electricity): that flat's readings
    select f.entity_id, u.account_no, u.reading_month, u.kwh
    from {{ ref('qc_electricity') }} f
    join {{ ref('stg_utility_electricity') }} u on f.subject_key = 'account:' || u.account_no
    cross join params
    where
        f.rule = 'elderly_power_drop' and u.delivery = params.delivery
        and u.reading_month is not null and u.kwh is not null
),

per_month as (
    select household_id, reading_month, sum(kwh) as kwh, count(distinct account_no) as accounts
    from (
        select household_id, account_no, reading_month, max(kwh) as kwh from readings
        group by all
    ) as account_months
    group by all
),

summary as (
    select
        m.household_id,
        p.delivery_month as latest_month,
        max(m.kwh) filter (where m.reading_month = p.delivery_month) as latest_kwh,
        max(m.kwh) filter (
            where m.reading_month = {{ previous_month('p.delivery_month') }}
        ) as month_before_kwh,
        count(*) filter (where m.reading_month < p.delivery_month) as previous_readings,
        median(m.kwh) filter (where m.reading_month < p.delivery_month) as baseline_kwh,
        max(m.reading_month) as last_reading_month,
        min(m.reading_month) as first_reading_month,
        max(m.accounts) as accounts
    from per_month m cross join params p
    group by m.household_id, p.delivery_month
),

final as (
    select
        *,
        latest_kwh is null as latest_missing,
        -- no reading in the export's last two months: the meter has stopped being read (one missing
        -- month alone is an export gap, not a sign)
        latest_kwh is null and month_before_kwh is null as last_two_missing,
        -- months in the window since the first reading without any reading (gaps in the meter's history)
        ({{ months_between(month_start('first_reading_month'), month_start('latest_month')) }} + 1) - previous_readings
        - case when latest_kwh is not null then 1 else 0 end as missing_months
    from summary
)

select * from final
