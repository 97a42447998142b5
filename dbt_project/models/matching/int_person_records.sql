-- Every person mention of one delivery, from every registry that names people, in one shape.
-- Utility account holders are not here: they are weaker evidence, linked to households instead.
with police as (
    select
        delivery, source, source_file, source_row,
        id_number, id_number_status,
        name, name_pinyin_key,
        coalesce(sex, id_number_sex) as sex,
        coalesce(birth_date, id_number_birth_date) as birth_date,
        phone,
        residence_address_key as address_key, residence_room as room, residence_road as road,
        registered_address_key, registered_room,
        registered_road,
        person_status,
        hukou_number as family_key,
        relation_to_head
    from {{ ref('stg_police_population') }}
    where delivery = {{ current_delivery() }}
),

assistance as (
    select
        delivery, source, source_file, source_row,
        id_number, id_number_status,
        name, name_pinyin_key,
        id_number_sex as sex,
        id_number_birth_date as birth_date,
        null::string as phone,
        family_address_key as address_key, family_room as room, family_road as road,
        null::string as registered_address_key, null::string as registered_room,
        null::string as registered_road,
        null::string as person_status,
        aid_certificate_no as family_key,
        relation_to_head
    from {{ ref('stg_civil_affairs_assistance') }}
    where delivery = {{ current_delivery() }}
),

elderly as (
    select
        delivery, source, source_file, source_row,
        id_number, id_number_status,
        name, name_pinyin_key,
        coalesce(sex, id_number_sex) as sex,
        id_number_birth_date as birth_date,
        phone,
        residence_address_key as address_key, residence_room as room, residence_road as road,
        null::string, null::string,
        null::string,
        null::string,
        null::string,
        null::string
    from {{ ref('stg_civil_affairs_elderly_alone') }}
    where delivery = {{ current_delivery() }}
),

graduates as (
    select
        delivery, source, source_file, source_row,
        id_number, id_number_status,
        name, name_pinyin_key,
        id_number_sex as sex,
        id_number_birth_date as birth_date,
        phone,
        null::string, null::string, null::string,
        null::string, null::string,
        null::string,
        null::string,
        null::string,
        null::string
    from {{ ref('stg_hr_graduates') }}
    where delivery = {{ current_delivery() }}
),

unioned as (
    select * from police
    union all
    select * from assistance
    union all
    select * from elderly
    union all
    select * from graduates
),

final as (
    select
        source || ':' || source_file || ':' || source_row as record_key,
        *,
        id_number_status in ('valid', 'valid_from_15') as has_valid_id,
        -- the same record in another month's snapshot has the same fingerprint: reviewers'
        -- decisions and stable ids follow records through it
        md5(concat_ws(
            '|', source, coalesce(id_number, ''), coalesce(name, ''), coalesce(birth_date::string, ''),
            coalesce(address_key, ''), coalesce(room, ''), coalesce(phone, '')
        )) as fingerprint
    from unioned
)

select * from final
