"""Shop clusters of this delivery (see matching/shops.py for the rules)."""

from matching.shops import cluster_shops


def model(dbt, session):
    dbt.config(materialized="table")
    records = (
        dbt.ref("int_shop_records")
        .project(
            "record_key, source, uscc, uscc_check_ok, name_core, person_name, premises_key, upper_floor_office, "
            "event_date, registration_status, account_no"
        )
        .df()
    )
    return cluster_shops(records)
