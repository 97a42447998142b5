-- Persons the hub could place in a building but not in a room: the police 居住地址 gives the building
-- only (or is blank) and no other evidence (last month's dwelling, family members, a meter in their
-- name, the rosters, the registered address) tells the room with enough confidence. They are kept in
-- a household "室号不详" of that building; the street is asked to confirm the room. Persons whose
-- 居住地址 is blank and whom no evidence places at all are asked about too, routed by their 户籍地址
-- when it is in the district.
with person_rows as (
    select * from {{ ref('int_quality_person_rows') }}
    where source = 'police_population'
),

police as (
    select source_file, source_row, residence_address_raw, registered_address_key
    from {{ ref('stg_police_population') }}
    where delivery = {{ current_delivery() }}
),

households as (
    select * from {{ source('master', 'household') }}
),

persons as (
    select person_id, status from {{ source('master', 'person') }}
),

moved_out as (
    -- (the police record itself names the room: one whose room came from another record, an aid
    -- file's 家庭地址, is room-less all the same)
    select distinct x.source_file, x.source_row from {{ source('master', 'household_xref') }} x
    join {{ ref('int_person_records') }} r
        on r.source = 'police_population' and r.source_file = x.source_file and r.source_row = x.source_row
    where
        x.delivery = {{ current_delivery() }} and r.room is not null
        and (
            match_rule like 'residence:building_only:flat_reads_empty(%'
            or match_rule like 'residence:building_only:flat_dark_since_last_change(%'
            or match_rule like 'residence:building_only:family_changed_after_reading(%'
        )
),

room_unknown as (
    select
        'residence_room_unknown' as rule, 'low' as severity,
        'person' as entity_type, pr.person_id as entity_id, pr.person_id as subject_key,
        pr.source, pr.source_file, pr.source_row, h.street_code, h.community_code,
        '居住地址' as field,
        coalesce(nullif(trim(p.residence_address_raw), ''), '（空）') as observed_value,
        null::string as suggested_value,
        '实有人口登记的居住地址“' || coalesce(nullif(trim(p.residence_address_raw), ''), '（空）')
        || '”未写明室号，其他数据也无法确定具体住房，已暂按“' || h.full_address
        || '”归档，请上门核实室号。' as message
    from person_rows pr
    join police p using (source_file, source_row)
    join households h on h.household_id = pr.household_id
    join persons ps on ps.person_id = pr.person_id
    -- (not a person whose 居住地址 names a room the hub no longer takes, the flat reading empty or the
    -- family's records all changed after the flat's last reading, whichever records named the flat
    -- with the police's (an aid file's 家庭地址): that record is out of date, not
    -- room-less)
    left join moved_out mo on mo.source_file = pr.source_file and mo.source_row = pr.source_row
    where h.room is null and h.dwelling_key like '%#?%' and ps.status = '正常' and mo.source_row is null
),

unplaced as (
    select
        'residence_room_unknown', 'low',
        'person', pr.person_id as entity_id, pr.person_id as subject_key,
        pr.source, pr.source_file, pr.source_row, l.street_code, l.community_code,
        '居住地址',
        '（空）',
        null::string,
        '实有人口登记的居住地址为空，其他数据也无法确定其住所（户籍在本辖区），请核实实际居住地址。'
    from person_rows pr
    join police p using (source_file, source_row)
    join persons ps on ps.person_id = pr.person_id
    join {{ ref('int_address_lookup') }} l on l.address_key = p.registered_address_key
    where pr.household_id is null and nullif(trim(p.residence_address_raw), '') is null and ps.status = '正常'
),

final as (
    select * from room_unknown
    union all
    select * from unplaced
)

select * from final
