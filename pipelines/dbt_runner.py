"""dbt run inside the Dagster process: the project parsed once per process, each dbt step a plain
invocation of dbt's programmatic API (`dbtRunner`) on that manifest.

Why not `DbtCliResource.cli` (a dbt subprocess per step): every subprocess pays a Python start,
dbt's imports and a full parse of the project (the `delivery` var and the database path in the
profile change, which defeats dbt's partial parsing): 5-8 s per step, three steps per delivery,
whatever the size of the data. Here the parse happens once, and a step costs its models and tests.
Invocations run one after another (dbt does not support concurrent invocations in one process, and
DuckDB has one writer anyway); dbt-duckdb closes its connection when the invocation ends, so the
database file is free for the Python steps in between.

Results become Dagster events as `dagster-dbt` makes them (`DbtCoreCliEventMessage`): an `Output`
per model, an `AssetCheckResult` per test that is an asset check. Only tests of severity `error`
are asset checks (blocking: what the master data relies on, `CivicHubDbtTranslator`); the warning
tests are batched: counted on their model's materialization (`dbt/tests_warned`) and listed in one
line per step, not an event each.

dbt's own log goes to `<db dir>/logs/dbt.log` (and its artifacts to `<db dir>/logs/dbt/<step>/`);
the console stays quiet unless `CIVICHUB_DBT_CONSOLE=1` (`civichub run --verbose`). When a step
fails, its error lines are raised with the failure.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, Output

from matching.config import dbt_vars
from pipelines import settings
from pipelines.collector import freeze_long_lived
from pipelines.dbt_project import civichub_dbt
from pipelines.engines import current_engine

CONSOLE_ENV = "CIVICHUB_DBT_CONSOLE"
_RESULT_EVENTS = {"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult"}
_lock = threading.Lock()
_parsed: dict[tuple, Any] = {}
# Models built at once in a dbt step on DuckDB (dbt-duckdb: a cursor of the one connection per
# thread; DuckDB's memory limit holds for them together). 2 took the 100k district's main dbt step
# from 30.2/24.6 to 26.2/22.2 s, but at 1M the second delivery's step went 165.0 -> 179.6 s wall,
# 246.8 -> 281.8 s CPU (the two staging normalisers then run at once under the GIL): left at the
# profile's 1 (bench/PROFILE.md, session 12).
THREADS_ENV = "CIVICHUB_DBT_THREADS"
DEFAULT_THREADS = 1
SPARK_STEP = "civichub_dbt_models"  # the dbt step that runs on Spark under `--engine spark`


def log_dir(db_path: str | Path | None = None) -> Path:
    """`<db dir>/logs`: dbt's log file and the artifacts of each dbt step."""
    db = Path(db_path or os.environ.get("CIVICHUB_DB", settings.DEFAULT_DB))
    return db.resolve().parent / "logs"


def _common_args(target: Path, logs: Path, dbt_target: str = "local") -> list[str]:
    console = "info" if os.environ.get(CONSOLE_ENV) == "1" else "none"
    project = str(settings.DBT_PROJECT_DIR)
    return [
        "--target",
        dbt_target,
        "--project-dir",
        project,
        "--profiles-dir",
        project,
        "--target-path",
        str(target),
        "--log-path",
        str(logs),
        "--log-level",
        console,
        "--log-level-file",
        "info",
        "--no-send-anonymous-usage-stats",
        "--no-write-json",
        "--no-use-colors",
    ]


def parsed_manifest(db_path: str | Path | None = None, target: str = "local"):
    """dbt's Manifest of the project, parsed once per process, database (the profile names it) and
    dbt target (`local`: DuckDB, `spark`)."""
    from dbt.cli.main import dbtRunner

    logs = log_dir(db_path)
    key = (str(logs), os.environ.get("CIVICHUB_DB"), target)
    with _lock:
        if key not in _parsed:
            logs.mkdir(parents=True, exist_ok=True)

            # the matching settings as vars (the delivery is given per step and read at compile time)
            parse_vars = json.dumps(dbt_vars(), sort_keys=True)
            cache = _parse_cache_file(parse_vars, target)
            manifest = _load_parse_cache(cache)
            if manifest is None:
                parse_args = [
                    "parse",
                    "--vars",
                    parse_vars,
                    *_common_args(logs / "dbt" / f"parse_{target}", logs, target),
                ]
                try:
                    res = dbtRunner().invoke(parse_args)
                finally:
                    _release_database()
                if not res.success or res.result is None:
                    raise Failure(f"dbt parse failed: {res.exception or 'see ' + str(logs / 'dbt.log')}")
                manifest = res.result
                _save_parse_cache(cache, manifest)
            _parsed[key] = manifest
            freeze_long_lived()  # the manifest lives for the run
        return _parsed[key]


PARSE_CACHE_DIR = settings.DBT_PROJECT_DIR / "target" / "civichub_parse"
_PROJECT_SOURCES = ("models", "macros", "tests", "seeds", "snapshots", "analyses")


def _parse_cache_file(parse_vars: str, target: str) -> Path:
    """Where the parse of this project state is kept: one file per content of the project's files,
    vars, dbt target, database name (dbt-duckdb names every node's database after the file's stem)
    and dbt/Python versions. A fresh process (each `civichub run`) loads it in ~0.05 s instead of
    parsing for 3-4 s of CPU; any change to a model, macro, test, seed or project file is a new key."""
    import hashlib
    import sys

    from dbt.version import __version__ as dbt_version

    project = settings.DBT_PROJECT_DIR
    h = hashlib.sha256()
    db = Path(os.environ.get("CIVICHUB_DB") or settings.DEFAULT_DB)
    for part in (dbt_version, sys.version, target, parse_vars, db.stem, str(project.resolve())):
        h.update(part.encode() + b"\0")
    files = [project / "dbt_project.yml", project / "profiles.yml", project / "packages.yml"]
    for folder in _PROJECT_SOURCES:
        files.extend(sorted(p for p in (project / folder).rglob("*") if p.is_file()))
    for f in files:
        if f.is_file():
            h.update(str(f.relative_to(project)).encode() + b"\0" + f.read_bytes() + b"\0")
    return PARSE_CACHE_DIR / f"{target}-{h.hexdigest()[:32]}.pickle"


def _load_parse_cache(path: Path):
    import pickle

    from dbt.contracts.graph.manifest import Manifest

    try:
        with open(path, "rb") as f:
            state = pickle.load(f)
        return Manifest(**state)  # the lookups (private fields) are rebuilt on first use
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - a cache written by another dbt version or cut short: parse again
        return None


def _save_parse_cache(path: Path, manifest) -> None:
    """Written before any invocation compiles a node (the parse result as dbt returned it); atomically
    (several processes may parse at once: the test workers), the older files of the target removed."""
    import dataclasses
    import pickle
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # the public fields only: dbt's own `Manifest.__reduce_ex__` leaves out `fixtures` and so
        # shifts every later field by one (a pickled manifest's ref lookup is then a metric lookup)
        state = {f.name: getattr(manifest, f.name) for f in dataclasses.fields(manifest) if not f.name.startswith("_")}
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
            pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(f.name, path)
        for old in path.parent.glob(f"{path.name.split('-')[0]}-*.pickle"):
            if old != path and old.stat().st_mtime < path.stat().st_mtime - 3600:
                old.unlink(missing_ok=True)
    except OSError:  # a read-only project folder: parse every time, as before
        pass


def _release_database() -> None:
    """Close what a dbt invocation leaves open in this process: dbt-duckdb's connection (DuckDB
    would refuse later steps' read-only connections: another configuration of the same file) and
    the handle on dbt.log (each invocation opens its own)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt_common.events.event_manager_client import cleanup_event_logger, get_event_manager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()
    for logger in list(get_event_manager().loggers):
        for handler in getattr(getattr(logger, "_python_logger", None), "handlers", []):
            handler.close()
    cleanup_event_logger()


@dataclass
class DbtStepOutcome:
    """What one dbt invocation did, for the step's log and the run summary."""

    success: bool
    results: list[dict] = field(default_factory=list)  # raw result events (dbt's structured log)
    errors: list[str] = field(default_factory=list)  # dbt's error lines
    exception: str | None = None
    # models built by the hub's Python steps (Spark), each with the number of dbt results before it:
    # their events go out in build order, which is the order Dagster wants (upstream first)
    python_models: list[tuple[int, str]] = field(default_factory=list)

    def tests(self, status: str) -> list[str]:
        return [
            r["data"]["node_info"]["node_name"]
            for r in self.results
            if r["data"]["node_info"]["unique_id"].startswith("test.")
            and str(r["data"]["node_info"].get("node_status", "")).lower() == status
        ]


def invoke(args: list[str], step: str, db_path: str | Path | None = None, target: str = "local") -> DbtStepOutcome:
    """Run one dbt command in this process on the cached manifest; collect results and error lines.

    `db_path`: the database to build (dbt's profile reads CIVICHUB_DB); default the configured one.
    `target`: dbt's target, `local` (DuckDB) or `spark` (the session pipelines/engines.py made)."""
    if db_path is not None and Path(db_path).resolve() != Path(os.environ.get("CIVICHUB_DB", "")).resolve():
        previous = os.environ.get("CIVICHUB_DB")
        os.environ["CIVICHUB_DB"] = str(Path(db_path).resolve())
        try:
            return invoke(args, step, None, target)
        finally:
            if previous is None:
                os.environ.pop("CIVICHUB_DB", None)
            else:
                os.environ["CIVICHUB_DB"] = previous
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    manifest = parsed_manifest(db_path, target)
    logs = log_dir(db_path)
    outcome = DbtStepOutcome(success=False)

    def collect(event) -> None:
        name = event.info.name
        if name in _RESULT_EVENTS:
            outcome.results.append(msg_to_dict(event))
        if event.info.level == "error" and event.info.msg:
            outcome.errors.append(str(event.info.msg))

    with _lock:
        _forget_compilation(manifest)
        try:
            res = dbtRunner(manifest=manifest, callbacks=[collect]).invoke(
                [*args, *_common_args(logs / "dbt" / step, logs, target)]
            )
        finally:
            _release_database()
    outcome.success = bool(res.success)
    if res.exception is not None:
        outcome.exception = f"{type(res.exception).__name__}: {res.exception}"
    _write_timing(logs / "dbt" / step / "timing.json", outcome)
    return outcome


def _forget_compilation(manifest) -> None:
    """Make every node of the cached manifest uncompiled again. dbt marks a compiled node's ephemeral
    CTEs as injected (and an ephemeral model as compiled) on the manifest itself; on the next
    invocation it would skip the injection, and a model reading an ephemeral model fails
    (`__dbt__cte__… does not exist`), or reuse an ephemeral model's SQL of the delivery before.
    The CTEs are found again when the model is rendered (each `ref` of an ephemeral model)."""
    from dbt.contracts.graph.nodes import CompiledNode

    for node in manifest.nodes.values():
        if isinstance(node, CompiledNode):  # models, tests, snapshots (not seeds)
            node.extra_ctes_injected = False
            node.extra_ctes = []
            node.compiled = False


def _write_timing(path: Path, outcome: DbtStepOutcome) -> None:
    """Each node's status and seconds (what `python -m bench.profile dbt` reads). dbt's own artifacts
    (manifest.json, run_results.json) are not written: serialising the manifest on every step cost
    more than the step's small models."""
    nodes = [
        {
            "unique_id": r["data"]["node_info"]["unique_id"],
            "status": str(r["data"]["node_info"].get("node_status", "")),
            "execution_time": float(r["data"].get("execution_time") or 0.0),
        }
        for r in outcome.results
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"success": outcome.success, "results": nodes}, indent=0), encoding="utf-8")


def manifest_dict() -> dict:
    """The manifest.json the Dagster asset definitions were built from (unique ids are the same)."""
    from dagster_dbt.dbt_manifest import validate_manifest

    return validate_manifest(civichub_dbt().manifest_path)


def build_events(context: AssetExecutionContext, translator, dbt_vars: dict) -> Iterator:
    """`dbt build` of the step's selection (subset-aware) with `dbt_vars`, as Dagster events."""
    from dagster_dbt.asset_utils import get_subset_selection_for_context

    manifest = manifest_dict()
    op = context.op_execution_context.op
    tags = op.tags
    selection, indirect = get_subset_selection_for_context(
        context=context,
        manifest=manifest,
        select=tags.get("dagster_dbt/select"),
        exclude=tags.get("dagster_dbt/exclude"),
        selector=tags.get("dagster_dbt/selector"),
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=None,
    )
    args = ["build", "--vars", json.dumps(dbt_vars), *selection]
    if current_engine() != "spark":
        args += ["--threads", str(int(os.environ.get(THREADS_ENV) or DEFAULT_THREADS))]
    if indirect:
        args += ["--indirect-selection", indirect]
    step = op.name
    if step == SPARK_STEP and current_engine() == "spark":
        # staging and matching on Spark (the whole step), Python models as steps of the hub
        from pipelines.spark_step import run_matching_step

        outcome = run_matching_step(settings.get_settings().db, dbt_vars, step, context.log)
    else:
        outcome = invoke(args, step)

    warned_by_model: dict[str, list[str]] = {}
    checks, models = [], []
    python_models = sorted(outcome.python_models) if outcome.success else []
    for position, raw in enumerate(outcome.results):
        while python_models and python_models[0][0] <= position:
            models.append(python_models.pop(0)[1])
        node = raw["data"]["node_info"]
        uid = node["unique_id"]
        if not uid.startswith("test."):
            models.append(raw)
        elif translator.is_blocking_test(manifest, uid):
            checks.append(raw)
        elif str(node.get("node_status", "")).lower() in ("warn", "fail", "error"):
            test = manifest["nodes"].get(uid, {})
            attached = test.get("attached_node") or next(iter(test.get("depends_on", {}).get("nodes", [])), "")
            warned_by_model.setdefault(attached, []).append(node["node_name"])
    models += [name for _, name in python_models]
    for raw in models:
        if isinstance(raw, str):  # built by a Python step of the hub (Spark), not by dbt
            node = next(n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == raw)
            yield MaterializeResult(
                asset_key=translator.get_asset_key(node),
                metadata={
                    "engine": "spark",
                    "built_by": "pipelines/spark_step.py (a Python step, not a dbt Python model)",
                },
            )
            continue
        warned = warned_by_model.pop(raw["data"]["node_info"]["unique_id"], [])
        for ev in _dagster_events(raw, manifest, translator, context):
            if isinstance(ev, Output):
                ev = ev.with_metadata(
                    {
                        **ev.metadata,
                        "dbt/tests_warned": len(warned),
                        "dbt/tests_warned_names": MetadataValue.text(", ".join(warned) or "none"),
                    }
                )
            yield ev
    for raw in checks:
        yield from _dagster_events(raw, manifest, translator, context)
    warned = sorted(n for names in warned_by_model.values() for n in names)
    if any(r["data"]["node_info"]["unique_id"].startswith("test.") for r in outcome.results):
        n_tests = sum(r["data"]["node_info"]["unique_id"].startswith("test.") for r in outcome.results)
        context.log.info(f"dbt {step}: {len(models)} models, {n_tests} tests ({len(checks)} blocking checks)")
    if warned:
        context.log.warning(f"dbt {step}: warning tests not passed: {', '.join(warned)}")
    if not outcome.success:
        lines = outcome.errors[-30:] or [outcome.exception or "dbt failed"]
        raise Failure(
            description=f"dbt {step} failed: " + "\n".join(lines),
            metadata={"dbt_log": MetadataValue.path(str(log_dir() / "dbt.log"))},
        )


def _dagster_events(raw: dict, manifest: dict, translator, context) -> Iterator:
    from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

    message = DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})
    yield from message.to_default_asset_events(manifest=manifest, dagster_dbt_translator=translator, context=context)
