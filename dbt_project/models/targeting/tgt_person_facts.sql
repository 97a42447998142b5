-- One row per master person seen in this delivery, with the facts the scenarios select on: where
-- the person lives (street, committee), age at the end of the delivery month, whether they live
-- alone, their family's social assistance in this delivery (and the previous one), graduation and
-- employment (人社), the elderly-alone list, and where they are registered (户籍) versus where they
-- live (人户分离). Facts come from this delivery's source rows through master.person_xref.
with params as (
    select
        {{ current_delivery() }} as delivery,
        {{ delivery_month_end() }} as as_of
),

xref as (
    select x.* from {{ source('master', 'person_xref') }} x, params
    where x.delivery = params.delivery
),

previous_delivery as (
    select max(x.delivery) as delivery from {{ source('master', 'person_xref') }} x, params
    where x.delivery < params.delivery
),

persons as (
    select p.* from {{ source('master', 'person') }} p
    where p.person_id in (select person_id from xref)
),

members as (
    select m.household_id, m.person_id, m.status from {{ source('master', 'household_member') }} m, params
    where m.delivery = params.delivery
),

living_per_household as (
    select household_id, count(*) filter (where status = '正常') as living_members
    from members
    group by household_id
),

aid_rows as (
    select
        x.person_id, a.aid_certificate_no, a.aid_type, a.aid_since, a.source_row,
        coalesce(l.address_id, 'unlisted:' || a.family_address_key) || '#' || a.family_room as family_dwelling_key,
        l.street_code as family_street_code, l.community_code as family_community_code
    from xref x
    join {{ ref('stg_civil_affairs_assistance') }} a
        on a.source_file = x.source_file and a.source_row = x.source_row
    left join {{ ref('int_address_lookup') }} l on l.address_key = a.family_address_key
    where x.source = 'civil_affairs_assistance'
),

aid_person as (
    select
        person_id,
        min_by(aid_certificate_no, source_row) as aid_certificate_no,
        min_by(aid_type, source_row) as aid_type,
        min_by(aid_since, source_row) as aid_since,
        min_by(family_dwelling_key, source_row) as aid_family_dwelling_key,
        min_by(family_street_code, source_row) as aid_family_street_code,
        min_by(family_community_code, source_row) as aid_family_community_code
    from aid_rows
    group by person_id
),

previous_aid_person as (
    select distinct x.person_id
    from {{ source('master', 'person_xref') }} x, previous_delivery pd
    where x.delivery = pd.delivery and x.source = 'civil_affairs_assistance'
),

graduate_person as (
    select
        x.person_id,
        max(g.graduation_year) as graduation_year,
        max_by(g.employment_status, g.graduation_year) as employment_status,
        max_by(g.degree, g.graduation_year) as degree
    from xref x
    join {{ ref('stg_hr_graduates') }} g on g.source_file = x.source_file and g.source_row = x.source_row
    where x.source = 'hr_graduates'
    group by x.person_id
),

elderly_list_person as (
    select distinct person_id from xref
    where source = 'civil_affairs_elderly_alone'
),

elderly_watch as (
    -- a listed person whose elderly-alone list names another flat, up to date by the meters: the
    -- flat whose meter the elderly alarm watches (int_quality_elderly_watch, the quality rule
    -- elderly_power_drop's)
    select person_id, min(list_household_id) as list_household_id
    from {{ ref('int_quality_elderly_watch') }}
    group by person_id
),

registered as (
    -- 户籍地址 from the police record: a dwelling of the district's address library, or elsewhere
    select
        x.person_id,
        min_by(
            case when l.address_id is not null then l.address_id || '#' || coalesce(r.registered_room, '') end,
            x.source_row
        ) as registered_dwelling_key,
        min_by(l.street_code, x.source_row) as registered_street_code,
        min_by(l.community_code, x.source_row) as registered_community_code,
        bool_or(r.registered_address_key is not null) as has_registered_address
    from xref x
    join {{ ref('int_person_records') }} r
        on r.source_file = x.source_file and r.source_row = x.source_row and r.source = x.source
    left join {{ ref('int_address_lookup') }} l on l.address_key = r.registered_address_key
    where x.source = 'police_population'
    group by x.person_id
),

final as (
    select
        p.person_id,
        p.household_id,
        -- the flat whose electricity the elderly alarm reads (elderly_power_alert): the list's where it
        -- is up to date and names another (elderly_watch), else the household's
        coalesce(w.list_household_id, p.household_id) as watched_household_id,
        h.dwelling_key,
        h.full_address,
        h.street_code,
        h.community_code,
        p.name,
        p.id_number,
        p.sex,
        p.birth_date,
        p.phone,
        p.status,
        {{ age_at('p.birth_date', 'params.as_of') }} as age,
        coalesce(lh.living_members, 0) as household_living_members,
        -- a household placed at building level (室号不详) says nothing about who shares the room
        h.room is not null as room_known,
        p.status = '正常' and lh.living_members = 1 and h.room is not null as lives_alone,
        e.person_id is not null as on_elderly_alone_list,
        a.aid_certificate_no,
        a.aid_type,
        a.aid_since,
        a.aid_family_dwelling_key,
        a.aid_family_street_code,
        a.aid_family_community_code,
        pa.person_id is not null as aided_in_previous_delivery,
        g.graduation_year,
        g.employment_status,
        g.degree,
        r.person_id is not null as in_police_population,
        r.registered_dwelling_key,
        r.registered_street_code,
        r.registered_community_code,
        -- registered outside the district's address library (another district or province)
        r.has_registered_address and r.registered_dwelling_key is null as registered_elsewhere,
        case
            when r.person_id is null or not r.has_registered_address then null
            when h.room is null and split_part(r.registered_dwelling_key, '#', 1) = split_part(h.dwelling_key, '#', 1)
                then null  -- the same building, the room unknown
            else (r.registered_dwelling_key is distinct from h.dwelling_key)
        end as renhu_fenli,
        params.delivery,
        params.as_of
    from persons p
    cross join params
    left join {{ source('master', 'household') }} h using (household_id)
    left join living_per_household lh using (household_id)
    left join aid_person a using (person_id)
    left join previous_aid_person pa using (person_id)
    left join graduate_person g using (person_id)
    left join elderly_list_person e using (person_id)
    left join registered r using (person_id)
    left join elderly_watch w using (person_id)
)

select * from final
