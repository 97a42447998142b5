-- Where an address that is not in the standard address library still belongs: its road and lane
-- in the library, when they lie in one committee (else the road's street, when it lies in one).
-- Used only to route findings about such addresses; the hub never places a household this way.
with library as (
    select road, coalesce(lane, '') as lane, street_code, community_code from {{ ref('stg_standard_addresses') }}
),

lanes as (
    select
        road, lane, min(street_code) as street_code,
        case when count(distinct community_code) = 1 then min(community_code) end as community_code,
        count(distinct street_code) as streets
    from library
    group by all
),

roads as (
    select
        road, min(street_code) as street_code,
        case when count(distinct community_code) = 1 then min(community_code) end as community_code,
        count(distinct street_code) as streets
    from library
    group by all
),

final as (
    select road, lane, case when streets = 1 then street_code end as street_code, community_code, 'lane' as level from lanes
    union all
    select road, null, case when streets = 1 then street_code end, community_code, 'road' from roads
)

select * from final
