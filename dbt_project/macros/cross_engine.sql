{#
  The few pieces of SQL that DuckDB and Spark spell differently, one macro each (adapter.dispatch:
  duckdb__… and spark__…, default__ = DuckDB's). Everything else in the models is the subset both
  engines read alike (`::string`, `filter (where …)`, max_by/min_by, md5). tests/test_sql_engines.py
  compiles every model for both targets and checks the result.
#}

{# Number of positions at which two strings of the same length differ, in characters. DuckDB's
   hamming() counts bytes (玫园路/梅园路: 3), so it serves only where both are ASCII (ascii=true: ID
   numbers); Chinese text counts character by character. at_most: the caller only asks whether the
   distance is at most that (= 1, <= 2); an engine may then answer any number above it for two
   strings of one length further apart (Spark does, DuckDB counts). #}
{% macro hamming_distance(a, b, ascii=false, at_most=none) -%}{{ return(adapter.dispatch('hamming_distance', 'civichub')(a, b, ascii, at_most)) }}{%- endmacro %}
{% macro default__hamming_distance(a, b, ascii, at_most) -%}
    {%- if ascii -%}hamming({{ a }}, {{ b }})
    {%- else -%}len(list_filter(range(1, length({{ a }}) + 1), lambda i: substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)))
    {%- endif -%}
{%- endmacro %}
{# Spark: a lambda over the positions is interpreted, not compiled, and the random pairs are millions;
   of two strings of one length, a levenshtein (compiled) of 0 or 1 is their hamming distance, so the
   lambda runs only for the pairs further apart; with at_most, not for those either: the hamming
   distance of two strings of one length is at least their levenshtein, so a levenshtein above
   at_most (Spark's levenshtein with a threshold: -1 above it, and it stops early) answers at_most + 1.
   Null when either is (size(null) would be -1). #}
{% macro spark__hamming_distance(a, b, ascii, at_most) -%}
    (case
        when {{ a }} is null or {{ b }} is null then null
        when length({{ a }}) = length({{ b }}) and levenshtein({{ a }}, {{ b }}, 1) >= 0 then levenshtein({{ a }}, {{ b }}, 1)
        {%- if at_most is not none %}
        when length({{ a }}) = length({{ b }}) and levenshtein({{ a }}, {{ b }}, {{ at_most }}) = -1 then {{ at_most + 1 }}
        {%- endif %}
        else size(filter(sequence(1, length({{ a }})), i -> substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)))
    end)
{%- endmacro %}

{# Edit distance of two strings in characters: the hub's cn_levenshtein (rapidfuzz) on DuckDB;
   Spark's own levenshtein, which counts characters too (tests/test_spark_engine.py checks the two
   agree), because Spark evaluates a Python UDF inside a `case` for every row, not only where the
   `when` holds: on the random pairs (millions of them) that is a Python round trip per pair. #}
{% macro edit_distance(a, b) -%}{{ return(adapter.dispatch('edit_distance', 'civichub')(a, b)) }}{%- endmacro %}
{% macro default__edit_distance(a, b) -%}cn_levenshtein({{ a }}, {{ b }}){%- endmacro %}
{% macro spark__edit_distance(a, b) -%}levenshtein({{ a }}, {{ b }}){%- endmacro %}

{# Two 18-character ID numbers that differ only by two adjacent characters swapped (…12… / …21…). #}
{% macro id_adjacent_transposition(a, b) -%}{{ return(adapter.dispatch('id_adjacent_transposition', 'civichub')(a, b)) }}{%- endmacro %}
{% macro default__id_adjacent_transposition(a, b) -%}
    ({{ hamming_distance(a, b, ascii=true) }} = 2
     and list_reverse(list_transform(list_filter(range(1, 19), lambda i: substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)),
                                     lambda i: substr({{ b }}, i, 1)))
         = list_transform(list_filter(range(1, 19), lambda i: substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)),
                          lambda i: substr({{ a }}, i, 1))
     -- the two differing positions are adjacent (hamming 2: the list has two elements)
     and list_extract(list_filter(range(1, 19), lambda i: substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)), 2)
         - list_extract(list_filter(range(1, 19), lambda i: substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)), 1) = 1)
{%- endmacro %}
{% macro spark__id_adjacent_transposition(a, b) -%}
    {#- two adjacent characters swapped are two edits apart: the cheap test first #}
    (levenshtein({{ a }}, {{ b }}, 2) = 2
     and {{ hamming_distance(a, b, ascii=true, at_most=2) }} = 2
     and reverse(transform(filter(sequence(1, 18), i -> substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)),
                           i -> substr({{ b }}, i, 1)))
         = transform(filter(sequence(1, 18), i -> substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)),
                     i -> substr({{ a }}, i, 1))
     and element_at(filter(sequence(1, 18), i -> substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)), 2)
         - element_at(filter(sequence(1, 18), i -> substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)), 1) = 1)
{%- endmacro %}

{# Position (1-based) of the first character at which two strings differ; null when they do not. #}
{% macro first_difference_position(a, b) -%}{{ return(adapter.dispatch('first_difference_position', 'civichub')(a, b)) }}{%- endmacro %}
{% macro default__first_difference_position(a, b) -%}
    list_filter(range(1, length({{ a }}) + 1), lambda i: substr({{ a }}, i, 1) <> substr({{ b }}, i, 1))[1]
{%- endmacro %}
{% macro spark__first_difference_position(a, b) -%}
    element_at(filter(sequence(1, greatest(length({{ a }}), 1)), i -> substr({{ a }}, i, 1) <> substr({{ b }}, i, 1)), 1)
{%- endmacro %}

{# Syllable i (1-based) of a space-separated pinyin string (cn_road_pinyin: one syllable a character). #}
{% macro syllable_at(p, i) -%}{{ return(adapter.dispatch('syllable_at', 'civichub')(p, i)) }}{%- endmacro %}
{% macro default__syllable_at(p, i) -%}string_split({{ p }}, ' ')[{{ i }}]{%- endmacro %}
{% macro spark__syllable_at(p, i) -%}element_at(split({{ p }}, ' '), {{ i }}){%- endmacro %}

{# Number of positions at which two pinyin strings of as many syllables differ, syllable by syllable. #}
{% macro syllable_distance(a, b) -%}{{ return(adapter.dispatch('syllable_distance', 'civichub')(a, b)) }}{%- endmacro %}
{% macro default__syllable_distance(a, b) -%}
    len(list_filter(range(1, len(string_split({{ a }}, ' ')) + 1),
                    lambda i: string_split({{ a }}, ' ')[i] <> string_split({{ b }}, ' ')[i]))
{%- endmacro %}
{% macro spark__syllable_distance(a, b) -%}
    size(filter(sequence(1, greatest(size(split({{ a }}, ' ')), 1)),
                i -> element_at(split({{ a }}, ' '), i) <> element_at(split({{ b }}, ' '), i)))
{%- endmacro %}

{# A road's pinyin (cn_road_pinyin: 'wen xi lu') with each syllable's initial dropped and a final -ng
   read as -n ('en i u'): two names whose rimes agree differ only by sounds a clerk typing by ear
   confuses (汾西 fen xi for 闻喜 wen xi), not by any syllable (宝通 bao tong is no slip for 保德 bao de). #}
{% macro pinyin_rimes(p) -%}{{ return(adapter.dispatch('pinyin_rimes', 'civichub')(p)) }}{%- endmacro %}
{% macro default__pinyin_rimes(p) -%}
    regexp_replace(regexp_replace({{ p }}, '(^| )(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])', '\1', 'g'), 'ng( |$)', 'n\1', 'g')
{%- endmacro %}
{% macro spark__pinyin_rimes(p) -%}
    regexp_replace(regexp_replace({{ p }}, '(^| )(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])', '$1'), 'ng( |$)', 'n$1')
{%- endmacro %}

{# A repeatable sample of about `n` rows: the rows whose md5(key, seed) come first. The same rows on
   both engines (DuckDB's `using sample … repeatable` depends on the engine and its threads). #}
{% macro hash_sample(relation_sql, key, n, seed) -%}
    select * from {{ relation_sql }} order by md5({{ key }} || '|{{ seed }}') limit {{ n }}
{%- endmacro %}

{# string_agg in a stable order (optionally of distinct values): null when every value is null.
   DuckDB: the values as a list, sorted and joined, the same text as `string_agg([distinct] expr, sep
   order by expr)`, whose ordered aggregate sorts each group on its own (100k: int_household_meters
   1.33 -> 0.68 s, int_person_residence 1.34 -> 0.89 s of CPU). #}
{% macro ordered_string_agg(expr, sep, distinct=false) -%}{{ return(adapter.dispatch('ordered_string_agg', 'civichub')(expr, sep, distinct)) }}{%- endmacro %}
{% macro default__ordered_string_agg(expr, sep, distinct) -%}
    {%- set values = 'list(' ~ expr ~ ') filter (where ' ~ expr ~ ' is not null)' -%}
    case when count({{ expr }}) > 0 then array_to_string(list_sort({% if distinct %}list_distinct({{ values }}){% else %}{{ values }}{% endif %}), '{{ sep }}') end
{%- endmacro %}
{% macro spark__ordered_string_agg(expr, sep, distinct) -%}
    nullif(array_join(array_sort({% if distinct %}collect_set{% else %}collect_list{% endif %}({{ expr }})), '{{ sep }}'), '')
{%- endmacro %}

{# A date as text: fmt is one of 'YYYYMMDD', 'YYYY-MM-DD', 'YYYY-MM', 'MMDD'. #}
{% macro format_date(expr, fmt) -%}{{ return(adapter.dispatch('format_date', 'civichub')(expr, fmt)) }}{%- endmacro %}
{% macro default__format_date(expr, fmt) -%}
    strftime({{ expr }}, '{{ {'YYYYMMDD': '%Y%m%d', 'YYYY-MM-DD': '%Y-%m-%d', 'YYYY-MM': '%Y-%m', 'MMDD': '%m%d'}[fmt] }}')
{%- endmacro %}
{% macro spark__format_date(expr, fmt) -%}
    date_format({{ expr }}, '{{ {'YYYYMMDD': 'yyyyMMdd', 'YYYY-MM-DD': 'yyyy-MM-dd', 'YYYY-MM': 'yyyy-MM', 'MMDD': 'MMdd'}[fmt] }}')
{%- endmacro %}

{# The first day of a 'YYYY-MM' month, as a date. #}
{% macro month_start(expr) -%}{{ return(adapter.dispatch('month_start', 'civichub')(expr)) }}{%- endmacro %}
{% macro default__month_start(expr) -%}strptime({{ expr }} || '-01', '%Y-%m-%d')::date{%- endmacro %}
{% macro spark__month_start(expr) -%}to_date({{ expr }} || '-01', 'yyyy-MM-dd'){%- endmacro %}

{# The 'YYYY-MM' month before a 'YYYY-MM' month. #}
{% macro previous_month(expr) -%}{{ format_date('(' ~ month_start(expr) ~ ' - interval 1 month)', 'YYYY-MM') }}{%- endmacro %}

{# Whole months from one date to another. #}
{% macro months_between(start, end) -%}{{ return(adapter.dispatch('months_between', 'civichub')(start, end)) }}{%- endmacro %}
{% macro default__months_between(start, end) -%}date_diff('month', {{ start }}, {{ end }}){%- endmacro %}
{% macro spark__months_between(start, end) -%}cast(floor(months_between({{ end }}, {{ start }})) as integer){%- endmacro %}

{# Whole string matches a regular expression / contains a match. #}
{# Every match of a regular expression replaced: DuckDB needs the 'g' option; Spark replaces every
   match already, and its fourth argument is a position ('g' there makes every result null). #}
{% macro regex_replace_all(expr, pattern, replacement) -%}{{ return(adapter.dispatch('regex_replace_all', 'civichub')(expr, pattern, replacement)) }}{%- endmacro %}
{% macro default__regex_replace_all(expr, pattern, replacement) -%}regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g'){%- endmacro %}
{% macro spark__regex_replace_all(expr, pattern, replacement) -%}regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}'){%- endmacro %}
{% macro regex_full_match(expr, pattern) -%}{{ return(adapter.dispatch('regex_full_match', 'civichub')(expr, pattern)) }}{%- endmacro %}
{% macro default__regex_full_match(expr, pattern) -%}regexp_full_match({{ expr }}, '{{ pattern }}'){%- endmacro %}
{% macro spark__regex_full_match(expr, pattern) -%}({{ expr }} rlike '^(?:{{ pattern }})$'){%- endmacro %}
{% macro regex_contains(expr, pattern) -%}{{ return(adapter.dispatch('regex_contains', 'civichub')(expr, pattern)) }}{%- endmacro %}
{% macro default__regex_contains(expr, pattern) -%}regexp_matches({{ expr }}, '{{ pattern }}'){%- endmacro %}
{% macro spark__regex_contains(expr, pattern) -%}({{ expr }} rlike '{{ pattern }}'){%- endmacro %}

{# Age in whole years at a date (birthday not yet reached that year: one less). The one age rule of
   the SQL; normalize.dates.age_at is the same rule for Python (tests/test_domain_rules.py checks the
   two agree, 29 February included). #}
{% macro age_at(birth_date, as_of) -%}
    (year({{ as_of }}) - year({{ birth_date }})
     - case when {{ format_date(birth_date, 'MMDD') }} > {{ format_date(as_of, 'MMDD') }} then 1 else 0 end)
{%- endmacro %}
