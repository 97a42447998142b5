-- Police rows whose ID number says another birth date or sex than the row's 出生日期 / 性别 (digits
-- 7-14 and the parity of digit 17), whether or not the number passes its check. One of the two is
-- wrong; the number is the usual culprit, so the suggestion is the number with the row's birth date
-- written in when that passes the check digit, else the valid number of the matched person when
-- it agrees with the row.
with police as (
    select * from {{ ref('stg_police_population') }}
    where delivery = {{ current_delivery() }}
),

rows as (
    select
        p.*, pr.person_id, pr.street_code, pr.community_code, pr.person_id_number, pr.person_id_number_valid,
        {{ format_date('p.birth_date', 'YYYYMMDD') }} as birth_digits,
        case when cast(substr(p.id_number, 17, 1) as integer) % 2 = 1 then '男' else '女' end as id_sex,
        substr(p.id_number, 1, 6) || {{ format_date('p.birth_date', 'YYYYMMDD') }} || substr(p.id_number, 15, 4) as birth_fixed
    from police p
    left join {{ ref('int_quality_person_rows') }} pr
        on pr.source_file = p.source_file and pr.source_row = p.source_row and pr.source = p.source
    where p.id_number is not null
),

birth as (
    select
        'id_birth_date_mismatch' as rule, 'medium' as severity,
        'person' as entity_type, person_id as entity_id, coalesce(person_id, 'row:' || source_row) as subject_key,
        source, source_file, source_row, street_code, community_code,
        '公民身份号码' as field,
        id_number_raw as observed_value,
        case
            when cn_id_status(birth_fixed) = 'valid' then birth_fixed
            when
                person_id_number_valid and person_id_number <> id_number
                and substr(person_id_number, 7, 8) = birth_digits
                then person_id_number
        end as suggested_value,
        '身份证号中的出生日期（' || substr(id_number, 7, 4) || '-' || substr(id_number, 11, 2) || '-' || substr(id_number, 13, 2)
        || '）与登记的出生日期（' || {{ format_date('birth_date', 'YYYY-MM-DD') }} || '）不一致，请核对本人证件。' as message
    from rows
    where birth_date is not null and substr(id_number, 7, 8) <> birth_digits
),

sex as (
    select
        'id_sex_mismatch', 'medium',
        'person', person_id, coalesce(person_id, 'row:' || source_row),
        source, source_file, source_row, street_code, community_code,
        '公民身份号码',
        id_number_raw,
        case
            when
                person_id_number_valid and person_id_number <> id_number
                and (case when cast(substr(person_id_number, 17, 1) as integer) % 2 = 1 then '男' else '女' end) = sex
                then person_id_number
        end,
        '身份证号显示性别为' || id_sex || '，与登记的性别（' || sex || '）不一致，请核对本人证件。'
    from rows
    where sex is not null and id_sex <> sex
),

final as (
    select * from birth
    union all
    select * from sex
)

select * from final
