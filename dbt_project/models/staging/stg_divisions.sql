{{ config(materialized='table', unique_key=none, partition_by=none) }}

with source as (
    select * from {{ source('raw', 'divisions') }}
),

final as (
    select
        trim(street_code) as street_code,
        trim(street_name) as street_name,
        trim(community_code) as community_code,
        trim(community_name) as community_name
    from source
)

select * from final
