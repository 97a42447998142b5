-- An ID number that is not a valid resident identity number (GB 11643): wrong check digit, a birth
-- date that does not exist, or not 18/15 characters. Usually a typo: the suggested value is the
-- valid number of the person the row was matched to, when it differs by at most two characters.
-- An old 15-digit number is valid but gets a low-severity finding with its 18-digit form.
with id_fields as (
    select
        source, source_file, source_row, '公民身份号码' as field, id_number_raw as raw, id_number, id_number_status as status,
        -- the number with the registered birth date written in, when that alone repairs it
        case
            when cn_id_status(substr(id_number, 1, 6) || {{ format_date('birth_date', 'YYYYMMDD') }} || substr(id_number, 15, 4)) = 'valid'
                then substr(id_number, 1, 6) || {{ format_date('birth_date', 'YYYYMMDD') }} || substr(id_number, 15, 4)
        end as repaired
    from {{ ref('stg_police_population') }}
    where delivery = {{ current_delivery() }}
    union all
    select source, source_file, source_row, '成员身份证号', id_number_raw, id_number, id_number_status, null::string
    from {{ ref('stg_civil_affairs_assistance') }}
    where delivery = {{ current_delivery() }}
    union all
    select source, source_file, source_row, '身份证号', id_number_raw, id_number, id_number_status, null::string
    from {{ ref('stg_civil_affairs_elderly_alone') }}
    where delivery = {{ current_delivery() }}
    union all
    select source, source_file, source_row, '身份证号', id_number_raw, id_number, id_number_status, null::string
    from {{ ref('stg_hr_graduates') }}
    where delivery = {{ current_delivery() }}
),

flagged as (
    select
        f.*, pr.person_id, pr.street_code, pr.community_code,
        coalesce(
            f.repaired,
            case
                when
                    pr.person_id_number_valid and pr.person_id_number is distinct from f.id_number
                    and (f.id_number is null or {{ hamming_distance('pr.person_id_number', 'f.id_number', ascii=true, at_most=2) }} <= 2)
                    then pr.person_id_number
            end
        ) as matched_valid_id
    from id_fields f
    left join {{ ref('int_quality_person_rows') }} pr
        on pr.source_file = f.source_file and pr.source_row = f.source_row and pr.source = f.source
    where f.status in ('bad_check', 'bad_date', 'malformed', 'valid_from_15')
),

-- 户主身份证号 repeats on every member row of a family: one finding per family and number.
heads as (
    select
        a.aid_certificate_no, a.head_id_number_raw, a.head_id_number_status as status,
        min(a.source_file) as source_file, min(a.source_row) as source_row, any_value(a.source) as source,
        any_value(a.head_name) as head_name
    from {{ ref('stg_civil_affairs_assistance') }} a
    where
        a.delivery = {{ current_delivery() }}
        and a.head_id_number_status in ('bad_check', 'bad_date', 'malformed', 'valid_from_15')
    group by all
),

head_member_rows as (
    -- the head's own member row, when its number is valid
    select
        a.aid_certificate_no, a.name, any_value(a.id_number) as id_number, any_value(member_row.person_id) as person_id,
        count(distinct a.id_number) as numbers
    from {{ ref('stg_civil_affairs_assistance') }} a
    left join {{ ref('int_quality_person_rows') }} member_row
        on
            member_row.source_file = a.source_file and member_row.source_row = a.source_row
            and member_row.source = a.source
    where
        a.delivery = {{ current_delivery() }} and a.id_number_status = 'valid'
        and (a.relation_to_head = '户主' or a.relation_to_head = '本人')
    group by all
    having count(distinct a.id_number) = 1
),

head_findings as (
    select
        case when h.status = 'valid_from_15' then 'id_number_15_digit' else 'id_number_invalid' end as rule,
        case when h.status = 'valid_from_15' then 'low' else 'high' end as severity,
        'person' as entity_type,
        m.person_id as entity_id,
        'cert:' || coalesce(h.aid_certificate_no, h.head_id_number_raw) as subject_key,
        h.source, h.source_file, h.source_row,
        pr.street_code, pr.community_code,
        '户主身份证号' as field,
        h.head_id_number_raw as observed_value,
        case when h.status = 'valid_from_15' then cn_normalize_id(h.head_id_number_raw) else m.id_number end as suggested_value,
        case h.status
            when 'bad_check' then '户主身份证号校验位不正确，可能录入有误，请核对户主证件后更正。'
            when 'bad_date' then '户主身份证号中的出生日期不存在，可能录入有误，请核对户主证件后更正。'
            when 'malformed' then '户主身份证号位数或格式不正确（应为18位），请核对户主证件后更正。'
            else '户主仍使用15位旧身份证号，请更新为18位号码。'
        end
        || case
            when h.status <> 'valid_from_15' and m.id_number is not null
                then '建议值为该户户主成员行登记的号码。'
            else ''
        end as message
    from heads h
    left join head_member_rows m on m.aid_certificate_no = h.aid_certificate_no and m.name = h.head_name
    left join {{ ref('int_quality_person_rows') }} pr
        on pr.source_file = h.source_file and pr.source_row = h.source_row and pr.source = h.source
),

final as (
    select
        case when status = 'valid_from_15' then 'id_number_15_digit' else 'id_number_invalid' end as rule,
        case when status = 'valid_from_15' then 'low' else 'high' end as severity,
        'person' as entity_type,
        person_id as entity_id,
        coalesce(person_id, 'row:' || source_row) as subject_key,
        source, source_file, source_row,
        street_code, community_code,
        field,
        raw as observed_value,
        case when status = 'valid_from_15' then id_number else matched_valid_id end as suggested_value,
        case status
            when 'bad_check' then '身份证号校验位不正确，可能录入有误，请核对本人证件后更正。'
            when 'bad_date' then '身份证号中的出生日期不存在，可能录入有误，请核对本人证件后更正。'
            when 'malformed' then '身份证号位数或格式不正确（应为18位），请核对本人证件后更正。'
            else '仍使用15位旧身份证号，请更新为18位号码。'
        end
        || case
            when status <> 'valid_from_15' and matched_valid_id is not null
                then '建议值由出生日期或其他部门登记的号码推得，请核对。'
            else ''
        end as message
    from flagged
)

select * from final
union all
select * from head_findings
