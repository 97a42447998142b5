-- Every address key seen in this delivery, resolved to the standard address library: exact after
-- normalisation, else the same lane and number on the most similar road name (character-aware),
-- else a road name one character or one syllable away (a homophone typed for another: 玫园路 for
-- 梅园路, 化山路 for 华山路; a slip by sound: 汾西路 for 闻喜路) from exactly one library road that has
-- the same lane and number (of several, the one that reads the same). A one-character change scores
-- only 67-75 on three- and four-character names, under the fuzzy floor; the lane and number that
-- must exist on exactly one such road are what make it safe (a slip by a syllable across two
-- characters is taken only with a lane, and only where the syllables rhyme: any road sharing a
-- syllable and a door number would do, 宝潼路 bao tong is no slip for 保德路 bao de). A road the
-- library lists is never taken for another (its door is outside the library). A direction before 路
-- (东南西北中) that sounds different is never the one difference: 延长西路 and 延长中路 are different roads.
-- A road that reads the same as a library road (a homophone typed for it) is that road, never a
-- slip for another: 大凝路20号 is 大宁路20号 (outside the library), not 大统路20号.
with keys as (
    select * from {{ ref('int_address_keys') }}
),

library_rows as (
    select address_id, address_key, road, road_pinyin, street_code, community_code from {{ ref('stg_standard_addresses') }}
),

library_codes as (
    -- a library that lists one address twice (two codes, as an export can: 茅台路29号 under two
    -- streets) gives its key one code, the smallest, so that a record is never copied into two
    -- places; stg_standard_addresses' unique key test warns the district of the duplicate
    select min(address_id) as address_id from library_rows
    group by address_key
),

library as (
    select l.* from library_rows l
    join library_codes c on c.address_id = l.address_id
),

exact as (
    select k.address_key, l.address_id, 'exact' as match_rule, 100.0 as match_score
    from keys k join library l on l.address_key = k.address_key
),

unmatched as (
    select k.*, cn_road_pinyin(k.road) as road_pinyin from keys k anti join exact e on e.address_key = k.address_key
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
    select address_key, max_by(address_id, score) as address_id, 'fuzzy_road' as match_rule, max(score) as match_score
    from fuzzy_candidates
    where score >= {{ var('fuzzy_road_min_score') }}
    group by address_key
),

one_char_candidates as (
    select
        u.address_key,
        l.address_id,
        l.road as library_road,
        u.road_pinyin = l.road_pinyin as sounds_alike,
        {{ road_misspelling_rule('u.road', 'l.road') }} as match_rule
    from unmatched u
    join library l
        on
            substr(l.address_key, length(l.road) + 1) = substr(u.address_key, length(u.road) + 1)
            and length(l.road) = length(u.road)
            and l.road <> u.road
    where
        u.address_key not in (select address_key from fuzzy)
        -- a road the library lists is that road (its door outside the library), no misspelling of
        -- another: 宝通路23弄4号 is not 保德路23弄4号, 止园路 not 梅园路
        and u.road not in (
            select lr.road from library_rows as lr
            where lr.road is not null
        )
        -- a road that reads the same as a library road is that road (大凝路 da ning is 大宁路, whose
        -- 20号 is outside the library), no slip for one that reads otherwise (大统路20号)
        and (
            u.road_pinyin = l.road_pinyin
            or coalesce(u.road_pinyin not in (
                select lp.road_pinyin from library_rows as lp
                where lp.road_pinyin is not null
            ), true)
        )
        and (
            {{ road_one_character_apart('u.road', 'l.road', 'u.road_pinyin', 'l.road_pinyin') }}
            -- by sound across two characters or more only with a lane (弄, Shanghai's): 解放路20号 of a
            -- 户籍地址 in another province is not 海防路20号
            or (u.address_key like '%弄%' and {{ road_one_syllable_apart('u.road', 'l.road', 'u.road_pinyin', 'l.road_pinyin') }})
        )
),

one_char as (
    -- exactly one such road; or, of several, exactly one that reads the same
    select
        address_key, any_value(address_id) as address_id, any_value(match_rule) as match_rule,
        90.0 as match_score
    from one_char_candidates c
    where {{ the_only_road_choice('one_char_candidates', 'address_id') }}
    group by address_key
),

resolved as (
    select * from exact
    union all
    select * from fuzzy
    union all
    select * from one_char
),

final as (
    select r.address_key, r.address_id, r.match_rule, r.match_score, l.street_code, l.community_code
    from resolved r join library l on l.address_id = r.address_id
)

select * from final
