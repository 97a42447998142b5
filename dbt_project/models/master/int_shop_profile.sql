-- The shop file's values of each shop (cluster) of this delivery, before its stable code is
-- assigned (matching/shop_master.py): the premises, the registration and licence in force, what
-- the street visits saw, the meters, and whether it operates (int_shop_activity).
with records as (
    select * from {{ ref('int_shop_street_records') }}
),

premises as (
    select
        cluster_key,
        max_by(address_id, address_id is not null) as address_id,
        max_by(unit, address_id is not null) as unit
    from records
    group by cluster_key
),

registry as (
    select
        cluster_key,
        max_by(registered_name, event_date) as registered_name,
        max_by(uscc, event_date) as uscc,
        max_by(entity_type, event_date) as entity_type,
        max_by(registration_status, event_date) as registration_status
    from records
    where source = 'market_business_registry'
    group by cluster_key
),

licence as (
    select
        cluster_key,
        max_by(licence_no, licence_valid_until) as licence_no,
        max(licence_valid_until) as licence_valid_until,
        max_by(uscc, licence_valid_until) as uscc,
        max_by(registered_name, licence_valid_until) as operator_name
    from records
    where source = 'market_food_licence'
    group by cluster_key
),

meters as (
    select cluster_key, {{ ordered_string_agg('account_no', ',', distinct=true) }} as electricity_accounts
    from records
    where source = 'utility_electricity'
    group by cluster_key
),

activity as (
    select * from {{ ref('int_shop_activity') }}
),

addresses as (
    select * from {{ ref('stg_standard_addresses') }}
),

final as (
    select
        a.cluster_key,
        coalesce(a.last_sign_name, r.registered_name, l.operator_name) as name,
        coalesce(r.registered_name, l.operator_name) as registered_name,
        coalesce(r.uscc, l.uscc) as uscc,
        r.entity_type,
        p.address_id,
        p.unit,
        ad.full_address || coalesce(p.unit, '') as full_address,
        ad.street_code,
        ad.community_code,
        case
            when a.operating then '营业'
            when a.closed_at_last_visit or r.registration_status in ('注销', '吊销') then '已关闭'
            else '未知'
        end as status,
        r.registration_status,
        l.licence_no,
        l.licence_valid_until,
        a.visit_count,
        a.last_visit_date,
        a.last_inspection_result,
        m.electricity_accounts,
        a.operating_evidence,
        a.open_since
    from activity a
    left join premises p using (cluster_key)
    left join registry r using (cluster_key)
    left join licence l using (cluster_key)
    left join meters m using (cluster_key)
    left join addresses ad on ad.address_id = p.address_id
)

select * from final
