-- Street shops seen operating (a recent street visit not saying 已停业) whose food licence has
-- expired, whose business was deregistered or revoked, or that have neither a registration nor a
-- licence. The finding points at the record that shows the problem: the licence, the registration,
-- or the latest visit.
with shops as (
    select * from {{ source('master', 'shop') }} where in_latest_delivery
),

xref as (
    select x.shop_code, x.source, x.source_file, x.source_row
    from {{ source('master', 'shop_xref') }} x
    where x.delivery = {{ current_delivery() }}
),

licences as (
    select x.shop_code,
           arg_max(x.source_file, l.valid_until) as source_file,
           arg_max(x.source_row, l.valid_until) as source_row,
           arg_max(l.licence_no, l.valid_until) as licence_no,
           max(l.valid_until) as valid_until
    from xref x
    join {{ ref('stg_market_food_licence') }} l on l.source_file = x.source_file and l.source_row = x.source_row
    where x.source = 'market_food_licence'
    group by x.shop_code
),

registrations as (
    select x.shop_code,
           arg_max(x.source_file, r.approved_on) as source_file,
           arg_max(x.source_row, r.approved_on) as source_row,
           arg_max(r.registration_status_raw, r.approved_on) as status_raw,
           arg_max(r.entity_name, r.approved_on) as entity_name
    from xref x
    join {{ ref('stg_market_business_registry') }} r on r.source_file = x.source_file and r.source_row = x.source_row
    where x.source = 'market_business_registry'
    group by x.shop_code
),

visits as (
    select x.shop_code,
           arg_max(x.source_file, (v.visited_on, -x.source_row)) as source_file,
           arg_max(x.source_row, (v.visited_on, -x.source_row)) as source_row,
           arg_max(v.sign_name, (v.visited_on, -x.source_row)) as sign_name,
           max(v.visited_on) as visited_on
    from xref x
    join {{ ref('stg_street_shop_visits') }} v on v.source_file = x.source_file and v.source_row = x.source_row
    where x.source = 'street_shop_visits'
    group by x.shop_code
),

expired as (
    select
        'licence_expired_operating' as rule, 'high' as severity,
        'shop' as entity_type, s.shop_code as entity_id, s.shop_code as subject_key,
        'market_food_licence' as source, l.source_file, l.source_row, s.street_code, s.community_code,
        '有效期至' as field,
        strftime(l.valid_until, '%Y-%m-%d') as observed_value,
        null::varchar as suggested_value,
        '食品经营许可证（' || coalesce(l.licence_no, '无编号') || '）已于' || strftime(l.valid_until, '%Y-%m-%d')
            || '到期，但' || coalesce(strftime(v.visited_on, '%Y-%m-%d'), '近期') || '走访时该店仍在营业，请督促办理延续或停止经营。' as message
    from shops s
    join licences l using (shop_code)
    left join visits v using (shop_code)
    where s.flag_licence_expired_operating
),

deregistered as (
    select
        'deregistered_operating', 'high',
        'shop', s.shop_code, s.shop_code,
        'market_business_registry', r.source_file, r.source_row, s.street_code, s.community_code,
        '登记状态',
        r.status_raw,
        null::varchar,
        '市场主体（' || coalesce(r.entity_name, '') || '）登记状态为' || coalesce(r.status_raw, '注销') || '，但'
            || coalesce(strftime(v.visited_on, '%Y-%m-%d'), '近期') || '走访时该店仍在营业，请核实经营主体并通报市场监管所。'
    from shops s
    join registrations r using (shop_code)
    left join visits v using (shop_code)
    where s.flag_deregistered_operating
),

unregistered as (
    select
        'unregistered_operating', 'medium',
        'shop', s.shop_code, s.shop_code,
        'street_shop_visits', v.source_file, v.source_row, s.street_code, s.community_code,
        '店招名称',
        v.sign_name,
        null::varchar,
        '沿街商铺“' || coalesce(v.sign_name, '') || '”' || coalesce(strftime(v.visited_on, '%Y-%m-%d'), '近期')
            || '走访时在营业，但查不到其营业执照登记或食品经营许可，请核实是否无证经营。'
    from shops s
    join visits v using (shop_code)
    where s.flag_unregistered_operating
),

final as (
    select * from expired
    union all
    select * from deregistered
    union all
    select * from unregistered
)

select * from final
