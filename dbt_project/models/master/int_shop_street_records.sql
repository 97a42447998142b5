-- The records of each street shop (cluster) of this delivery: what whether it operates
-- (int_shop_activity) and its file's values (int_shop_profile) are both computed from. Ephemeral:
-- a CTE of the two, not a table.
{{ config(materialized='ephemeral') }}

with clusters as (
    select record_key, cluster_key from {{ ref('int_shop_clusters') }}
    where is_street_shop
),

final as (
    select c.cluster_key, r.*
    from {{ ref('int_shop_records') }} r
    join clusters c using (record_key)
)

select * from final
