-- Every address key seen in this delivery (residences, registered and family addresses, supply
-- addresses, business premises), with the road it was parsed with.
with seen as (
    select address_key, road from {{ ref('int_person_records') }}
    where address_key is not null
    union
    select registered_address_key, registered_road from {{ ref('int_person_records') }}
    where registered_address_key is not null
    union
    select supply_address_key, supply_road from {{ ref('stg_utility_electricity') }}
    where delivery = {{ current_delivery() }} and supply_address_key is not null
    {% for model in ['stg_market_business_registry', 'stg_market_food_licence', 'stg_street_shop_visits'] %}
        union
        select business_address_key, business_road from {{ ref(model) }}
        where delivery = {{ current_delivery() }} and business_address_key is not null
    {% endfor %}
),

final as (
    select address_key, any_value(road) as road from seen
    group by address_key
)

select * from final
