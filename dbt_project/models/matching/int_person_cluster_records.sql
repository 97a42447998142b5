-- Each person record of the delivery with the person (cluster) it belongs to: the records the
-- golden record (int_person_golden) and the residence models (int_person_dwelling_evidence,
-- int_person_police_room, int_person_moves, int_person_residence) weigh.
-- Ephemeral: a CTE of each, not a table.
{{ config(materialized='ephemeral') }}

with final as (
    select r.*, c.cluster_key
    from {{ ref('int_person_records') }} r
    join {{ ref('int_person_clusters') }} c on c.record_key = r.record_key
)

select * from final
