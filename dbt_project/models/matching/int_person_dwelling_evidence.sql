-- Every piece of evidence in this delivery (and the hub's own last month) of the dwelling a person
-- (cluster) lives in: one row per person, dwelling and kind of evidence. A dwelling is a building
-- (standard address, or the parsed address of a building outside the library) and a room.
--
-- kinds:
--   own:<source>  the person's own record names the dwelling with its room (police 居住地址, the
--                 elderly list's 居住地址, the aid file's 家庭地址 — which may be the registered one);
--   registered    the police 户籍地址 with its room (人户分离: often not where the person lives);
--   last_month    the dwelling the hub placed the person in at the previous delivery;
--   family        a family member (same police 户号 with at most one 户主, neither of them 其他;
--                 in a 户号 of several 户主, one the hub placed in the person's dwelling last month)
--                 whose own police record names a dwelling with its room;
--   meter         an electricity account in the person's name (same name or same pinyin) whose
--                 用电地址 names the room, in the building the person's police record names (or,
--                 where that is blank, the building the elderly-alone list's 居住地址 names);
--   meter_anywhere  a meter in their name in any building (a name carried by at most three meters);
--   building:<source>  the person's own record names the building only (room null).
-- int_person_residence weighs these kinds by how often each agrees with the police 居住地址 where
-- that has a room (estimated per delivery), and decides where people without a room live.
-- The hub's own last month is read from the master tables directly (not as dbt sources): they are
-- written after this model, by the master build of the previous delivery, and a source would make
-- the asset graph circular. On a first delivery they do not exist yet and that evidence is empty.
{% set previous = previous_master(['person', 'household', 'person_xref', 'household_member']) %}
with records as (
    select * from {{ ref('int_person_cluster_records') }}
),

lookup as (
    -- the library's address, else the building's own key (a misspelt road written as the library's)
    select address_key, address_id, 'unlisted:' || address_key as unlisted_building
    from {{ ref('int_address_lookup') }}
    union all
    select address_key, null, 'unlisted:' || building_key from {{ ref('int_address_unlisted') }}
),

located as (
    select
        r.cluster_key, r.source, r.room, r.family_key, r.relation_to_head,
        r.registered_room,
        case
            when r.address_key is not null
                then coalesce(l.address_id, l.unlisted_building, 'unlisted:' || r.address_key)
        end as building,
        case
            when r.registered_address_key is not null
                then coalesce(lr.address_id, lr.unlisted_building, 'unlisted:' || r.registered_address_key)
        end as registered_building
    from records r
    left join lookup l on l.address_key = r.address_key
    left join lookup lr on lr.address_key = r.registered_address_key
),

own as (
    select cluster_key, building, room, 'own:' || source as kind
    from located
    where building is not null and room is not null
),

-- a record that names the building but not the room (阳曲路15弄12号): where to look, not a dwelling
own_building as (
    select cluster_key, building, null::string as room, 'building:' || source as kind
    from located
    where building is not null and room is null
),

registered as (
    select cluster_key, registered_building as building, registered_room as room, 'registered' as kind
    from located
    where source = 'police_population' and registered_building is not null and registered_room is not null
),

-- the building the police record names, with or without its room (a person with two police
-- records at two buildings: the first by name, the same on every run, which any_value is not)
police_building as (
    select cluster_key, min(building) as building
    from located
    where source = 'police_population' and building is not null
    group by cluster_key
),

-- where the police 居住地址 is blank, the building the elderly-alone list's 居住地址 names (the
-- committee visits them there; the aid file's 家庭地址 may be the registered one, 人户分离)
listed_building as (
    select cluster_key, any_value(building) as building
    from located
    where
        source = 'civil_affairs_elderly_alone' and building is not null
        and cluster_key not in (select cluster_key from police_building)
    group by cluster_key
    having count(distinct building) = 1
),

stated_building as (
    select cluster_key, building from police_building
    union all
    select cluster_key, building from listed_building
),

family_members as (
    -- 其他 (a lodger, a roommate) is no family member; a blank relation may be one
    select cluster_key, family_key, building, room
    from located
    where
        source = 'police_population' and family_key is not null
        and coalesce(relation_to_head, '') <> '其他'
),

families as (
    -- a 户号 is one family when it has at most one head (户主) and at most 12 people: a collective
    -- hukou (集体户), or people registered into another family's 户号 (挂靠, often living elsewhere,
    -- with a 户主 of their own), is not
    select family_key from located
    where source = 'police_population' and family_key is not null
    group by family_key
    having
        count(distinct cluster_key) <= 12
        and count(distinct cluster_key) filter (where relation_to_head = '户主') <= 1
),

golden_names as (
    select distinct name from {{ ref('int_person_golden') }}
    where name is not null
),

name_keys as (
    -- the name key (a Python UDF) of each distinct name once (1M persons have ~250k names)
    select name, cn_name_pinyin_key(name) as name_key
    from golden_names
),

names as (
    select g.cluster_key, g.name, k.name_key
    from {{ ref('int_person_golden') }} g
    join name_keys k on k.name = g.name
),

meters as (
    select distinct
        coalesce(l.address_id, l.unlisted_building, 'unlisted:' || u.supply_address_key) as building,
        u.supply_room as room,
        u.account_name, u.account_name_pinyin_key
    from {{ ref('stg_utility_electricity') }} u
    left join lookup l on l.address_key = u.supply_address_key
    where
        u.delivery = {{ current_delivery() }}
        and u.supply_address_key is not null and u.supply_room is not null and u.account_name is not null
),

meter as (
    select distinct n.cluster_key, m.building, m.room, 'meter' as kind
    from names n
    join stated_building b on b.cluster_key = n.cluster_key
    join meters m
        on
            m.building = b.building
            and coalesce(m.account_name_pinyin_key, '#' || m.account_name) = coalesce(n.name_key, '#' || n.name)
),

-- a meter in the person's name anywhere, when at most three meters carry that name (a common name
-- says nothing): what a person whose police record names no building has (computed for everyone, so
-- that its weight can be estimated)
rare_meter_names as (
    select coalesce(account_name_pinyin_key, '#' || account_name) as name_key
    from meters
    group by coalesce(account_name_pinyin_key, '#' || account_name)
    having count(*) <= 3
),

meter_anywhere as (
    select distinct n.cluster_key, m.building, m.room, 'meter_anywhere' as kind
    from names n
    join meters m
        on coalesce(m.account_name_pinyin_key, '#' || m.account_name) = coalesce(n.name_key, '#' || n.name)
    where coalesce(n.name_key, '#' || n.name) in (select name_key from rare_meter_names)
),

{% if previous %}
previous_delivery as (
    select max(delivery) as delivery from {{ previous.person_xref }}
    where delivery < {{ current_delivery() }}
),

previous_dwellings as (
    -- where each person lived at the previous delivery (household_member keeps every delivery's)
    select p.person_id, p.id_number, p.id_number_valid,
           split_part(h.dwelling_key, '#', 1) as building, h.room
    from {{ previous.household_member }} m
    join {{ previous.person }} p on p.person_id = m.person_id
    join {{ previous.household }} h on h.household_id = m.household_id
    where m.delivery = (select delivery from previous_delivery) and h.room is not null
),

last_month as (
    select distinct r.cluster_key, d.building, d.room, 'last_month' as kind
    from records r
    join previous_dwellings d on r.has_valid_id and d.id_number_valid and d.id_number = r.id_number
    union
    select distinct r.cluster_key, d.building, d.room, 'last_month'
    from records r
    join {{ previous.person_xref }} x
      on x.fingerprint = r.fingerprint and x.delivery = (select delivery from previous_delivery)
    join previous_dwellings d on d.person_id = x.person_id
),
{% else %}
    last_month as (
        select null::string as cluster_key, null::string as building, null::string as room, null::string as kind
        where false
    ),
{% endif %}

family as (
    select distinct m.cluster_key, f.building, f.room, 'family' as kind
    from family_members m
    join family_members f on f.family_key = m.family_key and f.cluster_key <> m.cluster_key
    where
        f.building is not null and f.room is not null
        and m.family_key in (select family_key from families)
    union
    -- in a 户号 of several 户主 (the registered flat of parents and their grown children), the
    -- people the hub found living together last month are one family
    select distinct m.cluster_key, f.building, f.room, 'family' as kind
    from family_members m
    join family_members f on f.family_key = m.family_key and f.cluster_key <> m.cluster_key
    join last_month lm on lm.cluster_key = m.cluster_key
    join last_month lf on lf.cluster_key = f.cluster_key and lf.building = lm.building and lf.room = lm.room
    where
        f.building is not null and f.room is not null
        and m.family_key not in (select family_key from families)
),

final as (
    select distinct cluster_key, building, room, kind from own
    union
    select cluster_key, building, room, kind from own_building
    union
    select cluster_key, building, room, kind from registered
    union
    select cluster_key, building, room, kind from family
    union
    select cluster_key, building, room, kind from meter
    union
    select cluster_key, building, room, kind from meter_anywhere
    union
    select cluster_key, building, room, kind from last_month
)

select * from final
