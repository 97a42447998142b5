"""Benchmark: a 10,000-row 排摸 list routed on a district (issue 15: under 30 s on the 100k district).

    python -m bench.task_routing --inbox DIR --db HUB.duckdb [--rows 10000] [--repeat 3]
    python -m bench.task_routing --persons 100000        # generate and run the district first (long)

Each repeat is what `civichub task create` does, timed end to end in this process: read the list
(.xlsx, as departments send them), read the master data and the address library from the hub
database, route every row, write the task and its rows into a fresh app database (SQLite). Printed:
the median and range, the parts of the last repeat, and the routing figure against the answer key
(share of the list's residents routed to their committee; share of the others left in the queue).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

CHECKLIST = "questions:\n  - {id: at_home, text: 本人是否在家, type: yes_no, required: true}\n"


def measure(inbox: Path, db: Path, rows: int, repeat: int, seed: int = 1) -> dict:
    from app.db import make_engine, make_session_factory, upgrade
    from synthetic.task_lists import screening_list, write_list
    from tasks.listfile import guess_mapping, read_list
    from tasks.routing import MasterIndex
    from tasks.service import create_task

    listing_rows, key = screening_list(inbox, n=rows, seed=seed)
    times, parts = [], {}
    with tempfile.TemporaryDirectory(prefix="bench_tasks_") as tmp:
        path = write_list(Path(tmp) / "名单.xlsx", listing_rows)
        for k in range(repeat):
            url = f"sqlite:///{tmp}/app_{k}.sqlite"
            upgrade(url)
            engine = make_engine(url)
            t0 = time.perf_counter()
            listing = read_list(path)
            t1 = time.perf_counter()
            master = MasterIndex.from_hub(db)
            t2 = time.perf_counter()
            with make_session_factory(engine)() as s:
                task = create_task(s, listing, guess_mapping(listing.headers), CHECKLIST, name="bench",
                                   department="district", due=None, master=master, actor="bench")  # fmt: skip
                s.commit()
                t3 = time.perf_counter()
                from sqlalchemy import select

                from app.db.models import TaskRow

                routed = [c for (c,) in s.execute(select(TaskRow.community_code).where(TaskRow.task_id == task.id)
                                                  .order_by(TaskRow.source_row))]  # fmt: skip
            engine.dispose()
            times.append(t3 - t0)
            parts = {"read list": t1 - t0, "load master + library": t2 - t1, "route + write": t3 - t2}
    residents = [(c, k) for c, k in zip(routed, key) if k]
    others = [c for c, k in zip(routed, key) if not k]
    return {
        "rows": rows,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "parts": parts,
        "persons_in_master": len(master.persons),
        "residents": len(residents),
        "residents_right": sum(1 for c, k in residents if c == k),
        "others": len(others),
        "others_queued": sum(1 for c in others if c is None),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inbox", type=Path)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    if args.inbox is None or args.db is None:
        from pipelines.run import run_hub
        from synthetic.generate import generate

        base = Path(tempfile.mkdtemp(prefix="bench_tasks_district_"))
        args.inbox, args.db = base / "inbox", base / "hub.duckdb"
        generate(out_dir=args.inbox, persons=args.persons, months=1, seed=3, noise=1.0)
        run_hub(args.inbox, args.db, progress=False)
    r = measure(args.inbox, args.db, args.rows, args.repeat)
    load = os.getloadavg()[0]
    print(f"排摸 routing of {r['rows']:,} rows on {r['persons_in_master']:,} master persons: "
          f"median {r['median_s']:.1f}s (min {r['min_s']:.1f}, max {r['max_s']:.1f}; load average {load:.1f})")  # fmt: skip
    print("  parts of the last repeat: " + ", ".join(f"{k} {v:.1f}s" for k, v in r["parts"].items()))
    print(f"  residents routed to their committee: {r['residents_right']}/{r['residents']} "
          f"= {r['residents_right'] / max(1, r['residents']):.4f}; others left in the queue: "
          f"{r['others_queued']}/{r['others']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
