"""How well citizen reports' duplicates are found, per seed and per report noise profile.

    python -m bench.reports_duplicates [--persons 100000] [--seeds 404 405 406] [--noise default field]
        [--breakdown]   # also the missed and false pairs by what went wrong (see breakdown())

One district is generated (registries and the standard address library, `--district-seed`); then
for every seed and noise profile (synthetic/citizen_reports.py REPORT_NOISE; `plain`, `plain-field`, `plain-days`: the
month of synthetic/citizen_reports_plain.py, a second generator written apart from ours) a month of daily report
files is written beside a copy of its `reference/`, taken in day by day into a fresh database (the
`civichub run` path: `take_in_inbox`) and scored against `_truth/reports/` by the code of
`civichub reports evaluate`. Printed per run: pairwise precision, recall and F1, and the same over
the reports taken in (rows refused at intake as bad input left out of both sides), with the seconds.

`--fingerprints` rewrites the month's 照片指纹 before it is taken in, as another export might give
them: `blank` (none), `random` (a digest or a random value: no two alike), `per-citizen` (a random
value per citizen and problem: only a re-sent photo matches, as a perceptual hash of two citizens'
photos from different places may), `coarser` (6-10 more bits off every fingerprint: a coarser
hash). The generator's photos of one problem share most of their hash; these say how much of the
result rests on that.

The target of issue 16 is F1 >= 0.95 with precision >= 0.97. Nothing here is tuned: the weights are
estimated from each run's own reports, the thresholds are those of categories.yml.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from citizen_reports.cli import app_session, take_in_inbox
from citizen_reports.evaluate import evaluate
from citizen_reports.intake import assigned_report_no
from citizen_reports.models import CST, OPEN_STATES, RESOLVED, Incident
from citizen_reports.states import change_state
from synthetic.citizen_reports import REPORT_NOISE, add_coordinates, district_area_km2, write_citizen_reports
from synthetic.citizen_reports_plain import PLAIN_NOISE, write_plain_reports
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
            row = day[int(t["source_row"]) - 1]
            # a row without 编号 is taken in under the one the platform gives it
            no = (row.get("编号") or "").strip() or assigned_report_no(row)
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


FINGERPRINTS = ("as-given", "blank", "random", "per-citizen", "coarser")


def rewrite_fingerprints(inbox: Path, how: str, seed: int) -> None:
    """Every daily file's 照片指纹 rewritten as `how` says (FINGERPRINTS; a blank one stays blank)."""
    import csv
    import random

    if how == "as-given":
        return
    rng = random.Random(seed)
    drawn: dict = {}
    for f in sorted((inbox / "reports").glob("*.csv")):
        with open(f, encoding="utf-8-sig", newline="") as h:
            reader = csv.DictReader(h)
            columns, rows = reader.fieldnames, list(reader)
        with open(inbox / "_truth" / "reports" / f.name, encoding="utf-8", newline="") as h:
            problem = {int(t["source_row"]): t["incident_id"] for t in csv.DictReader(h)}
        for k, row in enumerate(rows, 1):
            if not row["照片指纹"] or how == "blank":
                row["照片指纹"] = ""
            elif how == "random":
                row["照片指纹"] = f"{rng.getrandbits(64):016x}"
            elif how == "coarser":
                try:
                    fingerprint = int(row["照片指纹"], 16)
                except ValueError:  # a malformed one stays as it is (refused at intake)
                    continue
                for bit in rng.sample(range(64), rng.randint(6, 10)):
                    fingerprint ^= 1 << bit
                row["照片指纹"] = f"{fingerprint:016x}"
            else:
                key = (problem.get(k), row["上报人"])
                row["照片指纹"] = drawn.setdefault(key, f"{rng.getrandbits(64):016x}")
        with open(f, "w", encoding="utf-8", newline="") as h:
            w = csv.DictWriter(h, columns)
            w.writeheader()
            w.writerows(rows)


def run_one(
    district: Path,
    work: Path,
    persons: int,
    seed: int,
    noise: str,
    config: Path | None = None,
    close: bool = False,
    detail: bool = False,
    fingerprints: str = "as-given",
) -> dict:
    inbox = work / f"{noise}_{seed}" / "inbox"
    shutil.rmtree(inbox.parent, ignore_errors=True)
    inbox.mkdir(parents=True)
    shutil.copytree(district / "reference", inbox / "reference")
    if noise in PLAIN_NOISE:  # synthetic/citizen_reports_plain.py's month instead of our generator's
        add_coordinates(inbox, district_area_km2(persons), seed)  # the library placed as our generator does
        write_plain_reports(inbox, seed, noise=noise)
    else:
        write_citizen_reports(inbox, persons, seed, noise=noise)
    rewrite_fingerprints(inbox, fingerprints, seed)
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
        classes = breakdown(inbox, s, config) if detail else None
    return {"seed": seed, "noise": noise, "all": every, "taken": taken, "seconds": seconds, "breakdown": classes}


def breakdown(inbox: Path, session, config: Path | None = None) -> dict[str, Counter]:
    """The missed and the false pairs against the answer key, by what went wrong (`--breakdown`).

    A missed pair (one problem, two incidents) is put under the first of these that holds, for its
    later report: `no position` (either report not placed by its position), `beyond reach` (farther
    than reach x the radius of the earlier one's 小类, and than far_m for a same/sibling 小类),
    `window` (gap from the earlier report beyond its category's window), `closed` (the earlier one's
    incident resolved or closed before the later report), `joined other problem` (the later report
    joined an incident whose report it matched is another problem), `joined own problem elsewhere`
    (it joined a report of its own problem: the problem was split before), `different photo`
    (photos of every report compared 26+ bits apart: held back), `review` (borderline), `no
    candidate`, else `low score` with the weakest evidence of the pair: another category, words,
    photo missing. A false pair (two problems, one incident) by the truth's kind of the later
    report's problem (twin, recurrence, normal) and how it got there: `direct` (the later report
    joined the earlier one's problem), `chained` (it joined a report of yet another problem, or of
    its own: the incident held two problems already), `merged` (incidents merged)."""
    import csv
    import json
    import math

    from sqlalchemy import select

    from citizen_reports.config import load_reports_config
    from citizen_reports.models import Incident, Report

    cfg = load_reports_config(config)

    def rows(path):
        with open(path, encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))

    truth_inc = {r["incident_id"]: r for r in rows(inbox / "_truth" / "reports_incidents.csv")}
    truth: dict[str, str] = {}
    for tf in sorted((inbox / "_truth" / "reports").glob("*.csv")):
        day = rows(inbox / "reports" / tf.name)
        for t in rows(tf):
            row = day[int(t["source_row"]) - 1]
            no = (row.get("编号") or "").strip() or assigned_report_no(row)  # the platform's, without one
            truth.setdefault(no, t["incident_id"])
    merged = dict(
        session.execute(select(Incident.id, Incident.merged_into).where(Incident.merged_into.is_not(None))).all()
    )
    ended = {
        i: (r or c)
        for i, r, c in session.execute(select(Incident.id, Incident.resolved_at, Incident.closed_at))
        if (r or c) is not None
    }

    def final(inc):
        while inc in merged:
            inc = merged[inc]
        return inc

    reps = {}
    for r in session.scalars(select(Report)):
        if r.report_no in truth:
            why = json.loads(r.match_explanation) if r.match_explanation else {}
            reps[r.report_no] = {
                "no": r.report_no,
                "at": r.reported_at,
                "cat": (r.major, r.minor),
                "pos": (r.pos_lon, r.pos_lat) if r.placement == "position" and r.pos_lon is not None else None,
                "photo": int(r.photo_hash, 16) if r.photo_hash else None,
                "inc": r.incident_id,
                "final": final(r.incident_id),
                "joined": r.duplicate_of is not None and r.incident_id is not None,
                "p": r.match_probability,
                "cand": why.get("candidate"),
                "diff_photo": bool(why.get("different_photos")),
                "text": next((e.get("value") for e in why.get("evidence", []) if e["field"] == "text"), None),
            }
    first_of = {}
    for r in sorted(reps.values(), key=lambda r: r["at"]):
        first_of.setdefault(r["inc"], r["no"])
    for r in reps.values():
        r["joined"] = first_of.get(r["inc"]) != r["no"]

    def metres(a, b):
        dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
        return math.hypot(dx, (a[1] - b[1]) * 110_540)

    missed, false, later_kind = Counter(), Counter(), Counter()
    by_truth: dict[str, list] = {}
    by_found: dict[str, list] = {}
    for r in reps.values():
        by_truth.setdefault(truth[r["no"]], []).append(r)
        by_found.setdefault(r["final"], []).append(r)
    for group in by_truth.values():
        group.sort(key=lambda r: r["at"])
        head: dict[str, dict] = {}  # each piece of the problem (a found incident) -> its first report
        for r in group:
            head.setdefault(r["final"], r)
        for j, b in enumerate(group):
            for a in group[:j]:
                if a["final"] == b["final"]:
                    continue
                # the pair is split because the later of the two pieces' first reports did not join
                # the earlier piece: that report's decision, against the earlier piece's reports before it
                h, other = sorted((head[a["final"]], head[b["final"]]), key=lambda r: r["at"])[::-1]
                before = [r for r in group if r["final"] == other["final"] and r["at"] <= h["at"]] or [other]
                missed[_split_class(h, before, truth, cfg, ended, metres)] += 1
    for group in by_found.values():
        group.sort(key=lambda r: r["at"])
        for j, b in enumerate(group):
            for a in group[:j]:
                ta, tb = truth[a["no"]], truth[b["no"]]
                if ta == tb:
                    continue
                kind = truth_inc.get(tb, {}).get("kind", "?")
                if a["inc"] != b["inc"]:
                    how = "merged"
                elif b["cand"] and truth.get(b["cand"]) == ta:
                    how = "direct"
                else:
                    how = "chained"
                rel = cfg.relation(a["cat"], b["cat"]) or "other"
                false[f"{how}: {kind}"] += 1
                later_kind[f"{how}: category {rel}"] += 1
    return {"missed": missed, "false": false, "false by category": later_kind}


def _split_class(h: dict, before: list[dict], truth: dict, cfg, ended: dict, metres) -> str:
    """Why report `h` (the first of its piece of a problem) did not join the piece `before` (the
    other piece's reports before it)."""
    d_cfg = cfg.duplicates
    last = before[-1]
    rule = cfg.rule(*last["cat"])
    rels = {cfg.relation(r["cat"], h["cat"]) for r in before}
    rel = "same" if "same" in rels else "sibling" if "sibling" in rels else "major" if "major" in rels else "other"
    gap_h = (h["at"] - last["at"]).total_seconds() / 3600
    dists = [metres(r["pos"], h["pos"]) for r in before if r["pos"] and h["pos"]]
    d = min(dists) if dists else None
    end = ended.get(last["inc"])
    cand_truth = truth.get(h["cand"]) if h["cand"] else None
    if h["joined"]:
        return "joined another problem" if cand_truth != truth[h["no"]] else "joined own problem (split before)"
    photos = [r["photo"] for r in before if r["photo"] is not None]
    bits = min((bin(p ^ h["photo"]).count("1") for p in photos), default=None) if h["photo"] is not None else None
    if d is None:
        outcome = (
            "no candidate"
            if h["p"] is None
            else "best candidate another problem"
            if cand_truth != truth[h["no"]]
            else "review"
            if h["p"] >= d_cfg.review
            else "low score"
        )
        photo = "photo missing" if bits is None else f"photo {'<=' if bits <= 8 else '>'}8 bits"
        return f"no position: {outcome}, {photo}"
    if d > rule.radius_m * d_cfg.reach and not (rel in ("same", "sibling") and d <= d_cfg.far_m):
        return f"beyond reach: category {rel}, {'beyond far_m' if d > d_cfg.far_m else 'within far_m'}"
    if gap_h > rule.window_hours:
        return f"window: {last['cat'][0]}, {'< 2x' if gap_h < 2 * rule.window_hours else '>= 2x'} window"
    if end is not None and end <= h["at"]:
        return "closed"
    if h["diff_photo"]:
        return "different photo"
    if h["p"] is None:
        return "no candidate"
    if cand_truth != truth[h["no"]]:
        return "best candidate another problem"
    weak = []
    if rel not in ("same", "sibling"):
        weak.append("category " + rel)
    if bits is None:
        weak.append("photo missing")
    elif bits > 16:
        weak.append("photo far")
    if h["text"] is not None and h["text"] < 0.5:
        weak.append("words")
    if d > rule.radius_m:
        weak.append("beyond radius")
    return ("review: " if h["p"] >= d_cfg.review else "low score: ") + (", ".join(weak) or "other")


def print_breakdown(b: dict[str, Counter]) -> None:
    """Each table by its main class (before the colon), then its classes in full."""
    for name, counts in b.items():
        total = sum(counts.values())
        print(f"  {name} pairs: {total:,}")
        main: Counter = Counter()
        for cls, n in counts.items():
            main[cls.split(":")[0]] += n
        for head, n in main.most_common():
            print(f"    {n:>7,d} {n / total if total else 0:6.1%}  {head}")
            for cls, k in counts.most_common():
                if cls.split(":")[0] == head and ":" in cls:
                    print(f"    {'':>7s} {k:>6,d}    {cls.split(':', 1)[1].strip()}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reports_duplicates", description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--district-seed", type=int, default=404)
    ap.add_argument("--seeds", type=int, nargs="+", default=[404, 405, 406])
    ap.add_argument("--noise", nargs="+", default=["default", "field"], choices=[*sorted(REPORT_NOISE), *PLAIN_NOISE])
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--config", type=Path, default=None, help="a categories.yml to judge with (default: the project's)")
    ap.add_argument(
        "--close-fixed",
        action="store_true",
        help="replay the departments' work: an incident whose problem was fixed is resolved before the next day's file",
    )
    ap.add_argument(
        "--breakdown", action="store_true", help="print the missed and false pairs by what went wrong (breakdown())"
    )
    ap.add_argument(
        "--fingerprints",
        default="as-given",
        choices=FINGERPRINTS,
        help="rewrite the 照片指纹 as another export might give them (rewrite_fingerprints)",
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
        pooled = Counter()
        for seed in a.seeds:
            r = run_one(district, work, a.persons, seed, noise, a.config, a.close_fixed, a.breakdown, a.fingerprints)
            e, t = r["all"], r["taken"]
            pooled.update(true=e.true_pairs, found=e.found_pairs, correct=e.correct_pairs)
            print(
                f"{noise:8s} {seed:>5d} {e.reports:>8,d} {e.true_pairs:>7,d}   {e.precision:.4f} {e.recall:.4f} "
                f"{e.f1:.4f}   {t.precision:.4f} {t.recall:.4f} {t.f1:.4f}   {r['seconds']:.0f}",
                flush=True,
            )
            if r["breakdown"]:
                print_breakdown(r["breakdown"])
        if len(a.seeds) > 1:  # the seeds' pairs together (not the mean of their figures)
            p = pooled["correct"] / pooled["found"] if pooled["found"] else 1.0
            rc = pooled["correct"] / pooled["true"] if pooled["true"] else 1.0
            f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
            print(f"{noise:8s} {'pool':>5s} {'':>8s} {pooled['true']:>7,d}   {p:.4f} {rc:.4f} {f1:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
