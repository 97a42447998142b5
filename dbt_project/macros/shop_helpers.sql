{# The part of a business name that carries identity: without 上海(市), district names, legal forms,
   generic trade words and branch suffixes, so that 上海润泽餐饮管理有限公司 and 润泽小吃 can be compared. #}
{% macro shop_name_core(col) -%}
    {%- set stripped = regex_replace_all('coalesce(' ~ col ~ ", '')", '[（(][^）)]*[）)]', '') -%}
    {#- anchored at the start: one match at most, the same on both engines without the 'g' option #}
    {%- set stripped = "regexp_replace(" ~ stripped ~ ", '^上海(市)?', '')" -%}
    {%- set stripped = "regexp_replace(" ~ stripped ~ ", '^[^路]{1,3}区', '')" -%}
    {%- set stripped = regex_replace_all(stripped, '(有限责任公司|股份有限公司|有限公司|分公司|个体工商户|(第[一二三四五六七八九十0-9]+)?分店|[0-9一二三四五六七八九十]+号?店)', '') -%}
    {%- set stripped = regex_replace_all(stripped, '(餐饮管理|餐饮服务|企业管理|商贸|贸易|实业|食品|果业|便利连锁|连锁|经营部|商行|服务部|服饰|生活服务|文化传播|信息科技|科技)', '') -%}
    nullif({{ stripped }}, '')
{%- endmacro %}
