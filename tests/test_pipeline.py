"""End to end: the Dagster job on a generated district, as `civichub run` executes it."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from connectors.spec import load_specs

SPECS = load_specs()
# the street app writes street_shop_visits_app into a delivery (tasks/shop_visits.py), not the generator;
# dbt stages it with the street offices' visits
APP_SOURCES = {"street_shop_visits_app": "street_shop_visits"}
GENERATED_SOURCES = [s for s in SPECS.sources if s not in APP_SOURCES]


def _truth_rows(inbox: Path, delivery: str, source: str) -> int:
    with open(inbox / "_truth" / delivery / f"{source}.csv", encoding="utf-8") as f:
        return sum(1 for _ in csv.DictReader(f))


def _table_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'ingest', 'staging') order by 1, 2"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}
    finally:
        con.close()


def test_definitions_load_with_the_whole_graph():
    from dagster import AssetKey

    from pipelines.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for name in SPECS.sources:
        assert f"raw/{name}" in keys
        assert f"staging/stg_{APP_SOURCES.get(name, name)}" in keys
    assert "raw/standard_addresses" in keys
    job = build_definitions().resolve_job_def("civichub_job")
    assert job.partitions_def is not None
    checks = {(c.asset_key, c.name) for c in graph.asset_check_keys}
    assert (AssetKey(["raw", "police_population"]), "gx_expectations") in checks
    assert (AssetKey(["raw", "police_population"]), "file_accepted") in checks
    # dbt tests surface as asset checks
    assert any(k == AssetKey(["staging", "stg_police_population"]) for k, _ in checks)
    assert {f"master/{t}" for t in ("person", "household", "person_xref", "household_xref", "id_history")} <= keys
    # master data is built after the dbt models it reads
    assert AssetKey(["matching", "int_person_clusters"]) in graph.get(AssetKey(["master", "person"])).parent_keys
    assert build_definitions().resolve_sensor_def("new_delivery_sensor") is not None


@pytest.mark.slow
def test_run_loads_every_file_balances_rows_and_is_idempotent(hub_run):
    from pipelines.run import run_hub

    small_district, db, summary = hub_run
    assert summary.ok, [d.error for d in summary.deliveries]
    assert [d.delivery for d in summary.deliveries] == ["2026-10", "2026-11"]
    assert not [c for d in summary.deliveries for c in d.failed_checks]

    con = duckdb.connect(str(db), read_only=True)
    log = con.execute(
        "select delivery, source, status, rows_read, rows_loaded, rows_quarantined from ingest.file_log "
        "where delivery <> 'reference'"
    ).fetchall()
    staged = {
        name: con.execute(f"select delivery, count(*) from staging.stg_{name} group by 1").fetchall()
        for name in GENERATED_SOURCES
    }
    con.close()
    assert len(log) == 2 * len(GENERATED_SOURCES)
    for delivery, source, status, read, loaded, quarantined in log:
        assert status == "loaded", (delivery, source)
        assert read == loaded + quarantined
        # every data row of the file was read: the answer key has one row per data row
        assert read == _truth_rows(small_district, delivery, source), (delivery, source)
        assert dict(staged[source])[delivery] == loaded

    before = _table_counts(db)
    again = run_hub(small_district, db)
    assert again.deliveries == []  # nothing new: no job run at all
    assert _table_counts(db) == before


def test_sensor_requests_a_run_per_new_delivery(small_district):
    from dagster import DagsterInstance, build_sensor_context

    from pipelines.definitions import build_definitions
    from pipelines.resources import HubResource

    sensor = build_definitions().resolve_sensor_def("new_delivery_sensor")
    with DagsterInstance.ephemeral() as instance:
        ctx = build_sensor_context(
            instance=instance, resources={"hub": HubResource(inbox=str(small_district), db_path="unused.duckdb")}
        )
        result = sensor(ctx)
        assert [r.partition_key for r in result.run_requests] == ["2026-10", "2026-11"]
        instance.add_dynamic_partitions("delivery", ["2026-10", "2026-11"])
        ctx = build_sensor_context(
            instance=instance, resources={"hub": HubResource(inbox=str(small_district), db_path="unused.duckdb")}
        )
        assert not getattr(sensor(ctx), "run_requests", None)
