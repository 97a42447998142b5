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
from synthetic.citizen_reports import REPORT_NOISE, write_citizen_reports
from synthetic.generate import generate


def run_one(district: Path, work: Path, persons: int, seed: int, noise: str, config: Path | None = None) -> dict:
    inbox = work / f"{noise}_{seed}" / "inbox"
    shutil.rmtree(inbox.parent, ignore_errors=True)
    inbox.mkdir(parents=True)
    shutil.copytree(district / "reference", inbox / "reference")
    write_citizen_reports(inbox, persons, seed, noise=noise)
    db = inbox.parent / "hub.duckdb"
    t = time.perf_counter()
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
            r = run_one(district, work, a.persons, seed, noise, a.config)
            e, t = r["all"], r["taken"]
            print(
                f"{noise:8s} {seed:>5d} {e.reports:>8,d} {e.true_pairs:>7,d}   {e.precision:.4f} {e.recall:.4f} "
                f"{e.f1:.4f}   {t.precision:.4f} {t.recall:.4f} {t.f1:.4f}   {r['seconds']:.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
