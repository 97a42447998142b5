"""Run the hub job in-process on every pending delivery, in order, and summarise what happened.

This is what `civichub run` does; the Dagster UI runs the same job through the sensor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from dagster import DagsterInstance

from connectors.ingest import list_deliveries, pending_deliveries
from pipelines import settings
from pipelines.definitions import build_definitions
from pipelines.partitions import deliveries as delivery_partitions
from quality.corrections import describe, unprocessed_files
from quality.gx_master import data_docs_index


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
    findings: list[tuple] = field(default_factory=list)  # (rule, open findings) of the latest delivery
    data_docs: Path | None = None
    seconds: float = 0.0
    corrections: object = None  # quality.corrections.CorrectionsSummary when returned worklists were taken in
    corrections_error: str | None = None

    @property
    def ok(self) -> bool:
        return all(d.success for d in self.deliveries) and self.corrections_error is None


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
    "quality": ("quality/", "quality__finding"),
    "targeting": ("targeting", "committee_workbooks"),
    "catalog_and_publishing": ("catalog__", "sharing__", "catalog/", "sharing/"),
}
DBT_STEPS = ("civichub_dbt_models", "civichub_dbt_quality_rules", "targeting_dbt_models")


def stage_seconds(result) -> dict[str, float]:
    """Wall time per stage: Dagster step durations, with the dbt step split by model durations."""
    out: dict[str, float] = {}

    def add(name: str, seconds: float) -> None:
        for stage in (
            "shops",
            "ingest",
            "persons_households",
            "staging",
            "quality",
            "targeting",
            "catalog_and_publishing",
        ):
            if any(name.startswith(p) for p in STAGES[stage]):
                out[stage] = out.get(stage, 0.0) + seconds
                return
        out["other"] = out.get("other", 0.0) + seconds

    dbt_models = 0.0
    dbt_step = None
    for ev in result.all_events:
        if ev.event_type_value == "STEP_SUCCESS" and ev.step_key not in DBT_STEPS:
            add(ev.step_key, ev.event_specific_data.duration_ms / 1000)
        elif ev.event_type_value == "STEP_SUCCESS":
            dbt_step = (dbt_step or 0.0) + ev.event_specific_data.duration_ms / 1000
        elif ev.event_type_value == "ASSET_MATERIALIZATION":
            meta = ev.event_specific_data.materialization.metadata
            if "Execution Duration" in meta and ev.step_key in DBT_STEPS:
                seconds = float(meta["Execution Duration"].value)
                dbt_models += seconds
                add(ev.event_specific_data.materialization.asset_key.to_user_string(), seconds)
    if dbt_step is not None:
        out["dbt_overhead_and_tests"] = max(dbt_step - dbt_models, 0.0)
    return {k: round(v, 1) for k, v in out.items()}


def run_hub(inbox: Path, db: Path, verbose: bool = False) -> RunSummary:
    t0 = time.perf_counter()
    hub = settings.configure(inbox, db)
    inbox, db = hub.inbox, hub.db
    if not inbox.is_dir():
        raise SystemExit(f"civichub: inbox {inbox} is not a folder")
    settings.prepare_dagster_home(hub)
    defs = build_definitions()
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
                outcome.error = (
                    "; ".join(
                        f"{e.step_key}: {e.event_specific_data.error.message.strip().splitlines()[0]}" for e in failures
                    )
                    or "run failed"
                )
            outcomes.append(outcome)
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in outcome.stage_seconds.items())
            print(
                f"  delivery {delivery}: {'done' if outcome.success else 'FAILED'} in {outcome.seconds:.1f}s ({stages})",
                flush=True,
            )
    summary = RunSummary(inbox=inbox, db=db, deliveries=outcomes)
    _take_in_corrections(summary, verbose)
    summary.seconds = time.perf_counter() - t0
    if data_docs_index(db).exists():
        summary.data_docs = data_docs_index(db)
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
            has_findings = con.execute(
                "select count(*) from information_schema.tables where table_schema = 'quality' and table_name = 'finding'"
            ).fetchall()[0][0]
            if has_findings:
                summary.findings = con.execute(
                    """select rule, count(*) from quality.finding
                       where status = 'open' and last_seen = (select max(last_seen) from quality.finding)
                       group by 1 order by 2 desc, 1"""
                ).fetchall()
        finally:
            con.close()
    return summary


def _take_in_corrections(summary: RunSummary, verbose: bool) -> None:
    """Returned worklists in <inbox>/corrections/ not yet taken in: run `corrections_job` (also when no
    delivery was pending)."""
    if not summary.db.exists():
        return
    con = _connect(summary.db, read_only=True)
    try:
        todo = unprocessed_files(con, summary.inbox)
    finally:
        con.close()
    if not todo:
        return
    print(f"  corrections: {len(todo)} returned worklist(s) …", flush=True)
    result = (
        build_definitions()
        .resolve_job_def("corrections_job")
        .execute_in_process(
            instance=DagsterInstance.get(),
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "WARNING"}}}},
            tags={"civichub/trigger": "cli"},
        )
    )
    if result.success:
        summary.corrections = result.output_for_node("take_in_corrections")
    else:
        failures = [e for e in result.all_events if e.is_step_failure]
        summary.corrections_error = (
            "; ".join(e.event_specific_data.error.message.strip().splitlines()[0] for e in failures) or "run failed"
        )


def _print_corrections(s: RunSummary) -> None:
    if s.corrections_error:
        print(f"\nCorrections FAILED: {s.corrections_error}")
    if s.corrections is not None:
        print("\nReturned worklists (corrections/), see quality.correction_audit:")
        for line in describe(s.corrections):
            print(line)
        print(f"  {s.corrections.overrides_applied} master record value(s) changed")


def print_summary(s: RunSummary) -> None:
    print()
    _print_corrections(s)
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
    if s.findings:
        print(f"\nQuality findings open after this run: {sum(n for _, n in s.findings):,} (table quality.finding)")
        for rule, n in s.findings:
            print(f"  {n:>7,}  {rule}")
    if s.data_docs:
        print(f"\nGreat Expectations Data Docs: {s.data_docs}")
    latest = max((d.delivery for d in s.deliveries if d.success), default=None)
    out = settings.output_dir(s.db)
    if latest and (out / "worklists" / latest).is_dir():
        print(
            f"Worklists and rosters for the streets: {out / 'worklists' / latest}/ "
            f"(return filled ones into {s.inbox / 'corrections'}/)"
        )
    if latest and (out / "reports" / latest).is_dir():
        print(f"Monthly reports (多表合一) per committee: {out / 'reports' / latest}/")
    for d in s.deliveries:
        if not d.success:
            print(f"\nDelivery {d.delivery} FAILED: {d.error}")
