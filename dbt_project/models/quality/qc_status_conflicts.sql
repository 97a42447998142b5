-- Persons the police register as dead (死亡) or moved out (迁出) who are still on the aid roster
-- or on the list of elderly people living alone: aid may have to stop, the list needs updating.
with police as (
    select * from {{ ref('int_quality_police_status') }}
    where police_status in ('死亡', '迁出')
),

aid as (
    select a.source, a.source_file, a.source_row, a.aid_type, a.aid_certificate_no, a.id_number_raw
    from {{ ref('stg_civil_affairs_assistance') }} a
    where a.delivery = {{ current_delivery() }}
),

elderly as (
    select e.source, e.source_file, e.source_row, e.id_number_raw
    from {{ ref('stg_civil_affairs_elderly_alone') }} e
    where e.delivery = {{ current_delivery() }}
),

rows as (
    select
        pr.*, s.police_status, s.status_updated_on,
        coalesce({{ format_date('s.status_updated_on', 'YYYY-MM') }}, '') as since
    from {{ ref('int_quality_person_rows') }} pr
    join police s using (person_id)
    where pr.source in ('civil_affairs_assistance', 'civil_affairs_elderly_alone')
),

aided as (
    select
        case r.police_status when '死亡' then 'dead_but_aided' else 'moved_out_but_aided' end as rule,
        'high' as severity,
        'person' as entity_type, r.person_id as entity_id, r.person_id as subject_key,
        r.source, r.source_file, r.source_row, r.street_code, r.community_code,
        '成员身份证号' as field,
        a.id_number_raw as observed_value,
        null::string as suggested_value,
        case r.police_status
            when '死亡'
                then
                    '公安登记该居民已于' || case when r.since <> '' then r.since else '近期' end
                    || '死亡，但仍在' || coalesce(a.aid_type, '社会救助') || '名单中（救助证' || coalesce(a.aid_certificate_no, '未知')
                    || '），请核实是否停发。'
            else
                '公安登记该居民已于' || case when r.since <> '' then r.since else '近期' end
                || '迁出本区，但仍在' || coalesce(a.aid_type, '社会救助') || '名单中（救助证' || coalesce(a.aid_certificate_no, '未知')
                || '），请核实是否仍符合救助条件。'
        end as message
    from rows r
    join aid a on a.source_file = r.source_file and a.source_row = r.source_row
),

listed as (
    select
        case r.police_status when '死亡' then 'dead_elderly_alone' else 'moved_out_elderly_alone' end,
        'high',
        'person', r.person_id as entity_id, r.person_id as subject_key,
        r.source, r.source_file, r.source_row, r.street_code, r.community_code,
        '身份证号',
        e.id_number_raw,
        null::string,
        case r.police_status
            when '死亡'
                then
                    '公安登记该老人已于' || case when r.since <> '' then r.since else '近期' end
                    || '死亡，但仍在独居老人名单中，请核实后移出名单。'
            else
                '公安登记该老人已于' || case when r.since <> '' then r.since else '近期' end
                || '迁出本区，但仍在独居老人名单中，请核实其现居住地并更新名单。'
        end
    from rows r
    join elderly e on e.source_file = r.source_file and e.source_row = r.source_row
),

final as (
    select * from aided
    union all
    select * from listed
)

select * from final
