"""Entity resolution: Fellegi–Sunter scoring, constrained clustering, stable ids.

The SQL side (blocking, comparison vectors) lives in dbt_project/models/matching; these are the pure
functions the dbt Python models and the Dagster master-data assets call.
"""
