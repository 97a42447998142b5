"""Benchmarks: `./dev bench [--persons 100000 1000000] [--months 2] [--repeat 1]`.

Generates a district per size, then runs `civichub run` on it in a fresh process, and prints wall
time and peak memory of each stage. Figures vary with machine load: repeat and quote the median.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(cmd: list[str], env=None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB, the process and its children) and output of a command."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            "/usr/bin/env",
            "python",
            "-c",
            "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]);"
            "print('__PEAK__', max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, 0), file=sys.stderr);"
            "sys.exit(r.returncode)",
            *cmd,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - t0
    peak = 0.0
    for line in proc.stderr.splitlines():
        if line.startswith("__PEAK__"):
            peak = int(line.split()[1]) / 1024
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"benchmark step failed: {' '.join(cmd)}")
    return seconds, peak, proc.stdout


def bench_size(persons: int, months: int, seed: int, workdir: Path) -> dict:
    civichub = str(Path(sys.executable).parent / "civichub")
    inbox, db = workdir / f"inbox_{persons}", workdir / f"hub_{persons}.duckdb"
    shutil.rmtree(inbox, ignore_errors=True)
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    env = dict(os.environ, DAGSTER_HOME=str(workdir / f"dagster_{persons}"))
    gen_s, gen_mem, _ = _timed(
        [
            civichub,
            "generate",
            "--out",
            str(inbox),
            "--persons",
            str(persons),
            "--months",
            str(months),
            "--seed",
            str(seed),
        ],
        env,
    )
    run_s, run_mem, out = _timed([civichub, "run", "--inbox", str(inbox), "--db", str(db)], env)
    noop_s, _, _ = _timed([civichub, "run", "--inbox", str(inbox), "--db", str(db)], env)
    rows = sum(int(x.replace(",", "")) for x in _total_line(out))
    return {
        "persons": persons,
        "months": months,
        "generate_s": gen_s,
        "generate_peak_mib": gen_mem,
        "run_s": run_s,
        "run_peak_mib": run_mem,
        "noop_run_s": noop_s,
        "rows_read": rows,
    }


def _total_line(out: str) -> list[str]:
    for line in out.splitlines():
        if line.strip().startswith("total"):
            return line.split()[1:2]
    return ["0"]


def main() -> None:
    ap = argparse.ArgumentParser(prog="bench")
    ap.add_argument("--persons", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default=None, help="where to put generated data (default: a temp dir)")
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="civichub-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    print(
        f"{'persons':>10} {'months':>6} {'generate s':>11} {'gen MiB':>8} {'run s':>8} {'run MiB':>8} {'no-op s':>8} {'rows':>11} {'rows/s':>9}"
    )
    for persons in args.persons:
        runs = [bench_size(persons, args.months, args.seed, workdir) for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        results.append(med)
        print(
            f"{persons:>10,} {args.months:>6} {med['generate_s']:>11.1f} {med['generate_peak_mib']:>8.0f} "
            f"{med['run_s']:>8.1f} {med['run_peak_mib']:>8.0f} {med['noop_run_s']:>8.1f} {int(med['rows_read']):>11,} "
            f"{med['rows_read'] / med['run_s']:>9,.0f}",
            flush=True,
        )
    if len(results) > 1:
        a, b = results[0], results[-1]
        scale = b["persons"] / a["persons"]
        print(
            f"\nscaling ×{scale:.0f} persons: generate ×{b['generate_s'] / a['generate_s']:.1f}, run ×{b['run_s'] / a['run_s']:.1f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
