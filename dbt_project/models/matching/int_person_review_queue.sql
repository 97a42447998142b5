-- The review queue: candidate pairs the model is unsure about (review_floor <= probability < accept)
-- whose records did not end in one cluster, with the evidence of both records side by side, for a
-- person to confirm (same person) or reject (two people). Decisions go to review.person_decisions
-- (matching/review.py, `civichub review`), keyed by record fingerprints so they hold in later
-- deliveries; int_person_clusters applies them, and a decided pair leaves this queue.
--
-- The thresholds are those of matching/matching.yml (what int_person_clusters uses), passed as vars.
--
-- Personal data is masked here, not in the tools that read the queue, by the hub's one set of masking
-- rules (macros/masking.sql, generated from sharing/masking.py): ID numbers keep their first 6 and
-- last 4 characters (310104********1234, hides the birth date), mobiles their first 3 and last 4
-- (138****1234). Names stay: a reviewer cannot judge a pair without them.
{%- set accept = var('person_accept') %}
{%- set review_floor = var('person_review_floor') %}
{%- set decisions = adapter.get_relation(database=target.database, schema='review', identifier='person_decisions') if execute else none %}

with scores as (
    select * from {{ ref('int_person_pair_scores') }}
    where probability >= {{ review_floor }} and probability < {{ accept }}
),

records as (
    select * from {{ ref('int_person_records') }}
),

clusters as (
    select * from {{ ref('int_person_clusters') }}
),

in_band as (
    select s.*
    from scores s
    join clusters ca on ca.record_key = s.record_a
    join clusters cb on cb.record_key = s.record_b
    where ca.cluster_key <> cb.cluster_key
),

final as (
    select
        a.delivery,
        p.record_a,
        p.record_b,
        a.fingerprint as fingerprint_a,
        b.fingerprint as fingerprint_b,
        p.probability,
        p.match_weight,
        p.blocking_rules,
        {%- for side in ['a', 'b'] %}
            {{ side }}.source as source_{{ side }},
            {{ side }}.source_file as source_file_{{ side }},
            {{ side }}.source_row as source_row_{{ side }},
            {{ side }}.name as name_{{ side }},
            {{ mask_id_number(side ~ '.id_number') }} as id_number_masked_{{ side }},
            {{ side }}.id_number_status as id_number_status_{{ side }},
            {{ side }}.birth_date::date as birth_date_{{ side }},
            {{ side }}.sex as sex_{{ side }},
            {{ side }}.address_key as address_key_{{ side }},
            {{ side }}.room as room_{{ side }},
            {{ mask_phone(side ~ '.phone') }} as phone_masked_{{ side }},
        {%- endfor %}
        {%- for f in ['id', 'name', 'birth', 'sex', 'address'] %}
            p.{{ f }}_level,
            p.{{ f }}_weight,
        {%- endfor %}
        p.phone_level,
        p.phone_weight
    from in_band p
    join records a on a.record_key = p.record_a
    join records b on b.record_key = p.record_b
    {%- if decisions is not none %}
    -- a pair a reviewer already decided is not asked again
    where not exists (
        select 1 from {{ decisions }} d
        where (d.fingerprint_a = a.fingerprint and d.fingerprint_b = b.fingerprint)
           or (d.fingerprint_a = b.fingerprint and d.fingerprint_b = a.fingerprint)
    )
    {%- endif %}
)

select * from final
order by probability desc, record_a asc, record_b asc
