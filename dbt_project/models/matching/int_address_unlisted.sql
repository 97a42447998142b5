-- Addresses outside the standard library keep a key of their own (a household there is still a
-- household). So that one building keeps one key from month to month, a road name one character
-- away from exactly one library road name (of several, the one that reads the same: a homophone
-- typed for it, 田目西路 for 天目西路; not a slip by a syllable across characters: without a lane and
-- number to check, 解放路 of another city would become 海防路), and not
-- itself a library road, is written as that road. (Inside the library, int_address_lookup matches
-- the misspelt road by lane and number; outside it there is no lane and number to check against.)
with unlisted as (
    select address_key, any_value(road) as road, cn_road_pinyin(any_value(road)) as road_pinyin
    from {{ ref('int_address_keys') }}
    where road is not null and address_key not in (select address_key from {{ ref('int_address_lookup') }})
    group by address_key
),

library_roads as (
    select distinct road, road_pinyin from {{ ref('stg_standard_addresses') }}
    where road is not null
),

candidates as (
    select
        u.address_key, u.road, r.road as library_road,
        u.road_pinyin = r.road_pinyin as sounds_alike
    from unlisted u
    join library_roads r on length(r.road) = length(u.road) and r.road <> u.road
    where
        u.road not in (select road from library_roads)
        and {{ road_one_character_apart('u.road', 'r.road', 'u.road_pinyin', 'r.road_pinyin') }}
),

chosen_roads as (
    -- exactly one such road; or, of several, exactly one that reads the same
    select address_key, any_value(road) as road, any_value(library_road) as library_road
    from candidates c
    where {{ the_only_road_choice('candidates', 'library_road') }}
    group by address_key
),

final as (
    select
        u.address_key,
        coalesce(c.library_road || substr(u.address_key, length(u.road) + 1), u.address_key) as building_key
    from unlisted u
    left join chosen_roads c using (address_key)
)

select * from final
