-- Street shops operating whose food licence has expired, whose business was deregistered or
-- revoked, or that have neither a registration nor a licence. Whether and since when a shop
-- operates is decided once, in int_shop_activity (the shop file reads it too). "Operating after a
-- date" means a street visit after that date found it open (not 已停业) and no later visit found it
-- closed; for a licence, also the shop's own meter still drawing its usual power in the latest month
-- of the electricity export (visits are rare). Unregistered needs an open last visit, in the last
-- three months or with the shop's own meter drawing its usual power. The finding
-- points at the record that shows the problem: the licence, the registration, or the latest visit.
with shops as (
    select * from {{ source('master', 'shop') }}
    where in_latest_delivery
),

xref as (
    select x.shop_code, x.source, x.source_file, x.source_row
    from {{ source('master', 'shop_xref') }} x
    where x.delivery = {{ current_delivery() }}
),

licences as (
    select
        x.shop_code,
        max_by(x.source_file, l.valid_until) as source_file,
        max_by(x.source_row, l.valid_until) as source_row,
        max_by(l.licence_no, l.valid_until) as licence_no,
        max(l.valid_until) as valid_until
    from xref x
    join {{ ref('stg_market_food_licence') }} l on l.source_file = x.source_file and l.source_row = x.source_row
    where x.source = 'market_food_licence'
    group by x.shop_code
),

registrations as (
    select
        x.shop_code,
        max_by(x.source_file, r.approved_on) as source_file,
        max_by(x.source_row, r.approved_on) as source_row,
        max_by(r.registration_status_raw, r.approved_on) as status_raw,
        max_by(r.registration_status, r.approved_on) as status,
        max_by(r.entity_name, r.approved_on) as entity_name,
        max(r.approved_on) as approved_on
    from xref x
    join {{ ref('stg_market_business_registry') }} r on r.source_file = x.source_file and r.source_row = x.source_row
    where x.source = 'market_business_registry'
    group by x.shop_code
),

visit_rows as (
    select x.shop_code, x.source, x.source_file, x.source_row, v.visited_on, v.sign_name
    from xref x
    join {{ ref('stg_street_shop_visits') }} v on v.source_file = x.source_file and v.source_row = x.source_row
    where x.source in ('street_shop_visits', 'street_shop_visits_app') and v.visited_on is not null
),

visits as (
    -- the latest visit, the record an unregistered shop's finding points at
    select
        shop_code,
        max_by(source, (visited_on, -source_row)) as source,
        max_by(source_file, (visited_on, -source_row)) as source_file,
        max_by(source_row, (visited_on, -source_row)) as source_row,
        max_by(sign_name, (visited_on, -source_row)) as sign_name
    from visit_rows
    group by shop_code
),

-- how many units the records at a premises name (a mall, a market hall)
units_at_premises as (
    select address_key, count(distinct unit) as units
    from {{ ref('int_shop_records') }}
    group by address_key
),

-- how well the records place the shop: how many it has, whether a visit names the unit, and how many
-- units its premises hold
visit_places as (
    select
        x.shop_code,
        count(*) as records,
        count(r.unit) filter (where x.source in ('street_shop_visits', 'street_shop_visits_app')) as visits_with_unit,
        count(*) filter (where x.source not in ('street_shop_visits', 'street_shop_visits_app')) as other_records,
        max(p.units) as premises_units
    from xref x
    join {{ ref('int_shop_records') }} r on r.source_file = x.source_file and r.source_row = x.source_row
    left join units_at_premises p on p.address_key = r.address_key
    group by x.shop_code
),

activity as (
    select
        m.shop_code, a.last_open, a.last_closed, a.open_at_last_visit, a.seen_open_recently, a.seen_open_in_rhythm,
        a.powered, a.as_of, a.last_visit_date, a.previous_visit, a.visit_rhythm_months
    from {{ ref('int_shop_activity') }} a
    join {{ source('master', 'shop_code_map') }} m
        on m.cluster_key = a.cluster_key and m.delivery = {{ current_delivery() }}
),

expired as (
    select
        'licence_expired_operating' as rule, 'high' as severity,
        'shop' as entity_type, s.shop_code as entity_id, s.shop_code as subject_key,
        'market_food_licence' as source, l.source_file, l.source_row, s.street_code, s.community_code,
        '有效期至' as field,
        {{ format_date('l.valid_until', 'YYYY-MM-DD') }} as observed_value,
        null::string as suggested_value,
        '食品经营许可证（' || coalesce(l.licence_no, '无编号') || '）已于' || {{ format_date('l.valid_until', 'YYYY-MM-DD') }}
        || '到期，但' || case
            when a.last_open > l.valid_until then {{ format_date('a.last_open', 'YYYY-MM-DD') }} || '走访时该店仍在营业'
            else '该店电表本月仍正常用电'
        end
        || '，请督促办理延续或停止经营。' as message
    from shops s
    join activity a using (shop_code)
    join licences l using (shop_code)
    left join registrations r using (shop_code)
    where l.valid_until < a.as_of
    -- deregistered after the last open visit: it has closed since
    and not (r.status in ('注销', '吊销') and r.approved_on > coalesce(a.last_open, date '1900-01-01'))
    and (a.last_closed is null or a.last_closed < l.valid_until)
    and ((a.open_at_last_visit and a.last_open > l.valid_until) or a.powered)
),

deregistered as (
    select
        'deregistered_operating', 'high',
        'shop', s.shop_code as entity_id, s.shop_code as subject_key,
        'market_business_registry', r.source_file, r.source_row, s.street_code, s.community_code,
        '登记状态',
        r.status_raw,
        null::string,
        '市场主体（' || coalesce(r.entity_name, '') || '）登记状态为' || coalesce(r.status_raw, '注销') || '，但'
        || {{ format_date('a.last_open', 'YYYY-MM-DD') }} || '走访时该店仍在营业，请核实经营主体并通报市场监管所。'
    from shops s
    join activity a using (shop_code)
    join registrations r using (shop_code)
    where
        r.status in ('注销', '吊销')
        and a.open_at_last_visit
        and (r.approved_on is null or a.last_open > r.approved_on)
),

unregistered as (
    select
        'unregistered_operating', 'medium',
        'shop', s.shop_code as entity_id, s.shop_code as subject_key,
        v.source, v.source_file, v.source_row, s.street_code, s.community_code,
        '店招名称',
        v.sign_name,
        null::string,
        '沿街商铺“' || coalesce(v.sign_name, '') || '”' || {{ format_date('a.last_open', 'YYYY-MM-DD') }}
        || '走访时在营业，' || case when a.seen_open_recently or a.seen_open_in_rhythm then '' else '其电表本月仍正常用电，' end
        || '但查不到其营业执照登记或食品经营许可，请核实是否无证经营。'
    from shops s
    join activity a using (shop_code)
    join visits v using (shop_code)
    join visit_places vp using (shop_code)
    -- operating: found open at its last visit, within the last three months or with its own meter
    -- still drawing its usual power (visits are rare); or longer ago, within the streets' rhythm of
    -- visits, where a visit names its unit or its premises are one unit's (a mall shop's visits without
    -- the unit, under a sign of their own, may well be a registered shop's: 德顺咖啡馆 for 正宗饮品店)
    where
        a.open_at_last_visit
        and (
            a.seen_open_recently or a.powered
            or (a.seen_open_in_rhythm and (vp.visits_with_unit > 0 or coalesce(vp.premises_units, 0) < 2))
        )
        and s.uscc is null and s.licence_no is null
        -- a shop known from one visit alone, without the unit, at premises of several units: which of
        -- the premises' shops the visitor saw is not known (a registered shop's new sign, 老罗生煎馆
        -- for 百味本帮菜馆 at 北渔路11号), so nothing is claimed until a visit names the unit, it is
        -- seen again or a record of its own (a meter) turns up
        and not (vp.records = 1 and vp.visits_with_unit = 0 and vp.premises_units >= 2)
        -- the same where its visits, none naming the unit, lie further apart than the streets' rhythm
        -- of visits and no record of its own backs them: the latest visit was not a return to a shop
        -- the streets know, and the earlier one may have been another of the premises' shops under
        -- the same sign (阿刘修表店 at 大木桥路14号, visited 2025-10 and 2026-09, a building of ~20 units)
        and not (
            vp.visits_with_unit = 0 and vp.premises_units >= 2 and vp.other_records = 0
            and coalesce({{ months_between('a.previous_visit', 'a.last_visit_date') }} > a.visit_rhythm_months, false)
        )
        -- a registration or licence at the same address and unit whose legal representative is the
        -- visit's contact (by pinyin: names are often misspelt) is this shop's, even where matching
        -- could not join them (e.g. an address missing from the library)
        and not exists (
            select 1
            from {{ ref('int_shop_records') }} r
            join {{ ref('int_shop_records') }} vr
                on
                    vr.address_key = r.address_key and coalesce(vr.unit, '') = coalesce(r.unit, '')
                    and vr.source in ('street_shop_visits', 'street_shop_visits_app')
            where
                r.source in ('market_business_registry', 'market_food_licence')
                and coalesce(r.registration_status, '存续') in ('存续', '在业')
                and vr.source_file = v.source_file and vr.source_row = v.source_row
                and cn_name_pinyin_key(r.person_name) = cn_name_pinyin_key(vr.person_name)
        )
),

final as (
    select * from expired
    union all
    select * from deregistered
    union all
    select * from unregistered
)

select * from final
