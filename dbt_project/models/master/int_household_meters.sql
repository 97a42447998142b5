-- The dwelling each electricity meter of this delivery's export serves (a meter at a shop's
-- premises serves the shop: int_household_electricity_rows leaves it out). One row per export row.
--
-- * 用电地址 with a room: that dwelling (standard address + room).
-- * 用电地址 with the building only (real exports leave the room out), or none: the account's own
--   dwelling at the previous delivery (the account number is the meter's identity), or the
--   dwelling of the account holder (户名, by name or pinyin) in that building — each kind weighed by
--   how often it agrees with the room on the meters whose address has one, estimated from this
--   delivery's data, and taken when that reaches meter_min_confidence; never a flat another
--   account names with its room, nor a holder's room when someone of that name lives in the
--   building with the room unknown;
-- * otherwise the building with the room unknown (one household per account, "室号不详"), when
--   people live in that building; a meter without a room where nobody lives (a shop front outside
--   the address library, an office) is no dwelling's.
-- depends_on: {{ ref('stg_utility_electricity') }} (last month's rows of the account, below)
{% set previous = previous_master(['household', 'household_xref']) %}
with lookup as (
    select address_key, address_id, match_rule from {{ ref('int_address_lookup') }}
),

export_rows as (
    select
        u.source_file, u.source_row, u.account_no, u.account_name, u.account_name_pinyin_key,
        u.supply_address_key, u.supply_room as room, l.address_id, l.match_rule,
        case
            when u.supply_address_key is not null
                then coalesce(l.address_id, 'unlisted:' || coalesce(un.building_key, u.supply_address_key))
        end as building
    from {{ ref('int_household_electricity_rows') }} u
    left join lookup l on l.address_key = u.supply_address_key
    left join {{ ref('int_address_unlisted') }} un on un.address_key = u.supply_address_key
),

meters as (
    -- one meter as its rows describe it (the rows of one account share the address of the export)
    select
        account_no, building, room, any_value(address_id) as address_id, any_value(match_rule) as match_rule,
        any_value(account_name) as account_name, any_value(account_name_pinyin_key) as account_name_key
    from export_rows
    where account_no is not null
    group by account_no, building, room
),

name_keys as (
    -- the name key (a Python UDF) of each distinct name once (1M persons have ~250k names)
    select name, cn_name_pinyin_key(name) as name_key
    from (
        select distinct name from {{ ref('int_person_golden') }}
        where name is not null
    ) as n
),

residents as (
    -- everyone placed in a building, with the room or with the room unknown (room null)
    select
        r.address_id, split_part(r.dwelling_key, '#', 1) as building, r.room, g.name, k.name_key
    from {{ ref('int_person_residence') }} r
    join {{ ref('int_person_golden') }} g using (cluster_key)
    join name_keys k on g.name = k.name
),

holder_candidates as (
    select distinct
        m.account_no, m.building as meter_building, m.room as meter_room,
        p.building, p.room, 'holder' as kind
    from meters m
    join residents p
        on
            p.building = m.building
            and coalesce(p.name_key, '#' || p.name) = coalesce(m.account_name_key, '#' || m.account_name)
),

holder_evidence as (
    -- the holder's room says nothing when someone of that name lives in the building with the room
    -- unknown (the holder may be them)
    select c.* from holder_candidates as c
    where
        c.room is not null
        and c.account_no not in (
            select u.account_no from holder_candidates as u
            where u.room is null
        )
),

{% if previous %}
previous_delivery as (
    select max(delivery) as delivery from {{ previous.household_xref }}
    where delivery < {{ current_delivery() }} and source = 'utility_electricity'
),

last_month_evidence as (
    select distinct m.account_no, m.building as meter_building, m.room as meter_room,
           split_part(h.dwelling_key, '#', 1) as building, h.room, 'last_month' as kind
    from meters m
    join {{ ref('stg_utility_electricity') }} p
      on p.account_no = m.account_no and p.delivery = (select delivery from previous_delivery)
    join {{ previous.household_xref }} x
      on x.source = 'utility_electricity' and x.source_file = p.source_file and x.source_row = p.source_row
     and x.delivery = (select delivery from previous_delivery)
    join {{ previous.household }} h on h.household_id = x.household_id
    where h.room is not null
),
{% else %}
    last_month_evidence as (
        select
            null::string as account_no, null::string as meter_building, null::string as meter_room,
            null::string as building, null::string as room, null::string as kind
        where false
    ),
{% endif %}

evidence as (
    select * from holder_evidence
    union all
    select * from last_month_evidence
),

reliability as (
    -- on meters whose address names the room: how often each kind names the same dwelling
    select
        kind,
        (count(*) filter (where building = meter_building and room = meter_room) + 1.0)
        / (count(*) filter (where building = meter_building) + 2.0) as p_building,
        (count(*) filter (where building = meter_building and room = meter_room) + 1.0)
        / (count(*) + 2.0) as p_any
    from evidence
    where meter_room is not null and meter_building is not null
    group by kind
),

inhabited as (
    select distinct split_part(dwelling_key, '#', 1) as building from {{ ref('int_person_residence') }}
),

metered_dwellings as (
    -- dwellings another account's 用电地址 names with the room: a flat has one account, so a meter
    -- without a room is not theirs
    select distinct account_no, building, room from meters
    where building is not null and room is not null
),

inferred_candidates as (
    select
        e.account_no, e.meter_building, e.building, e.room, e.kind,
        case when e.meter_building is not null then r.p_building else r.p_any end as p
    from evidence e
    join reliability r using (kind)
    where
        e.meter_room is null and (e.meter_building is null or e.building = e.meter_building)
        and not exists (
            select 1 from metered_dwellings d
            where d.building = e.building and d.room = e.room and d.account_no <> e.account_no
        )
),

inferred_scored as (
    select
        account_no, meter_building, building, room,
        1 - exp(sum(ln(greatest(1 - p, 1e-9)))) as confidence,
        {{ ordered_string_agg('kind', '+') }} as kinds
    from inferred_candidates
    group by all
),

inferred as (
    select * from (
        select
            *,
            row_number() over (partition by account_no, meter_building order by confidence desc, building asc, room asc) as rank,
            lead(confidence) over (partition by account_no, meter_building order by confidence desc, building asc, room asc)
                as runner_up
        from inferred_scored
    ) as ranked
    where rank = 1 and confidence >= {{ var('meter_min_confidence') }} and confidence > coalesce(runner_up, 0)
),

final as (
    select
        x.source_file, x.source_row, x.account_no,
        case
            when x.room is not null and x.building is not null then x.address_id
            when i.building is not null then case when i.building not like 'unlisted:%' then i.building end
            else x.address_id
        end as address_id,
        case when x.room is not null and x.building is not null then x.room else i.room end as room,
        case
            when x.room is not null and x.building is not null then x.building || '#' || x.room
            when i.building is not null then i.building || '#' || i.room
            when x.building in (select building from inhabited) then x.building || '#?acct:' || x.account_no
        end as dwelling_key,
        case
            when x.room is not null and x.building is not null then 'supply_address:' || coalesce(x.match_rule, 'outside_library')
            when i.building is not null then 'meter_evidence:' || i.kinds
            when x.building is not null then 'building_only:' || coalesce(x.match_rule, 'outside_library')
        end as match_rule,
        case
            when x.room is not null and x.building is not null then case when x.address_id is null then 0.5 else 1.0 end
            when i.building is not null then round(i.confidence, 4)
            else 0.3
        end as match_score
    from export_rows x
    left join inferred
        i on i.account_no = x.account_no and i.meter_building is not distinct from x.building
    and x.room is null
)

select * from final
where dwelling_key is not null
