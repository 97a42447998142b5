-- The moves read off a person's own evidence: their family or their meter elsewhere (moved_self), an
-- account put in their name elsewhere (meter_transfer), a meter in their name that turned lived in
-- while the police's flat turned empty (meter_use_moved); part of int_person_moves, a table of its
-- own for Spark (int_person_move_facts says why).
with police_room as (
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

-- A police 居住地址 can be stale: the family moved and the police have not (all) caught up. A person
-- whose family (one 户号) lives, per the police, in one other dwelling, or (no family elsewhere) whose
-- own meter (a rare name) is at one other dwelling, while the meter of the dwelling the police name
-- reads like an empty flat in the export's latest month and the other reads like a lived-in one,
-- lives in the other; so do the people of their 户号 whom the police still place with them (a
-- family moves together). (Not a person on the elderly-alone list: a collapse of their power use is
-- an alarm, not a move; nor, on their own evidence, anyone of 60 or over.)
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

occupied as (
    -- the dwellings where the hub has somebody (their own record, or last month), with the first and
    -- last of those people's keys: someone other than X is placed there unless both are X (one
    -- grouped table and a hash join: a correlated "not in" over the evidence grew with its square)
    select building || '#' || room as dwelling, min(cluster_key) as first_person, max(cluster_key) as last_person
    from evidence
    where kind like 'own:%' or kind = 'last_month'
    group by all
),

moved_by_transfer as (
    select cluster_key, police_building as old_building, police_room as old_room, building, room, 'meter_transfer' as kinds
    from transfers
    where
        building || '#' || room <> police_building || '#' || police_room
        and cluster_key in (select cluster_key from under_sixty)
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

final as (
    select * from moved_any
)

select * from final
