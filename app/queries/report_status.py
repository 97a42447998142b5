"""The public status of a citizen's report (the page behind `/status/<编号>`): only what a citizen may
read about a problem in the street, masked through sharing/masking.py. The citizen's own words are not
shown: 编号 are sequential, anyone may look one up, and a description can name a neighbour (masking
catches ID numbers and phones, not names)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.reports import reports_desk
from citizen_reports.models import OPEN_STATES, Division, Report, as_cst
from citizen_reports.states import CLOSE_REASON_LABELS, STATE_LABELS, resolve_merged
from sharing.masking import mask_text


def public_status(db: Session, app, report_no: str) -> dict | None:
    if not report_no:
        return None
    r = db.scalars(select(Report).where(Report.report_no == report_no)).first()
    if r is None:
        return None
    inc = resolve_merged(db, r.incident_id)
    desk = reports_desk(app)
    div = db.get(Division, inc.community_code) if inc.community_code else None
    street = div.street_name if div else None
    if street is None and inc.street_code:
        street = db.scalar(select(Division.street_name).where(Division.street_code == inc.street_code).limit(1))
    history = []
    for e in inc.events:
        if e.action == "created" or (e.action == "split" and e.to_status):  # opened, or opened by a split
            history.append((as_cst(e.at), "已受理", None))
        elif e.action == "status":
            label = STATE_LABELS.get(e.to_status, e.to_status)
            if e.close_reason:
                label += f"（{CLOSE_REASON_LABELS.get(e.close_reason, e.close_reason)}）"
            history.append((as_cst(e.at), label, mask_text(e.public_note) if e.public_note else None))
        elif e.action == "transfer":
            history.append((as_cst(e.at), "已转派", None))
    return {
        "report_no": r.report_no,
        "reported_at": as_cst(r.reported_at),
        "category": f"{r.major} · {r.minor}",
        "incident_id": inc.id,
        "joined": r.duplicate_of is not None,
        "report_count": inc.report_count,
        "state": STATE_LABELS.get(inc.status, inc.status),
        "closed": inc.status not in OPEN_STATES,
        "close_reason": CLOSE_REASON_LABELS.get(inc.close_reason, "") if inc.close_reason else "",
        "public_note": mask_text(inc.public_note) if inc.public_note else "",
        "department": desk.name(inc.department),
        "street": street or "",
        "due_at": as_cst(inc.due_at),
        "history": history,
    }
