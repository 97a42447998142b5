"""Fellegi–Sunter parameters for person matching, estimated from this delivery's data (DuckDB; on
Spark the same function runs as a step of the hub: pipelines/spark_step.py)."""

from matching.person_model import match_weights_frame, pattern_counts_sql


def model(dbt, session):
    dbt.config(materialized="table")
    relations = [
        dbt.ref("int_person_pair_comparisons"),
        dbt.ref("int_person_random_pairs"),
        dbt.ref("int_person_labelled_pairs"),
    ]
    counts = [session.sql(pattern_counts_sql(f"({rel.sql_query()})")).df() for rel in relations]
    return match_weights_frame(*counts)
