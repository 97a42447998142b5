"""Verifications saved in the app: checking a verdict before it is saved, saving it, and what the pages
show of the latest verification of each finding.

The check is the hub's own (quality.corrections.check_verdict, the rules a returned workbook row
meets), run against the finding as the street's publication holds it, so a worker sees at once
that an ID number's check digit is wrong; the hub checks again when it takes the verification in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db.models import Verification, utcnow
from quality import corrections as corr
from quality import worklist_format as wf

MAX_NOTE = 500
MAX_VALUE = 200
DONE = ("pending", "accepted", "same_decision")  # a verification that counts as done for the worker


@dataclass
class Saved:
    verification: Verification | None
    error: str | None = None


def check(finding: dict, decision: str, value: str, principal: Principal) -> str | None:
    """Why this verdict cannot be saved (None: it can), by the rules of quality/corrections.py."""
    if decision not in wf.DECISIONS:
        return "请选择核实结果：" + "、".join(wf.DECISIONS)
    if len(value or "") > MAX_VALUE:
        return f"正确值过长（超过{MAX_VALUE}字）"
    reason = corr.check_owner(finding.get("finding_id"), finding, principal.community_code or "")
    if reason is None:
        _verdict, reason = corr.check_verdict(
            finding, decision, value or None, principal.display_name, None, corr.default_specs()
        )
    return reason


def save(db: Session, finding: dict, decision: str, value: str, note: str, principal: Principal) -> Saved:
    """Check and store a verdict (the caller commits). The same verdict saved twice is kept once."""
    value = (value or "").strip()
    note = (note or "").strip()[:MAX_NOTE]
    error = check(finding, decision, value, principal)
    if error:
        return Saved(None, error)
    last = latest(db, principal.community_code, [finding["finding_id"]]).get(finding["finding_id"])
    if (
        last is not None
        and last.intake_status == "pending"
        and (last.decision, last.corrected_value or "", last.note or "") == (decision, value, note)
    ):
        return Saved(last)
    v = Verification(
        uid=uuid.uuid4().hex,
        finding_id=finding["finding_id"],
        street_code=principal.street_code,
        community_code=principal.community_code,
        decision=decision,
        corrected_value=value or None,
        note=note or None,
        decided_by=principal.display_name,
        user_id=principal.user_id,
        decided_at=utcnow(),
    )
    db.add(v)
    db.flush()
    return Saved(v)


def latest(db: Session, community_code: str | None, finding_ids: list[str] | None = None) -> dict[str, Verification]:
    """finding_id → the latest verification saved for it in the committee (or street, community None)."""
    newest = select(func.max(Verification.id)).group_by(Verification.finding_id)
    if community_code is not None:
        newest = newest.where(Verification.community_code == community_code)
    if finding_ids is not None:
        if not finding_ids:
            return {}
        newest = newest.where(Verification.finding_id.in_(finding_ids))
    found = db.scalars(select(Verification).where(Verification.id.in_(newest))).all()
    return {v.finding_id: v for v in found}


def latest_in_street(db: Session, street_code: str) -> dict[str, Verification]:
    newest = select(func.max(Verification.id)).where(Verification.street_code == street_code)
    newest = newest.group_by(Verification.finding_id)
    return {v.finding_id: v for v in db.scalars(select(Verification).where(Verification.id.in_(newest))).all()}


def state_label(v: Verification | None) -> str:
    if v is None:
        return "待核实"
    return {
        "pending": f"已核实（{v.decision}），待数据中心入库",
        "accepted": f"已核实（{v.decision}），已入库",
        "same_decision": f"已核实（{v.decision}），已入库",
        "rejected": "上次提交被数据中心退回，请重新核实",
    }.get(v.intake_status, v.intake_status)
