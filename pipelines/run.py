"""Run the hub job in-process on every pending delivery, in order, and summarise what happened.

This is what `civichub run` does; the Dagster UI runs the same job through the sensor.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.intake import describe as describe_app
from app.intake import pending as app_pending
from citizen_reports.cli import describe as describe_reports
from connectors.ingest import list_deliveries, pending_deliveries
from pipelines import settings
from pipelines.collector import freeze_long_lived, long_lived_frozen
from pipelines.dagster_storage import instance as dagster_instance
from pipelines.dbt_runner import CONSOLE_ENV as DBT_CONSOLE_ENV
from pipelines.definitions import build_definitions
from pipelines.partitions import deliveries as delivery_partitions
from quality.corrections import describe, unprocessed_files
from quality.gx_master import data_docs_index
from quality.writing import release_pool

# Workbook workers holding more than this between deliveries are ended (a 1M district: ~600 MB)
KEEP_WORKERS_MIB = 400


@dataclass
class DeliveryOutcome:
    delivery: str
    success: bool
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    stage_cpu_seconds: dict[str, float] = field(default_factory=dict)  # CPU (all threads, workers) per stage
    step_cpu_seconds: dict[str, float] = field(default_factory=dict)  # the same per Dagster step (bench)
    failed_checks: list[str] = field(default_factory=list)
    warned_checks: list[str] = field(default_factory=list)
    check_reasons: dict[str, str] = field(default_factory=dict)  # failed or warned check -> its description
    failed_steps: dict[str, str] = field(default_factory=dict)  # step key -> error message
    skipped_steps: list[str] = field(default_factory=list)  # not run because a step they need failed
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
    reports_seconds: tuple[float, float] = (0.0, 0.0)  # citizen reports taken in (beside the deliveries): wall, CPU
    corrections: object = None  # quality.corrections.CorrectionsSummary when returned worklists were taken in
    corrections_error: str | None = None
    python_warnings: list[tuple[str, int]] = field(default_factory=list)  # (kind: message, count)
    reports: list = field(default_factory=list)  # citizen_reports.service.FileOutcome per daily file taken in
    reports_error: str | None = None

    @property
    def ok(self) -> bool:
        return all(d.success for d in self.deliveries) and self.corrections_error is None and self.reports_error is None


def _connect(db: Path, read_only: bool = False, wait_seconds: float = 120.0):
    """Open the database, waiting while another process (e.g. a dbt run still finishing after a
    failed step) holds DuckDB's single-writer lock; then fail with a message that says so."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only, config=settings.duckdb_config(db))
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


# Stages, in the order a delivery goes through them; a step (or a dbt model inside a dbt step)
# belongs to the first stage one of whose prefixes it starts with.
STAGES = {
    "ingest": ("raw__", "reference_data"),
    "staging": ("staging/",),
    "shops": ("matching/int_shop", "shop_master"),
    "persons_households": ("matching/", "person_household_master"),
    "quality": ("quality/", "quality__finding", "gx_master_suites", "civichub_dbt_quality_rules"),
    "workbooks": ("quality__worklists", "reports__", "targeting__committee_workbooks"),
    "targeting": ("targeting",),
    "catalog_and_publishing": ("catalog__", "sharing__", "catalog/", "sharing/"),
}
STAGE_LABELS = {
    "ingest": "ingest",
    "staging": "staging & matching (dbt)",
    "persons_households": "persons & households",
    "shops": "shops",
    "quality": "quality checks",
    "targeting": "targeting",
    "workbooks": "workbooks for the streets",
    "catalog_and_publishing": "catalog & publishing",
}
DBT_STEPS = ("civichub_dbt_models", "civichub_dbt_quality_rules", "targeting_dbt_models")


def stage_of(name: str) -> str:
    for stage, prefixes in STAGES.items():
        if any(name.startswith(p) for p in prefixes):
            return stage
    return {"civichub_dbt_models": "staging", "civichub_dbt_quality_rules": "quality"}.get(
        name, "targeting" if name.startswith("targeting") else "other"
    )


def stage_seconds(result) -> dict[str, float]:
    """Wall time per stage: Dagster step durations, with the dbt step split by model durations."""
    out: dict[str, float] = {}

    def add(name: str, seconds: float) -> None:
        stage = stage_of(name)
        out[stage] = out.get(stage, 0.0) + seconds

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


def _live_children_cpu() -> float:
    """CPU seconds of this process's running children (the workbook workers live for the whole run;
    the finished ones are in RUSAGE_CHILDREN), from /proc; 0 where there is no /proc."""
    me, total, tick = str(os.getpid()), 0.0, os.sysconf("SC_CLK_TCK")
    try:  # this process's children, as each of its threads lists them (not a scan of every process)
        entries = [
            pid
            for task in os.listdir(f"/proc/{me}/task")
            for pid in Path(f"/proc/{me}/task/{task}/children").read_text(encoding="ascii").split()
        ]
    except OSError:  # no children files (a kernel without them): every process, its parent checked
        try:
            entries = os.listdir("/proc")
        except OSError:
            return 0.0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        # fields after the name: state, ppid, ..., utime (12), stime (13)
        if stat[1].decode() == me and entry not in _NOT_A_STEPS_CHILD:
            total += (int(stat[11]) + int(stat[12])) / tick
    return total


def cpu_now() -> float:
    """CPU seconds of this process (every thread: DuckDB's, dbt's) and of its children, finished or not."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime + _live_children_cpu()


def stage_cpu_seconds(result, step_cpu: dict[str, float]) -> dict[str, float]:
    """CPU seconds per stage from each step's CPU (the steps run one after another in this process);
    a dbt step's CPU is shared out over its models' stages in proportion to their wall time."""
    out: dict[str, float] = {}
    models: dict[str, dict[str, float]] = {}
    for ev in result.all_events:
        if ev.event_type_value == "ASSET_MATERIALIZATION" and ev.step_key in DBT_STEPS:
            meta = ev.event_specific_data.materialization.metadata
            if "Execution Duration" in meta:
                stage = stage_of(ev.event_specific_data.materialization.asset_key.to_user_string())
                by_stage = models.setdefault(ev.step_key, {})
                by_stage[stage] = by_stage.get(stage, 0.0) + float(meta["Execution Duration"].value)
    for step, cpu in step_cpu.items():
        if step not in DBT_STEPS:
            out[stage_of(step)] = out.get(stage_of(step), 0.0) + cpu
            continue
        by_stage = models.get(step, {})
        wall = sum(by_stage.values())
        for stage, seconds in by_stage.items():
            out[stage] = out.get(stage, 0.0) + cpu * seconds / wall
        if not wall:
            out["dbt_overhead_and_tests"] = out.get("dbt_overhead_and_tests", 0.0) + cpu
    return {k: round(v, 1) for k, v in out.items()}


class StageProgress:
    """One line per stage of the delivery being run (rich), advanced by the run's step events."""

    def __init__(self, job, delivery: str, enabled: bool = True):
        self.steps: dict[str, list[str]] = {}
        for node in job.nodes_in_topological_order:
            self.steps.setdefault(stage_of(node.name), []).append(node.name)
        self.console = Console(stderr=False, highlight=False)
        self.progress = Progress(
            TextColumn(f"  {delivery}"),
            TextColumn("{task.description:<26}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=self.console,
            disable=not enabled,
        )
        self.tasks = {}
        for stage in [*STAGE_LABELS, "other"]:
            if stage in self.steps:
                self.tasks[stage] = self.progress.add_task(
                    STAGE_LABELS.get(stage, stage), total=len(self.steps[stage]), state="", start=False
                )
        self.failed: list[str] = []
        self.step_cpu: dict[str, float] = {}  # CPU seconds of each finished step
        self._cpu_at_start: dict[str, float] = {}

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def on_event(self, record) -> None:
        ev = getattr(record, "dagster_event", None)
        if ev is None or not ev.step_key:
            return
        if ev.event_type_value == "STEP_START":
            self._cpu_at_start[ev.step_key] = cpu_now()
        elif ev.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and ev.step_key in self._cpu_at_start:
            self.step_cpu[ev.step_key] = cpu_now() - self._cpu_at_start.pop(ev.step_key)
        task = self.tasks.get(stage_of(ev.step_key))
        if task is None:
            return
        kind = ev.event_type_value
        if kind == "STEP_START":
            self.progress.start_task(task)
        elif kind in ("STEP_SUCCESS", "STEP_SKIPPED", "STEP_FAILURE"):
            self.progress.advance(task)
            if kind == "STEP_FAILURE":
                self.failed.append(ev.step_key)
                self.progress.update(task, state=f"[red]failed: {ev.step_key}[/red]")
            done = self.progress.tasks[task].finished if task < len(self.progress.tasks) else False
            if done:
                self.progress.stop_task(task)


def _failure_message(failure) -> str:
    """What went wrong in a step: the innermost error's message (Dagster wraps the user's error)."""
    error = getattr(failure, "error", None)
    if error is None:
        return "failed"
    while getattr(error, "cause", None) is not None:
        error = error.cause
    lines = [ln for ln in (error.message or "").strip().splitlines() if ln.strip()]
    meta = getattr(failure, "user_failure_data", None)
    if meta is not None and getattr(meta, "description", None):
        lines = [ln for ln in meta.description.strip().splitlines() if ln.strip()]
    return "\n".join(lines) or "failed"


def _check_name(ev) -> str:
    return f"{'/'.join(ev.asset_key.path)}:{ev.check_name}"


def _dbt_warned_tests(result) -> list[str]:
    out = []
    for ev in result.all_events:
        if ev.event_type_value == "ASSET_MATERIALIZATION" and ev.step_key in DBT_STEPS:
            meta = ev.event_specific_data.materialization.metadata
            names = meta.get("dbt/tests_warned_names")
            if names is not None and names.value not in ("", "none"):
                out.extend(n.strip() for n in str(names.value).split(","))
    return out


def _outcome(delivery: str, result, seconds: float) -> DeliveryOutcome:
    outcome = DeliveryOutcome(delivery, result.success, seconds)
    outcome.stage_seconds = stage_seconds(result)
    for ev in result.get_asset_check_evaluations():
        if not ev.passed:
            name = _check_name(ev)
            (outcome.failed_checks if ev.severity.value == "ERROR" else outcome.warned_checks).append(name)
            if ev.description:
                outcome.check_reasons[name] = ev.description
    outcome.warned_checks += [f"dbt test {t}" for t in _dbt_warned_tests(result)]
    for e in result.all_events:
        if e.is_step_failure:
            outcome.failed_steps[e.step_key] = _failure_message(e.event_specific_data)
        elif e.event_type_value == "STEP_SKIPPED":
            outcome.skipped_steps.append(e.step_key)
    if outcome.failed_steps:
        outcome.error = "; ".join(f"{k}: {v.splitlines()[0]}" for k, v in outcome.failed_steps.items())
    elif not result.success:
        outcome.error = "run failed"
    return outcome


def run_hub(inbox: Path, db: Path, verbose: bool = False, progress: bool = True) -> RunSummary:
    """Run the hub job on every pending delivery, oldest first; one progress line per stage."""
    t0 = time.perf_counter()
    hub = settings.configure(inbox, db)
    inbox, db = hub.inbox, hub.db
    if not inbox.is_dir():
        raise SystemExit(f"civichub: inbox {inbox} is not a folder")
    try:  # an unusable memory limit or database name fails here, before any step, naming it
        settings.duckdb_settings(db)
        settings.check_database_name(db)
    except settings.ConfigError as e:
        raise SystemExit(f"civichub: {e}") from None
    os.environ[DBT_CONSOLE_ENV] = "1" if verbose else "0"
    with long_lived_frozen(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        # pyspark (the spark extra) warns on import that pandas 3 is not fully supported: the hub
        # converts between Spark and pandas through Arrow only (pipelines/spark_step.py)
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        settings.prepare_dagster_home(hub)
        defs = build_definitions()
        freeze_long_lived()
        if not verbose:
            logging.getLogger("dagster").setLevel(logging.WARNING)
        pending = _pending(inbox, db)
        summary = RunSummary(inbox=inbox, db=db, deliveries=[])
        # What the streets sent back first (returned worklists, the street app): the build that follows
        # then starts from their decisions and overrides.
        _take_in_corrections(summary, verbose)
        # The citizen reports go into the app database only (never the hub's): taken in by a child
        # process beside the deliveries, on the other core, after the corrections read the app's answers.
        intake = ReportsIntake.start(summary)
        outcomes: list[DeliveryOutcome] = summary.deliveries
        try:
            if pending:
                instance = dagster_instance()
                job = defs.resolve_job_def("civichub_job")
                known = set(instance.get_dynamic_partitions(delivery_partitions.name))
                for delivery in pending:
                    if delivery not in known:
                        instance.add_dynamic_partitions(delivery_partitions.name, [delivery])
                    run_id = str(uuid.uuid4())
                    t = time.perf_counter()
                    with StageProgress(job, delivery, enabled=progress) as bar:
                        instance.add_event_listener(run_id, bar.on_event)
                        result = job.execute_in_process(
                            partition_key=delivery,
                            instance=instance,
                            run_id=run_id,
                            raise_on_error=False,
                            run_config={
                                "loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "CRITICAL"}}}
                            },
                            tags={"civichub/trigger": "cli"},
                        )
                    outcome = _outcome(delivery, result, time.perf_counter() - t)
                    outcome.stage_cpu_seconds = stage_cpu_seconds(result, bar.step_cpu)
                    outcome.step_cpu_seconds = dict(bar.step_cpu)
                    outcomes.append(outcome)
                    _print_delivery_line(outcome)
                    # the workbook workers (~300 MB each at 1M persons) are not kept through the next
                    # delivery's dbt step, where the run's memory peaks (its workbooks start new ones);
                    # small ones are: a district's second delivery then does not pay their start again
                    release_pool(above_mib=KEEP_WORKERS_MIB)
        finally:
            if intake is not None:
                intake.finish(summary)
    summary.python_warnings = _group_warnings(caught)
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


def _print_delivery_line(o: DeliveryOutcome) -> None:
    stages = ", ".join(f"{STAGE_LABELS.get(k, k)} {v:.1f}s" for k, v in o.stage_seconds.items())
    only_workbooks = o.failed_steps and all(stage_of(k) == "workbooks" for k in o.failed_steps)
    state = "done" if o.success else "done, but workbooks failed" if only_workbooks else "FAILED"
    print(f"  delivery {o.delivery}: {state} in {o.seconds:.1f}s ({stages})", flush=True)
    for step, message in o.failed_steps.items():
        print(f"    ✗ step {step} failed: {message.splitlines()[0]}", flush=True)


def _group_warnings(caught) -> list[tuple[str, int]]:
    """Python warnings of the run (library deprecations and the like), one line per kind with a count."""
    counts: dict[str, int] = {}
    for w in caught:
        line = f"{w.category.__name__}: {str(w.message).splitlines()[0][:140]}"
        counts[line] = counts.get(line, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _take_in_corrections(summary: RunSummary, verbose: bool) -> None:
    """Returned worklists in <inbox>/corrections/ not yet taken in, or verifications and follow-ups saved
    in the street app: run `corrections_job` (also when no delivery is pending)."""
    if not summary.db.exists():
        return
    con = _connect(summary.db, read_only=True)
    try:
        todo = unprocessed_files(con, summary.inbox)
    finally:
        con.close()
    try:
        from_app = sum(app_pending(summary.db))
    except Exception as e:  # noqa: BLE001 - an unreachable app database must not stop the run
        print(f"  ! street app database unreachable ({type(e).__name__}): its answers are not taken in this time")
        from_app = 0
    if not todo and not from_app:
        return
    print(f"  corrections: {len(todo)} returned worklist(s), {from_app} answer(s) from the street app …", flush=True)
    result = (
        build_definitions()
        .resolve_job_def("corrections_job")
        .execute_in_process(
            instance=dagster_instance(),
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


# pids of children whose CPU is not a step's (the report intake runs beside the steps)
_NOT_A_STEPS_CHILD: set[str] = set()


class ReportsIntake:
    """`take_in_inbox` in a child process (`python -m citizen_reports.background`) that runs while
    the deliveries do: the intake writes only the app database and reads only the inbox, which the
    deliveries do not touch, so the order of the two does not change what either writes. The outcomes
    come back pickled in OUT; the child's CPU is read from `os.wait4` and kept out of the steps' CPU."""

    def __init__(self, proc: subprocess.Popen, out: Path, log: Path, started: float):
        self.proc, self.out, self.log, self.started = proc, out, log, started
        _NOT_A_STEPS_CHILD.add(str(proc.pid))

    @classmethod
    def start(cls, summary: RunSummary) -> ReportsIntake | None:
        folder = summary.inbox / "reports"
        if not folder.is_dir() or not any(folder.glob("*.csv")):
            return None
        work = Path(tempfile.mkdtemp(prefix="civichub-reports-"))
        out, log = work / "outcome.pickle", work / "stderr.log"
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "citizen_reports.background", str(summary.inbox), str(summary.db), str(out)],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        return cls(proc, out, log, time.perf_counter())

    def finish(self, summary: RunSummary) -> None:
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        _NOT_A_STEPS_CHILD.discard(str(self.proc.pid))
        summary.reports_seconds = (time.perf_counter() - self.started, usage.ru_utime + usage.ru_stime)
        try:
            if self.proc.returncode == 0 and self.out.exists():
                with open(self.out, "rb") as f:
                    child = pickle.load(f)
                summary.reports, summary.reports_error = child["reports"], child["error"]
                summary.reports_seconds = (child["seconds"], summary.reports_seconds[1])
            else:
                lines = self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
                summary.reports_error = f"the intake stopped (exit {self.proc.returncode}): " + (
                    lines[-1] if lines else "no message"
                )
        finally:
            shutil.rmtree(self.out.parent, ignore_errors=True)


def _print_reports(s: RunSummary) -> None:
    if s.reports_error:
        print(f"\nCitizen reports FAILED: {s.reports_error}")
    if s.reports:
        print(
            f"\nCitizen reports (reports/), into {s.db.resolve().parent / 'app.sqlite'} unless CIVICHUB_APP_DB says otherwise:"
        )
        for o in s.reports[:5]:
            print("\n".join(describe_reports(o)))
        if len(s.reports) > 5:
            print(f"  … and {len(s.reports) - 5} more day(s)")


def _print_corrections(s: RunSummary) -> None:
    if s.corrections_error:
        print(f"\nCorrections FAILED: {s.corrections_error}")
    if s.corrections is not None:
        print("\nFrom the streets (returned worklists and the street app), see quality.correction_audit:")
        for line in describe(s.corrections):
            print(line)
        app = getattr(s.corrections, "app", None)
        for line in describe_app(app) if app is not None else []:
            print(line)
        changed = s.corrections.overrides_applied + (app.overrides_applied if app is not None else 0)
        print(f"  {changed} master record value(s) changed")


def _count(names) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return sorted(counts.items())


def print_summary(s: RunSummary) -> None:
    print()
    _print_corrections(s)
    _print_reports(s)
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
    failed = _count(c for d in s.deliveries for c in d.failed_checks)
    warned = _count(c for d in s.deliveries for c in d.warned_checks)
    reasons = {k: v for d in s.deliveries for k, v in d.check_reasons.items()}
    n = len(s.deliveries)
    print(f"\nChecks: {len(failed)} failed, {len(warned)} with warnings (× how many of the {n} deliveries)")
    for c, k in failed:
        print(f"  ✗ {c}" + (f" ×{k}" if n > 1 else "") + (f": {reasons[c]}" if c in reasons else ""))
    for c, k in warned[:25]:
        print(f"  ! {c}" + (f" ×{k}" if n > 1 else ""))
    if len(warned) > 25:
        print(f"  … and {len(warned) - 25} more warnings (Dagster UI, asset checks; dbt: <db dir>/logs/dbt.log)")
    steps = [(d.delivery, k, v) for d in s.deliveries for k, v in d.failed_steps.items()]
    if steps:
        print("\nFailed steps (what does not depend on them was built, catalogued and published):")
        for delivery, step, message in steps:
            lines = [ln for ln in message.splitlines() if ln.strip()]
            print(f"  ✗ {delivery} {step}: {lines[0] if lines else 'failed'}")
            for ln in lines[1:12]:
                print(f"      {ln}")
        skipped = sorted({k for d in s.deliveries for k in d.skipped_steps})
        if skipped:
            print(f"  not run because of them: {', '.join(skipped)}")
    if s.python_warnings:
        total = sum(k for _, k in s.python_warnings)
        print(f"\nPython warnings: {total} ({len(s.python_warnings)} kinds)")
        for line, k in s.python_warnings[:8]:
            print(f"  {k:>4}× {line}")
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
    print(f"dbt's log: {s.db.resolve().parent / 'logs' / 'dbt.log'}   (civichub run --verbose shows it here)")
