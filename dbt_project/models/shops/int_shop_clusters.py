"""Shop clusters of this delivery (see matching/shops.py for the rules)."""

from matching.shops import cluster_shops


def model(dbt, session):
    dbt.config(materialized="table")
    records = (
        dbt.ref("int_shop_records")
        .project(
            "record_key, source, uscc, uscc_check_ok, name, name_core, person_name, person_name_key, premises_key, "
            "address_id, upper_floor_office, event_date, established_on, registration_status, inspection_result, "
            "account_no, previous_uscc, reading_month"
        )
        .df()
    )
    return cluster_shops(records)
