{#
  The columns of one finding before its message, in their order (models/quality/schema.yml: rule,
  severity, entity_type, entity_id, subject_key, source, source_file, source_row, street_code,
  community_code, field, observed_value, suggested_value; then message), written once: each
  argument is a SQL expression; row_of is the alias of the relation whose source, source_file and
  source_row the finding points at ('' for the relation's own columns). The select goes on with the
  message:

      select
          {{ finding_row("'aid_renhu_fenli'", "'low'", "'household'", 'l.household_id',
              "'cert:' || f.aid_certificate_no", 'f', 'l.street_code', 'l.community_code', "'家庭地址'",
              'f.family_address_raw', 'l.full_address') }},
          '…' || f.aid_certificate_no || '…' as message
      from …
#}
{% macro finding_row(
    rule, severity, entity_type, entity_id, subject_key, row_of, street_code, community_code, field,
    observed_value, suggested_value='null::string'
) -%}
    {%- set r = row_of ~ '.' if row_of else '' -%}
    {{ rule }} as rule, {{ severity }} as severity,
    {{ entity_type }} as entity_type, {{ entity_id }} as entity_id, {{ subject_key }} as subject_key,
    {{ r }}source as source, {{ r }}source_file as source_file, {{ r }}source_row as source_row,
    {{ street_code }} as street_code, {{ community_code }} as community_code,
    {{ field }} as field, {{ observed_value }} as observed_value, {{ suggested_value }} as suggested_value
{%- endmacro %}
