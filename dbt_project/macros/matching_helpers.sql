{# The delivery being built: the dbt var set by Dagster, else the latest one staged. #}
{% macro current_delivery() -%}
    {%- if var('delivery', '') -%}'{{ var('delivery') }}'
    {%- else -%}(select max(delivery) from {{ ref('stg_police_population') }}){%- endif -%}
{%- endmacro %}

{# The last day of the delivery month: the day a delivery describes the district on (the SQL twin of
   normalize/dates.py month_end; month_start is cross_engine.sql's, last_day is in both engines). #}
{% macro delivery_month_end() -%}
    last_day({{ month_start(current_delivery()) }})
{%- endmacro %}

{#
  Comparison levels of two person records (aliases a, b), the Fellegi–Sunter comparison vector.
  Used for candidate pairs and for random pairs alike, so that m and u describe the same levels.
  ID numbers are ASCII, so DuckDB's byte-based distance is safe there; names go through the
  character-aware edit_distance (cn_levenshtein, rapidfuzz; Spark's own levenshtein there).
#}
{% macro person_comparison_levels(a, b) -%}
    case
        when {{ a }}.id_number is null or {{ b }}.id_number is null or length({{ a }}.id_number) <> length({{ b }}.id_number) then case when {{ a }}.id_number is null or {{ b }}.id_number is null then 'null' else 'diff' end
        when {{ a }}.id_number = {{ b }}.id_number then 'exact'
        -- one wrong character, or two adjacent characters swapped (the typos a check digit catches)
        when {{ hamming_distance(a ~ '.id_number', b ~ '.id_number', ascii=true, at_most=1) }} = 1 then 'one_edit'
        when {{ id_adjacent_transposition(a ~ '.id_number', b ~ '.id_number') }}
            then 'one_edit'
        when substr({{ a }}.id_number, 7, 8) = substr({{ b }}.id_number, 7, 8) then 'same_birth'
        else 'diff'
    end as id_level,
    case
        when {{ a }}.name is null or {{ b }}.name is null then 'null'
        when {{ a }}.name = {{ b }}.name then 'exact'
        when {{ a }}.name_pinyin_key = {{ b }}.name_pinyin_key then 'pinyin'
        when abs(length({{ a }}.name) - length({{ b }}.name)) <= 1
             -- one edit leaves the first or the last character of a longer name as it was: tested
             -- first, so the Python distance sees few of the random pairs (same levels)
             and (least(length({{ a }}.name), length({{ b }}.name)) <= 1
                  or substr({{ a }}.name, 1, 1) = substr({{ b }}.name, 1, 1)
                  or substr({{ a }}.name, length({{ a }}.name), 1) = substr({{ b }}.name, length({{ b }}.name), 1))
             and {{ edit_distance(a ~ '.name', b ~ '.name') }} = 1 then 'one_char'
        else 'diff'
    end as name_level,
    case
        when {{ a }}.birth_date is null or {{ b }}.birth_date is null then 'null'
        when {{ a }}.birth_date = {{ b }}.birth_date then 'exact'
        when year({{ a }}.birth_date) = year({{ b }}.birth_date)
             and (month({{ a }}.birth_date) = month({{ b }}.birth_date)
                  or (month({{ a }}.birth_date) = day({{ b }}.birth_date) and day({{ a }}.birth_date) = month({{ b }}.birth_date)))
            then 'close'
        else 'diff'
    end as birth_level,
    case
        when {{ a }}.sex is null or {{ b }}.sex is null then 'null'
        when {{ a }}.sex = {{ b }}.sex then 'same'
        else 'diff'
    end as sex_level,
    case
        when coalesce({{ a }}.address_key, {{ a }}.registered_address_key) is null
          or coalesce({{ b }}.address_key, {{ b }}.registered_address_key) is null then 'null'
        when ({{ a }}.address_key = {{ b }}.address_key and {{ a }}.room is not distinct from {{ b }}.room)
          or ({{ a }}.address_key = {{ b }}.registered_address_key and {{ a }}.room is not distinct from {{ b }}.registered_room)
          or ({{ a }}.registered_address_key = {{ b }}.address_key and {{ a }}.registered_room is not distinct from {{ b }}.room)
            then 'dwelling'
        when {{ a }}.address_key = {{ b }}.address_key then 'building'
        when {{ a }}.road = {{ b }}.road then 'road'
        else 'diff'
    end as address_level,
    case
        when {{ a }}.phone is null or {{ b }}.phone is null then 'null'
        when {{ a }}.phone = {{ b }}.phone then 'same'
        else 'diff'
    end as phone_level
{%- endmacro %}

{#
  The latest 抄表月份 present in this delivery's electricity export. A utility's monthly export
  usually ends with the month before the export (the November file's latest reading is October),
  so "the latest reading" is this month, whatever it is: never the delivery month itself.
#}
{% macro latest_reading_month() -%}
    (select max(reading_month) from {{ ref('stg_utility_electricity') }}
     where delivery = {{ current_delivery() }} and kwh is not null)
{%- endmacro %}

{#
  Two road names of the same length, read character by character (cn_road_pinyin, `pa` and `pb`):
  one character apart (a homophone typed for another: 玫园路 / 梅园路, 'mei yuan lu' both; or any
  one-character slip), or, where two characters or more differ, at most one syllable apart (a clerk
  typing by sound who slips by a syllable that rhymes: 汾西路 for 闻喜路, 'fen xi lu' / 'wen xi lu'; not
  宝通路 'bao tong lu' for 保德路 'bao de lu', pinyin_rimes). A direction
  before the road type (东南西北中) that sounds different is never the difference: 延长西路 and 延长中路
  are different roads (西 for 喜 sounds the same). DuckDB's substr and length count characters.
#}
{% macro road_direction_differs(a, b, pa, pb) -%}
    ({{ syllable_at(pa, 'length(' ~ a ~ ') - 1') }} <> {{ syllable_at(pb, 'length(' ~ b ~ ') - 1') }}
     and (substr({{ a }}, length({{ a }}) - 1, 1) in ('东', '南', '西', '北', '中')
          or substr({{ b }}, length({{ b }}) - 1, 1) in ('东', '南', '西', '北', '中')))
{%- endmacro %}
{% macro road_one_character_apart(a, b, pa, pb) -%}
    (length({{ a }}) = length({{ b }})
     and {{ hamming_distance(a, b, at_most=1) }} = 1
     and not {{ road_direction_differs(a, b, pa, pb) }})
{%- endmacro %}
{% macro road_one_syllable_apart(a, b, pa, pb) -%}
    (length({{ a }}) = length({{ b }})
     and {{ a }} <> {{ b }}
     and {{ syllable_distance(pa, pb) }} <= 1
     and {{ pinyin_rimes(pa) }} = {{ pinyin_rimes(pb) }}
     and not {{ road_direction_differs(a, b, pa, pb) }})
{%- endmacro %}

{# How a road name one character or one syllable from a library road's is explained. #}
{% macro road_misspelling_rule(a, b) -%}
    (case when {{ hamming_distance(a, b, at_most=1) }} = 1 then 'road_one_char' else 'road_one_syllable' end)
{%- endmacro %}

{# Of the library roads within one syllable of an address's road (`candidates`, aliased `c` in the
   calling query: one row per address_key and `choice`, with `sounds_alike`: the two names read the
   same): is this row's choice the only one, or, of several, the only one that reads the same? One
   rule for the address lookup and for the unlisted addresses. #}
{% macro the_only_road_choice(candidates, choice) -%}
    (
        (
            select count(distinct o.{{ choice }}) from {{ candidates }} as o
            where o.address_key = c.address_key
        ) = 1
        or (c.sounds_alike and (
            select count(distinct o.{{ choice }}) from {{ candidates }} as o
            where o.address_key = c.address_key and o.sounds_alike
        ) = 1)
    )
{%- endmacro %}

{# The hub's own last month: the master tables written by the previous delivery's master build,
   read directly (a source would make the asset graph circular). A dict of relations by table
   name when every one of them exists, none on a first delivery (or at parse time), so a model
   reads `{% if previous %}` and `{{ previous.person }}`. #}
{% macro previous_master(identifiers) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set found = {} -%}
    {%- for name in identifiers -%}
        {%- set relation = adapter.get_relation(database=target.database, schema='master', identifier=name) -%}
        {%- if relation is none -%}{{ return(none) }}{%- endif -%}
        {%- do found.update({name: relation}) -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#
  A set of values (a cluster's sources, a candidate dwelling's kinds of evidence) as a bit mask, one
  bit a value: groups take bit_or of their values' bits, and the masks' few distinct sets are spelt
  out after, rather than sorting and joining each group's values (1M clusters' sources, 1.7M
  candidates' kinds). value_bits: the bit of each distinct value of `value` in `relation`.
  mask_values: each distinct `mask` of `masks` with its values (`value` of `bits`) sorted and joined
  by `sep`, as `alias`.
#}
{% macro value_bits(value, relation) -%}
    select {{ value }}, (power(2, row_number() over (order by {{ value }}) - 1))::bigint as bit
    from (
        select distinct {{ value }} from {{ relation }}
        where {{ value }} is not null
    ) as v
{%- endmacro %}

{% macro mask_values(masks, bits, value, sep, alias) -%}
    select
        m.mask,
        {{ ordered_string_agg('b.' ~ value, sep, distinct=true) }} as {{ alias }}
    from (select distinct mask from {{ masks }}) as m
    join {{ bits }} b on (m.mask & b.bit) <> 0
    group by m.mask
{%- endmacro %}
