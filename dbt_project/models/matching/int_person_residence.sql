-- Where each person (cluster) actually lives: the dwelling (standard address + room) with the most
-- weighted evidence across registries. Police residence outweighs a family address that may be the
-- registered one (人户分离); ties go to the most trusted source, then the smallest key. An address
-- missing from the standard library still locates a dwelling (keyed by the parsed address), marked
-- as outside the library so that the library can be fixed, rather than losing the household.
with records as (
    select r.*, c.cluster_key
    from {{ ref('int_person_records') }} r
    join {{ ref('int_person_clusters') }} c on c.record_key = r.record_key
),

candidates as (
    select
        r.cluster_key,
        l.address_id,
        coalesce(l.address_id, 'unlisted:' || r.address_key) as dwelling_address,
        r.room,
        r.source,
        case r.source
            {% for source, weight in var('residence_trust').items() %}when '{{ source }}' then {{ weight }}
            {% endfor %}else 0
        end as weight
    from records r
    left join {{ ref('int_address_lookup') }} l on l.address_key = r.address_key
    where r.room is not null and r.address_key is not null
),

scored as (
    select
        cluster_key, dwelling_address, any_value(address_id) as address_id, room, sum(weight) as evidence, max(weight) as best_source_weight,
        string_agg(distinct source, ',' order by source) as sources
    from candidates
    group by all
),

ranked as (
    select
        *,
        row_number() over (
            partition by cluster_key order by evidence desc, best_source_weight desc, dwelling_address, room
        ) as rank,
        count(*) over (partition by cluster_key) as candidate_dwellings
    from scored
),

final as (
    select
        cluster_key, address_id, room,
        dwelling_address || '#' || room as dwelling_key,
        sources as residence_sources,
        evidence as residence_evidence,
        candidate_dwellings
    from ranked
    where rank = 1
)

select * from final
