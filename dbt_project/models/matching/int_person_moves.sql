-- Moves the police have not caught up with (part of int_person_residence): who lives elsewhere
-- than their police 居住地址 names, and why. A table of its own, like int_person_police_room, so
-- that Spark does not inline the chain of move rules into the residence model's plan.
with records as (
    select * from {{ ref('int_person_cluster_records') }}
),

evidence as (
    select * from {{ ref('int_person_dwelling_evidence') }}
),

police_room as (
    select * from {{ ref('int_person_police_room') }}
),

-- A police 居住地址 can be stale: the family moved and the police have not (all) caught up. A person
-- whose family (one 户号) lives, per the police, in one other dwelling, or (no family elsewhere) whose
-- own meter (a rare name) is at one other dwelling, while the meter of the dwelling the police name
-- reads like an empty flat in the export's latest month and the other reads like a lived-in one,
-- lives in the other; so do the people of their 户号 whom the police still place with them (a
-- family moves together). (Not a person on the elderly-alone list: a collapse of their power use is
-- an alarm, not a move; nor, on their own evidence, anyone of 60 or over.)
meter_use as (
    select
        coalesce(l.address_id, 'unlisted:' || coalesce(un.building_key, u.supply_address_key)) as building,
        u.supply_room as room, u.reading_month, sum(u.kwh) as kwh
    from (
        select distinct account_no, supply_address_key, supply_room, reading_month, kwh
        from {{ ref('stg_utility_electricity') }}
        where delivery = {{ current_delivery() }} and supply_room is not null and kwh is not null
    ) u
    left join {{ ref('int_address_lookup') }} l on l.address_key = u.supply_address_key
    left join {{ ref('int_address_unlisted') }} un on un.address_key = u.supply_address_key
    group by all
),

reading_months as (
    -- the month before the export's latest
    select max(reading_month) as before_month from meter_use
    where reading_month < {{ latest_reading_month() }}
),

dwelling_use as (
    -- a flat "reads empty" in a month when its use is under 15% of the district's median dwelling
    -- that month, and "lived in" above 30% of it (medians of this delivery's export), in the
    -- export's latest month and in the month before it (a flat with no reading that month: null)
    select
        *,
        kwh_latest < {{ var('meter_empty_below_share') }} * median(kwh_latest) over () as reads_empty,
        kwh_latest >= {{ var('meter_lived_in_from_share') }} * median(kwh_latest) over () as lived_in,
        kwh_before < {{ var('meter_empty_below_share') }} * median(kwh_before) over () as read_empty_before,
        kwh_before >= {{ var('meter_lived_in_from_share') }} * median(kwh_before) over () as lived_in_before
    from (
        select
            u.building, u.room,
            max(u.kwh) filter (where u.reading_month = {{ latest_reading_month() }}) as kwh_latest,
            max(u.kwh) filter (where u.reading_month = m.before_month) as kwh_before
        from meter_use u
        cross join reading_months m
        group by u.building, u.room
    )
    where kwh_latest is not null
),

export_accounts as (
    -- each electricity account of this delivery's export and of the previous one: its flat and the
    -- one name it is in (an account whose rows disagree on the name, or carry none, has no name)
    select
        u.delivery, u.account_no,
        case
            when count(distinct coalesce(u.account_name_pinyin_key, '#' || u.account_name)) = 1
                then min(coalesce(u.account_name_pinyin_key, '#' || u.account_name))
        end as name_key,
        min(u.account_name) as account_name,
        min(coalesce(l.address_id, 'unlisted:' || coalesce(un.building_key, u.supply_address_key))) as building,
        min(u.supply_room) as room
    from {{ ref('stg_utility_electricity') }} u
    left join {{ ref('int_address_lookup') }} l on l.address_key = u.supply_address_key
    left join {{ ref('int_address_unlisted') }} un on un.address_key = u.supply_address_key
    where
        u.account_no is not null and u.account_name is not null
        and (
            u.delivery = {{ current_delivery() }}
            or u.delivery = (
                select max(delivery) from {{ ref('stg_utility_electricity') }}
                where delivery < {{ current_delivery() }}
            )
        )
    group by u.delivery, u.account_no
),

person_names as (
    -- each person's name as the utility's 户名 is compared (same name or same pinyin), and whether
    -- anyone else in the district carries the very same characters
    select
        cluster_key, name, name_key,
        count(*) over (partition by name) = 1 as name_unique
    from (
        select cluster_key, name, coalesce(cn_name_pinyin_key(name), '#' || name) as name_key
        from {{ ref('int_person_golden') }}
        where name is not null
    ) n
),

elsewhere_evidence as (
    select
        p.cluster_key, e.building, e.room, e.kind,
        bool_or(e.kind = 'family') over (partition by p.cluster_key) as family_elsewhere
    from police_room p
    join evidence e on e.cluster_key = p.cluster_key and e.kind in ('family', 'meter_anywhere')
    where e.building || '#' || e.room <> p.building || '#' || p.room
),

elsewhere as (
    -- a family member's dwelling outweighs a meter in the person's name (a namesake's, a relative's)
    select
        cluster_key, any_value(building) as building, any_value(room) as room,
        {{ ordered_string_agg('kind', '+', distinct=true) }} as kinds
    from elsewhere_evidence
    where kind = 'family' or not family_elsewhere
    group by cluster_key
    having count(distinct building || '#' || room) = 1
),

under_sixty as (
    -- moves are not read off the meters of anyone of 60 or over, but for a family going together:
    -- an old person's empty-reading home is a reason to knock on the door, and the readings of a
    -- flat they just moved into predate them (the power alert would read them)
    select cluster_key from {{ ref('int_person_golden') }}
    where {{ age_at('birth_date', delivery_month_end()) }} < {{ var('elderly_min_age') }}
),

elderly_listed as (
    select cluster_key from records
    where source = 'civil_affairs_elderly_alone'
),

occupied as (
    -- the dwellings where the hub has somebody (their own record, or last month), with the first and
    -- last of those people's keys: someone other than X is placed there unless both are X (one
    -- grouped table and a hash join: a correlated "not in" over the evidence grew with its square)
    select building || '#' || room as dwelling, min(cluster_key) as first_person, max(cluster_key) as last_person
    from evidence
    where kind like 'own:%' or kind = 'last_month'
    group by all
),

-- Signs of a move read against the previous month. The account of a flat put in a person's name
-- since the previous delivery's export (过户, done when moving in; a name no one else in the
-- district carries, written the same, and not a one-character correction of the old name) says where they live now:
-- at their police flat, it confirms a fresh police address (the flat they left may still read
-- lived in, the new one empty, as the export lags the move); elsewhere, the police have not caught
-- up.
transferred_accounts as (
    select c.building, c.room, c.account_name
    from export_accounts c
    join export_accounts p on p.account_no = c.account_no and p.delivery < c.delivery
    where
        c.delivery = {{ current_delivery() }} and c.room is not null
        and c.name_key is not null and p.name_key is not null and c.name_key <> p.name_key
        and {{ edit_distance('c.account_name', 'p.account_name') }} > 1
),

transfers as (
    select
        p.cluster_key, p.building as police_building, p.room as police_room,
        min(t.building) as building, min(t.room) as room
    from police_room p
    join person_names n on n.cluster_key = p.cluster_key and n.name_unique
    join transferred_accounts t on t.account_name = n.name
    where p.cluster_key not in (select cluster_key from elderly_listed)
    group by p.cluster_key, p.building, p.room
    having count(distinct t.building || '#' || t.room) = 1
),

transfers_taken as (
    -- the transfers that decide where someone lives: at their police flat (confirmed), or elsewhere
    -- for someone under 60 (moved); an older person's transfer elsewhere decides nothing
    select cluster_key from transfers
    where
        building || '#' || room = police_building || '#' || police_room
        or cluster_key in (select cluster_key from under_sixty)
),

moved_by_transfer as (
    select cluster_key, police_building as old_building, police_room as old_room, building, room, 'meter_transfer' as kinds
    from transfers
    where
        building || '#' || room <> police_building || '#' || police_room
        and cluster_key in (select cluster_key from under_sixty)
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

moved_self as (
    select f.cluster_key, p.building as old_building, p.room as old_room, f.building, f.room, f.kinds
    from elsewhere f
    join police_room p using (cluster_key)
    join dwelling_use old on old.building = p.building and old.room = p.room
    join dwelling_use new on new.building = f.building and new.room = f.room
    left join occupied o on o.dwelling = f.building || '#' || f.room
    -- (a flat with no reading at all says nothing: an account closed at a move out, or one not
    -- yet read after a move in)
    where old.reads_empty and new.lived_in
    -- the person's own meter alone (no family there) says so only of a flat where the hub has
    -- nobody (no one's own record, no one last month): a meter in one's name is often a
    -- relative's flat, or a namesake's
    and (
        f.kinds like '%family%'
        or o.dwelling is null
        or (o.first_person = f.cluster_key and o.last_person = f.cluster_key)
    )
    and p.cluster_key not in (select cluster_key from elderly_listed)
    and p.cluster_key not in (select cluster_key from transfers_taken)
    -- the family never takes a person into their own 户籍 dwelling: the family's police 居住地址
    -- there only repeats the 户籍地址 (the default of 人户分离), and the person's own, other, 居住地址
    -- is the police's newer word
    and not (
        f.kinds like '%family%'
        and exists (
            select 1 from evidence r
            where
                r.cluster_key = p.cluster_key and r.kind = 'registered'
                and r.building = f.building and r.room = f.room
        )
    )
    -- nobody of 60 or over on a meter alone, nor from a flat whose meter is in their own name: an
    -- old person's empty-reading home is a reason to knock on the door, unless their family lives
    -- elsewhere and the flat is not theirs (moved in with the children)
    and (p.cluster_key in (
        select cluster_key from under_sixty
    )
    or (
        f.kinds like '%family%'
        and not exists (
            select 1 from evidence m
            where
                m.cluster_key = p.cluster_key and m.kind = 'meter'
                and m.building = p.building and m.room = p.room
        )
    ))
),

-- A meter in the person's name at another flat that reads empty the month before the latest and
-- lived in at the latest, while the police's flat turned from lived in to empty in the same month,
-- is a move too (a name shared with others is enough for that coincidence).
moved_by_use as (
    select
        p.cluster_key, p.building as old_building, p.room as old_room,
        min(m.building) as building, min(m.room) as room, 'meter_use_moved' as kinds
    from police_room p
    join dwelling_use old on old.building = p.building and old.room = p.room
    join person_names n on n.cluster_key = p.cluster_key
    join export_accounts m on m.delivery = {{ current_delivery() }} and m.name_key = n.name_key
    join dwelling_use new on new.building = m.building and new.room = m.room
    where
        old.lived_in_before and old.reads_empty
        and coalesce(new.read_empty_before, true) and new.lived_in
        and m.building || '#' || m.room <> p.building || '#' || p.room
        and p.cluster_key not in (select cluster_key from moved_self)
        and p.cluster_key not in (select cluster_key from transfers_taken)
        and p.cluster_key not in (select cluster_key from elderly_listed)
        -- (an empty-reading home of someone of 60 or over is a reason to knock on the door)
        and p.cluster_key in (
            select cluster_key from under_sixty
        )
    group by p.cluster_key, p.building, p.room
    having count(distinct m.building || '#' || m.room) = 1
),

moved_any as (
    select cluster_key, old_building, old_room, building, room, kinds from moved_self
    union all
    select cluster_key, old_building, old_room, building, room, kinds from moved_by_transfer
    union all
    select cluster_key, old_building, old_room, building, room, kinds from moved_by_use
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
