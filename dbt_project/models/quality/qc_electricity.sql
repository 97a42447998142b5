-- Electricity accounts of dwellings (not shop meters), judged on each account's latest row:
-- * account_holder_dead: the holder (户名) is a person of this dwelling whom the police register
--   as dead, or the only person of the district with that name, dead, or a dead person of that
--   name whose own records (户籍地址,
--   police 居住地址, last month's dwelling) name this very flat, whatever living namesakes live
--   elsewhere;
-- * account_holder_not_resident: the holder is not among the dwelling's residents but is a
--   resident elsewhere in the district, or has moved out;
-- * account_holder_unknown: nobody in the district's person data has the holder's name;
-- * account_vacant: nobody lives in the dwelling per the household file, and its meter reads like an
--   empty flat (or its people have just died or left), yet the account is active; or the people on
--   file are all living, under the elderly age or not on the elderly-alone list (or a listed person
--   the meters show moved to the list's flat), and the meter has gone dark: its latest reading fell
--   below the drop ratio of the flat's earlier lived-in level, this month or months ago (they have most
--   likely moved);
-- * elderly_power_drop: a listed elderly person's dwelling whose latest reading fell below the drop
--   ratio (normalize/domain_rules.yml) of the median of its earlier readings (a possible emergency:
--   visit at once); where the person's flat has no meter the hub could place, a meter the export
--   gives at building level only (no room) in their building, when they are the one listed person
--   there without a meter and it is the one such meter whose use collapsed in the latest month (not
--   already the month before): the meter is most likely theirs, and not taken for an empty flat; and
--   where the list's own 居住地址 names another flat than the hub's (room included, nobody on file
--   there) while the hub's flat shows no arrival of theirs this year, the meter at the list's flat
--   (the police are behind, the list is up to date); likewise where the hub's flat went dark while
--   the list's started to read lived in (a move to the list's flat): not the flat they left, whose
--   darkness is account_vacant's (the street is asked whether they moved).
-- Names are compared by characters or by pinyin (homophones, traditional characters).
with readings as (
    select * from {{ ref('int_quality_household_readings') }}
),

accounts as (
    select
        account_no,
        any_value(source) as source,
        max_by(source_file, (reading_month, source_row)) as source_file,
        max_by(source_row, (reading_month, source_row)) as source_row,
        max_by(account_name, (reading_month, source_row)) as holder,
        max_by(account_name_pinyin_key, (reading_month, source_row)) as holder_key,
        max_by(account_name_raw, (reading_month, source_row)) as holder_raw,
        max_by(supply_road, (reading_month, source_row)) as road,
        max_by(coalesce(supply_lane, ''), (reading_month, source_row)) as lane,
        max(reading_month) as last_month,
        max_by(kwh, (reading_month, source_row)) as last_kwh
    from readings
    group by account_no
),

month_medians as (
    -- the district's median reading of each month of the export
    select reading_month, median(kwh) as median_kwh from readings
    where kwh is not null
    group by reading_month
),

earlier as (
    -- the meter's earlier readings: their median, and the median of those that read lived in (the
    -- lived-in share of that month's district median: normalize/domain_rules.yml), the flat's level
    -- while people lived there, whatever dark months came since
    select
        r.account_no, median(r.kwh) as median_kwh, count(*) as months,
        max(r.kwh) filter (where r.reading_month = {{ previous_month('a.last_month') }}) as before_kwh,
        median(r.kwh) filter (where r.kwh >= {{ var('meter_lived_in_from_share') }} * mm.median_kwh)
            as lived_median_kwh,
        count(*) filter (where r.kwh >= {{ var('meter_lived_in_from_share') }} * mm.median_kwh) as lived_months
    from readings r
    join accounts a using (account_no)
    join month_medians mm using (reading_month)
    where r.reading_month < a.last_month and r.kwh is not null
    group by r.account_no
),

located as (
    -- a dwelling outside the address library is routed by its road and lane
    select
        a.*, hx.household_id, h.full_address,
        split_part(h.dwelling_key, '#', 1) as building, h.room as meter_room,
        coalesce(h.street_code, rl.street_code, rr.street_code) as street_code,
        coalesce(h.community_code, rl.community_code, rr.community_code) as community_code,
        h.member_count
    from accounts a
    join {{ source('master', 'household_xref') }} hx
        on
            hx.source_file = a.source_file and hx.source_row = a.source_row and hx.source = 'utility_electricity'
            and hx.delivery = {{ current_delivery() }}
    join {{ source('master', 'household') }} h on h.household_id = hx.household_id
    left join {{ ref('int_quality_road_routing') }} rl on rl.level = 'lane' and rl.road = a.road and rl.lane = a.lane
    left join {{ ref('int_quality_road_routing') }} rr on rr.level = 'road' and rr.road = a.road
),

-- the name key (a Python UDF) of each distinct name once: 1M persons have ~250k names
name_keys as (
    select name, cn_name_pinyin_key(name) as name_key
    from (
        select name from {{ source('master', 'person') }}
        union
        select name from {{ source('master', 'household_member') }}
        where delivery = {{ current_delivery() }}
    ) as n
    where name is not null
),

members as (
    select m.household_id, m.person_id, m.name, k.name_key, m.status
    from {{ source('master', 'household_member') }} m
    left join name_keys k on k.name = m.name
    where m.delivery = {{ current_delivery() }}
),

persons as (
    select
        p.person_id, p.name, k.name_key, p.status, p.household_id,
        p.in_latest_delivery, split_part(h.dwelling_key, '#', 1) as building, h.room
    from {{ source('master', 'person') }} p
    left join {{ source('master', 'household') }} h on h.household_id = p.household_id
    left join name_keys k on k.name = p.name
    where p.name is not null
),

-- living people the hub could not place (居住地址 blank, no conclusive evidence): where they live is
-- unknown, so a meter in their name may well be their home
unplaced as (
    select p.person_id, p.name, p.name_key
    from persons p
    join {{ source('master', 'person') }} mp using (person_id)
    where p.status = '正常' and p.household_id is null and mp.in_latest_delivery
),

home_namesakes as (
    -- the dwelling's own people (living, dead or moved out) with the holder's name: written the same,
    -- or, when nobody there is written the same, the same pinyin (a misspelt name). A homophone
    -- beside someone written exactly as the holder is another person (陆艳 and her late father 陆岩)
    select
        l.account_no, m.status,
        max(case when m.name = l.holder then 1 else 0 end) over (partition by l.account_no) as any_exact,
        case when m.name = l.holder then 1 else 0 end as exact
    from located l
    join members m on m.household_id = l.household_id and (m.name = l.holder or m.name_key = l.holder_key)
),

at_home as (
    -- the holder among the dwelling's own people, best status first
    select
        account_no,
        bool_or(status = '正常') as holder_lives_here,
        bool_or(status = '死亡') as holder_dead_here,
        bool_or(status = '迁出') as holder_moved_out
    from home_namesakes
    where exact = any_exact
    group by account_no
),

dead_linked as (
    -- the holder is a dead person whose own records name the meter's flat (the 户籍地址, the police
    -- 居住地址, the hub's dwelling last month), though the hub does not place them there (a blank
    -- 居住地址 this month): a living namesake elsewhere is someone else
    select distinct l.account_no
    from located l
    join {{ ref('int_person_dwelling_evidence') }} e
        on
            e.building = l.building and e.room = l.meter_room
            and e.kind in ('registered', 'own:police_population', 'last_month')
    join {{ ref('int_person_cluster_records') }} r on r.cluster_key = e.cluster_key and r.source = 'police_population'
    join {{ source('master', 'person_xref') }} x
        on
            x.delivery = {{ current_delivery() }} and x.source = r.source and x.source_file = r.source_file
            and x.source_row = r.source_row
    -- (master.person itself, not the persons CTE: Spark inlines a CTE at every reference)
    join {{ source('master', 'person') }} p on p.person_id = x.person_id
    where p.status = '死亡' and (p.name = l.holder or cn_name_pinyin_key(p.name) = l.holder_key)
),

-- people of the district with the holder's name: the same characters when there are any, else the
-- same pinyin (a misspelt name), counted per name key, per name and per building first and joined
-- to the accounts by equality (a join of accounts to persons grows with the square of the district:
-- a common name has more holders and more namesakes)
namesake_keys as (
    select
        coalesce(name_key, '#' || name) as name_join,
        count(*) filter (where status = '正常' and household_id is not null) as living_placed_any,
        count(*) filter (where status = '正常') as living_any,
        count(*) filter (where status = '死亡') as dead_any,
        count(*) filter (where status = '迁出') as moved_any,
        count(*) as total_any
    from persons
    group by all
),

namesake_names as (
    select
        coalesce(name_key, '#' || name) as name_join,
        name,
        count(*) filter (where status = '正常') as living_exact,
        count(*) filter (where status = '死亡') as dead_exact,
        count(*) filter (where status = '迁出') as moved_exact,
        count(*) as total_exact,
        count(*) filter (where status = '正常' and household_id is not null) as living_placed_exact
    from persons
    group by all
),

namesake_buildings as (
    select
        coalesce(name_key, '#' || name) as name_join,
        building,
        count(*) filter (where status = '正常') as living,
        count(*) filter (where status = '正常' and room is null) as living_room_unknown
    from persons
    where building is not null
    group by all
),

namesakes as (
    select
        l.account_no,
        sum(coalesce(n.living_exact, 0))::bigint as living_exact,
        sum(coalesce(n.dead_exact, 0))::bigint as dead_exact,
        sum(coalesce(n.moved_exact, 0))::bigint as moved_exact,
        sum(coalesce(n.total_exact, 0))::bigint as total_exact,
        sum(coalesce(n.living_placed_exact, 0))::bigint as living_placed_exact,
        sum(k.living_placed_any)::bigint as living_placed_any,
        sum(k.living_any)::bigint as living_any,
        sum(k.dead_any)::bigint as dead_any,
        -- a living namesake placed in this building with the room unknown (theirs or the meter's)
        sum(
            coalesce(case when l.meter_room is null then b.living else b.living_room_unknown end, 0)
        )::bigint as living_in_building_room_unknown,
        sum(k.moved_any)::bigint as moved_any,
        sum(k.total_any)::bigint as total_any
    from located l
    join namesake_keys k on k.name_join = coalesce(l.holder_key, '#' || l.holder)
    left join namesake_names n on n.name_join = k.name_join and n.name = l.holder
    left join namesake_buildings b on b.name_join = k.name_join and b.building = l.building
    group by l.account_no
),

judged as (
    select
        l.*,
        coalesce(m.holder_lives_here, false) as lives_here,
        coalesce(m.holder_dead_here, false) as dead_here,
        coalesce(m.holder_moved_out, false) as moved_out_here,
        coalesce(case when n.total_exact > 0 then n.living_exact else n.living_any end, 0) as living_namesakes,
        coalesce(case when n.total_exact > 0 then n.dead_exact else n.dead_any end, 0) as dead_namesakes,
        coalesce(case when n.total_exact > 0 then n.moved_exact else n.moved_any end, 0) as moved_namesakes,
        coalesce(case when n.total_exact > 0 then n.living_placed_exact else n.living_placed_any end, 0)
            as living_placed_namesakes,
        coalesce(n.total_any, 0) as namesakes,
        coalesce(n.dead_exact = 1 and n.total_exact = 1, false) or d.account_no is not null as dead_holder_identified,
        coalesce(n.living_in_building_room_unknown, 0) as living_in_building_room_unknown,
        e.median_kwh, e.months, e.before_kwh, e.lived_median_kwh,
        -- the drop rule (normalize/domain_rules.yml), once: the export's latest reading fell below the
        -- drop ratio of the meter's own earlier median, with enough history to have a median
        coalesce(
            l.last_month = {{ latest_reading_month() }}
            and e.months >= {{ var('power_drop_min_history') }}
            and l.last_kwh < {{ var('power_drop_ratio') }} * e.median_kwh,
            false
        ) as power_dropped,
        -- the same rule against the flat's lived-in level: a flat dark for months has gone dark too
        coalesce(
            l.last_month = {{ latest_reading_month() }}
            and e.lived_months >= {{ var('power_drop_min_history') }}
            and l.last_kwh < {{ var('power_drop_ratio') }} * e.lived_median_kwh,
            false
        ) as gone_dark
    from located l
    left join at_home m using (account_no)
    left join namesakes n using (account_no)
    left join earlier e using (account_no)
    left join dead_linked d using (account_no)
),

holder as (
    select
        case
            when dead_here or dead_holder_identified then 'account_holder_dead'
            when moved_out_here or namesakes > 0 then 'account_holder_not_resident'
            else 'account_holder_unknown'
        end as rule,
        *
    from judged
    where holder is not null and not lives_here
    -- a living namesake placed in this building with the room unknown (theirs or the meter's), or
    -- every namesake a living person the hub could not place: the holder may live right here, so
    -- nothing is claimed about them
    and not (
        not dead_here and not dead_holder_identified and not moved_out_here
        and (
            living_in_building_room_unknown > 0
            or (namesakes > 0 and living_namesakes = namesakes and living_placed_namesakes = 0)
        )
    )
),

holder_findings as (
    select
        {{ finding_row(
            'rule', "case rule when 'account_holder_dead' then 'high' else 'low' end", "'household'",
            'household_id', "'account:' || account_no", '', 'street_code', 'community_code', "'户名'", 'holder_raw'
        ) }},
        case rule
            when 'account_holder_dead' then '用电户（户号' || account_no || '）户名为已故居民，请提醒家属办理电力过户。'
            when 'account_holder_not_resident'
                then
                    '用电户（户号' || account_no || '）户名不是该户实际居住人员'
                    || case when moved_out_here then '（已迁出）' else '（登记居住在别处）' end
                    || '，请核实该户实际居住人员，必要时办理电力过户。'
            else '用电户（户号' || account_no || '）户名在本区人口数据中查无此人，请核实该户实际居住人员。'
        end as message
    from holder
),

elderly_homes as (
    -- every listed person's home: a list that is out of date is no reason to skip the alert
    select distinct pr.household_id
    from {{ ref('int_quality_person_rows') }} pr
    where pr.source = 'civil_affairs_elderly_alone' and pr.household_id is not null
),

-- a listed person the hub places alone at one flat while the list's own 居住地址 names another where
-- nobody is on file, and the meters say the list is up to date (int_quality_elderly_watch: the rule
-- the scenario elderly_power_alert reads too): where they moved to the list's flat (moved), its
-- meter is theirs to watch and the flat they left going dark was their leaving, no alarm (the
-- street is asked whether they moved: account_vacant on the reading); where the police are behind
-- (police_behind), the list's flat is watched as well as the hub's
elderly_watch as (
    select * from {{ ref('int_quality_elderly_watch') }}
),

elderly_list_moves as (
    select distinct household_id as left_household_id, list_household_id as household_id from elderly_watch
    where watch = 'moved'
),

left_flats as (
    select left_household_id, min(household_id) as list_household_id from elderly_list_moves
    group by left_household_id
),

-- the listed people's homes whose meters are watched: not a flat they moved from
watched_homes as (
    select household_id from elderly_homes
    where household_id not in (select left_household_id from elderly_list_moves)
),

elderly_list_flats as (
    select distinct list_household_id as household_id from elderly_watch
),

-- listed people placed in a room that no meter of this export was placed at, one per building: the
-- export writes some meters with the building only (no room), and such a meter there is the
-- likeliest to be theirs
elderly_unmetered as (
    select split_part(h.dwelling_key, '#', 1) as building, min(h.household_id) as household_id
    from elderly_homes e
    join {{ source('master', 'household') }} h on h.household_id = e.household_id
    where h.room is not null and h.electricity_accounts is null
    group by split_part(h.dwelling_key, '#', 1)
    having count(*) = 1
),

building_meter_drops as (
    -- the one building-level meter of the building whose reading dropped in the latest month after
    -- a month before it that had not (a meter dark for months is most likely a flat its people
    -- left; with two such meters, which one is theirs is not known)
    select min(j.account_no) as account_no, min(u.household_id) as elderly_household_id
    from judged j
    join elderly_unmetered u on u.building = j.building
    left join elderly_homes e on e.household_id = j.household_id
    -- (a meter at a listed person's own home is power_drop's)
    where
        j.meter_room is null and j.power_dropped and e.household_id is null
        and j.before_kwh >= {{ var('power_drop_ratio') }} * j.median_kwh
    group by j.building
    having count(distinct j.account_no) = 1
),

vacant as (
    select
        {{ finding_row(
            "'account_vacant'", "'low'", "'household'", 'j.household_id', "'account:' || j.account_no", 'j',
            'j.street_code', 'j.community_code', "'用电地址'", 'j.full_address'
        ) }},
        '住址“' || j.full_address || '”在人口数据中无人居住，但电表（户号' || j.account_no || '）仍在用电，请核实是否有未登记的实际居住人员。'
            as message
    from judged j
    -- a building-level meter taken for a listed elderly person's (power_drop_building_meter)
    left join building_meter_drops bm on bm.account_no = j.account_no
    where
        j.member_count = 0 and bm.account_no is null
        -- (the flat of a listed person whose list is up to date: elderly_list_flats)
        and j.household_id not in (select household_id from elderly_list_flats)
        -- an empty flat does not read lived in (under the lived-in share of the district's median in
        -- the export's latest month: normalize/domain_rules.yml, the same rule as the move models),
        -- whoever holds the account; a flat drawing ordinary power with nobody on file is lived in by
        -- people whose records are elsewhere, unless its people have just died or left (the export lags
        -- the delivery) and its holder is not someone the hub could not place (who may live here; a 户籍
        -- registered here is no sign of that: many live elsewhere)
        and (
            j.last_kwh < {{ var('meter_lived_in_from_share') }} * (
                select median(last_kwh) from accounts
                where last_month = {{ latest_reading_month() }}
            )
            or (
                exists (
                    select 1 from members m
                    where m.household_id = j.household_id and m.status <> '正常'
                )
                and not exists (
                    select 1 from unplaced u
                    where u.name = j.holder or (u.name_key is not null and u.name_key = j.holder_key)
                )
            )
        )
),

-- people on file whose flat's meter has gone dark: the latest reading of the export does not read
-- lived in (the lived-in share of the district's median) and is a power drop against the flat's own
-- earlier median (the drop rule: they used power here, and stopped); both in normalize/domain_rules.yml.
-- The police 居住地址 lags a move by months, so a family under the elderly age has most likely moved;
-- so have old people whom the elderly-alone list does not hold (moved in with their children, into
-- care): the finding asks the street to check, a knock on the door either way. The home of someone
-- on the list is an alarm (elderly_power_drop), not a vacancy
on_file_members as (
    select
        m.household_id,
        count(*) as people,
        bool_and(
            m.status = '正常'
            and {{ age_at('p.birth_date', delivery_month_end()) }} < {{ var('elderly_min_age') }}
        ) as all_living_under_elderly_age,
        bool_and(m.status = '正常') as all_living
    from members m
    join {{ source('master', 'person') }} p using (person_id)
    group by m.household_id
),

vacant_on_file as (
    select
        {{ finding_row(
            "'account_vacant'", "'low'", "'household'", 'j.household_id', "'account:' || j.account_no", 'j',
            'j.street_code', 'j.community_code', "'用电量'", 'j.last_kwh::string'
        ) }},
        case
            when mv.left_household_id is not null
                then
                    '住址“' || j.full_address || '”登记的独居老人，民政名单的居住地址为“' || lf.full_address
                    || '”，该处电表显示已有人入住；本处电表（户号' || j.account_no || '）' || j.last_month || '用电量仅'
                    || j.last_kwh::integer || '度，此前有人居住时月均' || j.lived_median_kwh::integer
                    || '度，老人应已搬离，请核实并更新居住地址。'
            else
                '住址“' || j.full_address || '”登记有' || o.people || '名居住人员（均未满{{ var("elderly_min_age") }}周岁），但电表（户号' || j.account_no || '）'
                || j.last_month || '用电量仅' || j.last_kwh::integer || '度，此前有人居住时月均' || j.lived_median_kwh::integer
                || '度，像已无人居住，请核实是否已搬离并更新居住地址。'
        end as message
    from judged j
    join on_file_members o on o.household_id = j.household_id
    -- a listed person's flat they left for the list's (elderly_list_moves)
    left join left_flats mv on mv.left_household_id = j.household_id
    left join {{ source('master', 'household') }} lf on lf.household_id = mv.list_household_id
    where
        j.member_count > 0
        and (
            o.all_living_under_elderly_age
            or (o.all_living and j.household_id not in (select household_id from watched_homes))
        )
        and j.gone_dark
        and j.last_kwh < {{ var('meter_lived_in_from_share') }} * (
            select median(last_kwh) from accounts
            where last_month = {{ latest_reading_month() }}
        )
),

power_drop as (
    select
        {{ finding_row(
            "'elderly_power_drop'", "'high'", "'household'", 'j.household_id', "'account:' || j.account_no", 'j',
            'j.street_code', 'j.community_code', "'用电量'", 'j.last_kwh::string'
        ) }},
        '独居老人住处（' || j.full_address || '）' || j.last_month || '用电量' || j.last_kwh::integer
        || '度，远低于此前月均' || j.median_kwh::integer || '度，请尽快上门或电话确认老人安全。' as message
    from judged j
    where
        (
            j.household_id in (select household_id from watched_homes)
            or j.household_id in (select household_id from elderly_list_flats)
        )
        -- (a meter whose readings stopped months ago has no latest reading to compare: no drop)
        and j.power_dropped
),

power_drop_building_meter as (
    select
        {{ finding_row(
            "'elderly_power_drop'", "'high'", "'household'", 'b.elderly_household_id', "'account:' || j.account_no", 'j',
            'h.street_code', 'h.community_code', "'用电量'", 'j.last_kwh::string'
        ) }},
        '独居老人住处（' || h.full_address || '）所在楼栋的电表（户号' || j.account_no || '，用电地址无室号）' || j.last_month
        || '用电量' || j.last_kwh::integer || '度，远低于此前月均' || j.median_kwh::integer
        || '度，该楼栋仅此老人住处未匹配到电表，请尽快上门或电话确认老人安全。' as message
    from judged j
    join building_meter_drops b using (account_no)
    join {{ source('master', 'household') }} h on h.household_id = b.elderly_household_id
),

final as (
    select * from holder_findings
    union all
    select * from vacant
    union all
    select * from vacant_on_file
    union all
    select * from power_drop
    union all
    select * from power_drop_building_meter
)

select * from final
