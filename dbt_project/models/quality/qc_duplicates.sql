-- The same record listed twice in one source file: the same person (ID number, else name, birth
-- date and address), the same aid member under one certificate, the same account and month of
-- electricity, the same entity, licence or street visit. Every copy after the first is a finding.
{% set keys = {
    'stg_police_population': "coalesce('id:' || id_number, concat_ws('|', name, birth_date, residence_address_key, residence_room))",
    'stg_civil_affairs_assistance': "concat_ws('|', aid_certificate_no, coalesce('id:' || id_number, name))",
    'stg_civil_affairs_elderly_alone': "coalesce('id:' || id_number, concat_ws('|', name, residence_address_key, residence_room))",
    'stg_hr_graduates': "coalesce('id:' || id_number, concat_ws('|', name, school, graduation_year))",
    'stg_utility_electricity': "concat_ws('|', account_no, reading_month)",
    'stg_market_business_registry': "coalesce('uscc:' || uscc, concat_ws('|', entity_name, business_address_key))",
    'stg_market_food_licence': "coalesce('licence:' || licence_no, concat_ws('|', operator_name, business_address_key))",
    'stg_street_shop_visits': "concat_ws('|', visited_on, business_address_key, business_room, sign_name)",
} %}

with keyed as (
    {% for model, key in keys.items() %}
        select source, source_file, source_row, {{ key }} as record_key
        from {{ ref(model) }}
        where delivery = {{ current_delivery() }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

-- the rows after the first of each key (source_row is unique within a file): the first rows by a
-- grouping of the few keys listed more than once, not a window sorting every row (6M at 1M persons)
firsts as (
    select source, source_file, record_key, min(source_row) as first_row
    from keyed
    where record_key is not null and record_key <> ''
    group by source, source_file, record_key
    having count(*) > 1
),

numbered as (
    select k.*, f.first_row
    from keyed k
    join firsts f on f.source = k.source and f.source_file = k.source_file and f.record_key = k.record_key
    where k.source_row > f.first_row
),

routed as (
    select
        n.*,
        coalesce(pr.person_id, sx.shop_code, hx.household_id) as entity_id,
        case
            when pr.person_id is not null then 'person' when sx.shop_code is not null then 'shop'
            when hx.household_id is not null then 'household'
        end as entity_type,
        coalesce(pr.street_code, h.street_code, s.street_code) as street_code,
        coalesce(pr.community_code, h.community_code, s.community_code) as community_code
    from numbered n
    left join {{ ref('int_quality_person_rows') }} pr
        on pr.source_file = n.source_file and pr.source_row = n.source_row and pr.source = n.source
    left join {{ source('master', 'shop_xref') }} sx
        on sx.source_file = n.source_file and sx.source_row = n.source_row and sx.delivery = {{ current_delivery() }}
    left join {{ source('master', 'shop') }} s on s.shop_code = sx.shop_code
    left join {{ source('master', 'household_xref') }} hx
        on
            hx.source_file = n.source_file and hx.source_row = n.source_row and hx.source = n.source
            and hx.delivery = {{ current_delivery() }} and n.source = 'utility_electricity'
    left join {{ source('master', 'household') }} h on h.household_id = hx.household_id
),

final as (
    select
        'duplicate_row' as rule, 'low' as severity,
        entity_type, entity_id,
        md5(record_key) as subject_key,
        source, source_file, source_row, street_code, community_code,
        '整行' as field,
        '第' || first_row || '行' as observed_value,
        '删除重复行' as suggested_value,
        '本行与同一文件第' || first_row || '行是同一条记录（重复登记），请删除重复行。' as message
    from routed
)

select * from final
