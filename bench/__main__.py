"""Benchmarks: `./dev bench [--sizes 5000 100000 1000000] [--repeats 3] [--months 2] [--no-splink] [--engines duckdb spark]`.

Per size (persons), a district is generated once; then the whole `civichub run` (ingest to
publishing, reports and worklists included) runs `--repeats` times, each in a fresh process on a
fresh database, and Splink (train + predict + cluster, `bench/splink_compare.py`, needs
`pip install -e '.[bench]'`) runs on the same data in the same benchmark. Printed per size: the
median and range of the run, the median of each stage (summed over the deliveries), the peak
memory of the run's process tree, the CPU seconds of each stage (steps run one after another in
the run's process, so a step's CPU is this process's and its children's in the meantime), Splink's time
on the last delivery and on every delivery (one after another, summed: the hub's run covers every
delivery, so that sum is the like-for-like reference) and the ratios; across sizes,
time(1M)/time(100k).

The machine is shared and its load varies: the load average is printed with the figures, and the
ratio to Splink, measured minutes apart on the same machine, is the comparable number.

    ./dev bench --sizes 20000 --repeats 3              # the Splink comparison
    ./dev bench --sizes 5000 --repeats 1 --no-splink   # a quick look
    ./dev bench --sizes 1000000 --repeats 1            # the 1M figure (about 10 minutes and more)
    ./dev bench --sizes 100000 --repeats 1 --no-splink --engines duckdb spark   # local[2] Spark against DuckDB
    ./dev bench --sizes 2000 --repeats 1 --no-splink --engines duckdb spark --city jingan,xuhui,changning

With `--engines duckdb spark` every size runs on each engine (`civichub run --engine`, the spark
extra and Java needed); the peak memory then includes Spark's JVM (a child of the run's process).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

DEMO_SIZE = 5_000
STAGES = [
    "ingest",
    "staging",
    "persons_households",
    "shops",
    "quality",
    "targeting",
    "workbooks",
    "catalog_and_publishing",
    "dbt_overhead_and_tests",
    "other",
    "citizen_reports",
]


def _tree_rss_mib(root: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), MiB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().rsplit(b")", 1)[1].split()
            parents[int(entry)] = int(stat[1])
            rss[int(entry)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += rss.get(pid, 0)
        todo.extend(c for c, p in parents.items() if p == pid)
    return total / 2**20


def measured(cmd: list[str], log: Path) -> tuple[int, float, float, float]:
    """(return code, wall seconds, peak MiB of the process tree sampled 4 times a second, CPU seconds).

    The CPU seconds (user + system of the process and every descendant it waited for: dbt's and
    DuckDB's threads, the workbook workers) depend much less on the machine's load than the wall
    time does: on a shared machine they are the figure to compare between two runs."""
    t0 = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        peak = [0.0]
        done = threading.Event()

        def sample():
            while not done.wait(0.25):
                peak[0] = max(peak[0], _tree_rss_mib(proc.pid))

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        _, status, usage = os.wait4(proc.pid, 0)
        code = proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        t.join()
    return code, time.perf_counter() - t0, peak[0], usage.ru_utime + usage.ru_stime


def generate(persons: int, months: int, seed: int, inbox: Path, city: str | None = None) -> float:
    marker = inbox / ".bench-complete"
    if marker.exists():
        return 0.0
    shutil.rmtree(inbox, ignore_errors=True)
    civichub = str(Path(sys.executable).parent / "civichub")
    cmd = [civichub, "generate", "--out", str(inbox), "--persons", str(persons), "--months", str(months)]
    if city:
        cmd += ["--city", city]
    code, seconds, _, _ = measured([*cmd, "--seed", str(seed)], inbox.parent / f"generate_{persons}.log")
    if code != 0:
        raise SystemExit(f"generating {persons:,} persons failed: see {inbox.parent / f'generate_{persons}.log'}")
    marker.write_text("ok")
    return seconds


def hub_run(inbox: Path, workdir: Path, tag: str, engine: str = "duckdb") -> dict:
    from pipelines.engines import ENGINE_ENV

    run_dir = workdir / tag
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    out = run_dir / "run.json"
    env_cmd = [sys.executable, "-m", "bench.run_once", "--inbox", str(inbox), "--db", str(run_dir / "hub.duckdb")]
    os.environ["DAGSTER_HOME"] = str(run_dir / ".dagster")
    os.environ[ENGINE_ENV] = engine
    load_before = os.getloadavg()[0]
    code, seconds, peak, cpu = measured([*env_cmd, "--json", str(out)], run_dir / "run.log")
    res = json.loads(out.read_text()) if out.exists() else {"deliveries": [], "ok": False}
    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}
    for d in res["deliveries"]:
        for k, v in d["stage_seconds"].items():
            stages[k] = stages.get(k, 0.0) + v
        for k, v in d.get("stage_cpu_seconds", {}).items():
            stages_cpu[k] = stages_cpu.get(k, 0.0) + v
    reports = res.get("citizen_reports") or {}
    if reports:
        stages["citizen_reports"] = reports["seconds"]
        stages_cpu["citizen_reports"] = reports["cpu_seconds"]
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "load": [load_before, os.getloadavg()[0]],
        "peak_mib": peak,
        "ok": code == 0 and res.get("ok", False),
        "stages": stages,
        "stages_cpu": stages_cpu,
        "rows_read": res.get("rows_read", 0),
        "db": str(run_dir / "hub.duckdb"),
        "log": str(run_dir / "run.log"),
    }


SPLINK_MISSING = (
    "Splink is not installed in this environment (the bench extra): no Splink figure. "
    "`./dev bench` installs it; else `pip install -e '.[bench]'`, or --no-splink to leave it out"
)


def splink_missing() -> str | None:
    """Why Splink cannot run here (it is not installed, or fails to import), or None."""
    try:
        import splink  # noqa: F401
    except ImportError as e:
        return f"{SPLINK_MISSING} ({type(e).__name__}: {e})"
    return None


def splink_time(inbox: Path, db: str, workdir: Path, persons: int) -> dict | None:
    """Splink's train + predict + cluster on every delivery of the run, one delivery at a time.

    The hub's time covers every delivery, so Splink's does too: the like-for-like reference is the
    sum over the deliveries (`every_delivery_s`). The last delivery alone (`train_predict_cluster_s`,
    with its threshold sweep and F1) is kept beside it, as the reference of the earlier stops."""
    missing = splink_missing()
    if missing:
        return {"skipped": missing}
    from connectors.ingest import list_deliveries

    deliveries = list_deliveries(inbox)
    per_delivery, last = {}, None
    for delivery in deliveries:
        out = workdir / f"splink_{persons}_{delivery}.json"
        is_last = delivery == deliveries[-1]
        cmd = [sys.executable, "-m", "bench.splink_compare", "--inbox", str(inbox), "--db", db]
        cmd += ["--delivery", delivery, *(["--sweep"] if is_last else []), "--json", str(out)]
        code, seconds, peak, cpu = measured(cmd, workdir / f"splink_{persons}_{delivery}.log")
        if code != 0 or not out.exists():
            return {"error": f"see {workdir / f'splink_{persons}_{delivery}.log'}"}
        t = json.loads(out.read_text())["splink"]["times"]
        per_delivery[delivery] = t["training_s"] + t["predict_s"] + t["cluster_s"]
        if is_last:
            last = {"preprocess_s": t.get("preprocess_s"), "process_cpu_s": cpu, "peak_mib": peak}
    return {
        "train_predict_cluster_s": per_delivery[deliveries[-1]],
        "per_delivery_s": per_delivery,
        "every_delivery_s": sum(per_delivery.values()),
        **last,
    }


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="./dev bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[DEMO_SIZE, 100_000, 1_000_000], help="persons")
    ap.add_argument("--persons", type=int, nargs="+", dest="sizes", help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=3, help="hub runs per size (the median is reported)")
    ap.add_argument("--months", type=int, default=2, help="deliveries per district")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-splink", action="store_true", help="skip Splink")
    ap.add_argument("--workdir", default=None, help="where the districts and runs go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the runs' databases and outputs")
    ap.add_argument("--json", default=None, help="also write every figure to this file")
    ap.add_argument(
        "--engines", nargs="+", default=["duckdb"], choices=["duckdb", "spark"], help="run each size on these engines"
    )
    ap.add_argument(
        "--city",
        default=None,
        help="a city of these districts (comma-separated, synthetic/city.py) instead of one district; sizes per district",
    )
    args = ap.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="civichub-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"civichub bench in {workdir}; {_load()}", flush=True)
    if not args.no_splink and "duckdb" in args.engines and splink_missing():
        print(f"  ! {splink_missing()}", flush=True)
    results = []
    for persons in args.sizes:
        kind = f"city{args.city.count(',') + 1}_" if args.city else ""
        inbox = workdir / f"{kind or 'inbox_'}{persons}"
        gen_s = generate(persons, args.months, args.seed, inbox, args.city)
        for engine in args.engines:
            suffix = "" if engine == "duckdb" else f"_{engine}"
            runs = []
            for r in range(args.repeats):
                run = hub_run(inbox, workdir, f"run_{kind}{persons}{suffix}_{r + 1}", engine)
                runs.append(run)
                state = "ok" if run["ok"] else f"FAILED (see {run['log']})"
                print(
                    f"  {persons:>9,} persons on {engine}, run {r + 1}/{args.repeats}: {run['seconds']:.1f}s "
                    f"({run['cpu_s']:.0f} s of CPU), peak {run['peak_mib']:,.0f} MiB, {state}; {_load()}",
                    flush=True,
                )
            sp = None if args.no_splink or engine != "duckdb" else splink_time(inbox, runs[-1]["db"], workdir, persons)
            med = {
                "persons": persons,
                "city": args.city,
                "engine": engine,
                "months": args.months,
                "generate_s": gen_s,
                "runs_s": [r["seconds"] for r in runs],
                "run_s": statistics.median(r["seconds"] for r in runs),
                "cpu_s": statistics.median(r["cpu_s"] for r in runs),
                "load": [r["load"] for r in runs],
                "peak_mib": statistics.median(r["peak_mib"] for r in runs),
                "stages": {
                    k: statistics.median(r["stages"].get(k, 0.0) for r in runs)
                    for k in STAGES
                    if any(k in r["stages"] for r in runs)
                },
                "stages_cpu": {
                    k: statistics.median(r["stages_cpu"].get(k, 0.0) for r in runs)
                    for k in STAGES
                    if any(k in r["stages_cpu"] for r in runs)
                },
                "rows_read": runs[-1]["rows_read"],
                "ok": all(r["ok"] for r in runs),
                "splink": sp,
            }
            results.append(med)
            print_size(med)
            if not args.keep:
                for r in runs[:-1]:
                    shutil.rmtree(Path(r["db"]).parent, ignore_errors=True)
    print_summary(results)
    print(_load())
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0 if all(r["ok"] for r in results) else 1


def print_size(m: dict) -> None:
    runs = ", ".join(f"{s:.1f}" for s in m["runs_s"])
    city = f"a city of {m['city']}, " if m.get("city") else ""
    print(
        f"\n{city}{m['persons']:,} persons{' per district' if city else ''} × {m['months']} deliveries on {m.get('engine', 'duckdb')}: "
        f"median {m['run_s']:.1f}s (runs: {runs}), "
        f"{m['cpu_s']:.0f} s of CPU; 1-min load average at start/end of each run: "
        + ", ".join(f"{a:.1f}/{b:.1f}" for a, b in m["load"])
    )
    print(f"  peak memory {m['peak_mib']:,.0f} MiB; {m['rows_read']:,} rows read, {m['rows_read'] / m['run_s']:,.0f}/s")
    print("  stage medians (s, both deliveries): " + ", ".join(f"{k} {v:.1f}" for k, v in m["stages"].items()))
    if m.get("stages_cpu"):
        print(
            "  stage CPU medians (s; a dbt step's CPU shared over its models by their wall time): "
            + ", ".join(f"{k} {v:.1f}" for k, v in m["stages_cpu"].items())
        )
    sp = m.get("splink")
    if sp and "train_predict_cluster_s" in sp:
        ratio = m["run_s"] / sp["train_predict_cluster_s"]
        print(
            f"  Splink train+predict+cluster {sp['train_predict_cluster_s']:.1f}s on the last delivery (peak "
            f"{sp['peak_mib']:,.0f} MiB): the whole hub run is {ratio:.2f}× Splink's one delivery"
        )
        if sp.get("every_delivery_s"):
            per = ", ".join(f"{d} {s:.1f}s" for d, s in sp["per_delivery_s"].items())
            print(
                f"  Splink on every delivery the hub ran ({per}): {sp['every_delivery_s']:.1f}s; "
                f"the whole hub run is {m['run_s'] / sp['every_delivery_s']:.2f}× Splink on the same deliveries"
            )
    elif sp and "skipped" in sp:
        print(f"  Splink not run: {sp['skipped']}")
    elif sp:
        print(f"  Splink failed: {sp['error']}")
    print(flush=True)


def print_summary(results: list[dict]) -> None:
    print(
        f"{'persons':>10} {'engine':>7} {'run s':>8} {'CPU s':>8} {'peak MiB':>9} "
        f"{'Splink s':>9} {'×Splink':>8} {'Splink all s':>12} {'×all':>6}  ok"
    )
    print(f"{'':>46}{'(last delivery)':>19}{'(every delivery)':>20}")
    for m in results:
        splink = m.get("splink") or {}
        sp, sp_all = splink.get("train_predict_cluster_s"), splink.get("every_delivery_s")
        not_run = "not installed" if "skipped" in splink else "-"
        sp_s, ratio = (f"{sp:.1f}", f"{m['run_s'] / sp:.2f}") if sp else (not_run, "-")
        all_s, all_ratio = (f"{sp_all:.1f}", f"{m['run_s'] / sp_all:.2f}") if sp_all else ("-", "-")
        engine = m.get("engine", "duckdb")
        print(
            f"{m['persons']:>10,} {engine:>7} {m['run_s']:>8.1f} {m['cpu_s']:>8.0f} {m['peak_mib']:>9,.0f} "
            f"{sp_s:>9} {ratio:>8} {all_s:>12} {all_ratio:>6}  {m['ok']}"
        )
    for engine in dict.fromkeys(m.get("engine", "duckdb") for m in results):
        by = {m["persons"]: m for m in results if m.get("engine", "duckdb") == engine}
        if 100_000 in by and 1_000_000 in by:
            print(
                f"{engine}: time at 1M / time at 100k: {by[1_000_000]['run_s'] / by[100_000]['run_s']:.1f} (target <= 12)"
            )
    duck = {m["persons"]: m for m in results if m.get("engine", "duckdb") == "duckdb"}
    for m in results:
        if m.get("engine") == "spark" and m["persons"] in duck:
            d = duck[m["persons"]]
            print(
                f"{m['persons']:,} persons: Spark local / DuckDB time {m['run_s'] / d['run_s']:.2f}, "
                f"peak memory {m['peak_mib'] / d['peak_mib']:.2f}"
            )


if __name__ == "__main__":
    sys.exit(main())
