{#
  The master tables' invariants (tests on the dbt sources `master.*`, which Python writes after the
  stable-id votes). They run with the quality rules, fail the build when broken, and Dagster shows
  them as checks on the master assets.
#}

{# Every household of the delivery has a room and a standard address, or is marked as outside the
   standard address library (then a finding for the library). #}
{% test has_address_or_outside_library(model) %}
select household_id from {{ model }}
where in_latest_delivery and (room is null or (address_id is null and in_address_library))
{% endtest %}
