"""Where a run's time goes: `python -m bench.profile {record,top,dbt,explain} ...`.

    # sample the whole run (this process, dbt's threads, the workbook workers) with py-spy
    python -m bench.profile record --out /tmp/run.speedscope.json -- .venv/bin/civichub run --inbox I --db D
    # inclusive seconds of the project's own functions, and the run split into its big buckets
    python -m bench.profile top /tmp/run.speedscope.json
    # dbt's own timing of every model and test of each dbt step (<db dir>/logs/dbt/<step>/timing.json)
    python -m bench.profile dbt --db D
    # DuckDB's EXPLAIN ANALYZE of a model's compiled SQL (read-only; the model's own tables are read)
    python -m bench.profile explain --db D stg_utility_electricity
    # the slowest operators of a model's plan (DuckDB's JSON profile: seconds, rows, what it does)
    python -m bench.profile ops --db D int_person_residence --limit 8
    # a model's SQL alone (CPU seconds), or a rewrite against the original: same rows?
    python -m bench.profile time --db D int_person_residence
    python -m bench.profile time --db D --sql before.sql after.sql
    # two hub databases (a run before and after a change on the same inbox): every table the same?
    python -m bench.same_tables BEFORE.duckdb AFTER.duckdb
    # each Dagster step's duration per run, from the event log (also while a run is still going)
    python -m bench.profile steps --dagster-home $DAGSTER_HOME

py-spy comes with the `bench` extra (`pip install -e '.[bench]'`). These are the commands the
profile in the issue-12 notes was made with; keep them working when the layout changes.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

PROJECT_DIRS = (
    "pipelines/",
    "matching/",
    "quality/",
    "normalize/",
    "connectors/",
    "targeting/",
    "sharing/",
    "catalog/",
    "synthetic/",
    "dbt_project/",
)
# Buckets of a run, by a function on the stack (the first that matches, in this order).
BUCKETS = [
    ("Dagster event log (SQLite)", "store_event"),
    ("dbt parse", "parsed_manifest"),
    ("dbt build", "invoke"),
    ("publishing", "publish_all"),
    ("catalog", "build_catalog"),
    ("worklists and rosters", "write_worklists"),
    ("monthly reports", "write_monthly_reports"),
    ("scenario workbooks", "write_workbooks"),
    ("GX, sources", "validate_source_delivery"),
    ("GX, master tables", "validate_master_tables"),
    ("ingest", "ingest_file"),
    ("master tables", "person_household_master"),
    ("shop master", "shop_master"),
    ("findings", "merge_delivery"),
    ("imports", "_find_and_load"),  # importlib (not `<module>`: the script itself is one, under every sample)
]


def record(args) -> int:
    # the venv's py-spy when the venv is not on PATH (`.venv/bin/python -m bench.profile …`)
    here = Path(sys.executable).with_name("py-spy")
    cmd = [
        str(here) if here.exists() else "py-spy",
        "record",
        "--subprocesses",
        "--rate",
        str(args.rate),
        "-f",
        "speedscope",
        "-o",
        args.out,
    ]
    return subprocess.call([*cmd, "--", *args.command])


def _profiles(path: Path):
    data = json.loads(Path(path).read_text())
    frames = data["shared"]["frames"]
    for p in data["profiles"]:
        yield p, frames


def top(args) -> int:
    for p, frames in _profiles(Path(args.file)):
        n = len(p["samples"])
        if n < args.rate:
            continue
        print(f"\n{p['name'][:70]}: {n / args.rate:.1f}s sampled")
        own: collections.Counter = collections.Counter()
        buckets: collections.Counter = collections.Counter()
        for sample in p["samples"]:
            names = [frames[f]["name"] for f in sample]
            buckets[next((label for label, fn in BUCKETS if fn in names), "other")] += 1
            seen = set()
            for f in sample:
                fr = frames[f]
                file = fr.get("file", "")
                if "site-packages" in file or not any(d in file for d in PROJECT_DIRS):
                    continue
                key = (fr["name"], file.split("/")[-2] + "/" + file.split("/")[-1])
                if key not in seen:
                    seen.add(key)
                    own[key] += 1
        print("  buckets:")
        for label, k in buckets.most_common():
            print(f"    {k / args.rate:8.1f}s  {label}")
        print("  the project's functions (inclusive):")
        for (fn, file), k in own.most_common(args.limit):
            print(f"    {k / args.rate:8.1f}s  {fn:<36} {file}")
    return 0


def dbt(args) -> int:
    logs = Path(args.db).resolve().parent / "logs" / "dbt"
    for results in sorted(logs.glob("*/timing.json")):
        r = json.loads(results.read_text())
        nodes = r["results"]
        tests = [x for x in nodes if x["unique_id"].startswith("test.")]
        print(
            f"\n{results.parent.name}: {len(nodes) - len(tests)} models "
            f"{sum(x['execution_time'] for x in nodes if x not in tests):.1f}s, {len(tests)} tests "
            f"{sum(x['execution_time'] for x in tests):.1f}s"
        )
        for x in sorted(nodes, key=lambda x: -x["execution_time"])[: args.limit]:
            print(f"  {x['execution_time']:7.2f}s  {x['status']:<7} {x['unique_id']}")
    return 0


def explain(args) -> int:
    import duckdb

    sql = _compiled(args.db, args.model).read_text()
    con = duckdb.connect(str(args.db), read_only=True)
    try:
        from normalize.duckdb_udfs import register_udfs

        register_udfs(con)
        for _, plan in con.execute("EXPLAIN ANALYZE " + sql).fetchall():
            print(plan)
    finally:
        con.close()
    return 0


def ops(args) -> int:
    """A model's compiled SQL run into memory with DuckDB's JSON profile on: its slowest operators
    (an ordered aggregate, a window, a Python UDF in a projection) with their rows and details."""
    import tempfile

    import duckdb

    from normalize.duckdb_udfs import register_udfs

    sql = _compiled(args.db, args.model).read_text()
    con = duckdb.connect()
    con.execute(f"attach '{Path(args.db).resolve()}' as hub (read_only)")
    con.execute("use hub")
    register_udfs(con)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.json"
        con.execute("pragma enable_profiling='json'")
        con.execute(f"pragma profiling_output='{out}'")
        con.execute("create table memory.main.t as " + sql)
        con.execute("pragma disable_profiling")
        profile = json.loads(out.read_text())
    found = []

    def walk(node):
        found.append(
            (node.get("timing", 0.0), node.get("type"), node.get("intermediate_rows"), node.get("extra_info", {}))
        )
        for child in node.get("children", []):
            walk(child)

    for node in profile.get("operator", profile.get("children", [])):
        walk(node)
    print(
        f"{args.model}: {profile.get('query', profile).get('cpu_time', 0):.2f}s of operator CPU (the UDFs' caches cold)"
    )
    for seconds, kind, rows, info in sorted(found, key=lambda x: -(x[0] or 0))[: args.limit]:
        print(f"  {seconds:7.3f}s  {kind:<16} {rows or 0:>11,} rows  {json.dumps(info, ensure_ascii=False)[:160]}")
    return 0


def time_model(args) -> int:
    """A model's SQL (compiled by the last run, or --sql files) run into memory on a database opened
    read-only: rows, wall and CPU seconds (every DuckDB thread); with two files, whether their rows
    are the same (`EXCEPT ALL` both ways), for a rewrite that must not change what a model builds."""
    import time

    import duckdb

    from normalize.duckdb_udfs import register_udfs

    files = [Path(f) for f in args.sql] or [_compiled(args.db, args.model)]
    con = duckdb.connect()
    con.execute(f"attach '{Path(args.db).resolve()}' as hub (read_only)")
    con.execute("use hub")
    register_udfs(con)
    for i, f in enumerate(files):
        t0, c0 = time.perf_counter(), time.process_time()
        con.execute(f"create table memory.main.t{i} as " + f.read_text())
        n = con.execute(f"select count(*) from memory.main.t{i}").fetchall()[0][0]
        print(f"{f}: {n:,} rows, {time.perf_counter() - t0:.2f}s wall, {time.process_time() - c0:.2f}s CPU")
    if len(files) == 2:
        only = [
            con.execute(f"select count(*) from (from memory.main.t{a} except all from memory.main.t{b})").fetchall()
            for a, b in ((0, 1), (1, 0))
        ]
        print(f"rows only in the first: {only[0][0][0]:,}, only in the second: {only[1][0][0]:,}")
    return 0


def _compiled(db: str, model: str) -> Path:
    logs = Path(db).resolve().parent / "logs" / "dbt"
    compiled = sorted(logs.glob(f"*/compiled/**/{model}.sql"), key=lambda p: p.stat().st_mtime)
    if not compiled:
        raise SystemExit(f"no compiled SQL of {model} under {logs} (run the hub first)")
    return compiled[-1]


def steps(args) -> int:
    """Step durations of every run in a Dagster home's SQLite event log; running steps shown too."""
    import sqlite3

    runs = sorted(Path(args.dagster_home).glob("history/runs/*-*.db"), key=lambda p: p.stat().st_mtime)
    for shard in runs:
        con = sqlite3.connect(f"file:{shard}?mode=ro", uri=True)
        try:
            rows = con.execute(
                """select step_key, dagster_event_type, timestamp, event from event_logs
                   where dagster_event_type in ('STEP_START', 'STEP_SUCCESS', 'STEP_FAILURE') order by id"""
            ).fetchall()
            span = con.execute("select min(timestamp), max(timestamp) from event_logs").fetchone()
        finally:
            con.close()
        started, done = {}, {}
        for step, kind, ts, event in rows:
            if kind == "STEP_START":
                started[step] = ts
            else:
                data = json.loads(event)["dagster_event"]["event_specific_data"] or {}
                seconds = (data.get("duration_ms") or 0) / 1000
                done[step] = (seconds, "ok" if kind == "STEP_SUCCESS" else "FAILED")
        print(f"\n{shard.stem}: {span[0]} .. {span[1]}")
        for step, (seconds, state) in sorted(done.items(), key=lambda kv: -kv[1][0])[: args.limit]:
            print(f"  {seconds:8.1f}s  {state:<6} {step}")
        for step in sorted(set(started) - set(done)):
            print(f"  running since {started[step]}  {step}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(required=True)
    r = sub.add_parser("record", help="py-spy the command after -- into a speedscope file")
    r.add_argument("--out", required=True)
    r.add_argument("--rate", type=int, default=20)
    r.add_argument("command", nargs=argparse.REMAINDER)
    r.set_defaults(func=record)
    t = sub.add_parser("top", help="summarise a speedscope file")
    t.add_argument("file")
    t.add_argument("--rate", type=int, default=20, help="the rate it was recorded at")
    t.add_argument("--limit", type=int, default=40)
    t.set_defaults(func=top)
    d = sub.add_parser("dbt", help="dbt's timing of each model and test of each step")
    d.add_argument("--db", required=True)
    d.add_argument("--limit", type=int, default=10)
    d.set_defaults(func=dbt)
    e = sub.add_parser("explain", help="EXPLAIN ANALYZE a model's compiled SQL")
    e.add_argument("--db", required=True)
    e.add_argument("model")
    e.set_defaults(func=explain)
    o = sub.add_parser("ops", help="the slowest operators of a model's compiled SQL (DuckDB's profile)")
    o.add_argument("--db", required=True)
    o.add_argument("model")
    o.add_argument("--limit", type=int, default=12)
    o.set_defaults(func=ops)
    tm = sub.add_parser("time", help="a model's SQL run into memory: rows, wall, CPU; two --sql files compared")
    tm.add_argument("--db", required=True)
    tm.add_argument("model", nargs="?", default="", help="the model whose compiled SQL the last run left")
    tm.add_argument("--sql", nargs="*", default=[], help="SQL files instead (two: compare their rows)")
    tm.set_defaults(func=time_model)
    st = sub.add_parser("steps", help="each Dagster step's duration, from a Dagster home's event log")
    st.add_argument("--dagster-home", required=True)
    st.add_argument("--limit", type=int, default=40)
    st.set_defaults(func=steps)
    args = ap.parse_args(argv)
    if getattr(args, "command", None) and args.command[:1] == ["--"]:
        args.command = args.command[1:]
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
