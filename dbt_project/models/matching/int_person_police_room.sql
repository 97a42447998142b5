-- Each person's dwelling as their own records with a room name it (the police 居住地址 first; part 1
-- of int_person_residence). A table of its own: int_person_moves and int_person_residence both
-- read it, and Spark inlines a CTE at every reference (the model's plan grew past the driver's heap).
with records as (
    select * from {{ ref('int_person_cluster_records') }}
),

evidence as (
    select * from {{ ref('int_person_dwelling_evidence') }}
),

-- 1. people whose police record names a room ------------------------------------------------------
candidates as (
    select
        r.cluster_key,
        l.address_id,
        coalesce(l.address_id, 'unlisted:' || coalesce(un.building_key, r.address_key)) as dwelling_address,
        r.room,
        r.source,
        case r.source
            {% for source, weight in var('residence_trust').items() %}when '{{ source }}' then {{ weight }}
            {% endfor %}else 0
        end as weight
    from records r
    left join {{ ref('int_address_lookup') }} l on l.address_key = r.address_key
    left join {{ ref('int_address_unlisted') }} un on un.address_key = r.address_key
    where
        r.room is not null and r.address_key is not null
        and r.cluster_key in (
            select cluster_key from evidence
            where kind = 'own:police_population'
        )
),

scored as (
    select
        cluster_key, dwelling_address, any_value(address_id) as address_id, room, sum(weight) as evidence,
        max(weight) as best_source_weight,
        {{ ordered_string_agg('source', ',', distinct=true) }} as sources
    from candidates
    group by all
),

ranked as (
    select
        *,
        row_number() over (
            partition by cluster_key order by evidence desc, best_source_weight desc, dwelling_address asc, room asc
        ) as rank,
        count(*) over (partition by cluster_key) as candidate_dwellings
    from scored
),

police_room as (
    select
        cluster_key, dwelling_address as building, room, sources as residence_sources,
        evidence::double as residence_evidence, candidate_dwellings
    from ranked
    where rank = 1
),

final as (
    select * from police_room
)

select * from final
