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
with a as (select count(*) as n from {{ model }}),
     b as (select count(*) as n from {{ source('raw', source_table) }})
select a.n as staged, b.n as raw_rows from a, b where a.n <> b.n
{% endtest %}

{# A non-null normalised ID number is 18 characters of digits with a digit or X at the end. #}
{% test id_number_shape(model, column_name) %}
select {{ column_name }} from {{ model }}
where {{ column_name }} is not null and not {{ regex_full_match(column_name, '[0-9]{17}[0-9X]') }}
{% endtest %}

{# A normalised ID number whose check digit fails is a typo to report, not a valid identity. Warn-only:
   the rows stay, quality findings route them back to the street. #}
{% test id_check_digit_valid(model, column_name, status_column) %}
select {{ column_name }} from {{ model }}
where {{ status_column }} = 'bad_check'
{% endtest %}

{# Every value in the column is a key of the referenced model. #}
{% test references(model, column_name, to, field) %}
select m.{{ column_name }} from {{ model }} m
left join {{ to }} r on m.{{ column_name }} = r.{{ field }}
where m.{{ column_name }} is not null and r.{{ field }} is null
{% endtest %}
