"""How well citizen reports' duplicates are found, per seed and per report noise profile.

    python -m bench.reports_duplicates [--persons 100000] [--seeds 404 405 406] [--noise default field]

One district is generated (registries and the standard address library, `--district-seed`); then
for every seed and noise profile (synthetic/citizen_reports.py REPORT_NOISE) a month of daily report
files is written beside a copy of its `reference/`, taken in day by day into a fresh database (the
`civichub run` path: `take_in_inbox`) and scored against `_truth/reports/` by the code of
`civichub reports evaluate`. Printed per run: pairwise precision, recall and F1, and the same over
the reports taken in (rows refused at intake as bad input left out of both sides), with the seconds.

The target of issue 16 is F1 >= 0.95 with precision >= 0.97. Nothing here is tuned: the weights are
estimated from each run's own reports, the thresholds are those of categories.yml.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from citizen_reports.cli import app_session, take_in_inbox
from citizen_reports.evaluate import evaluate
from citizen_reports.models import CST, OPEN_STATES, RESOLVED, Incident
from citizen_reports.states import change_state
from synthetic.citizen_reports import REPORT_NOISE, write_citizen_reports
from synthetic.generate import generate


def take_in_closing(inbox: Path, db: Path, config: Path | None = None) -> None:
    """`take_in_inbox` file by file, with the departments' work between the files as the app would
    see it: before a day's file is taken in, every open incident whose problem (its first report's,
    in the answer key) was fixed before that day began is resolved by its department, at the time
    it was fixed. A report after that is compared with the open incidents only (a closed incident
    is not reopened). The key stands in for the departments; the decisions read nothing of it."""
    import csv
    import datetime as dt

    from sqlalchemy import select

    from citizen_reports.config import load_reports_config
    from citizen_reports.repository import SqlRepository, sync_library
    from citizen_reports.routing import AddressLibrary
    from citizen_reports.service import import_file

    def rows(path):
        with open(path, encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))

    fixed = {
        r["incident_id"]: dt.datetime.fromisoformat(r["fixed"])
        for r in rows(inbox / "_truth" / "reports_incidents.csv")
    }
    problem: dict[str, str] = {}  # 编号 -> its problem
    for tf in sorted((inbox / "_truth" / "reports").glob("*.csv")):
        day = rows(inbox / "reports" / tf.name)
        for t in rows(tf):
            no = (day[int(t["source_row"]) - 1].get("编号") or "").strip()
            if no:
                problem.setdefault(no, t["incident_id"])
    cfg = load_reports_config(config)
    lib = AddressLibrary.from_inbox(inbox)
    with app_session(db) as session:
        repo = SqlRepository(session)
        sync_library(session, lib)
        for f in sorted((inbox / "reports").glob("*.csv")):
            start = dt.datetime.combine(dt.date.fromisoformat(f.stem), dt.time(0), CST)
            q = select(Incident).where(Incident.status.in_(OPEN_STATES), Incident.merged_into.is_(None))
            for inc in session.scalars(q):
                done = fixed.get(problem.get(inc.first_report_no, ""))
                if done is not None and done < start:
                    change_state(session, inc, RESOLVED, "bench", public_note="已处理", now=done)
            session.commit()
            import_file(f, repo, cfg, lib, name=f"reports/{f.name}")


def run_one(
    district: Path, work: Path, persons: int, seed: int, noise: str, config: Path | None = None, close: bool = False
) -> dict:
    inbox = work / f"{noise}_{seed}" / "inbox"
    shutil.rmtree(inbox.parent, ignore_errors=True)
    inbox.mkdir(parents=True)
    shutil.copytree(district / "reference", inbox / "reference")
    write_citizen_reports(inbox, persons, seed, noise=noise)
    db = inbox.parent / "hub.duckdb"
    t = time.perf_counter()
    if close:
        take_in_closing(inbox, db, config)
    else:
        take_in_inbox(inbox, db, config)
    seconds = time.perf_counter() - t
    with app_session(db) as s:
        every = evaluate(inbox, s)
        taken = evaluate(inbox, s, taken_only=True)
    return {"seed": seed, "noise": noise, "all": every, "taken": taken, "seconds": seconds}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reports_duplicates", description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--district-seed", type=int, default=404)
    ap.add_argument("--seeds", type=int, nargs="+", default=[404, 405, 406])
    ap.add_argument("--noise", nargs="+", default=["default", "field"], choices=sorted(REPORT_NOISE))
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--config", type=Path, default=None, help="a categories.yml to judge with (default: the project's)")
    ap.add_argument(
        "--close-fixed",
        action="store_true",
        help="replay the departments' work: an incident whose problem was fixed is resolved before the next day's file",
    )
    a = ap.parse_args(argv)
    work = Path(a.workdir or tempfile.mkdtemp(prefix="civichub_reports_dups_"))
    district = work / "district"
    if not (district / "reference" / "standard_addresses.csv").exists():
        generate(district, a.persons, 1, a.district_seed, reports=False)
    print(f"district of {a.persons:,} persons under {work}")
    print(
        f"{'noise':8s} {'seed':>5s} {'reports':>8s} {'pairs':>7s}   {'P':>6s} {'R':>6s} {'F1':>6s}   taken only: P R F1   s"
    )
    for noise in a.noise:
        for seed in a.seeds:
            r = run_one(district, work, a.persons, seed, noise, a.config, a.close_fixed)
            e, t = r["all"], r["taken"]
            print(
                f"{noise:8s} {seed:>5d} {e.reports:>8,d} {e.true_pairs:>7,d}   {e.precision:.4f} {e.recall:.4f} "
                f"{e.f1:.4f}   {t.precision:.4f} {t.recall:.4f} {t.f1:.4f}   {r['seconds']:.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
