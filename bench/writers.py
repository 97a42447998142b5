"""A delivery's workbooks written again in one process, timed: `python -m bench.writers DB DELIVERY OUT`.

    # the worklists and rosters, and the monthly reports, of a hub's delivery (CPU seconds each)
    python -m bench.writers /tmp/run/hub.duckdb 2026-11 /tmp/writers --what worklists reports
    # under py-spy (one process: the workbooks are written here, not in the worker processes)
    py-spy record -f raw -o /tmp/w.raw -- python -m bench.writers /tmp/run/hub.duckdb 2026-11 /tmp/writers
    # before/after a change: the old code from an export of its commit, the same hub, then
    # python -m bench.same_outputs OUT_OLD OUT_NEW
    git archive <commit> | tar -x -C /tmp/old && (cd /tmp/old && PYTHONPATH=/tmp/old python -m bench.writers ...)

Opens the hub read-write on a copy you do not mind (the worklists' key is created when absent).
The files go to OUT/<what>/<delivery>/ (emptied first), written without the worker processes so that
the CPU seconds are this process's own.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.writers")
    ap.add_argument("db")
    ap.add_argument("delivery")
    ap.add_argument("out")
    ap.add_argument("--what", nargs="+", default=["worklists", "reports"], choices=["worklists", "reports"])
    args = ap.parse_args()

    import duckdb

    from quality import reports, worklists, writing

    serial = writing.write_files

    def write_files(folder, tasks, parallel=None):
        return serial(folder, tasks, parallel=False)

    worklists.write_files = reports.write_files = write_files
    con = duckdb.connect(args.db)
    for what in args.what:
        out = Path(args.out) / what
        shutil.rmtree(out, ignore_errors=True)
        wall, cpu = time.perf_counter(), time.process_time()
        if what == "worklists":
            s = worklists.write_worklists(con, out, args.delivery)
            done = f"{s.worklists} worklists ({s.rows} findings), {s.rosters} rosters"
        else:
            s = reports.write_monthly_reports(con, out, args.delivery)
            done = f"{s.reports} monthly reports"
        print(
            f"{what}: {done}: {time.perf_counter() - wall:.2f} s wall, {time.process_time() - cpu:.2f} s CPU",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
