-- Where each person (cluster) actually lives: a dwelling (standard address + room), or, when the
-- room cannot be told, the building with the room unknown.
--
-- 1. A person whose police 居住地址 names a room: the dwelling with the most weighted evidence of
--    their own records (police > elderly list > aid file, whose 家庭地址 may be the registered one,
--    人户分离); ties go to the most trusted source, then the smallest key.
-- 2. A person whose police 居住地址 names the building only, or is blank (other people each month
--    in real exports): the evidence of int_person_dwelling_evidence (last month's dwelling, family
--    members, a meter in their name, the elderly or aid file, the 户籍地址), each kind weighed by how
--    often it agrees with the police 居住地址 of the people whose address is complete — estimated
--    from this delivery's own data, per kind (and per combination of kinds, which are not
--    independent, among the people in the same position: the kinds seen without a police address,
--    last month's dwelling among their evidence or not), in the same building and anywhere. The
--    best dwelling is taken when the evidence for it (the combination's share, or 1 - Π(1 - p) over
--    its kinds where the combination is rare, no higher than its own few cases allow) reaches
--    residence_min_confidence and no other dwelling is as well supported; the registered address
--    is one kind of evidence among others, never the answer by default.
--    Someone the elderly-alone list places at a flat (with its room) lives alone there: the flat
--    where the police place their family is no evidence for them (family evidence seen with the aid
--    file and the 户籍 naming the family's flat is rare and mostly wrong for them: among such people
--    whose police 居住地址 names a room, in the November deliveries of seven 20k districts, the
--    list's flat was the police's 15 times in 19, the family's 4). Nor is anyone the police place
--    nowhere placed by evidence at a flat the list has someone else alive living alone in (a flat
--    registered to them or metered in their name that they let), unless family or last month's
--    dwelling is among that evidence. Family evidence at a flat only the stale police record of a member the hub moved
--    elsewhere names (no other member of the 户号 placed there) is no evidence.
--    A person the police place nowhere whose one meter (a name no one else of the district carries)
--    reads lived in where nobody else lives, every other dwelling named for them being a stranger's
--    home (a registered flat or an aid 家庭地址 another 户号 lives in), lives at the meter
--    (evidence:sole_meter), where that pattern reaches residence_min_confidence among the people
--    whose address is complete, their own address set aside.
-- 3. Otherwise a named building is kept with the room unknown (a household "室号不详" of the
--    person's 户号), and quality asks the street to confirm the room; a person with no address
--    at all and no conclusive evidence is left unplaced. (Where the police 居住地址 is blank, the
--    building the elderly-alone list's 居住地址 names without a room is the named building: the
--    committee visits them there.)
-- 4. A flat that reads empty in the export's latest month and the month before it, where the hub
--    placed the person last month too (or last month already found it so), is no longer where a
--    living person not on the elderly-alone list lives: the police 居住地址 (or last month's
--    evidence) has not caught up with a move out (a family that just moved in is new there: not
--    placed there last month). They are kept in the building with the room unknown (their 户号's
--    household "室号不详"), apart from the flat's meter and whoever moved in since
--    (building_only:flat_reads_empty). Not at a flat an aid file's 家庭地址 names: two registers say
--    so, and aid_renhu_fenli asks the street about the dark flat.
--    On a first delivery too (no month of the hub's before it), from the police 更新日期 and the
--    meter: a 户号 whose every living member the police place at a flat (someone of 18 or over among
--    them: a birth changes a newborn's record only) had their record changed after the export's
--    latest reading month, at a flat lived in at that reading and the month before, changed
--    together after the meter last read them there: a move the 居住地址 does not show yet (a
--    family moving in comes to a flat that read empty). They are kept in the building with the room
--    unknown (building_only:family_changed_after_reading), and so the next month while the police
--    have not changed their record again. And a 户号 whose every living member the police place at
--    a flat that reads empty in the latest month had their record last changed in the month the
--    flat went dark or the month before: the change was the move out
--    (building_only:flat_dark_since_last_change; a family that came later registered later, one
--    whose records changed long before may be away; not at an aid file's flat). Neither rule moves
--    anyone on the elderly-alone list (the committee visits them). Where the police place other
--    members of the 户号 at one other flat, their records changed in the same month or later (the
--    police caught up with them there), those taken out go with them (evidence:moved(family,…)).
-- An address missing from the standard library still locates a dwelling (keyed by the parsed
-- address), marked as outside the library, rather than losing the household.
{% set previous = previous_master(['person', 'household', 'person_xref', 'household_xref']) %}
with records as (
    select * from {{ ref('int_person_cluster_records') }}
),

evidence as (
    select * from {{ ref('int_person_dwelling_evidence') }}
),

dwelling_use as (
    select * from {{ ref('int_dwelling_meter_use') }}
),

facts as (
    select * from {{ ref('int_person_move_facts') }}
),

golden as (
    select cluster_key, person_status, birth_date from {{ ref('int_person_golden') }}
),

{% if previous %}
gone_last_month as (
    -- the people the hub kept in a building, room unknown, at the previous delivery because the flat
    -- named for them read empty or their family's records changed after its last reading (step 4):
    -- the building, and whether for the latter
    select distinct
        r.cluster_key, split_part(h.dwelling_key, '#', 1) as building,
        hx.match_rule like 'residence:building_only:family_changed_after_reading%' as changed
    from records r
    join {{ previous.person }} p on r.has_valid_id and p.id_number_valid and p.id_number = r.id_number
    join {{ previous.person_xref }} px on px.person_id = p.person_id
    join {{ previous.household_xref }} hx
        on
            hx.delivery = px.delivery and hx.source = px.source and hx.source_file = px.source_file
            and hx.source_row = px.source_row
    join {{ previous.household }} h on h.household_id = hx.household_id
    where
        px.delivery = (select max(delivery) from {{ previous.person_xref }} where delivery < {{ current_delivery() }})
        and (
            hx.match_rule like 'residence:building_only:flat_reads_empty%'
            or hx.match_rule like 'residence:building_only:flat_dark_since_last_change%'
            or hx.match_rule like 'residence:building_only:family_changed_after_reading%'
        )
),
{% else %}
    gone_last_month as (
        select null::string as cluster_key, null::string as building, null::boolean as changed
        where false
    ),
{% endif %}

placed as (
    -- where parts 1-3 place each person (int_person_placed: a table of its own for Spark's plan)
    select * from {{ ref('int_person_placed') }}
),

group_keys as (
    -- people of one 户号 in one building without a room are taken as one household
    select
        cluster_key,
        coalesce(
            'hk:' || any_value(family_key) filter (where source = 'police_population' and family_key is not null),
            'id:' || any_value(id_number) filter (where has_valid_id),
            'p:' || cluster_key
        ) as group_key
    from records
    group by cluster_key
),

-- 4. the flat reads empty and the person was placed there last month: moved out --------------------
aid_flats as (
    -- the flats an aid file's 家庭地址 names (a second register that says so: the committee reviews
    -- the family, and aid_renhu_fenli asks the street about a dark one)
    select distinct building, room from evidence
    where kind = 'own:civil_affairs_assistance'
),

police_changed as (
    -- each person's police record (the newest where there are several): their 户号 ('?' where it is
    -- blank: those of a flat are taken together), whether the police changed it (更新日期) after the
    -- electricity export's latest reading month, this month, and in which month
    select
        r.cluster_key, coalesce(max(r.family_key), '?') as family_key,
        coalesce({{ format_date('max(s.updated_on)', 'YYYY-MM') }} > {{ latest_reading_month() }}, false)
            as changed_after_reading,
        coalesce(
            {{ format_date('max(s.updated_on)', 'YYYY-MM') }} > {{ previous_month(current_delivery()) }}, false
        ) as changed_this_month,
        {{ format_date('max(s.updated_on)', 'YYYY-MM') }} as changed_month
    from records r
    join {{ ref('stg_police_population') }} s
        on s.delivery = r.delivery and s.source_file = r.source_file and s.source_row = r.source_row
    where r.source = 'police_population'
    group by r.cluster_key
    having count(distinct r.family_key) <= 1
),

families_at_flat as (
    -- each 户号 at each flat where the police place its living members (their 居住地址 names it),
    -- with the flat's meter: whether every member's record changed after the export's latest reading,
    -- whether every one last changed in the month the flat went dark or the month before, and
    -- whether someone grown up is among them (a newborn's record is the one that changes at a birth)
    select
        p.building, p.room, c.family_key,
        any_value(u.lived_in and u.lived_in_before) as lived_in_at_reading,
        any_value(u.reads_empty) as reads_empty,
        bool_and(c.changed_after_reading) as all_changed_after_reading,
        bool_and(
            coalesce(
                c.changed_month <= u.empty_since and c.changed_month >= {{ previous_month('u.empty_since') }}, false
            )
        ) as all_changed_as_it_went_dark,
        bool_or(coalesce({{ age_at('g.birth_date', delivery_month_end()) }} >= 18, false)) as has_adult
    from placed p
    join police_changed c on c.cluster_key = p.cluster_key
    join dwelling_use u on u.building = p.building and u.room = p.room
    left join golden g on g.cluster_key = p.cluster_key
    where
        p.room is not null
        and coalesce(g.person_status, '正常') = '正常'
        and p.residence_sources not like 'evidence:%'
    group by p.building, p.room, c.family_key
),

family_changed_at_flat as (
    -- a 户号 whose every living member the police place at a flat had their record changed after
    -- the export's latest reading, at a flat lived in at that reading and the month before: the
    -- whole family's records changed together after the meter last read them there (a move the
    -- 居住地址 does not show yet: a family that moves in after the reading comes to a flat that read
    -- empty, or to a new account)
    select building, room, family_key from families_at_flat
    where lived_in_at_reading and all_changed_after_reading and has_adult
),

family_changed_before_dark as (
    -- a 户号 whose every living member the police place at a flat that reads empty in the export's
    -- latest month had their record last changed in the month it went dark or the month before: the
    -- change was their move out, and nothing they told the police since says they are there (a
    -- family that moved in after the flat went dark registered after it; one whose records changed
    -- long before may be away for a while; a record with no 更新日期 tells nothing)
    select building, room, family_key from families_at_flat
    where reads_empty and all_changed_as_it_went_dark and has_adult
),

families_that_left as (
    select building, room, family_key, 'family_changed_after_reading' as reason
    from family_changed_at_flat
    union all
    select building, room, family_key, 'flat_dark_since_last_change' as reason
    from family_changed_before_dark
),

family_left as (
    -- the people of those 户号s at those flats, and why (never anyone on the elderly-alone list; a
    -- flat gone dark at an aid file's 家庭地址 is the street's to ask about, aid_renhu_fenli)
    select distinct p.cluster_key, fc.reason
    from placed p
    join police_changed c on c.cluster_key = p.cluster_key
    join families_that_left fc on fc.building = p.building and fc.room = p.room and fc.family_key = c.family_key
    left join facts f on f.cluster_key = p.cluster_key
    left join aid_flats af on af.building = p.building and af.room = p.room
    where
        not coalesce(f.elderly_listed, false)
        and (fc.reason = 'family_changed_after_reading' or af.building is null)
),

flat_reads_empty as (
    select distinct r.cluster_key
    from placed r
    join dwelling_use u on u.building = r.building and u.room = r.room
    left join golden g on g.cluster_key = r.cluster_key
    left join facts f on f.cluster_key = r.cluster_key
    left join evidence lm
        on lm.cluster_key = r.cluster_key and lm.kind = 'last_month' and lm.building = r.building and lm.room = r.room
    left join gone_last_month gl on gl.cluster_key = r.cluster_key and gl.building = r.building
    left join aid_flats af on af.building = r.building and af.room = r.room
    where
        af.building is null
        and u.reads_empty and u.read_empty_before
        and coalesce(g.person_status, '正常') = '正常'
        and not coalesce(f.elderly_listed, false)
        and (lm.cluster_key is not null or gl.cluster_key is not null)
),

still_out_of_date as (
    -- kept in the building last month because their family's records changed after the flat's last
    -- reading, and the police have not changed their record since: it is still out of date
    select distinct p.cluster_key
    from placed p
    join gone_last_month gl on gl.cluster_key = p.cluster_key and gl.building = p.building and gl.changed
    join police_changed c on c.cluster_key = p.cluster_key
    where p.room is not null and not c.changed_this_month
),

moved_out as (
    select cluster_key, min(reason) as reason
    from (
        select cluster_key, 'flat_reads_empty' as reason from flat_reads_empty
        union all
        select cluster_key, reason from family_left
        union all
        select cluster_key, 'family_changed_after_reading' as reason from still_out_of_date
    ) m
    group by cluster_key
),

family_went as (
    -- a person the two rules above take out of the flat whose 户号 has members the police place at
    -- one other flat, their records changed in the same month or later (the police caught up with
    -- them there): the family went there together
    select o.cluster_key, any_value(p.building) as building, any_value(p.room) as room
    from moved_out o
    join placed r on r.cluster_key = o.cluster_key
    join police_changed c on c.cluster_key = o.cluster_key and c.family_key <> '?'
    join police_changed c2 on c2.family_key = c.family_key and c2.cluster_key <> o.cluster_key
    join placed p on p.cluster_key = c2.cluster_key
    left join moved_out o2 on o2.cluster_key = c2.cluster_key
    where
        o.reason in ('family_changed_after_reading', 'flat_dark_since_last_change')
        and o2.cluster_key is null
        and p.room is not null and p.residence_sources not like 'evidence:%'
        and p.building || '#' || p.room <> r.building || '#' || coalesce(r.room, '')
        and c2.changed_month >= c.changed_month
    group by o.cluster_key
    having count(distinct p.building || '#' || p.room) = 1
),

resolved as (
    select
        r.cluster_key,
        coalesce(fw.building, r.building) as building,
        case when o.cluster_key is null then r.room else fw.room end as room,
        case
            when o.cluster_key is null then r.residence_sources
            when fw.cluster_key is not null
                then 'evidence:moved(family,' || o.reason || '),police_population_stale'
            else 'building_only:' || o.reason || '(' || r.residence_sources || ')'
        end as residence_sources,
        case when o.cluster_key is null or fw.cluster_key is not null then r.residence_evidence else 0.0 end
            as residence_evidence,
        r.candidate_dwellings
    from placed r
    left join moved_out o using (cluster_key)
    left join family_went fw using (cluster_key)
),

final as (
    select
        r.cluster_key,
        case when r.building not like 'unlisted:%' then r.building end as address_id,
        r.room,
        r.room is not null as room_known,
        case
            when r.room is not null then r.building || '#' || r.room
            else r.building || '#?' || g.group_key
        end as dwelling_key,
        r.residence_sources,
        r.residence_evidence,
        r.candidate_dwellings
    from resolved r
    join group_keys g using (cluster_key)
)

select * from final
