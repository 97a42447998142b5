-- Addresses in this district (its district name, or a road of its library) that the standard
-- address library (标准地址库) does not hold: the library needs the address added, or the record a
-- correction. Addresses elsewhere (a 户籍地址 in another district) are not findings. One finding per
-- person and field, per aid family, per electricity account (its latest row) and per shop.
with lookup as (
    select address_key from {{ ref('int_address_lookup') }}
),

library_districts as (
    select distinct district_name from {{ ref('stg_standard_addresses') }}
),

library_roads as (
    select distinct road from {{ ref('stg_standard_addresses') }}
),

person_rows as (
    select source, source_file, source_row, person_id, street_code, community_code
    from {{ ref('int_quality_person_rows') }}
),

addresses as (
    select
        p.source, p.source_file, p.source_row, '居住地址' as field, p.residence_address_raw as raw,
        p.residence_address_key as address_key, p.residence_district as district, p.residence_road as road,
        p.residence_lane as lane, pr.person_id as entity_id, 'person' as entity_type, pr.person_id || '|res' as subject_key
    from {{ ref('stg_police_population') }} p
    left join person_rows pr on pr.source_file = p.source_file and pr.source_row = p.source_row and pr.source = p.source
    where p.delivery = {{ current_delivery() }}
    union all
    select
        p.source, p.source_file, p.source_row, '户籍地址', p.registered_address_raw,
        p.registered_address_key, p.registered_district, p.registered_road, p.registered_lane,
        pr.person_id, 'person', pr.person_id || '|reg'
    from {{ ref('stg_police_population') }} p
    left join person_rows pr on pr.source_file = p.source_file and pr.source_row = p.source_row and pr.source = p.source
    where p.delivery = {{ current_delivery() }}
    union all
    select
        e.source, e.source_file, e.source_row, '居住地址', e.residence_address_raw,
        e.residence_address_key, e.residence_district, e.residence_road, e.residence_lane,
        pr.person_id as entity_id, 'person' as entity_type, pr.person_id as subject_key
    from {{ ref('stg_civil_affairs_elderly_alone') }} e
    left join person_rows pr on pr.source_file = e.source_file and pr.source_row = e.source_row and pr.source = e.source
    where e.delivery = {{ current_delivery() }}
    union all
    -- 家庭地址 repeats on every member row: the family's first row
    select
        any_value(a.source), min(a.source_file), min(a.source_row), '家庭地址', a.family_address_raw,
        a.family_address_key, any_value(a.family_district), any_value(a.family_road), any_value(a.family_lane),
        null, 'household', 'cert:' || coalesce(a.aid_certificate_no, a.family_address_raw)
    from {{ ref('stg_civil_affairs_assistance') }} a
    where a.delivery = {{ current_delivery() }}
    group by a.aid_certificate_no, a.family_address_raw, a.family_address_key
    union all
    -- an electricity account: its latest row
    select
        any_value(u.source), max_by(u.source_file, (u.reading_month, u.source_row)), max_by(u.source_row, (u.reading_month, u.source_row)),
        '用电地址', max_by(u.supply_address_raw, (u.reading_month, u.source_row)),
        max_by(u.supply_address_key, (u.reading_month, u.source_row)), max_by(u.supply_district, (u.reading_month, u.source_row)),
        max_by(u.supply_road, (u.reading_month, u.source_row)), max_by(u.supply_lane, (u.reading_month, u.source_row)),
        null, 'household', 'account:' || u.account_no
    from {{ ref('stg_utility_electricity') }} u
    where u.delivery = {{ current_delivery() }} and u.account_no is not null
    group by u.account_no
    union all
    select
        r.source, r.source_file, r.source_row, '经营场所', r.business_address_raw, r.business_address_key,
        r.business_district, r.business_road, r.business_lane, x.shop_code, 'shop',
        coalesce('uscc:' || r.uscc, 'row:' || r.source_row)
    from {{ ref('stg_market_business_registry') }} r
    left join {{ source('master', 'shop_xref') }} x
        on x.source_file = r.source_file and x.source_row = r.source_row and x.delivery = {{ current_delivery() }}
    where r.delivery = {{ current_delivery() }}
    union all
    select
        l.source, l.source_file, l.source_row, '经营场所', l.business_address_raw, l.business_address_key,
        l.business_district, l.business_road, l.business_lane, x.shop_code, 'shop',
        coalesce('licence:' || l.licence_no, 'row:' || l.source_row)
    from {{ ref('stg_market_food_licence') }} l
    left join {{ source('master', 'shop_xref') }} x
        on x.source_file = l.source_file and x.source_row = l.source_row and x.delivery = {{ current_delivery() }}
    where l.delivery = {{ current_delivery() }}
    union all
    -- street visits: the shop's latest visit
    select
        any_value(v.source), max_by(v.source_file, (v.visited_on, v.source_row)), max_by(v.source_row, (v.visited_on, v.source_row)),
        '经营地址', max_by(v.business_address_raw, (v.visited_on, v.source_row)), v.business_address_key,
        any_value(v.business_district), any_value(v.business_road), any_value(v.business_lane),
        x.shop_code, 'shop', coalesce('shop:' || x.shop_code, 'address:' || v.business_address_key)
    from {{ ref('stg_street_shop_visits') }} v
    left join {{ source('master', 'shop_xref') }} x
        on x.source_file = v.source_file and x.source_row = v.source_row and x.delivery = {{ current_delivery() }}
    where v.delivery = {{ current_delivery() }}
    group by x.shop_code, v.business_address_key
),

outside as (
    select a.*
    from addresses a
    where
        a.address_key is not null
        and a.address_key not in (select address_key from lookup)
        and (
            a.district in (select district_name from library_districts)
            or (a.district is null and a.road in (select road from library_roads))
        )
),

routed as (
    select
        o.*,
        coalesce(pr.street_code, rl.street_code, rr.street_code) as street_code,
        coalesce(pr.community_code, rl.community_code, rr.community_code) as community_code
    from outside o
    left join person_rows pr on pr.source_file = o.source_file and pr.source_row = o.source_row and pr.source = o.source
    left join {{ ref('int_quality_road_routing') }} rl on rl.level = 'lane' and rl.road = o.road and rl.lane = coalesce(o.lane, '')
    left join {{ ref('int_quality_road_routing') }} rr on rr.level = 'road' and rr.road = o.road
),

final as (
    select
        'address_not_in_library' as rule,
        'medium' as severity,
        entity_type, entity_id,
        coalesce(subject_key, 'row:' || source_file || ':' || source_row) as subject_key,
        source, source_file, source_row, street_code, community_code,
        field,
        raw as observed_value,
        null::string as suggested_value,
        field || '“' || raw || '”不在标准地址库中，请核实门牌是否正确；如地址真实存在，请报区里补录标准地址。' as message
    from routed
)

select * from final
