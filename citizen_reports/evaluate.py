"""How well duplicates were found: pairwise precision, recall and F1 against a synthetic district's
answer key (`_truth/reports/YYYY-MM-DD.csv`: source_row, incident_id), and how well reports were
placed (`_truth/reports_incidents.csv`, when the generator wrote it).

Two reports form a true pair when the key gives them the same incident, a found pair when the hub
put them in the same incident. Each 编号 counts once (a row sent again is the same report); a row
refused at intake is an incident of its own, so a refused duplicate costs recall. A row without 编号
goes by the 编号 the platform gives it (intake.assigned_report_no, from its content): rows without
编号 of identical content count once, like a 编号 sent again, and one the hub does not hold counts as
refused. With `taken_only`, the rows refused at intake (bad input: a 大类 that cannot be placed, an
unreadable time) are left out of both sides: how well the reports the hub holds were grouped.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizen_reports.intake import assigned_report_no
from citizen_reports.models import Incident, Report


class ReportsEvaluateError(ValueError):
    pass


@dataclass
class PairScores:
    reports: int
    true_pairs: int
    found_pairs: int
    correct_pairs: int
    refused: int
    not_taken: int  # rows with a 编号 the hub does not hold (file not imported?)
    street_accuracy: float | None = None
    community_accuracy: float | None = None
    placed: int = 0

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(counts: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def evaluate(inbox: Path, session: Session, days: list[str] | None = None, taken_only: bool = False) -> PairScores:
    inbox = Path(inbox)
    truth_dir = inbox / "_truth" / "reports"
    if not truth_dir.is_dir():
        raise ReportsEvaluateError(f"{truth_dir}: no answer key (only synthetic districts have one)")
    files = sorted(p for p in truth_dir.glob("*.csv") if days is None or p.stem in days)
    if not files:
        raise ReportsEvaluateError(f"{truth_dir}: no day to evaluate")
    truth_of: dict[str, str] = {}  # 编号 -> true incident
    for tf in files:
        reports = _rows(inbox / "reports" / tf.name)
        for t in _rows(tf):
            row = reports[int(t["source_row"]) - 1]
            # a row without 编号 goes by the one the platform gives it (its content's), as intake does
            no = (row.get("编号") or "").strip() or assigned_report_no(row)
            truth_of.setdefault(no, t["incident_id"])
    found: dict[str, tuple[str, str | None, str | None]] = {}
    merged = dict(
        session.execute(select(Incident.id, Incident.merged_into).where(Incident.merged_into.is_not(None))).all()
    )
    nos = list(truth_of)
    for i in range(0, len(nos), 500):
        q = select(Report.report_no, Report.incident_id, Incident.street_code, Incident.community_code).join(
            Incident, Report.incident_id == Incident.id
        )
        for no, inc, street, community in session.execute(q.where(Report.report_no.in_(nos[i : i + 500]))):
            while inc in merged:
                inc = merged[inc]
            found[no] = (inc, street, community)
    true_c: Counter = Counter()
    found_c: Counter = Counter()
    both: Counter = Counter()
    not_taken = 0
    for no, t in truth_of.items():
        f = found.get(no)
        if f is None:
            not_taken += 1
            if taken_only:
                continue
            f = ("refused:" + no, None, None)
        true_c[t] += 1
        found_c[f[0]] += 1
        both[(t, f[0])] += 1
    scores = PairScores(
        reports=len(truth_of) - (not_taken if taken_only else 0),
        true_pairs=_pairs(true_c),
        found_pairs=_pairs(found_c),
        correct_pairs=_pairs(both),
        refused=not_taken,
        not_taken=not_taken,
    )
    key = inbox / "_truth" / "reports_incidents.csv"
    if key.exists():
        where = {r["incident_id"]: (r["street_code"], r["community_code"]) for r in _rows(key)}
        streets = communities = placed = 0
        for no, t in truth_of.items():
            f = found.get(no)
            if f is None or t not in where or f[1] is None:
                continue
            placed += 1
            streets += f[1] == where[t][0]
            communities += f[2] == where[t][1]
        if placed:
            scores.street_accuracy, scores.community_accuracy, scores.placed = (
                streets / placed,
                communities / placed,
                placed,
            )
    return scores


def format_scores(s: PairScores, label: str = "") -> str:
    lines = [
        f"Citizen reports{(' — ' + label) if label else ''}: {s.reports:,} reports, "
        f"{s.true_pairs:,} true duplicate pairs, {s.found_pairs:,} found",
        f"  duplicates (pairwise)  precision {s.precision:.4f}   recall {s.recall:.4f}   F1 {s.f1:.4f}",
        f"  refused at intake or not taken: {s.refused:,} (each counted as an incident of its own)",
    ]
    if s.street_accuracy is not None:
        lines.append(
            f"  placed {s.placed:,} reports: street right {s.street_accuracy:.4f}, committee right {s.community_accuracy:.4f}"
        )
    return "\n".join(lines)
