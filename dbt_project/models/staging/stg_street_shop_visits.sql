-- The street offices' visit registers and the visits saved in the street app (最多查一次, source
-- street_shop_visits_app, one row per app record: app_visit_id is the lineage to the app).
-- The two sources' common columns, named (Spark has no union by column name in SQL).
{%- set visit_columns = [
    'visited_on', 'sign_name', 'business_address', 'contact_name', 'phone', 'business_format',
    'inspection_result', 'street_name', 'community_name', 'visitor',
] %}
with registers as (
    select {{ lineage_columns() }}, {{ visit_columns | join(', ') }}, cast(null as string) as app_visit_id
    from {{ source('raw', 'street_shop_visits') }}
),

app_visits as (
    select {{ lineage_columns() }}, {{ visit_columns | join(', ') }}, app_visit_id
    from {{ source('raw', 'street_shop_visits_app') }}
),

unioned as (
    select * from registers
    union all
    select * from app_visits
),

source as (
    select * from unioned
    {{ new_raw_rows() }}
),

parsed as (
    select
        *,
        cn_parse_address(business_address) as business_parsed
    from source
),

final as (
    select
        {{ lineage_columns() }},
        cn_parse_date(visited_on) as visited_on,
        nullif(trim(sign_name), '') as sign_name,
        {{ address_columns('business_address', 'business') }},
        cn_normalize_name(contact_name) as contact_name,
        {{ phone_columns('phone') }},
        nullif(trim(business_format), '') as business_format,
        nullif(trim(inspection_result), '') as inspection_result,
        nullif(trim(street_name), '') as street_name,
        nullif(trim(community_name), '') as community_name,
        nullif(trim(visitor), '') as visitor,
        nullif(trim(app_visit_id), '') as app_visit_id
    from parsed
)

select * from final
