{#
  Shared column builders for staging models. Normalisation itself lives in Python (normalize/),
  registered as cn_* DuckDB functions by the dbt-duckdb plugin; these macros only name the output.
#}

{# Incremental staging: take the raw rows ingested since the last build. A re-delivered file has a
   newer ingested_at; delete+insert on source_file then replaces its older rows. #}
{% macro new_raw_rows() -%}
    {% if is_incremental() -%}
    where ingested_at > (select coalesce(max(ingested_at), timestamp '1900-01-01') from {{ this }})
    {%- endif %}
{%- endmacro %}

{% macro lineage_columns() -%}
    delivery, source, source_file, source_row, ingested_at
{%- endmacro %}

{# raw text -> <prefix>_raw, normalised 18-char number, status, and what the number itself says. #}
{% macro id_number_columns(col, prefix='id_number') -%}
    {{ col }} as {{ prefix }}_raw,
    cn_normalize_id({{ col }}) as {{ prefix }},
    cn_id_status({{ col }}) as {{ prefix }}_status,
    cn_id_birth_date(cn_normalize_id({{ col }})) as {{ prefix }}_birth_date,
    cn_id_sex(cn_normalize_id({{ col }})) as {{ prefix }}_sex
{%- endmacro %}

{% macro name_columns(col, prefix='name') -%}
    {{ col }} as {{ prefix }}_raw,
    cn_normalize_name({{ col }}) as {{ prefix }},
    cn_name_pinyin(cn_normalize_name({{ col }})) as {{ prefix }}_pinyin,
    cn_name_pinyin_key(cn_normalize_name({{ col }})) as {{ prefix }}_pinyin_key
{%- endmacro %}

{% macro phone_columns(col, prefix='phone') -%}
    {{ col }} as {{ prefix }}_raw,
    cn_normalize_phone({{ col }}) as {{ prefix }}
{%- endmacro %}

{# Expects a struct column <prefix>_parsed = cn_parse_address(<col>) computed in an earlier CTE. #}
{% macro address_columns(col, prefix) -%}
    {{ col }} as {{ prefix }}_address_raw,
    {{ prefix }}_parsed.district as {{ prefix }}_district,
    {{ prefix }}_parsed.street as {{ prefix }}_street,
    {{ prefix }}_parsed.community as {{ prefix }}_community,
    {{ prefix }}_parsed.road as {{ prefix }}_road,
    {{ prefix }}_parsed.lane as {{ prefix }}_lane,
    {{ prefix }}_parsed.number as {{ prefix }}_number,
    {{ prefix }}_parsed.building as {{ prefix }}_building,
    {{ prefix }}_parsed.room as {{ prefix }}_room,
    {{ prefix }}_parsed.rest as {{ prefix }}_rest,
    {{ prefix }}_parsed.address_key as {{ prefix }}_address_key
{%- endmacro %}

{% macro sex_value(col) -%}
    case
        when trim({{ col }}) in ('男', '男性', 'M', 'm', '1') then '男'
        when trim({{ col }}) in ('女', '女性', 'F', 'f', '2') then '女'
    end
{%- endmacro %}

{# A vocabulary column: the canonical value of what was written when it is a known way of writing a
   value of its vocabulary (seeds/vocabularies.csv: 在册 is read as 正常), else null (the raw text is
   kept in <name>_raw so a quality finding can show what was sent). under_elderly_age: a boolean
   expression, true for a person under the elderly age, who takes canonical_under_elderly_age (注销 of
   a young person is read as 迁出, of an old one as 死亡). Correlated on equality with an aggregate,
   which both engines turn into a join. #}
{% macro vocab_value(col, vocabulary, under_elderly_age=none) -%}
    {%- set lookup -%}
        from {{ ref('vocabularies') }} v where v.vocabulary = '{{ vocabulary }}' and v.value = trim({{ col }})
    {%- endset -%}
    {%- if under_elderly_age is none -%}
        (select max(v.canonical) {{ lookup }})
    {%- else -%}
        case
            when {{ under_elderly_age }} then (select max(v.canonical_under_elderly_age) {{ lookup }})
            else (select max(v.canonical) {{ lookup }})
        end
    {%- endif -%}
{%- endmacro %}

{% macro to_decimal(col) -%}
    try_cast(replace(replace(trim({{ col }}), ',', ''), '元', '') as decimal(12, 2))
{%- endmacro %}
