-- The dwellings of this delivery (一户一档: a household is a dwelling, standard address + room, or a
-- building with the room unknown, "室号不详"):
-- where persons live (int_person_residence) and where meters are (int_household_meters). Dwellings
-- are keyed by address and room, so the household id each receives (matching/master_tables.py) is
-- stable by construction.
with all_dwellings as (
    select dwelling_key, address_id, room from {{ ref('int_person_residence') }}
    union all
    select dwelling_key, address_id, room from {{ ref('int_household_meters') }}
),

keyed as (
    select dwelling_key, max(address_id) as address_id, max(room) as room
    from all_dwellings
    group by dwelling_key
),

final as (
    select
        k.dwelling_key,
        k.address_id,
        k.room,
        coalesce(a.full_address, split_part(split_part(k.dwelling_key, '#', 1), ':', 2))
        || coalesce(k.room || '室', '（室号不详）') as full_address,
        a.street_code,
        a.community_code
    from keyed k
    left join {{ ref('stg_standard_addresses') }} a using (address_id)
)

select * from final
