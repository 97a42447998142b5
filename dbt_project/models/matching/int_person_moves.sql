-- Moves the police have not caught up with (part of int_person_residence): who lives elsewhere
-- than their police 居住地址 names, and why. A table of its own, like int_person_police_room, so
-- that Spark does not inline the chain of move rules into the residence model's plan; the signs of a
-- move are read in int_person_move_signs (int_person_move_facts says why).
-- (The hub's own last month is read from the master tables, as int_person_dwelling_evidence does;
-- on a first delivery they do not exist and police_placed_last_month is empty.)
{% set previous = previous_master(['person', 'person_xref', 'household_xref']) %}
with records as (
    select * from {{ ref('int_person_cluster_records') }}
),

{% if previous %}
police_placed_last_month as (
    -- the people the hub placed at the previous delivery in the room their police 居住地址 named
    -- then (not moved from it by other evidence)
    select distinct r.cluster_key
    from records r
    join {{ previous.person }} p on r.has_valid_id and p.id_number_valid and p.id_number = r.id_number
    join {{ previous.person_xref }} px on px.person_id = p.person_id and px.source = 'police_population'
    join {{ previous.household_xref }} hx
        on
            hx.delivery = px.delivery and hx.source = px.source and hx.source_file = px.source_file
            and hx.source_row = px.source_row
    where
        px.delivery = (select max(delivery) from {{ previous.person_xref }} where delivery < {{ current_delivery() }})
        and hx.match_rule like 'residence:%police_population' and hx.match_rule not like '%evidence:%'
),
{% else %}
    police_placed_last_month as (
        select null::string as cluster_key
        where false
    ),
{% endif %}

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

signs as (
    select * from {{ ref('int_person_move_signs') }}
),

golden as (
    select cluster_key, birth_date from {{ ref('int_person_golden') }}
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

family_last_month as (
    -- the people of each family with the flat the hub placed them in last month: one 户号 may hold
    -- several households (a 户口 shared with relatives who live in the registered flat), and only
    -- those placed together last month are the household the police may have caught up with in part
    select distinct f.family_key, f.cluster_key, e.building || '#' || e.room as last_flat
    from police_family f
    join evidence e on e.cluster_key = f.cluster_key and e.kind = 'last_month'
),

family_flats as (
    -- how many flats the police place the people of each family whom the hub placed together last
    -- month in
    select l.family_key, l.last_flat, count(distinct o.building || '#' || o.room) as flats
    from family_last_month l
    join police_room o on o.cluster_key = l.cluster_key
    group by l.family_key, l.last_flat
),

police_caught_up as (
    -- a person the police now place in a flat that reads empty in the export's latest month (nobody
    -- lived there then: they came after that reading) or has no reading there, away from the one
    -- other flat where the rest of their 户号 placed with them last month is still placed (people of
    -- the 户号 the hub placed elsewhere last month live apart), and where the hub placed them last
    -- month on the police's word then (the police changed their record since: the newest word; on a
    -- first delivery nothing tells who of a split family is out of date)
    select distinct p.cluster_key, f.family_key, o.building as old_building, o.room as old_room, p.building, p.room
    from police_room p
    join family_last_month f on f.cluster_key = p.cluster_key
    join family_flats ff on ff.family_key = f.family_key and ff.last_flat = f.last_flat and ff.flats = 2
    left join dwelling_use new on new.building = p.building and new.room = p.room
    join family_last_month fo
        on fo.family_key = f.family_key and fo.last_flat = f.last_flat and fo.cluster_key <> p.cluster_key
    join police_room o on o.cluster_key = fo.cluster_key
    join police_placed_last_month pl on pl.cluster_key = p.cluster_key
    where
        coalesce(new.reads_empty, true)
        -- (a flat outside the library may be the same flat with its road misspelt)
        and p.building not like 'unlisted:%' and o.building not like 'unlisted:%'
        and o.building || '#' || o.room <> p.building || '#' || p.room
        and f.last_flat = o.building || '#' || o.room
),

police_caught_up_strangers as (
    -- the new flats with no reading in the latest month where someone not of that 户号 is placed by
    -- their own record (in a flat that reads empty, their word is the out-of-date one: nobody
    -- lived there at that reading)
    select distinct c.cluster_key, c.building, c.room
    from police_caught_up c
    join evidence e on e.building = c.building and e.room = c.room and e.kind like 'own:%'
    left join police_family f on f.cluster_key = e.cluster_key and f.family_key = c.family_key
    left join dwelling_use u on u.building = c.building and u.room = c.room
    where f.cluster_key is null and u.building is null
),

police_caught_up_groups as (
    -- who of a 户号 the police caught up with, per move: how many, whether the 户主 or the 配偶, and
    -- whether a child
    select
        c.family_key, c.old_building, c.old_room, c.building, c.room,
        count(distinct c.cluster_key) as movers,
        bool_or(r.relation_to_head in ('户主', '配偶')) as head_moved,
        bool_or(coalesce({{ age_at('g.birth_date', delivery_month_end()) }} < 18, false)) as child_moved
    from police_caught_up c
    left join records r on r.cluster_key = c.cluster_key and r.source = 'police_population'
    left join golden g on g.cluster_key = c.cluster_key
    group by all
),

police_caught_up_moves as (
    -- the family's move the police caught up with for part of it: the 户主 or the 配偶 went, a child
    -- under 18 (who does not move alone), or two people or more of the 户号 to the same flat (a grown
    -- child leaving alone is no family's move), and nobody else is placed there
    select c.cluster_key, c.old_building, c.old_room, c.building, c.room
    from police_caught_up c
    join police_caught_up_groups g using (family_key, old_building, old_room, building, room)
    left join police_caught_up_strangers s on s.building = c.building and s.room = c.room
    where (g.head_moved or g.child_moved or g.movers >= 2) and s.cluster_key is null
),

moved_any as (
    -- the moves read off the person's own evidence, but for taking back to the family's flat someone
    -- the police have just caught up with (their family's evidence there is the out-of-date one)
    select s.*
    from signs s
    left join police_caught_up_moves c
        on c.cluster_key = s.cluster_key and c.old_building = s.building and c.old_room = s.room
    where c.cluster_key is null
),

family_anchors as (
    -- the people whose family may have moved with them: from old_building/old_room to building/room
    -- (after the export's latest reading, when an account was just put in their name, only the
    -- people under 60: the flat's readings predate the family; when the police caught up with one
    -- of them in a flat that reads empty, the whole family but for anyone on the elderly-alone list)
    select
        cluster_key, old_building, old_room, building, room, kinds = 'meter_transfer' as under_sixty_only
    from moved_any
    union all
    select cluster_key, old_building, old_room, building, room, true from transfer_left
    union all
    select cluster_key, old_building, old_room, building, room, false from police_caught_up_moves
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

police_heads as (
    -- the 户主s of each 户号 (a 户号 may hold several households: a 户口 shared with relatives)
    select distinct cluster_key, family_key from records
    where source = 'police_population' and family_key is not null and relation_to_head = '户主'
),

police_flat_strangers as (
    -- the people the police place at a flat together with someone not of their 户号, or, a 户主,
    -- with another 户主 of their 户号 (the household of a relative the 户口 is shared with: an
    -- elderly 户主 the police place at the registered flat where the other 户主's family lives)
    select distinct p.cluster_key
    from police_room p
    join police_room o on o.building = p.building and o.room = p.room and o.cluster_key <> p.cluster_key
    left join same_police_family s on s.person = p.cluster_key and s.other = o.cluster_key
    left join police_heads ph on ph.cluster_key = p.cluster_key
    left join police_heads oh on oh.cluster_key = o.cluster_key and oh.family_key = ph.family_key
    where s.person is null or oh.cluster_key is not null
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
    -- alone); or where the police place her alone at a flat that no longer reads lived in, and the
    -- list's flat, where the police place nobody, started to read lived in (a month lived in after
    -- one that was not) no earlier than hers last did: she moved there, whatever its meter read
    -- since (its going dark is her emergency, not her going back): the list is up to date (joins,
    -- not correlated subqueries: Spark plans these too)
    select
        p.cluster_key, any_value(e.building) as building, any_value(e.room) as room,
        'civil_affairs_elderly_alone' as kinds
    from police_room p
    join evidence e on e.cluster_key = p.cluster_key and e.kind = 'own:civil_affairs_elderly_alone'
    left join dwelling_use old on old.building = p.building and old.room = p.room
    join dwelling_use new on new.building = e.building and new.room = e.room
    left join police_flat_strangers ps on ps.cluster_key = p.cluster_key
    left join police_occupancy lo on lo.building = e.building and lo.room = e.room
    join police_occupancy po on po.building = p.building and po.room = p.room
    where
        e.building || '#' || e.room <> p.building || '#' || p.room
        and (
            (
                new.lived_in
                and (
                    coalesce(old.reads_empty, false)
                    or (
                        ps.cluster_key is not null
                        and (lo.building is null or (lo.first_person = p.cluster_key and lo.last_person = p.cluster_key))
                    )
                )
            )
            or (
                not old.lived_in and new.arrival_month >= old.last_lived_month
                and lo.building is null and po.first_person = p.cluster_key and po.last_person = p.cluster_key
            )
        )
    group by p.cluster_key
    having count(distinct e.building || '#' || e.room) = 1
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
        and (not m.under_sixty_only or o.cluster_key in (select cluster_key from under_sixty))
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
