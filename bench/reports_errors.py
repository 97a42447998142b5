"""Where duplicate detection goes wrong on a generated month: a diagnostic beside the scores.

    python -m bench.reports_errors --inbox DIR --db FILE

Reads the hub's reports (the app database beside FILE, as `civichub reports evaluate` does) and the
generator's answer key (`_truth/reports/`, `_truth/reports_incidents.csv`,
`_truth/reports_planted.csv`) and prints

- missed pairs (two reports of one problem in different incidents), by cause: one side refused at
  intake (the planted bad row's kind), or a report that opened its own incident although an earlier
  report of its problem was held: no candidate found, the best candidate another problem, or the
  best candidate right but below `accept` (in the review band or below it);
- false pairs (two problems in one incident), by how the problems relate in the key: a twin (a second
  problem of the kind 20-45 m away), a recurrence (the same spot after the first was fixed), or
  unrelated; and whether the two share a 小类;
- how the probability of each report's best candidate falls for the same problem and for another
  (is a threshold the lever, or the evidence?);
- the reports that joined an incident by the Hamming distance between their photo and their best
  candidate's, right (the same problem) and wrong (another): a photo evidence that stops being
  evidence shows here.

A missed pair is put down to the report that opened the later of its two incidents (its decision
split the problem). Nothing here feeds back into the hub.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import select

from citizen_reports.cli import app_session
from citizen_reports.config import load_reports_config
from citizen_reports.intake import assigned_report_no
from citizen_reports.models import Incident, Report

BANDS = [0.3, 0.6, 0.8, 0.9, 0.95, 0.99, 0.999]
PHOTO_BANDS = [9, 13, 17, 21, 24, 26, 29]  # Hamming bits, below


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _key(inbox: Path) -> tuple[dict[str, str], dict[str, str]]:
    """编号 -> true incident; 编号 -> planted kind. A row without 编号 goes by the one the platform
    gives it (intake.assigned_report_no); when the hub does not hold it, it was refused."""
    planted = {(r["file"], int(r["source_row"])): r["kind"] for r in _rows(inbox / "_truth" / "reports_planted.csv")}
    truth: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for tf in sorted((inbox / "_truth" / "reports").glob("*.csv")):
        rows = _rows(inbox / "reports" / tf.name)
        for t in _rows(tf):
            row = rows[int(t["source_row"]) - 1]
            no = (row.get("编号") or "").strip()
            kind = planted.get((f"reports/{tf.name}", int(t["source_row"])), "")
            if not no:
                no, kind = assigned_report_no(row), kind or "missing_id"
            truth.setdefault(no, t["incident_id"])
            kinds.setdefault(no, kind)
    return truth, kinds


def _band(value: float, edges: list, whole: bool = False) -> str:
    """The band of `edges` (upper bounds, exclusive) `value` falls in; whole numbers (photo bits)
    name the band by its last value ("0-8"), probabilities by its bounds ("0.9-0.95")."""
    lo = 0
    for hi in edges:
        if value < hi:
            return f"{lo}-{hi - 1}" if whole else f"{lo:g}-{hi:g}"
        lo = hi
    return f">={edges[-1]:g}"


def _why(o: Report, t: str, truth: dict[str, str], review: float, accept: float) -> str:
    """Why the report `o` (which opened an incident, or joined one) is not with its problem `t`."""
    if truth.get(o.report_no) != t:  # the pair's later half sits in another problem's incident
        return "joined an incident of another problem"
    cand = (json.loads(o.match_explanation) if o.match_explanation else {}).get("candidate")
    if o.match_probability is None:
        return "no candidate found"
    if truth.get(cand) != t:
        return "best candidate another problem"
    if o.match_probability >= review:
        return f"best candidate right, in the review band ({review:g}-{accept:g})"
    return f"best candidate right, below review ({review:g})"


def diagnose(inbox: Path, db: Path) -> dict[str, Counter]:
    cfg = load_reports_config()
    accept, review = cfg.duplicates.accept, cfg.duplicates.review
    if cfg.duplicates.same_spot_class:  # the estimated models' threshold (dedupe._assign)
        accept = cfg.duplicates.same_spot_accept
    problems = {r["incident_id"]: r for r in _rows(inbox / "_truth" / "reports_incidents.csv")}
    truth, kinds = _key(inbox)
    with app_session(db) as s:
        merged = dict(
            s.execute(select(Incident.id, Incident.merged_into).where(Incident.merged_into.is_not(None))).all()
        )
        reports = list(s.scalars(select(Report).order_by(Report.reported_at, Report.id)))
    found: dict[str, str] = {}
    for r in reports:
        inc = r.incident_id
        while inc in merged:
            inc = merged[inc]
        found[r.report_no] = inc
    missed, false, bands, photos = Counter(), Counter(), Counter(), Counter()
    opener: dict[str, Report] = {}  # found incident -> its first report
    for r in reports:
        opener.setdefault(found[r.report_no], r)
    by_truth: dict[str, list[str]] = defaultdict(list)
    for no, t in truth.items():
        by_truth[t].append(no)
    order = {r.report_no: k for k, r in enumerate(reports)}
    for t, nos in by_truth.items():
        for a, b in itertools.combinations(nos, 2):
            if a not in found or b not in found:
                missed[f"refused at intake: {kinds[a if a not in found else b] or 'refused'}"] += 1
                continue
            if found[a] == found[b]:
                continue
            # the split: the decision of the report that opened the later of the two incidents
            o = max((opener[found[a]], opener[found[b]]), key=lambda r: order[r.report_no])
            missed[_why(o, t, truth, review, accept)] += 1
    for r in reports:
        ex = json.loads(r.match_explanation) if r.match_explanation else {}
        cand = ex.get("candidate")
        if r.match_probability is not None and cand in truth and r.report_no in truth:
            same = "same problem" if truth[cand] == truth[r.report_no] else "another"
            bands[(_band(r.match_probability, BANDS), same)] += 1
            bits = {e["field"]: e for e in ex["evidence"]}["photo"].get("value")
            if r.duplicate_of is not None:
                photos[("no photo" if bits is None else _band(bits, PHOTO_BANDS, whole=True), same)] += 1
    # false pairs by how the two problems relate
    by_found: dict[str, list[str]] = defaultdict(list)
    for no, inc in found.items():
        if no in truth:
            by_found[inc].append(no)
    for nos in by_found.values():
        for a, b in itertools.combinations(nos, 2):
            ta, tb = truth[a], truth[b]
            if ta == tb:
                continue
            pa, pb = problems[ta], problems[tb]
            kin = pa["parent"] == tb or pb["parent"] == ta or (pa["parent"] and pa["parent"] == pb["parent"])
            kind = next((k for k in ("twin", "recurrence") if k in (pa["kind"], pb["kind"])), "normal")
            rel = kind if kin else "unrelated"
            false[f"{rel}, {'same 小类' if pa['minor'] == pb['minor'] else 'another 小类'}"] += 1
    return {"missed": missed, "false": false, "bands": bands, "photos": photos}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reports_errors", description=__doc__.splitlines()[0])
    ap.add_argument("--inbox", required=True, type=Path)
    ap.add_argument("--db", required=True, type=Path)
    a = ap.parse_args(argv)
    out = diagnose(a.inbox, a.db)
    for title, key in (("missed pairs", "missed"), ("false pairs", "false")):
        c = out[key]
        print(f"{title}: {sum(c.values()):,}")
        for what, n in c.most_common():
            print(f"  {n:6,d}  {what}")
    print("best candidate's probability: same problem / another")
    bands = out["bands"]
    for b in sorted({k[0] for k in bands}, key=lambda s: float(s.lstrip(">=").split("-")[0])):
        print(f"  {b:>12s}  {bands[(b, 'same problem')]:6,d}  {bands[(b, 'another')]:6,d}")
    print("reports joined, by photo bits to the best candidate: same problem / another")
    photos = out["photos"]
    for b in sorted(
        {k[0] for k in photos},
        key=lambda s: (s == "no photo", int(s.lstrip(">=").split("-")[0] or 0) if s != "no photo" else 0),
    ):
        print(f"  {b:>12s}  {photos[(b, 'same problem')]:6,d}  {photos[(b, 'another')]:6,d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
