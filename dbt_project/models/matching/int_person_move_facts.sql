-- Per person, what the move rules of int_person_moves read besides the evidence: the name as an
-- electricity account's 户名 is compared with it, and the two facts that keep a person's own
-- evidence from moving them (60 or over, on the elderly-alone list). A table of its own, as are
-- int_dwelling_meter_use, int_electricity_export_accounts, int_person_move_transfers and
-- int_person_move_signs: Spark inlines a CTE at every reference, and the move rules read these many
-- times (int_person_moves as one model planned to ~9,000 operators, most of a small delivery's
-- Spark time).
with records as (
    select * from {{ ref('int_person_cluster_records') }}
),

golden as (
    select * from {{ ref('int_person_golden') }}
),

people as (
    select distinct cluster_key from records
),

elderly_listed as (
    select distinct cluster_key from records
    where source = 'civil_affairs_elderly_alone'
),

person_names as (
    -- each person's name as the utility's 户名 is compared (same name or same pinyin), and whether
    -- anyone else in the district carries the very same characters
    select
        cluster_key, name, name_key,
        count(*) over (partition by name) = 1 as name_unique
    from (
        -- the name key (a Python UDF) of each distinct name once, joined
        select g.cluster_key, g.name, coalesce(k.name_key, '#' || g.name) as name_key
        from {{ ref('int_person_golden') }} g
        join (
            select name, cn_name_pinyin_key(name) as name_key
            from (
                select distinct name from {{ ref('int_person_golden') }}
                where name is not null
            ) as d
        ) as k on k.name = g.name
    ) n
),

final as (
    select
        p.cluster_key, n.name, n.name_key, n.name_unique,
        -- moves are not read off the meters of anyone of 60 or over, but for a family going together:
        -- an old person's empty-reading home is a reason to knock on the door, and the readings of a
        -- flat they just moved into predate them (the power alert would read them)
        coalesce({{ age_at('g.birth_date', delivery_month_end()) }} < {{ var('elderly_min_age') }}, false) as under_sixty,
        e.cluster_key is not null as elderly_listed
    from people p
    left join golden g on g.cluster_key = p.cluster_key
    left join person_names n on n.cluster_key = p.cluster_key
    left join elderly_listed e on e.cluster_key = p.cluster_key
)

select * from final
