"""Answers flow back without files: the hub takes in what was saved in the app.

    summary = take_in(con, hub_db)       # con: the hub's DuckDB (writer), inside the corrections step

- each pending verification → `quality.corrections.validate_and_apply`: the checks, tables
  (quality.finding_decision, quality.override, quality.correction_audit / correction_rejection) and
  audit of a returned workbook row, with source_file `app:<uid>` and source_row the verification id;
  the same decision already made (in a workbook or the app) is recorded once;
- each pending follow-up → scenario.follow_up, by the rules of a returned scenario workbook
  (targeting.worklists.follow_up_problems);
- then the overrides are applied to the master tables and the findings' statuses refreshed.
Each item's outcome (accepted / same_decision / rejected with the reason) is written back to the
app database, so the worker sees it. Run by `civichub run` (before it builds) and by the Dagster
job `corrections_job` that `app_submissions_sensor` starts.

Taking in twice is harmless: an item whose `app:<uid>` is already in the hub (the process stopped
between the hub's commit and the app's) is marked with the outcome recorded the first time.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from app.config import app_db_url
from app.db import make_engine, make_session_factory
from app.db.models import FollowUp, Verification, utcnow
from quality import corrections as corr
from sharing.masking import mask_text
from targeting.worklists import FOLLOW_UP_DDL, follow_up_problems, known_matches

BATCH = 200


@dataclass
class IntakeSummary:
    verifications_accepted: int = 0
    verifications_same: int = 0
    verifications_rejected: int = 0
    follow_ups_kept: int = 0
    follow_ups_rejected: int = 0
    overrides_applied: int = 0
    rejections: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, app id, reason)
    error: str | None = None

    @property
    def taken(self) -> int:
        return (
            self.verifications_accepted
            + self.verifications_same
            + self.verifications_rejected
            + self.follow_ups_kept
            + self.follow_ups_rejected
        )


def _local(ts: _dt.datetime) -> _dt.datetime:
    """The app stores UTC; the hub's tables hold local time."""
    return ts.replace(tzinfo=_dt.UTC).astimezone().replace(tzinfo=None)


def _app_engine(hub_db: str | Path, url: str | None):
    url = url or app_db_url(hub_db)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if not Path(path).exists():
            return None
    engine = make_engine(url)
    if not inspect(engine).has_table("verifications"):
        engine.dispose()
        return None
    return engine


def pending(hub_db: str | Path, url: str | None = None) -> tuple[int, int]:
    """(verifications, follow-ups) saved in the app and not yet taken in; (0, 0) without an app database."""
    engine = _app_engine(hub_db, url)
    if engine is None:
        return 0, 0
    try:
        with Session(engine) as s:
            v = s.scalar(select(func.count()).select_from(Verification).where(Verification.intake_status == "pending"))
            f = s.scalar(select(func.count()).select_from(FollowUp).where(FollowUp.intake_status == "pending"))
        return int(v or 0), int(f or 0)
    finally:
        engine.dispose()


def pending_marker(hub_db: str | Path, url: str | None = None) -> str | None:
    """'<newest pending verification id>:<newest pending follow-up id>', None when nothing is pending
    (the Dagster sensor's cursor: a new submission changes it)."""
    engine = _app_engine(hub_db, url)
    if engine is None:
        return None
    try:
        with Session(engine) as s:
            v = s.scalar(select(func.max(Verification.id)).where(Verification.intake_status == "pending"))
            f = s.scalar(select(func.max(FollowUp.id)).where(FollowUp.intake_status == "pending"))
        return None if v is None and f is None else f"{v or 0}:{f or 0}"
    finally:
        engine.dispose()


def _recorded_outcome(con, source_file: str) -> tuple[str, str | None] | None:
    rows = con.execute(
        "select outcome, reason from quality.correction_audit where source_file = ? order by processed_at desc limit 1",
        [source_file],
    ).fetchall()
    if not rows:
        return None
    outcome, reason = rows[0]
    if outcome == "rejected":
        return "rejected", reason
    return ("same_decision" if outcome == "same_decision" else "accepted"), None


def _take_verifications(con, s: Session, summary: IntakeSummary) -> None:
    con.execute(corr.DDL)
    specs = corr.default_specs()
    while True:
        batch = s.scalars(
            select(Verification).where(Verification.intake_status == "pending").order_by(Verification.id).limit(BATCH)
        ).all()
        if not batch:
            return
        for v in batch:
            source_file = f"app:{v.uid}"
            recorded = _recorded_outcome(con, source_file)
            if recorded is not None:
                status, reason = recorded
            else:
                out = corr.validate_and_apply(
                    con,
                    corr.Decision(
                        finding_id=v.finding_id,
                        committee_code=v.community_code,
                        decision=v.decision,
                        value=v.corrected_value or "",
                        decided_by=v.decided_by,
                        decided_on=_local(v.decided_at),
                        note=v.note or "",
                        source_file=source_file,
                        source_row=v.id,
                    ),
                    specs,
                )
                status, reason = out.status, out.reason
            v.intake_status, v.intake_reason, v.intake_at = status, reason, utcnow()
            if status == "accepted":
                summary.verifications_accepted += 1
            elif status == "same_decision":
                summary.verifications_same += 1
            else:
                summary.verifications_rejected += 1
                summary.rejections.append(("核实", v.id, reason or ""))
        s.commit()


def _take_follow_ups(con, s: Session, summary: IntakeSummary) -> None:
    con.execute(FOLLOW_UP_DDL)
    known = None
    today = _dt.date.today()
    while True:
        batch = s.scalars(
            select(FollowUp).where(FollowUp.intake_status == "pending").order_by(FollowUp.id).limit(BATCH)
        ).all()
        if not batch:
            return
        if known is None:
            known = known_matches(con)
        for f in batch:
            key = f"app:{f.uid}"
            done = con.execute("select count(*) from scenario.follow_up where file_hash = ?", [key]).fetchall()[0][0]
            problems, day = (
                ([], f.followed_on)
                if done
                else follow_up_problems(f.match_id, f.result, f.followed_by, f.followed_on, known, today)
            )
            if problems:
                f.intake_status, f.intake_reason = "rejected", "; ".join(problems)
                summary.follow_ups_rejected += 1
                summary.rejections.append(("跟进", f.id, f.intake_reason))
            else:
                if not done:
                    scenario, entity = known[str(f.match_id)].split("|", 1)
                    con.execute(
                        "insert into scenario.follow_up values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            f.match_id,
                            scenario,
                            entity,
                            f.result,
                            f.followed_by,
                            day,
                            f.note,
                            "app",
                            scenario,
                            f.id,
                            key,
                            _dt.datetime.now(),
                        ],
                    )
                f.intake_status, f.intake_reason = "accepted", None
                summary.follow_ups_kept += 1
            f.intake_at = utcnow()
        s.commit()


def take_in(con, hub_db: str | Path, url: str | None = None) -> IntakeSummary:
    """Take in every pending verification and follow-up of the app database (see the module docstring)."""
    summary = IntakeSummary()
    try:
        engine = _app_engine(hub_db, url)
    except Exception as e:  # noqa: BLE001 - an unreachable app database must not stop the hub's run
        summary.error = f"app database unreachable: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
        return summary
    if engine is None:
        return summary
    try:
        with make_session_factory(engine)() as s:
            _take_verifications(con, s, summary)
            _take_follow_ups(con, s, summary)
    finally:
        engine.dispose()
    if summary.verifications_accepted:
        summary.overrides_applied = corr.apply_overrides(con)
        corr.refresh_statuses(con)
    return summary


def describe(summary: IntakeSummary) -> list[str]:
    """Lines for the run summary (reasons masked: they may quote a typed ID number)."""
    if summary.error:
        return [f"  ! street app: {summary.error} (its answers were not taken in this time)"]
    if not summary.taken:
        return []
    lines = [
        f"  street app: {summary.verifications_accepted} verification(s) taken in, "
        f"{summary.verifications_same} same as a decision already made, {summary.verifications_rejected} refused; "
        f"{summary.follow_ups_kept} follow-up(s) kept, {summary.follow_ups_rejected} refused"
    ]
    for kind, app_id, reason in summary.rejections[:20]:
        lines.append(f"      {kind} #{app_id}: {mask_text(reason)}")
    return lines
