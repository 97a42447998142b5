"""How long a write to the app database waits while a day of citizen reports is imported beside it.

    python -m bench.reports_write_stall [--reports 3500] [--warm-days 3] [--persons 100000]

The street app and `civichub run` share the app database (SQLite in WAL mode: readers never wait,
but one writer at a time). A verification or an Open311 post is a small write; if the import holds
the write lock while it reads, places and compares its reports, the post waits for all of it.

A district is generated, `--warm-days` ordinary days are imported (the open incidents), then a
prober process writes one small row every 20 ms (BEGIN IMMEDIATE, INSERT, COMMIT: what a post
does) while this process imports the heavy day. Printed: the prober's p50 / p95 / max wait during
the import, and the import's own time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

PROBER = r"""
import sqlite3, sys, time, json
db, stop = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db, timeout=60, isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
con.execute("create table if not exists stall_probe (at real)")
waits = []
import os
while not os.path.exists(stop):
    t = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.execute("insert into stall_probe values (?)", (time.time(),))
    con.execute("COMMIT")
    waits.append(time.perf_counter() - t)
    time.sleep(0.02)
print(json.dumps(waits))
"""


def main(argv=None) -> int:
    from citizen_reports.config import load_reports_config
    from citizen_reports.repository import SqlRepository, app_engine
    from citizen_reports.routing import AddressLibrary
    from citizen_reports.service import import_file
    from synthetic.citizen_reports import write_citizen_reports
    from synthetic.generate import generate

    ap = argparse.ArgumentParser(prog="python -m bench.reports_write_stall", description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=3500, help="reports of the day imported beside the prober")
    ap.add_argument("--warm-days", type=int, default=3)
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args(argv)
    work = Path(a.workdir or tempfile.mkdtemp(prefix="civichub_write_stall_"))
    inbox = work / "inbox"
    if not (inbox / "reference" / "standard_addresses.csv").exists():
        generate(inbox, a.persons, 1, a.seed, reports=False)
    first = dt.date(2026, 10, 1)
    shutil.rmtree(inbox / "reports", ignore_errors=True)
    write_citizen_reports(inbox, a.persons, a.seed, first_day=first, days=a.warm_days)
    heavy_day = first + dt.timedelta(days=a.warm_days)
    write_citizen_reports(inbox, a.persons, a.seed + 1, reports_per_day=a.reports, first_day=heavy_day, days=1)
    cfg, lib = load_reports_config(), AddressLibrary.from_inbox(inbox)
    db = work / "app.sqlite"
    db.unlink(missing_ok=True)
    engine = app_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        for k in range(a.warm_days):
            day = first + dt.timedelta(days=k)
            import_file(inbox / "reports" / f"{day}.csv", SqlRepository(s), cfg, lib, name=f"reports/{day}.csv")
    stop = work / "stop"
    stop.unlink(missing_ok=True)
    prober = subprocess.Popen([sys.executable, "-c", PROBER, str(db), str(stop)], stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    t = time.perf_counter()
    with Session(engine) as s:
        out = import_file(
            inbox / "reports" / f"{heavy_day}.csv", SqlRepository(s), cfg, lib, name=f"reports/{heavy_day}.csv"
        )
    seconds = time.perf_counter() - t
    time.sleep(0.5)
    stop.touch()
    waits = sorted(json.loads(prober.communicate(timeout=120)[0]))
    engine.dispose()
    p95 = waits[int(0.95 * (len(waits) - 1))]
    print(
        f"import of {out.rows:,} reports beside the prober: {seconds:.1f}s; prober writes: {len(waits)}, "
        f"p50 {statistics.median(waits) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {waits[-1] * 1000:.0f} ms"
    )
    sqlite3.connect(db).close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
