-- Moves the police have not caught up with (part of int_person_residence): who lives elsewhere
-- than their police 居住地址 names, and why. A table of its own, like int_person_police_room, so
-- that Spark does not inline the chain of move rules into the residence model's plan; the signs of a
-- move are read in int_person_move_signs (int_person_move_facts says why).
with records as (
    select * from {{ ref('int_person_cluster_records') }}
),

police_room as (
    select * from {{ ref('int_person_police_room') }}
),

evidence as (
    select * from {{ ref('int_person_dwelling_evidence') }}
),

export_accounts as (
    select * from {{ ref('int_electricity_export_accounts') }}
),

dwelling_use as (
    select * from {{ ref('int_dwelling_meter_use') }}
),

facts as (
    select * from {{ ref('int_person_move_facts') }}
),

person_names as (
    select cluster_key, name, name_key, name_unique from facts
    where name is not null
),

under_sixty as (
    select cluster_key from facts
    where under_sixty
),

elderly_listed as (
    select cluster_key from facts
    where elderly_listed
),

transfers as (
    select * from {{ ref('int_person_move_transfers') }}
),

transfers_taken as (
    select cluster_key from transfers
    where taken
),

moved_any as (
    select * from {{ ref('int_person_move_signs') }}
),

transfer_left as (
    -- a person whose fresh account is at their police flat left the flats whose meter is in their
    -- name; their family members the police still place at one of those went with them
    -- (moved_with_family)
    select distinct t.cluster_key, m.building as old_building, m.room as old_room, t.building, t.room
    from transfers t
    join person_names n on n.cluster_key = t.cluster_key
    join export_accounts m on m.delivery = {{ current_delivery() }} and m.account_name = n.name
    join police_room o on o.building = m.building and o.room = m.room and o.cluster_key <> t.cluster_key
    where
        t.building || '#' || t.room = t.police_building || '#' || t.police_room
        and m.building || '#' || m.room <> t.building || '#' || t.room
),

family_anchors as (
    -- the people whose family may have moved with them: from old_building/old_room to building/room
    -- (after the export's latest reading, when an account was just put in their name)
    select
        cluster_key, old_building, old_room, building, room, kinds = 'meter_transfer' as after_latest_reading
    from moved_any
    union all
    select cluster_key, old_building, old_room, building, room, true from transfer_left
),

police_families as (
    select distinct cluster_key, family_key from records
    where source = 'police_population' and family_key is not null
),

same_police_family as (
    -- pairs of people of one 户号 (the police's), each with themselves
    select distinct f.cluster_key as person, pf.cluster_key as other
    from police_families as f
    join police_families as pf on pf.family_key = f.family_key
),

police_flat_strangers as (
    -- the people the police place at a flat together with someone not of their 户号
    select distinct p.cluster_key
    from police_room p
    join police_room o on o.building = p.building and o.room = p.room and o.cluster_key <> p.cluster_key
    left join same_police_family s on s.person = p.cluster_key and s.other = o.cluster_key
    where s.person is null
),

police_occupancy as (
    -- who the police place at each flat: the first and last person's keys (somebody other than X
    -- lives there unless both are X)
    select building, room, min(cluster_key) as first_person, max(cluster_key) as last_person
    from police_room
    group by building, room
),

listed_elsewhere as (
    -- a person on the elderly-alone list whose list 居住地址 (the committee visits them) names
    -- another dwelling, lived in, while the police's reads empty, or is lived in by people of
    -- another 户号 the police place there while nobody else lives at the list's (the list says
    -- alone): the list is up to date (joins, not correlated subqueries: Spark plans these too)
    select
        p.cluster_key, any_value(e.building) as building, any_value(e.room) as room,
        'civil_affairs_elderly_alone' as kinds
    from police_room p
    join evidence e on e.cluster_key = p.cluster_key and e.kind = 'own:civil_affairs_elderly_alone'
    left join dwelling_use old on old.building = p.building and old.room = p.room
    join dwelling_use new on new.building = e.building and new.room = e.room
    left join police_flat_strangers ps on ps.cluster_key = p.cluster_key
    left join police_occupancy lo on lo.building = e.building and lo.room = e.room
    where
        e.building || '#' || e.room <> p.building || '#' || p.room
        and new.lived_in
        and (
            coalesce(old.reads_empty, false)
            or (
                ps.cluster_key is not null
                and (lo.building is null or (lo.first_person = p.cluster_key and lo.last_person = p.cluster_key))
            )
        )
    group by p.cluster_key
    having count(distinct e.building || '#' || e.room) = 1
),

police_family as (
    -- one family: one 户号, or (a 户号 left blank) the people the hub placed together last month
    select distinct cluster_key, 'hk:' || family_key as family_key from records
    where source = 'police_population' and family_key is not null and coalesce(relation_to_head, '') <> '其他'
    union
    select distinct e.cluster_key, 'lm:' || e.building || '#' || e.room
    from evidence e
    join records r on r.cluster_key = e.cluster_key and r.source = 'police_population'
    where e.kind = 'last_month' and r.family_key is null and coalesce(r.relation_to_head, '') <> '其他'
),

moved_with_family as (
    -- the people of a mover's 户号 the police still place in the same flat go with them, when the
    -- movers of that flat and 户号 went to one dwelling
    select o.cluster_key, any_value(m.building) as building, any_value(m.room) as room
    from family_anchors m
    join police_family mf on mf.cluster_key = m.cluster_key
    join police_family fo on fo.family_key = mf.family_key and fo.cluster_key <> m.cluster_key
    join police_room o on o.cluster_key = fo.cluster_key and o.building = m.old_building and o.room = m.old_room
    where
        o.cluster_key not in (select cluster_key from moved_any)
        and o.cluster_key not in (select cluster_key from transfers_taken)
        and o.cluster_key not in (select cluster_key from elderly_listed)
        and (not m.after_latest_reading or o.cluster_key in (select cluster_key from under_sixty))
    group by o.cluster_key
    having count(distinct m.building || '#' || m.room) = 1
),

moved as (
    select cluster_key, building, room, kinds from moved_any
    union all
    select cluster_key, building, room, 'family_moved' from moved_with_family
    union all
    select cluster_key, building, room, kinds from listed_elsewhere
),

final as (
    select * from moved
)

select * from final
