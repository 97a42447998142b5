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

{# reused: the CTE before has <prefix>_normalized (cn_normalize_name(col), or null where known:
   unless_known) and, in a build that reuses (reuse_normalized), <prefix>_known and the values of last
   delivery (known_names); the name is normalised once either way. #}
{% macro name_columns(col, prefix='name', reused=false) -%}
    {{ col }} as {{ prefix }}_raw,
    {% if reused and reuse_normalized() -%}
    case when {{ prefix }}_known then {{ prefix }}_k_name else {{ prefix }}_normalized end as {{ prefix }},
    case when {{ prefix }}_known then {{ prefix }}_k_pinyin else cn_name_pinyin({{ prefix }}_normalized) end as {{ prefix }}_pinyin,
    case when {{ prefix }}_known then {{ prefix }}_k_pinyin_key else cn_name_pinyin_key({{ prefix }}_normalized) end as {{ prefix }}_pinyin_key
    {%- elif reused -%}
    {{ prefix }}_normalized as {{ prefix }},
    cn_name_pinyin({{ prefix }}_normalized) as {{ prefix }}_pinyin,
    cn_name_pinyin_key({{ prefix }}_normalized) as {{ prefix }}_pinyin_key
    {%- else -%}
    cn_normalize_name({{ col }}) as {{ prefix }},
    cn_name_pinyin(cn_normalize_name({{ col }})) as {{ prefix }}_pinyin,
    cn_name_pinyin_key(cn_normalize_name({{ col }})) as {{ prefix }}_pinyin_key
    {%- endif %}
{%- endmacro %}

{% macro phone_columns(col, prefix='phone') -%}
    {{ col }} as {{ prefix }}_raw,
    cn_normalize_phone({{ col }}) as {{ prefix }}
{%- endmacro %}

{# Expects a struct column <prefix>_parsed = cn_parse_address(<col>) computed in an earlier CTE
   (reused: null where <prefix>_known, whose values of last delivery are <prefix>_k_<field>). #}
{% macro address_columns(col, prefix, reused=false) -%}
    {{ col }} as {{ prefix }}_address_raw,
    {%- for f in address_fields() %}
    {% if reused and reuse_normalized() -%}
    case when {{ prefix }}_known then {{ prefix }}_k_{{ f }} else {{ prefix }}_parsed.{{ f }} end
    {%- else -%}
    {{ prefix }}_parsed.{{ f }}
    {%- endif %} as {{ prefix }}_{{ f }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro address_fields() -%}
    {{ return(['district', 'street', 'community', 'road', 'lane', 'number', 'building', 'room', 'rest', 'address_key']) }}
{%- endmacro %}

{# Reuse of last delivery's normalised values (normalize/version.py). A normalised address or name
   is a function of its raw text and the normalisers' code alone, so the large registries'
   staging (a month's values are almost all last month's) takes a raw value staged in the last
   delivery by the same code (`normalized_by` = var normalizers) from there and calls the Python
   normalisers only on the rest. True in an incremental build whose table has that column. #}
{% macro reuse_normalized() -%}
    {%- if not (execute and is_incremental() and var('normalizers', '')) -%}{{ return(false) }}{%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return('normalized_by' in columns) }}
{%- endmacro %}

{# expr, or null where the join aliased `alias` found the value staged last delivery (a build that
   reuses: the Python UDF in expr then runs on the other rows only). #}
{% macro unless_known(alias, expr) -%}
    {%- if reuse_normalized() -%}
    case when {{ alias }}.raw is null then {{ expr }} end
    {%- else -%}
    {{ expr }}
    {%- endif -%}
{%- endmacro %}

{% macro normalized_by() -%}
    '{{ var("normalizers", "") }}' as normalized_by
{%- endmacro %}

{# This table's rows of its last delivery staged by the same normalisers (only when reused). #}
{% macro previous_normalized_rows() -%}
    (
        select * from {{ this }}
        where
            normalized_by = '{{ var("normalizers") }}'
            and delivery = (select max(delivery) from {{ this }} where normalized_by = '{{ var("normalizers") }}')
    )
{%- endmacro %}

{# One row per raw address staged last delivery (columns <prefix>_address_raw, <prefix>_<field> of
   each prefix): raw and the ten fields; no rows when not reused. #}
{% macro known_addresses(prefixes) -%}
    {%- if reuse_normalized() -%}
    select
        raw,
        {%- for f in address_fields() %}
        min({{ f }}) as {{ f }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        {%- for p in prefixes %}
        select
            {{ p }}_address_raw as raw,
            {%- for f in address_fields() %}
            {{ p }}_{{ f }} as {{ f }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ previous_normalized_rows() }} as previous
        where {{ p }}_address_raw is not null
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
    ) as addresses
    group by raw
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as raw,
        {%- for f in address_fields() %}
        cast(null as {{ dbt.type_string() }}) as {{ f }}{{ ',' if not loop.last }}
        {%- endfor %}
    where false
    {%- endif %}
{%- endmacro %}

{# The columns a join with known_addresses aliased `alias` adds for address_columns(reused=true). #}
{% macro known_address_columns(alias, prefix) -%}
    {{ alias }}.raw is not null as {{ prefix }}_known,
    {%- for f in address_fields() %}
    {{ alias }}.{{ f }} as {{ prefix }}_k_{{ f }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{# One row per raw name staged last delivery (name_columns' output with this prefix); no rows when
   not reused. #}
{% macro known_names(prefix) -%}
    {%- if reuse_normalized() -%}
    select
        {{ prefix }}_raw as raw,
        min({{ prefix }}) as name,
        min({{ prefix }}_pinyin) as pinyin,
        min({{ prefix }}_pinyin_key) as pinyin_key
    from {{ previous_normalized_rows() }} as previous
    where {{ prefix }}_raw is not null
    group by {{ prefix }}_raw
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as raw,
        cast(null as {{ dbt.type_string() }}) as name,
        cast(null as {{ dbt.type_string() }}) as pinyin,
        cast(null as {{ dbt.type_string() }}) as pinyin_key
    where false
    {%- endif %}
{%- endmacro %}

{% macro known_name_columns(alias, prefix) -%}
    {{ alias }}.raw is not null as {{ prefix }}_known,
    {{ alias }}.name as {{ prefix }}_k_name,
    {{ alias }}.pinyin as {{ prefix }}_k_pinyin,
    {{ alias }}.pinyin_key as {{ prefix }}_k_pinyin_key
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
