-- Every mention of a business premises in this delivery, in one shape: registered entities,
-- food licences, street visits, and electricity meters at a shop's premises. A shop is a premises
-- (standard address + unit) where a business operates, not a legal entity.
with lookup as (
    select * from {{ ref('int_address_lookup') }}
),

registry as (
    select
        delivery, source, source_file, source_row,
        uscc, uscc_check_ok,
        entity_name as name, entity_name as registered_name, null::varchar as sign_name,
        legal_representative as person_name, null::varchar as phone,
        business_address_key as address_key, business_room as unit, business_rest as unit_rest,
        approved_on as event_date, registration_status, entity_type,
        null::varchar as licence_no, null::date as licence_valid_until, null::varchar as business_format,
        null::varchar as inspection_result, null::varchar as account_no
    from {{ ref('stg_market_business_registry') }}
    where delivery = {{ current_delivery() }}
),

licences as (
    select
        delivery, source, source_file, source_row,
        uscc, uscc_check_ok,
        operator_name, operator_name, null,
        legal_representative, null,
        business_address_key, business_room, business_rest,
        issued_on, null, null,
        licence_no, valid_until, business_format,
        null, null
    from {{ ref('stg_market_food_licence') }}
    where delivery = {{ current_delivery() }}
),

visits as (
    select
        delivery, source, source_file, source_row,
        null, null,
        sign_name, null, sign_name,
        contact_name, phone,
        business_address_key, business_room, business_rest,
        visited_on, null, null,
        null, null, business_format,
        inspection_result, null
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
        coalesce(regexp_matches(u.unit_rest, '([2-9]|[1-9][0-9])楼'), false) as upper_floor_office
    from unioned u
    left join lookup l on l.address_key = u.address_key
),

shop_premises as (
    -- premises where a shop is evidenced by a licence or a visit
    select distinct address_id, coalesce(unit, '') as unit
    from located
    where source in ('market_food_licence', 'street_shop_visits') and address_id is not null
),

meters as (
    -- one row per meter reading at a shop premises (a dwelling's meter is not one)
    select
        e.delivery, e.source, e.source_file, e.source_row,
        null::varchar as uscc, null::boolean as uscc_check_ok,
        e.account_name as name, null::varchar as registered_name, null::varchar as sign_name,
        e.account_name as person_name, e.phone,
        e.supply_address_key as address_key, e.supply_room as unit, e.supply_rest as unit_rest,
        null::date as event_date, null::varchar as registration_status, null::varchar as entity_type,
        null::varchar as licence_no, null::date as licence_valid_until, null::varchar as business_format,
        null::varchar as inspection_result, e.account_no,
        l.address_id, l.street_code, l.community_code, false as upper_floor_office
    from {{ ref('stg_utility_electricity') }} e
    join lookup l on l.address_key = e.supply_address_key
    join shop_premises p on p.address_id = l.address_id and p.unit = coalesce(e.supply_room, '')
    where e.delivery = {{ current_delivery() }}
),

final as (
    select
        source || ':' || source_file || ':' || source_row as record_key,
        *,
        case when address_id is not null then address_id || '#' || coalesce(unit, '') end as premises_key,
        {{ shop_name_core('name') }} as name_core
    from (
        select * from located
        union all
        select * from meters
    )
)

select * from final
