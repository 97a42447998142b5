"""Benchmark: a district's whole month of citizen reports taken in, as `civichub run` does after the
deliveries (`take_in_inbox`: every daily file, oldest first), and whether two intakes stored the same.

    python -m bench.reports_intake time INBOX OUT [--files]    # OUT/app.sqlite is made afresh
    python -m bench.reports_intake same A/app.sqlite B/app.sqlite

`time` prints the CPU and wall seconds, the peak memory and the parts of the intake summed over the
files (read and place, duplicates with their parts, store); `--files` one line per file too. A
1M-scale month over a smaller district's address library (the reports scale with the persons given):

    python -c "from synthetic.citizen_reports import write_citizen_reports as w; from pathlib import Path; \
               w(Path('INBOX'), 1_000_000, 7, '2026-11', 1)"      # INBOX holds a district's reference/

`same` compares every table of two app databases as sorted rows, leaving out the columns that carry
the time of the run (received_at, imported_at, …); exit status 1 when a table differs.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import sys
import time
from pathlib import Path

RUNTIME_COLUMNS = {"received_at", "imported_at", "seconds", "at", "created_at", "updated_at", "estimated_at"}
RUNTIME_COLUMNS |= {"closed_at", "file_id"}  # a merge closes at the run's time; the file log's id


def time_intake(inbox: Path, out: Path, per_file: bool) -> int:
    from citizen_reports.cli import take_in_inbox

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    t0, c0 = time.perf_counter(), time.process_time()
    outcomes = take_in_inbox(inbox, out / "hub.duckdb")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    parts: dict[str, float] = {}
    reports = 0
    for o in outcomes:
        if o.result is None:
            continue
        reports += len(o.result.taken)
        for k, v in o.result.seconds.items():
            parts[k] = parts.get(k, 0.0) + v
        if per_file:
            print(f"{o.name}: {len(o.result.taken):,} reports, {o.result.candidate_pairs:,} pairs, {o.seconds:.2f}s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("parts (wall s, all files): " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(parts.items())))
    print(f"{len(outcomes)} files, {reports:,} reports: {cpu:.1f} s CPU, {wall:.1f} s wall, peak {peak:,.0f} MiB")
    return 0


def same(a: Path, b: Path) -> int:
    ca, cb = sqlite3.connect(a), sqlite3.connect(b)
    tables = [r[0] for r in ca.execute("select name from sqlite_master where type='table' order by name")]
    differ = 0
    for t in tables:
        cols = [r[1] for r in ca.execute(f"pragma table_info({t})") if r[1] not in RUNTIME_COLUMNS]
        q = f"select {', '.join(cols)} from {t}"
        ra, rb = sorted(map(repr, ca.execute(q))), sorted(map(repr, cb.execute(q)))
        differ += ra != rb
        print(f"{t}: {len(ra):,} / {len(rb):,} rows, {'same' if ra == rb else 'DIFFER'}")
        for x in sorted(set(ra) - set(rb))[:2] if ra != rb else []:
            print("   only in A:", x[:300])
    return 1 if differ else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reports_intake", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("time", help="take in every daily file of INBOX into OUT/app.sqlite")
    t.add_argument("inbox", type=Path)
    t.add_argument("out", type=Path)
    t.add_argument("--files", action="store_true", help="a line per file")
    s = sub.add_parser("same", help="compare two app databases table by table")
    s.add_argument("a", type=Path)
    s.add_argument("b", type=Path)
    a = ap.parse_args(argv)
    if a.cmd == "time":
        return time_intake(a.inbox, a.out, a.files)
    return same(a.a, a.b)


if __name__ == "__main__":
    sys.exit(main())
