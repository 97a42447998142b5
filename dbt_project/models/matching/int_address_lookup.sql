-- Every address key seen in this delivery, resolved to the standard address library: exact after
-- normalisation, else the same lane and number on the most similar road name (character-aware).
with seen as (
    select address_key, road from {{ ref('int_person_records') }}
    where address_key is not null
    union
    select registered_address_key, null from {{ ref('int_person_records') }}
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

keys as (
    select address_key, any_value(road) as road from seen
    group by address_key
),

library as (
    select address_id, address_key, road, street_code, community_code from {{ ref('stg_standard_addresses') }}
),

exact as (
    select k.address_key, l.address_id, 'exact' as match_rule, 100.0 as match_score
    from keys k join library l on l.address_key = k.address_key
),

unmatched as (
    select k.* from keys k anti join exact e on e.address_key = k.address_key
    where k.road is not null
),

fuzzy_candidates as (
    select
        u.address_key,
        l.address_id,
        cn_ratio(u.road, l.road) as score
    from unmatched u
    join library l
        on
            substr(l.address_key, length(l.road) + 1) = substr(u.address_key, length(u.road) + 1)
            and l.road <> u.road
),

fuzzy as (
    select address_key, arg_max(address_id, score) as address_id, 'fuzzy_road' as match_rule, max(score) as match_score
    from fuzzy_candidates
    where score >= {{ var('fuzzy_road_min_score', 80) }}
    group by address_key
),

resolved as (
    select * from exact
    union all
    select * from fuzzy
),

final as (
    select r.address_key, r.address_id, r.match_rule, r.match_score, l.street_code, l.community_code
    from resolved r join library l on l.address_id = r.address_id
)

select * from final
