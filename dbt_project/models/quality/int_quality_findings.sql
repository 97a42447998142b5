-- This delivery's candidate findings from every rule (qc_* models), each with a finding id that
-- stays the same while the same problem persists: a hash of the rule, the source, the field and
-- the subject (the master entity, account or certificate concerned) — not of the delivery or the
-- row number, which change from month to month. Two rows of one source showing the same problem
-- for the same subject (a duplicated record) are told apart by their order.
{% set rules = [
    'qc_id_number_invalid',
    'qc_id_number_mismatch',
    'qc_status_conflicts',
    'qc_shop_operating',
    'qc_address_not_in_library',
    'qc_households',
    'qc_residence_room_unknown',
    'qc_electricity',
    'qc_duplicates',
] %}

with candidates as (
    {% for rule in rules %}
        select
            rule, severity, entity_type, entity_id, subject_key, source, source_file, source_row::integer as source_row,
            street_code, community_code, field, observed_value::string as observed_value,
            suggested_value::string as suggested_value, message
        from {{ ref(rule) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

numbered as (
    select
        *,
        row_number() over (
            partition by rule, source, field, subject_key order by source_file, source_row
        ) as occurrence
    from candidates
),

final as (
    select
        'F' || upper(substr(md5(concat_ws('|', rule, source, coalesce(field, ''), subject_key, occurrence::string)), 1, 16))
            as finding_id,
        rule, severity, entity_type, entity_id, source, source_file, source_row,
        street_code, community_code, field, observed_value, suggested_value, message,
        {{ current_delivery() }} as delivery
    from numbered
)

select * from final
