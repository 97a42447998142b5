-- The clusters' invariant (matching/clustering.py): two different valid ID numbers are never one
-- person, however the scores chain records together. Fails the build; a Dagster check on
-- int_person_clusters.
{{ config(meta={'dagster': {'ref': {'name': 'int_person_clusters'}}}) }}

with valid_ids as (
    select
        c.cluster_key,
        r.id_number
    from {{ ref('int_person_clusters') }} as c
    inner join {{ ref('int_person_records') }} as r on c.record_key = r.record_key
    where r.has_valid_id
),

final as (
    select
        cluster_key,
        count(distinct id_number) as valid_id_numbers
    from valid_ids
    group by cluster_key
    having count(distinct id_number) > 1
)

select * from final
