-- Every mention of a business premises in this delivery, in one shape: registered entities,
-- food licences, street visits, and electricity meters at a shop's premises. A shop is a premises
-- (standard address + unit) where a business operates, not a legal entity. A premises outside the
-- standard library is keyed by its own parsed address (its building key, a misspelt road written as
-- the library's), so that its registration, licence, visits and meter still meet. A meter row
-- carries its 抄表月份 (reading_month): an account first read after a business was deregistered is
-- a new occupant's.
-- A street visit also carries the registered business last month's copy of it (the same visit: same
-- day, visitor and contact, in the same building) was given to (previous_uscc): the street registers
-- re-export their whole history every month, re-rendered, and a unit written last month may be
-- missing this month. The hub's own last month is read from the master tables directly (as
-- int_person_dwelling_evidence does); on a first delivery there is none.
{% set previous = previous_master(['shop', 'shop_xref']) %}
with lookup as (
    select * from {{ ref('int_address_lookup') }}
),

unlisted as (
    select address_key, 'unlisted:' || building_key as building from {{ ref('int_address_unlisted') }}
),

registry as (
    select
        delivery, source, source_file, source_row,
        uscc, uscc_check_ok,
        entity_name as name, entity_name as registered_name, null::string as sign_name,
        legal_representative as person_name, null::string as phone,
        business_address_key as address_key, business_room as unit, business_rest as unit_rest,
        approved_on as event_date, registration_status, entity_type,
        null::string as licence_no, null::date as licence_valid_until, null::string as business_format,
        null::string as inspection_result, null::string as account_no,
        established_on
    from {{ ref('stg_market_business_registry') }}
    where delivery = {{ current_delivery() }}
),

licences as (
    select
        delivery, source, source_file, source_row,
        uscc, uscc_check_ok,
        operator_name as name, operator_name as registered_name, null,
        legal_representative, null,
        business_address_key, business_room, business_rest,
        issued_on, null, null,
        licence_no, valid_until, business_format,
        null, null,
        null
    from {{ ref('stg_market_food_licence') }}
    where delivery = {{ current_delivery() }}
),

visits as (
    select
        delivery, source, source_file, source_row,
        null, null,
        sign_name as name, null, sign_name,
        contact_name, phone,
        business_address_key, business_room, business_rest,
        visited_on, null, null,
        null, null, business_format,
        inspection_result, null,
        null
    from {{ ref('stg_street_shop_visits') }}
    where delivery = {{ current_delivery() }}
),

unioned as (
    select * from registry
    union all
    select * from licences
    union all
    select * from visits
),

located as (
    select
        u.*,
        l.address_id,
        l.street_code,
        l.community_code,
        -- an upper floor of an office tower (e.g. 26楼) is not a street shop
        coalesce({{ regex_contains('u.unit_rest', '([2-9]|[1-9][0-9])楼') }}, false) as upper_floor_office,
        coalesce(l.address_id, un.building, 'unlisted:' || u.address_key) as building,
        null::string as reading_month
    from unioned u
    left join lookup l on l.address_key = u.address_key
    left join unlisted un on un.address_key = u.address_key
),

shop_premises as (
    -- premises where a shop is evidenced by a licence or a visit: every meter there is the shop's
    select distinct building, coalesce(unit, '') as unit
    from located
    where source in ('market_food_licence', 'street_shop_visits', 'street_shop_visits_app') and building is not null
),

registered_premises as (
    -- premises only the registry knows (no licence, no visit this month): a meter there is the
    -- shop's when its 户名 is the registered name (or its core) or the legal representative, or
    -- when nobody lives at that address
    select distinct
        building, coalesce(unit, '') as unit, name as registered_name, {{ shop_name_core('name') }} as core,
        person_name as legal_representative, cn_name_pinyin_key(person_name) as legal_representative_key
    from located
    where
        source = 'market_business_registry' and building is not null and not upper_floor_office
        and coalesce(registration_status, '存续') not in ('注销', '吊销')
),

inhabited as (
    select distinct split_part(dwelling_key, '#', 1) as building from {{ ref('int_person_residence') }}
),

located_meters as (
    select
        e.*, l.address_id, l.street_code, l.community_code, {{ shop_name_core('e.account_name') }} as account_core,
        coalesce(l.address_id, un.building, 'unlisted:' || e.supply_address_key) as building
    from {{ ref('stg_utility_electricity') }} e
    left join lookup l on l.address_key = e.supply_address_key
    left join unlisted un on un.address_key = e.supply_address_key
    where e.delivery = {{ current_delivery() }} and e.supply_address_key is not null
),

-- whether anyone lives in the meter's building, by an equality join here: a `not in (subquery)`
-- inside the `or` below is planned by Spark as a nested loop over meters × buildings (an hour at 1M)
electricity as (
    select m.*, ih.building is null as building_uninhabited
    from located_meters m
    left join inhabited ih on ih.building = m.building
),

meter_rows as (
    select e.*
    from electricity e
    join shop_premises p on p.building = e.building and p.unit = coalesce(e.supply_room, '')
    union all
    select e.*
    from electricity e
    where not exists (
        select 1 from shop_premises p
        where p.building = e.building and p.unit = coalesce(e.supply_room, '')
    )
    and exists (
        select 1 from registered_premises r
        where
            r.building = e.building and r.unit = coalesce(e.supply_room, '')
            and (
                e.account_name = r.registered_name or e.account_core = r.core
                or e.account_name = r.legal_representative
                or e.account_name_pinyin_key = r.legal_representative_key
                or e.building_uninhabited
            )
    )
),

meters as (
    -- one row per meter reading at a shop premises (a dwelling's meter is not one)
    select
        e.delivery, e.source, e.source_file, e.source_row,
        null::string as uscc, null::boolean as uscc_check_ok,
        e.account_name as name, null::string as registered_name, null::string as sign_name,
        e.account_name as person_name, e.phone,
        e.supply_address_key as address_key, e.supply_room as unit, e.supply_rest as unit_rest,
        null::date as event_date, null::string as registration_status, null::string as entity_type,
        null::string as licence_no, null::date as licence_valid_until, null::string as business_format,
        null::string as inspection_result, e.account_no,
        null::date as established_on,
        e.address_id, e.street_code, e.community_code, false as upper_floor_office, e.building,
        e.reading_month
    from meter_rows e
),

-- the registered business each of last month's visits was given to on its own evidence (not a guess
-- among several businesses at its premises), by day, visitor, contact and building
previous_visits as (
    {% if previous %}
        select
            v.visited_on, v.visitor, v.contact_name, l.address_id,
            case when count(distinct s.uscc) = 1 then min(s.uscc) end as previous_uscc
        from {{ ref('stg_street_shop_visits') }} v
        join {{ previous.shop_xref }} x
            on
                x.delivery = v.delivery and x.source = v.source and x.source_file = v.source_file
                and x.source_row = v.source_row
        join {{ previous.shop }} s on s.shop_code = x.shop_code
        join lookup l on l.address_key = v.business_address_key
        where
            v.delivery = (
                select max(delivery) from {{ previous.shop_xref }}
                where delivery < {{ current_delivery() }}
            )
            and s.uscc is not null and v.visitor is not null and v.contact_name is not null
            and x.match_rule in ('visit_contact_is_legal_rep', 'visit_sign_matches_name', 'visit_only_shop_at_premises')
        group by v.visited_on, v.visitor, v.contact_name, l.address_id
    {% else %}
        select
            null::date as visited_on, null::string as visitor, null::string as contact_name,
            null::string as address_id, null::string as previous_uscc
        where false
    {% endif %}
),

visit_history as (
    select v.source, v.source_file, v.source_row, p.previous_uscc
    from {{ ref('stg_street_shop_visits') }} v
    join lookup l on l.address_key = v.business_address_key
    join previous_visits p
        on
            p.visited_on = v.visited_on and p.visitor = v.visitor and p.contact_name = v.contact_name
            and p.address_id = l.address_id
    where v.delivery = {{ current_delivery() }} and p.previous_uscc is not null
),

final as (
    select
        mentions.source || ':' || mentions.source_file || ':' || mentions.source_row as record_key,
        mentions.*,
        case
            when mentions.building is not null then mentions.building || '#' || coalesce(mentions.unit, '')
        end as premises_key,
        {{ shop_name_core('mentions.name') }} as name_core,
        cn_name_pinyin_key(mentions.person_name) as person_name_key,
        h.previous_uscc
    from (
        select * from located
        union all
        select * from meters
    ) as mentions
    left join visit_history h
        on
            h.source = mentions.source and h.source_file = mentions.source_file
            and h.source_row = mentions.source_row
)

select * from final
