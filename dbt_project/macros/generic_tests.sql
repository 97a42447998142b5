{# Custom generic tests (dbt_utils cannot be downloaded here, and these say what the hub needs). #}

{# No two rows share the combination of columns. #}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{# Every raw row reached staging: none lost between ingestion and normalisation. #}
{% test row_count_matches_source(model, source_table) %}
{#- source_table: one raw table, or a list of them when a model stages several sources -#}
{%- set tables = [source_table] if source_table is string else source_table -%}
with a as (select count(*) as n from {{ model }}),
     b as (
        select sum(n) as n from (
            {%- for t in tables %}
            select count(*) as n from {{ source('raw', t) }}{% if not loop.last %} union all{% endif %}
            {%- endfor %}
        )
     )
select a.n as staged, b.n as raw_rows from a, b where a.n <> b.n
{% endtest %}

{# A non-null normalised ID number is 18 characters of digits with a digit or X at the end. #}
{% test id_number_shape(model, column_name) %}
select {{ column_name }} from {{ model }}
where {{ column_name }} is not null and not {{ regex_full_match(column_name, '[0-9]{17}[0-9X]') }}
{% endtest %}

{# A normalised ID number whose check digit fails is a typo to report, not a valid identity. A
   warning: the rows stay, quality findings route them back to the street. #}
{% test id_check_digit_valid(model, column_name, status_column) %}
{{ config(severity='warn') }}
select {{ column_name }} from {{ model }}
where {{ status_column }} = 'bad_check'
{% endtest %}

{# Every non-null value is a canonical value of the named vocabulary (seeds/vocabularies.csv). #}
{% test in_vocabulary(model, column_name, vocabulary) %}
select {{ column_name }} from {{ model }}
where {{ column_name }} is not null
  and {{ column_name }} not in (
      select v.value from {{ ref('vocabularies') }} v where v.vocabulary = '{{ vocabulary }}' and v.value = v.canonical
  )
{% endtest %}
