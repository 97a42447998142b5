-- Household facts that contradict a civil-affairs list:
-- * elderly_not_alone: a person on the elderly-living-alone list who is alive, but others live
--   in the same dwelling (per the household file: police residence first; a household placed at
--   building level with its room unknown says nothing about who else lives in the room; a person
--   of another 户号 whose 居住地址 only repeats their 户籍地址 there is not counted); nothing where
--   the list's own 居住地址 names another flat, room included (one of the two is stale);
-- * aid_family_size_mismatch: an aid family whose declared 家庭人口数 differs from the members
--   listed under its certificate;
-- * aid_renhu_fenli: an aid family whose 家庭地址 is not the dwelling its members live in (人户分离);
--   where most of them (or, on a tie, the head) live at the 家庭地址, a member the police place in
--   another room is 人户分离 all the same (a spouse living with a child, a parent in care);
--   where the police place them at the 家庭地址 itself, the meters may still tell: the flat of the
--   家庭地址 reads empty in the export's latest month while the one other flat with a meter in the
--   head's name (a name nobody else in the district carries) reads lived in (not of a head the
--   police report dead or moved out); and where no meter of the head's tells where they went, the
--   flat at the 家庭地址 itself gone dark with everyone on file under the elderly age (the
--   account_vacant reading of qc_electricity: a family that has left); and where the hub took the
--   family out of the flat the police give at the 家庭地址 (kept in the building with the room
--   unknown: their records all changed after its latest reading, or it went dark when they last
--   changed), the family has left the 家庭地址 as well. The police, the aid
--   file and the elderly list are often all behind an old person's move (the meter rules of the
--   residence model do not move anyone of 60 or over: an empty home is a reason to knock).
with members as (
    select * from {{ source('master', 'household_member') }}
    where delivery = {{ current_delivery() }}
),

households as (
    select * from {{ source('master', 'household') }}
),

person_rows as (
    select * from {{ ref('int_quality_person_rows') }}
),

police_status as (
    select * from {{ ref('int_quality_police_status') }}
),

elderly as (
    -- the person's household, unless the list's own 居住地址 names another flat, room included: one
    -- of the two is stale (the police 居住地址 or the list's; or the row went to a namesake), and the
    -- people of either flat may have nothing to do with them, so nothing is claimed
    select
        e.source, e.source_file, e.source_row, e.residence_address_raw, pr.person_id,
        case
            when pr.row_address_id is null or pr.room is null then pr.household_id
            when h.dwelling_key = pr.row_address_id || '#' || pr.room then pr.household_id
        end as household_id,
        pr.street_code, pr.community_code
    from {{ ref('stg_civil_affairs_elderly_alone') }} e
    join person_rows pr on pr.source_file = e.source_file and pr.source_row = e.source_row and pr.source = e.source
    left join households h on h.household_id = pr.household_id
    where e.delivery = {{ current_delivery() }}
),

-- each person's 户号 and whether their police 居住地址 only repeats their 户籍地址 (room included), per
-- this delivery's police rows
police_households as (
    select
        pr.person_id,
        case when count(distinct r.family_key) = 1 then min(r.family_key) end as hukou_number,
        bool_and(
            coalesce(r.address_key = r.registered_address_key and coalesce(r.room, '') = coalesce(r.registered_room, ''), false)
        ) as residence_is_registered
    from {{ ref('int_person_records') }} r
    join person_rows pr on pr.source_file = r.source_file and pr.source_row = r.source_row and pr.source = r.source
    where r.delivery = {{ current_delivery() }} and r.source = 'police_population'
    group by pr.person_id
),

-- the others of the dwelling. A person of another 户号 whose police 居住地址 only repeats the 户籍地址
-- at the listed person's flat is a 人户分离 case (an adult child keeping the hukou at the parents'
-- flat) more often than a co-resident: that says nothing against the list, which the committee
-- keeps from its visits
co_residents as (
    select e.source_file, e.source_row, count(distinct m.person_id) as others
    from elderly e
    join members m on m.household_id = e.household_id and m.person_id <> e.person_id and m.status = '正常'
    left join police_households eh on eh.person_id = e.person_id
    left join police_households mh on mh.person_id = m.person_id
    where not coalesce(mh.residence_is_registered and mh.hukou_number is distinct from eh.hukou_number, false)
    group by all
),

not_alone as (
    select
        {{ finding_row(
            "'elderly_not_alone'", "'medium'", "'person'", 'e.person_id', 'e.person_id', 'e',
            'e.street_code', 'e.community_code', "'居住地址'", 'coalesce(h.full_address, e.residence_address_raw)'
        ) }},
        '该老人在独居老人名单中，但同一住址（' || coalesce(h.full_address, e.residence_address_raw) || '）还登记有'
        || c.others || '名其他居住人员，请上门核实是否仍为独居。' as message
    from elderly e
    join co_residents c on c.source_file = e.source_file and c.source_row = e.source_row
    left join households h on h.household_id = e.household_id
    left join police_status s on s.person_id = e.person_id
    where coalesce(s.police_status, '正常') = '正常' and h.room is not null
),

aid as (
    select
        a.*, pr.person_id, pr.household_id, pr.street_code as person_street_code, pr.community_code as person_community_code,
        l.address_id as family_address_id,
        coalesce(l.address_id, 'unlisted:' || a.family_address_key) as family_address_building,
        coalesce(l.address_id, 'unlisted:' || a.family_address_key) || '#' || a.family_room as family_dwelling_key
    from {{ ref('stg_civil_affairs_assistance') }} a
    left join person_rows pr on pr.source_file = a.source_file and pr.source_row = a.source_row and pr.source = a.source
    left join {{ ref('int_address_lookup') }} l on l.address_key = a.family_address_key
    where a.delivery = {{ current_delivery() }} and a.aid_certificate_no is not null
),

family_committees as (
    -- the committees the family's members live in, with how many live in each
    select
        aid_certificate_no,
        person_street_code,
        coalesce(person_community_code, '') as person_community_code,
        count(*) as members,
        max(case when relation_to_head = '户主' then 1 else 0 end) as has_head
    from aid
    where person_street_code is not null
    group by aid_certificate_no, person_street_code, coalesce(person_community_code, '')
),

family_committee as (
    -- the one most members live in; a tie goes to the head's (户主), then to the larger code, so
    -- that every run of the same delivery sends the finding to the same street
    select
        aid_certificate_no,
        max_by(person_street_code, (members, has_head, person_street_code, person_community_code)) as street_code,
        nullif(
            max_by(person_community_code, (members, has_head, person_street_code, person_community_code)), ''
        ) as community_code
    from family_committees
    group by aid_certificate_no
),

family_rows as (
    select
        aid_certificate_no,
        any_value(source) as source,
        min(source_file) as source_file,
        min(source_row) as source_row,
        mode(family_size) as declared,
        count(distinct coalesce(person_id, id_number, name)) as listed,
        mode(family_address_raw) as family_address_raw,
        mode(family_dwelling_key) as family_dwelling_key,
        mode(family_address_building) as family_address_building,
        any_value(aid_type) as aid_type,
        -- the head, or (no head listed) the member with the smallest person id
        min_by(household_id, (case when relation_to_head = '户主' then 0 else 1 end, person_id)) as head_household_id,
        min_by(person_id, (case when relation_to_head = '户主' then 0 else 1 end, person_id)) as head_person_id
    from aid
    group by aid_certificate_no
),

families as (
    select
        f.*,
        c.street_code,
        c.community_code
    from family_rows as f
    left join family_committee as c on c.aid_certificate_no = f.aid_certificate_no
),

size_mismatch as (
    select
        {{ finding_row(
            "'aid_family_size_mismatch'", "'medium'", "'household'", 'f.head_household_id',
            "'cert:' || f.aid_certificate_no", 'f', 'coalesce(f.street_code, h.street_code)',
            'coalesce(f.community_code, h.community_code)', "'家庭人口数'", 'f.declared::string', 'f.listed::string'
        ) }},
        coalesce(f.aid_type, '救助') || '家庭（救助证' || f.aid_certificate_no || '）登记家庭人口数为' || f.declared
        || '人，但名单中列出的成员为' || f.listed || '人，请核实家庭人口并更正。' as message
    from families f
    left join households h on h.household_id = f.head_household_id
    where f.declared is not null and f.declared <> f.listed
),

-- where the members live, per the household file, when the police place them there
member_dwellings as (
    select
        a.aid_certificate_no, h.dwelling_key, h.full_address, h.household_id, h.street_code, h.community_code,
        count(*) as members,
        max(case when a.relation_to_head = '户主' then 1 else 0 end) as has_head
    from aid a
    join households h on h.household_id = a.household_id
    join {{ source('master', 'household_xref') }} hx
        on hx.household_id = a.household_id and hx.source = 'police_population' and hx.delivery = {{ current_delivery() }}
    join {{ source('master', 'person_xref') }} px
        on px.source_file = hx.source_file and px.source_row = hx.source_row and px.person_id = a.person_id
    group by all
),

lives as (
    -- the dwelling most members live in; on a tie the head's (户主), then the greatest key: the same
    -- answer on every run
    select
        aid_certificate_no,
        max_by(dwelling_key, (members, has_head, dwelling_key)) as dwelling_key,
        max_by(full_address, (members, has_head, dwelling_key)) as full_address,
        max_by(household_id, (members, has_head, dwelling_key)) as household_id,
        max_by(street_code, (members, has_head, dwelling_key)) as street_code,
        max_by(community_code, (members, has_head, dwelling_key)) as community_code
    from member_dwellings
    group by aid_certificate_no
),

renhu_fenli as (
    select
        {{ finding_row(
            "'aid_renhu_fenli'", "'low'", "'household'", 'l.household_id', "'cert:' || f.aid_certificate_no", 'f',
            'l.street_code', 'l.community_code', "'家庭地址'", 'f.family_address_raw', 'l.full_address'
        ) }},
        coalesce(f.aid_type, '救助') || '家庭（救助证' || f.aid_certificate_no || '）登记的家庭地址为“' || f.family_address_raw
        || '”，但公安实有人口登记其实际居住在“' || l.full_address || '”（人户分离），请核实实际居住地并更新家庭地址。' as message
    from families f
    join lives l using (aid_certificate_no)
    -- another building; or, where both rooms are known, another room (a 家庭地址 without its room,
    -- or members placed with the room unknown, say nothing about the room)
    where
        f.family_address_building is not null
        and (
            split_part(l.dwelling_key, '#', 1) <> f.family_address_building
            or (
                f.family_dwelling_key is not null and l.dwelling_key not like '%#?%'
                and l.dwelling_key <> f.family_dwelling_key
            )
        )
),

-- the members who live elsewhere, for families the rule above leaves at their 家庭地址 (most members,
-- or the head on a tie, live there): the other room most of them live in (then the head's, then the
-- greatest key), both rooms known
members_elsewhere as (
    select
        md.aid_certificate_no,
        max_by(md.dwelling_key, (md.members, md.has_head, md.dwelling_key)) as dwelling_key,
        max_by(md.full_address, (md.members, md.has_head, md.dwelling_key)) as full_address,
        max_by(md.household_id, (md.members, md.has_head, md.dwelling_key)) as household_id,
        max_by(md.street_code, (md.members, md.has_head, md.dwelling_key)) as street_code,
        max_by(md.community_code, (md.members, md.has_head, md.dwelling_key)) as community_code,
        sum(md.members) as members
    from member_dwellings md
    join families f on f.aid_certificate_no = md.aid_certificate_no
    join lives l on l.aid_certificate_no = md.aid_certificate_no
    where
        l.dwelling_key = f.family_dwelling_key
        and md.dwelling_key <> f.family_dwelling_key
        and md.dwelling_key not like '%#?%'
    group by md.aid_certificate_no
),

-- the head's own meter elsewhere, for families the police-based rule leaves at their 家庭地址
head_names as (
    select
        a.aid_certificate_no,
        min(coalesce(a.name_pinyin_key, '#' || a.name)) as name_key
    from aid a
    where a.relation_to_head = '户主' and a.name is not null
    group by a.aid_certificate_no
    having count(distinct coalesce(a.name_pinyin_key, '#' || a.name)) = 1
),

unique_names as (
    select name_key from {{ ref('int_person_move_facts') }}
    where name_key is not null
    group by name_key
    having count(*) = 1
),

head_meters as (
    select
        hn.aid_certificate_no,
        min(e.building || '#' || e.room) as dwelling_key,
        count(distinct e.building || '#' || e.room) as dwellings
    from head_names hn
    join unique_names un on un.name_key = hn.name_key
    join {{ ref('int_electricity_export_accounts') }} e
        on e.delivery = {{ current_delivery() }} and e.name_key = hn.name_key and e.room is not null
    join {{ ref('int_dwelling_meter_use') }} u on u.building = e.building and u.room = e.room
    where u.lived_in
    group by hn.aid_certificate_no
),

meter_renhu_fenli as (
    select
        {{ finding_row(
            "'aid_renhu_fenli'", "'low'", "'household'", 'h.household_id', "'cert:' || f.aid_certificate_no", 'f',
            'h.street_code', 'h.community_code', "'家庭地址'", 'f.family_address_raw', 'h.full_address'
        ) }},
        coalesce(f.aid_type, '救助') || '家庭（救助证' || f.aid_certificate_no || '）登记的家庭地址为“' || f.family_address_raw
        || '”，该处电表本月已无正常用电，而户主名下另一处住址“' || h.full_address
        || '”的电表正常用电（人户分离？），请核实实际居住地并更新家庭地址。' as message
    from families f
    join lives l using (aid_certificate_no)
    join head_meters hm using (aid_certificate_no)
    join {{ ref('int_dwelling_meter_use') }} fu on fu.building || '#' || fu.room = f.family_dwelling_key
    join households h on h.dwelling_key = hm.dwelling_key
    -- a head the police report dead or moved out lives nowhere: their flat reads empty for that
    -- reason (dead_but_aided / moved_out_but_aided say so), and a meter still in their name is a
    -- relative's or a namesake's
    left join police_status hs on hs.person_id = f.head_person_id
    where
        hm.dwellings = 1
        and coalesce(hs.police_status, '正常') = '正常'
        -- the police place the family at its 家庭地址 (the rule above says nothing)
        and l.dwelling_key = f.family_dwelling_key
        and hm.dwelling_key <> f.family_dwelling_key
        and fu.reads_empty
),

member_renhu_fenli as (
    -- one finding a family: the meters' word on where the family lives comes first
    select
        {{ finding_row(
            "'aid_renhu_fenli'", "'low'", "'household'", 'me.household_id', "'cert:' || f.aid_certificate_no", 'f',
            'me.street_code', 'me.community_code', "'家庭地址'", 'f.family_address_raw', 'me.full_address'
        ) }},
        coalesce(f.aid_type, '救助') || '家庭（救助证' || f.aid_certificate_no || '）登记的家庭地址为“' || f.family_address_raw
        || '”，但公安实有人口登记其' || me.members || '名成员实际居住在“' || me.full_address
        || '”（人户分离），请核实家庭成员的实际居住地并更新家庭信息。' as message
    from families f
    join members_elsewhere me on me.aid_certificate_no = f.aid_certificate_no
    left join meter_renhu_fenli mr on mr.subject_key = 'cert:' || f.aid_certificate_no
    where mr.subject_key is null
),

-- the family's flat at its 家庭地址, where the police place them, has gone dark: qc_electricity's
-- account_vacant on the reading (the latest reading does not read lived in and fell below the drop
-- ratio of the flat's own median, everyone on file living and under the elderly age): the family
-- has left, and no meter in the head's name tells where to
dark_flats as (
    select entity_id, min(observed_value) as kwh
    from {{ ref('qc_electricity') }}
    where rule = 'account_vacant' and field = '用电量'
    group by entity_id
),

dark_renhu_fenli as (
    select
        {{ finding_row(
            "'aid_renhu_fenli'", "'low'", "'household'", 'l.household_id', "'cert:' || f.aid_certificate_no", 'f',
            'l.street_code', 'l.community_code', "'家庭地址'", 'f.family_address_raw'
        ) }},
        coalesce(f.aid_type, '救助') || '家庭（救助证' || f.aid_certificate_no || '）登记的家庭地址为“' || f.family_address_raw
        || '”，公安实有人口也登记其居住在此，但该处电表最近一月用电仅' || v.kwh
        || '度，已像无人居住（人户分离或已搬离？），请核实实际居住地并更新家庭地址。' as message
    from families f
    join lives l using (aid_certificate_no)
    join dark_flats v on v.entity_id = l.household_id
    left join meter_renhu_fenli mr on mr.subject_key = 'cert:' || f.aid_certificate_no
    left join members_elsewhere me on me.aid_certificate_no = f.aid_certificate_no
    where l.dwelling_key = f.family_dwelling_key and mr.subject_key is null and me.aid_certificate_no is null
),

-- the family the police place at its 家庭地址 whom the hub took out of that flat and keeps in the
-- building with the room unknown (the residence model's building_only: the family's records changed
-- after the flat's last reading, or the flat reads empty or went dark when they last changed:
-- int_person_residence): the family has left the 家庭地址, and where to the records do not tell yet.
-- Every member the hub keeps there so, none of them placed in another room of the building
left_flat_members as (
    select
        a.aid_certificate_no, a.household_id,
        bool_and(
            -- the police flat is the 家庭地址's (its building, where the 家庭地址 names no room)
            coalesce(l.address_id, 'unlisted:' || r.address_key) = f.family_address_building
            and coalesce(
                coalesce(l.address_id, 'unlisted:' || r.address_key) || '#' || r.room = f.family_dwelling_key,
                f.family_dwelling_key is null
            )
            and (
                hx.match_rule like 'residence:building_only:family_changed_after_reading%'
                or hx.match_rule like 'residence:building_only:flat_reads_empty%'
                or hx.match_rule like 'residence:building_only:flat_dark_since_last_change%'
            )
        ) as all_left,
        string_agg(distinct regexp_extract(hx.match_rule, 'building_only:([a-z_]+)', 1), ',') as reasons
    from aid a
    join families f on f.aid_certificate_no = a.aid_certificate_no
    join {{ source('master', 'household_xref') }} hx
        on hx.household_id = a.household_id and hx.source = 'police_population' and hx.delivery = {{ current_delivery() }}
    join {{ source('master', 'person_xref') }} px
        on
            px.source_file = hx.source_file and px.source_row = hx.source_row and px.person_id = a.person_id
            and px.delivery = {{ current_delivery() }}
    join {{ ref('int_person_records') }} r
        on r.source = 'police_population' and r.source_file = hx.source_file and r.source_row = hx.source_row
    left join {{ ref('int_address_lookup') }} l on l.address_key = r.address_key
    group by a.aid_certificate_no, a.household_id
),

left_renhu_fenli as (
    select
        {{ finding_row(
            "'aid_renhu_fenli'", "'low'", "'household'", 'l.household_id', "'cert:' || f.aid_certificate_no", 'f',
            'l.street_code', 'l.community_code', "'家庭地址'", 'f.family_address_raw'
        ) }},
        coalesce(f.aid_type, '救助') || '家庭（救助证' || f.aid_certificate_no || '）登记的家庭地址为“' || f.family_address_raw
        || '”，公安实有人口也登记其居住在此，但'
        || case
            when lm.reasons like '%family_changed_after_reading%'
                then '该户成员的公安登记信息在该处电表最近一次抄表后一并变更'
            else '该处电表已像无人居住'
        end
        || '，疑已搬离（人户分离？），请核实实际居住地并更新家庭地址。' as message
    from families f
    join lives l using (aid_certificate_no)
    join left_flat_members lm on lm.aid_certificate_no = f.aid_certificate_no and lm.household_id = l.household_id
    where
        l.dwelling_key like '%#?%' and split_part(l.dwelling_key, '#', 1) = f.family_address_building
        and lm.all_left
),

final as (
    select * from not_alone
    union all
    select * from size_mismatch
    union all
    select * from renhu_fenli
    union all
    select * from meter_renhu_fenli
    union all
    select * from member_renhu_fenli
    union all
    select * from dark_renhu_fenli
    union all
    select * from left_renhu_fenli
)

select * from final
