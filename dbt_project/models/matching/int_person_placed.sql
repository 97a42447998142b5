-- Where each person is placed by parts 1-3 of int_person_residence (their police 居住地址 with a
-- room, the other evidence, a meter in their own name, or the building with the room unknown),
-- before part 4 takes out those who have moved out; the rules are told in int_person_residence.
-- A table of its own: part 4 reads `placed` at seven places (through moved_out and family_went,
-- eighteen copies in all), and Spark inlines a CTE at every reference: as one model the plan had
-- ~18,800 physical operators and 2,020 broadcast joins, and a small change in parts 1-3 could
-- exhaust the driver's heap ("Not enough memory to build and broadcast the table").
with records as (
    select * from {{ ref('int_person_cluster_records') }}
),

evidence as (
    select * from {{ ref('int_person_dwelling_evidence') }}
),

police_room as (
    select * from {{ ref('int_person_police_room') }}
),

moved as (
    -- the moves the police have not caught up with, and why (int_person_moves)
    select * from {{ ref('int_person_moves') }}
),

dwelling_use as (
    select * from {{ ref('int_dwelling_meter_use') }}
),

golden as (
    select cluster_key, person_status from {{ ref('int_person_golden') }}
),

from_police_room as (
    select
        p.cluster_key,
        coalesce(m.building, p.building) as building,
        coalesce(m.room, p.room) as room,
        case
            when m.cluster_key is not null then 'evidence:moved(' || m.kinds || '),police_population_stale'
            else p.residence_sources
        end as residence_sources,
        p.residence_evidence,
        p.candidate_dwellings
    from police_room p
    left join moved m using (cluster_key)
),

-- how often each kind of evidence names the dwelling the police name, where they name a room ------
labels as (
    -- the people whose police 居住地址 names one room (int_person_residence_labels)
    select * from {{ ref('int_person_residence_labels') }}
),

agreement as (
    select
        e.kind,
        count(*) filter (where e.building = l.building) as n_building,
        count(*) filter (where e.building = l.building and e.room = l.room) as agree_building,
        count(*) as n_any,
        count(*) filter (where e.building = l.building and e.room = l.room) as agree_any
    from evidence e
    join labels l using (cluster_key)
    where e.kind <> 'own:police_population' and e.room is not null
    group by e.kind
),

reliability as (
    -- Laplace-smoothed share of agreement: a kind seen rarely is trusted little
    select
        kind,
        (agree_building + 1.0) / (n_building + 2.0) as p_building,
        (agree_any + 1.0) / (n_any + 2.0) as p_any,
        n_building, n_any
    from agreement
),

-- kinds are not independent (a family's 户号 is often its registered address): where a combination
-- of kinds names a dwelling often enough among the labelled people, its own share of agreement is
-- the estimate, counted among the labelled people in the same position as the person to place
-- (int_person_residence_combinations, a table of its own: Spark inlines a CTE at every reference)
combination_reliability as (
    select * from {{ ref('int_person_residence_combinations') }}
),

with_last_month as (
    select distinct cluster_key from evidence
    where kind = 'last_month'
),

-- 2. people whose police record names the building only, or nothing -------------------------------
unplaced as (
    select distinct cluster_key from records
    where cluster_key not in (select cluster_key from from_police_room)
),

stated_building as (
    -- the building the police record names without a room; where the police 居住地址 is blank, the
    -- building the elderly-alone list's 居住地址 names without a room (the committee visits them
    -- there; the aid file's 家庭地址 may be the registered one, 人户分离)
    select cluster_key, any_value(building) as building, any_value(source) as source
    from (
        select pb.cluster_key, pb.building, 'police_population' as source
        from evidence as pb
        where pb.kind = 'building:police_population'
        union all
        select lb.cluster_key, lb.building, 'civil_affairs_elderly_alone' as source
        from evidence as lb
        where
            lb.kind = 'building:civil_affairs_elderly_alone'
            and lb.cluster_key not in (
                select pe.cluster_key from evidence as pe
                where pe.kind in ('building:police_population', 'own:police_population')
            )
    ) as named
    group by cluster_key
    having count(distinct building) = 1
),

family_placed as (
    -- where the hub places each member of a 户号 whose police 居住地址 names a room (moves applied)
    select distinct r.family_key, f.cluster_key, f.building, f.room
    from from_police_room f
    join records r on r.cluster_key = f.cluster_key and r.source = 'police_population' and r.family_key is not null
),

stale_family_flats as (
    -- a flat the police 居住地址 of a family member names whom the hub moved elsewhere (int_person_moves:
    -- the police behind), where the hub places no other member of the 户号: the family evidence there
    -- is as stale as that record (the member's flat is where the family lives now, and theirs too)
    select distinct x.cluster_key, p.building, p.room
    from moved m
    join police_room p on p.cluster_key = m.cluster_key
    join records y on y.cluster_key = m.cluster_key and y.source = 'police_population' and y.family_key is not null
    join records x on x.family_key = y.family_key and x.source = 'police_population' and x.cluster_key <> y.cluster_key
    left join family_placed f
        on
            f.family_key = y.family_key and f.building = p.building and f.room = p.room
            and f.cluster_key <> x.cluster_key
    where f.cluster_key is null
),

listed_alone_flats as (
    -- the flats the elderly-alone list names (room included) for someone alive: they live alone there
    select distinct e.building, e.room
    from evidence e
    left join golden g on g.cluster_key = e.cluster_key
    where
        e.kind = 'own:civil_affairs_elderly_alone' and e.room is not null
        and coalesce(g.person_status, '正常') = '正常'
),

inferred_candidates as (
    select
        u.cluster_key, e.building, e.room, e.kind,
        case when s.building is not null then rl.p_building else rl.p_any end as p
    from unplaced u
    join evidence e on e.cluster_key = u.cluster_key and e.room is not null
    left join stated_building s on s.cluster_key = u.cluster_key
    join reliability rl on rl.kind = e.kind
    left join stale_family_flats sf on sf.cluster_key = u.cluster_key and sf.building = e.building and sf.room = e.room
    where
        -- a person the police place in a building lives in that building
        (s.building is null or e.building = s.building)
        and not (e.kind = 'family' and sf.cluster_key is not null)
        -- a person the elderly-alone list places at a flat (with its room) lives alone there, not
        -- at the flat where the police place their family: the family's flat is no evidence for them
        and not (
            e.kind = 'family'
            and exists (
                select 1 from evidence as l
                where
                    l.cluster_key = u.cluster_key and l.kind = 'own:civil_affairs_elderly_alone'
                    and l.room is not null and (l.building <> e.building or l.room <> e.room)
            )
        )
),

inferred_combined as (
    select
        i.cluster_key, i.building, i.room,
        1 - exp(sum(ln(greatest(1 - i.p, 1e-9)))) as independent_confidence,
        {{ ordered_string_agg('i.kind', '+') }} as kinds,
        any_value(s.building is not null) as in_stated_building
    from inferred_candidates i
    left join stated_building s using (cluster_key)
    group by i.cluster_key, i.building, i.room
),

inferred_scored as (
    -- a combination seen residence_min_combination_cases times: its own share; a rarer one: the kinds
    -- as independent, never above what its own cases allow (right in 0 of 3 is not .9999; a
    -- combination never seen, or right in every case, is scored as independent)
    select
        i.cluster_key, i.building, i.room, i.kinds,
        case
            when c.cases >= {{ var('residence_min_combination_cases') }} then c.p
            else least(i.independent_confidence, coalesce(c.p_upper, 1.0))
        end as confidence
    from inferred_combined i
    left join with_last_month w on w.cluster_key = i.cluster_key
    left join combination_reliability c
        on
            c.kinds = i.kinds and c.has_last_month = (w.cluster_key is not null)
            and c.scope = case when i.in_stated_building then 'building' else 'any' end
    left join listed_alone_flats l on l.building = i.building and l.room = i.room
    -- a person the police place nowhere is not placed by evidence at a flat where the elderly-alone
    -- list has someone else living alone (a flat registered to them or metered in their name that
    -- they let), unless their family lives there, the hub placed them there last month, or the list
    -- names them there too (where it names two people at one flat, each is still placed by their own
    -- record). Not for one the police place in that building: on a first delivery (no last month)
    -- that cost right placements of people living with the listed person (3 in f1_9111's October)
    where
        l.building is null or i.in_stated_building
        or '+' || i.kinds || '+' like '%+family+%' or '+' || i.kinds || '+' like '%+last_month+%'
        or '+' || i.kinds || '+' like '%+own:civil_affairs_elderly_alone+%'
),

inferred_ranked as (
    select
        *,
        row_number() over (partition by cluster_key order by confidence desc, building asc, room asc) as rank,
        lead(confidence) over (partition by cluster_key order by confidence desc, building asc, room asc) as runner_up,
        count(*) over (partition by cluster_key) as candidate_dwellings
    from inferred_scored
),

from_evidence as (
    select
        cluster_key, building, room, 'evidence:' || kinds as residence_sources,
        round(confidence, 4) as residence_evidence, candidate_dwellings
    from inferred_ranked
    where
        rank = 1
        and confidence >= {{ var('residence_min_confidence') }}
        and confidence > coalesce(runner_up, 0)
),

-- 2b. a meter in the person's own name where no one else lives, every other dwelling a stranger's ---
-- A person whom the police place nowhere (居住地址 blank, no building named): where a meter in their
-- name (a name no other meter and no other person of the district carries) reads lived in, nobody's
-- own record places anyone else at its flat, and every other dwelling the evidence names for them is
-- a stranger's home (someone not of their 户号 lives there by their own police record or the
-- elderly-alone list: a registered flat or an aid file's 家庭地址 they left, 人户分离), they live at
-- the meter. How often that is so is estimated from the people whose police 居住地址 names a room,
-- with their own address set aside (the 'meter' kind, which needs it, too), and taken where it
-- reaches residence_min_confidence.
person_family as (
    select cluster_key, max(family_key) as family_key
    from records
    where source = 'police_population'
    group by cluster_key
    having count(distinct family_key) <= 1
),

occupants as (
    select cluster_key, building, room from police_room
    union
    select cluster_key, building, room from evidence
    where kind = 'own:civil_affairs_elderly_alone'
),

blind_candidates as (
    -- the dwellings the evidence names for a person, their own police 居住地址 set aside
    select distinct cluster_key, building, room from evidence
    where room is not null and kind not in ('own:police_population', 'meter')
),

stranger_homes as (
    select distinct b.cluster_key, b.building, b.room
    from blind_candidates b
    join occupants o on o.building = b.building and o.room = b.room and o.cluster_key <> b.cluster_key
    left join person_family fb on fb.cluster_key = b.cluster_key
    left join person_family fo on fo.cluster_key = o.cluster_key
    where fb.family_key is null or fo.family_key is null or fo.family_key <> fb.family_key
),

sole_meters as (
    -- a meter whose holder's name one person of the district carries (meter_anywhere joins a meter
    -- to every person of its name), that person's one meter
    select e.building, e.room, any_value(e.cluster_key) as cluster_key
    from evidence e
    where e.kind = 'meter_anywhere'
    group by e.building, e.room
    having count(distinct e.cluster_key) = 1
),

own_lived_in_meter as (
    select s.cluster_key, s.building, s.room
    from sole_meters s
    join dwelling_use u on u.building = s.building and u.room = s.room
    where
        u.lived_in
        and s.cluster_key in (
            select cluster_key from evidence
            where kind = 'meter_anywhere'
            group by cluster_key
            having count(*) = 1
        )
),

sole_meter_homes as (
    -- the meter's flat is the one dwelling named for them that is no stranger's home
    select s.cluster_key, s.building, s.room, count(*) as candidate_dwellings
    from own_lived_in_meter s
    join blind_candidates b on b.cluster_key = s.cluster_key
    left join stranger_homes h on h.cluster_key = b.cluster_key and h.building = b.building and h.room = b.room
    group by s.cluster_key, s.building, s.room
    having
        count(*) filter (where h.cluster_key is null) = 1
        and count(*) filter (where h.cluster_key is null and b.building = s.building and b.room = s.room) = 1
),

sole_meter_reliability as (
    -- (a police 居住地址 outside the library, a misspelt road, is no label to judge a meter by)
    select (count(*) filter (where s.building = l.building and s.room = l.room) + 1.0) / (count(*) + 2.0) as p
    from sole_meter_homes s
    join labels l using (cluster_key)
    where l.building not like 'unlisted:%'
),

from_sole_meter as (
    select
        s.cluster_key, s.building, s.room, 'evidence:sole_meter' as residence_sources,
        round(r.p, 4) as residence_evidence, s.candidate_dwellings
    from sole_meter_homes s
    cross join sole_meter_reliability r
    where
        r.p >= {{ var('residence_min_confidence') }}
        and s.cluster_key in (select cluster_key from unplaced)
        and s.cluster_key not in (select cluster_key from stated_building)
        and s.cluster_key not in (select cluster_key from from_evidence)
),

-- 3. the building, room unknown --------------------------------------------------------------------
building_only as (
    select
        s.cluster_key, s.building, null::string as room, 'building_only:' || s.source as residence_sources,
        0.0 as residence_evidence, 0 as candidate_dwellings
    from stated_building s
    where
        s.cluster_key in (select cluster_key from unplaced)
        and s.cluster_key not in (select cluster_key from from_evidence)
),

placed as (
    select * from from_police_room
    union all
    select * from from_evidence
    union all
    select * from from_sole_meter
    union all
    select * from building_only
)

select * from placed
