"""Run the hub job in-process on every pending delivery, in order, and summarise what happened.

This is what `civichub run` does; the Dagster UI runs the same job through the sensor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines import settings


@dataclass
class DeliveryOutcome:
    delivery: str
    success: bool
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class RunSummary:
    inbox: Path
    db: Path
    deliveries: list[DeliveryOutcome]
    files: list[tuple] = field(default_factory=list)  # rows of ingest.file_log for these deliveries
    quarantine_reasons: list[tuple] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(d.success for d in self.deliveries)


def _connect(db: Path, read_only: bool = False, wait_seconds: float = 120.0):
    """Open the database, waiting while another process (e.g. a dbt run still finishing after a
    failed step) holds DuckDB's single-writer lock; then fail with a message that says so."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() > deadline:
                raise SystemExit(
                    f"civichub: {db} is locked by another process (DuckDB allows one writer): {e}"
                ) from None
            time.sleep(2)


def _pending(inbox: Path, db: Path) -> list[str]:
    from connectors.ingest import list_deliveries, pending_deliveries

    if not db.exists():
        return list_deliveries(inbox)
    con = _connect(db)
    try:
        return pending_deliveries(con, inbox)
    finally:
        con.close()


STAGES = {
    # a dbt model's stage is named by its folder (staging, matching for persons/households, shops)
    "ingest": ("raw__", "reference_data"),
    "persons_households": ("matching/", "person_household_master"),
    "shops": ("matching/int_shop", "shop_master"),
    "staging": ("staging/",),
    "catalog_and_publishing": ("catalog__", "sharing__", "catalog/", "sharing/"),
}


def stage_seconds(result) -> dict[str, float]:
    """Wall time per stage: Dagster step durations, with the dbt step split by model durations."""
    out: dict[str, float] = {}

    def add(name: str, seconds: float) -> None:
        for stage in ("shops", "ingest", "persons_households", "staging", "catalog_and_publishing"):
            if any(name.startswith(p) for p in STAGES[stage]):
                out[stage] = out.get(stage, 0.0) + seconds
                return
        out["other"] = out.get("other", 0.0) + seconds

    dbt_models = 0.0
    for ev in result.all_events:
        if ev.event_type_value == "STEP_SUCCESS" and ev.step_key != "civichub_dbt_models":
            add(ev.step_key, ev.event_specific_data.duration_ms / 1000)
        elif ev.event_type_value == "STEP_SUCCESS":
            dbt_step = ev.event_specific_data.duration_ms / 1000
        elif ev.event_type_value == "ASSET_MATERIALIZATION":
            meta = ev.event_specific_data.materialization.metadata
            if "Execution Duration" in meta:
                seconds = float(meta["Execution Duration"].value)
                dbt_models += seconds
                add(ev.event_specific_data.materialization.asset_key.to_user_string(), seconds)
    if "dbt_step" in locals():
        out["dbt_overhead_and_tests"] = max(dbt_step - dbt_models, 0.0)
    return {k: round(v, 1) for k, v in out.items()}


def run_hub(inbox: Path, db: Path, verbose: bool = False) -> RunSummary:
    t0 = time.perf_counter()
    inbox, db = settings.configure(inbox, db)
    if not inbox.is_dir():
        raise SystemExit(f"civichub: inbox {inbox} is not a folder")
    # Imported after configure(): the definitions read the paths from the environment.
    from dagster import DagsterInstance

    from pipelines.definitions import defs
    from pipelines.partitions import deliveries as delivery_partitions

    if not verbose:
        logging.getLogger("dagster").setLevel(logging.WARNING)
    pending = _pending(inbox, db)
    outcomes: list[DeliveryOutcome] = []
    if pending:
        instance = DagsterInstance.get()
        job = defs.resolve_job_def("civichub_job")
        known = set(instance.get_dynamic_partitions(delivery_partitions.name))
        for delivery in pending:
            if delivery not in known:
                instance.add_dynamic_partitions(delivery_partitions.name, [delivery])
            print(f"  delivery {delivery}: ingest, stage, check …", flush=True)
            t = time.perf_counter()
            result = job.execute_in_process(
                partition_key=delivery,
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "WARNING"}}}},
                tags={"civichub/trigger": "cli"},
            )
            outcome = DeliveryOutcome(delivery, result.success, time.perf_counter() - t)
            outcome.stage_seconds = stage_seconds(result)
            for ev in result.get_asset_check_evaluations():
                name = f"{'/'.join(ev.asset_key.path)}:{ev.check_name}"
                if not ev.passed:
                    if ev.severity.value == "ERROR":
                        outcome.failed_checks.append(name)
                    else:
                        outcome.warned_checks.append(name)
            if not result.success:
                failures = [e for e in result.all_events if e.is_step_failure]
                outcome.error = "; ".join(
                    f"{e.step_key}: {e.event_specific_data.error.message.strip().splitlines()[0]}" for e in failures
                ) or "run failed"
            outcomes.append(outcome)
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in outcome.stage_seconds.items())
            print(f"  delivery {delivery}: {'done' if outcome.success else 'FAILED'} in {outcome.seconds:.1f}s ({stages})", flush=True)
    summary = RunSummary(inbox=inbox, db=db, deliveries=outcomes, seconds=time.perf_counter() - t0)
    if pending and db.exists():
        con = _connect(db, read_only=True)
        try:
            marks = ",".join("?" for _ in pending)
            summary.files = con.execute(
                f"""select delivery, source, source_file, status, rows_read, rows_loaded, rows_quarantined, message
                    from ingest.file_log where delivery in ({marks}) order by delivery, source""",
                pending,
            ).fetchall()
            summary.quarantine_reasons = con.execute(
                f"""select source, reason, count(*) from ingest.quarantine where delivery in ({marks})
                    group by all order by 3 desc limit 15""",
                pending,
            ).fetchall()
        finally:
            con.close()
    return summary


def print_summary(s: RunSummary) -> None:
    print()
    if not s.deliveries:
        print(f"Nothing new in {s.inbox}: every delivery is already ingested ({s.db}).")
        return
    print(f"Ingested {len(s.deliveries)} deliveries in {s.seconds:.1f}s into {s.db}")
    header = f"  {'delivery':<9} {'file':<38} {'status':<9} {'read':>9} {'loaded':>9} {'quarant.':>8}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    totals = [0, 0, 0]
    rejected = []
    for delivery, _source, source_file, status, read, loaded, quarantined, message in s.files:
        name = source_file.split("/", 1)[-1]
        print(f"  {delivery:<9} {name:<38} {status:<9} {read or 0:>9,} {loaded or 0:>9,} {quarantined or 0:>8,}")
        totals[0] += read or 0
        totals[1] += loaded or 0
        totals[2] += quarantined or 0
        if status == "rejected":
            rejected.append((source_file, message))
    print(f"  {'total':<9} {'':<38} {'':<9} {totals[0]:>9,} {totals[1]:>9,} {totals[2]:>8,}")
    if rejected:
        print("\nRejected files (the rest of each delivery was loaded):")
        for f, m in rejected:
            print(f"  ✗ {f}: {m}")
    if s.quarantine_reasons:
        print("\nQuarantined rows by reason (see ingest.quarantine):")
        for source, reason, n in s.quarantine_reasons:
            print(f"  {n:>7,}  {source}: {reason}")
    failed = sorted({c for d in s.deliveries for c in d.failed_checks})
    warned = sorted({c for d in s.deliveries for c in d.warned_checks})
    print(f"\nChecks: {len(failed)} failed, {len(warned)} warnings")
    for c in failed:
        print(f"  ✗ {c}")
    for c in warned[:20]:
        print(f"  ! {c}")
    if len(warned) > 20:
        print(f"  … and {len(warned) - 20} more warnings (Dagster UI, asset checks)")
    for d in s.deliveries:
        if not d.success:
            print(f"\nDelivery {d.delivery} FAILED: {d.error}")
