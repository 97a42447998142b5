{{ config(materialized='table', unique_key=none, partition_by=none) }}

-- The standard address library is the reference that routes a record to its street and committee.
-- address_key is computed by the same parser the registries go through, so that an exact join
-- after normalisation is possible.
with source as (
    select * from {{ source('raw', 'standard_addresses') }}
),

parsed as (
    select
        *,
        cn_parse_address(full_address) as full_parsed
    from source
),

final as (
    select
        trim(address_id) as address_id,
        trim(district_name) as district_name,
        trim(street_code) as street_code,
        trim(community_code) as community_code,
        trim(road) as road,
        -- its sound, a syllable a character: a road misspelt by sound is matched on it
        cn_road_pinyin(trim(road)) as road_pinyin,
        nullif(trim(lane), '') as lane,
        nullif(trim(number), '') as number,
        trim(full_address) as full_address,
        -- a struct's field: the alias names the column
        full_parsed.address_key as address_key  -- noqa: AL09
    from parsed
)

select * from final
