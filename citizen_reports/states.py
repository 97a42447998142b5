"""What a department does with an incident: change its state with a note, hand it to another owner,
decide a borderline duplicate. Every change is an `incident_event`; the public note is what the
citizen reads on the status page.

States after FixMyStreet and Open311: received → accepted → in_progress → resolved, and closed with a
reason (duplicate, not_responsible, unable_to_fix, invalid, no_further_action) from any open state.
A resolved incident may still be closed (confirmed) or reopened to in_progress by its department
within the window, e.g. when the fix did not hold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update

from citizen_reports.models import (
    ACCEPTED,
    CLOSE_REASONS,
    CLOSED,
    IN_PROGRESS,
    OPEN_STATES,
    RECEIVED,
    RESOLVED,
    Incident,
    IncidentEvent,
    Report,
    ReviewItem,
    utc,
)

TRANSITIONS = {
    RECEIVED: {ACCEPTED, IN_PROGRESS, RESOLVED, CLOSED},
    ACCEPTED: {IN_PROGRESS, RESOLVED, CLOSED},
    IN_PROGRESS: {RESOLVED, CLOSED},
    RESOLVED: {CLOSED, IN_PROGRESS},
    CLOSED: set(),
}
STATE_LABELS = {
    RECEIVED: "已受理",
    ACCEPTED: "已确认",
    IN_PROGRESS: "处置中",
    RESOLVED: "已办结",
    CLOSED: "已关闭",
}
CLOSE_REASON_LABELS = {
    "duplicate": "重复上报",
    "not_responsible": "非本部门职责",
    "unable_to_fix": "无法处置",
    "invalid": "经核实不属实",
    "no_further_action": "无需处置",
}
# Open311 knows two states only
OPEN311_STATUS = {RECEIVED: "open", ACCEPTED: "open", IN_PROGRESS: "open", RESOLVED: "closed", CLOSED: "closed"}
MAX_NOTE = 500


class StateError(ValueError):
    """The change is not allowed; the message says why (shown to the user)."""


@dataclass
class Change:
    incident: Incident
    event: IncidentEvent


def _now(now: dt.datetime | None) -> dt.datetime:
    return utc(now or dt.datetime.now(dt.UTC))


def change_state(
    session,
    incident: Incident,
    to: str,
    actor: str,
    *,
    public_note: str = "",
    internal_note: str = "",
    close_reason: str | None = None,
    now: dt.datetime | None = None,
) -> Change:
    """Move an incident to `to`; a close needs its reason, a resolve or close a public note."""
    public_note, internal_note = (public_note or "").strip()[:MAX_NOTE], (internal_note or "").strip()[:MAX_NOTE]
    if incident.merged_into:
        raise StateError(f"{incident.id} 已并入 {incident.merged_into}，请在该事件上处理")
    if to not in TRANSITIONS:
        raise StateError(f"未知状态 {to!r}")
    if to not in TRANSITIONS[incident.status]:
        raise StateError(f"{STATE_LABELS[incident.status]}的事件不能改为{STATE_LABELS[to]}")
    if to == CLOSED:
        if close_reason not in CLOSE_REASONS:
            raise StateError(f"关闭须说明原因：{'、'.join(CLOSE_REASON_LABELS.values())}")
    elif close_reason:
        raise StateError("只有关闭时才填写关闭原因")
    if to in (RESOLVED, CLOSED) and not public_note:
        raise StateError("办结或关闭时请填写给市民的处理说明")
    at = _now(now)
    event = IncidentEvent(
        incident_id=incident.id,
        at=at,
        actor=actor,
        action="status",
        from_status=incident.status,
        to_status=to,
        close_reason=close_reason,
        public_note=public_note or None,
        internal_note=internal_note or None,
    )
    incident.status, incident.updated_at = to, at
    if public_note:
        incident.public_note = public_note
    if to == RESOLVED:
        incident.resolved_at = at
    if to == CLOSED:
        incident.closed_at, incident.close_reason = at, close_reason
    if to == IN_PROGRESS and event.from_status == RESOLVED:
        incident.resolved_at = None
    session.add(event)
    return Change(incident, event)


def transfer(session, incident: Incident, department: str, actor: str, reason: str, now=None) -> Change:
    """Hand the incident to another owner (not ours; or the district's desk placing a queued one)."""
    reason = (reason or "").strip()[:MAX_NOTE]
    if incident.status not in OPEN_STATES:
        raise StateError("只有未办结的事件可以转派")
    if not reason:
        raise StateError("转派须说明原因")
    if department == incident.department:
        raise StateError("已经是该部门的事件")
    at = _now(now)
    event = IncidentEvent(
        incident_id=incident.id,
        at=at,
        actor=actor,
        action="transfer",
        from_status=incident.status,
        to_status=incident.status,
        internal_note=f"{incident.department} → {department}：{reason}",
    )
    incident.department, incident.updated_at = department, at
    if incident.queue_reason:
        incident.queue_reason = None
    session.add(event)
    return Change(incident, event)


def decide_review(session, item: ReviewItem, same: bool, actor: str, now=None) -> None:
    """A department's verdict on a borderline pair: the same problem (the report's incident joins the
    candidate and is closed as a duplicate) or two problems (both stay)."""
    if item.status not in (None, "open"):
        raise StateError("这一对已经处理过")
    at = _now(now)
    item.status, item.decided_by, item.decided_at = ("merged" if same else "kept_apart"), actor, at
    if not same:
        return
    other = session.get(Incident, item.incident_id)
    target = session.get(Incident, item.candidate_incident_id)
    while target is not None and target.merged_into:
        target = session.get(Incident, target.merged_into)
    if other is None or target is None or other.id == target.id:
        return
    if other.merged_into:
        raise StateError(f"{other.id} 已并入 {other.merged_into}")
    if target.status not in OPEN_STATES:
        raise StateError(f"{target.id} 已{STATE_LABELS[target.status]}，不能再并入")
    session.add_all(merge_into(session, other, target, actor, at, note=f"复核：与{target.id}为同一问题"))


def merge_into(session, other: Incident, target: Incident, actor: str, at: dt.datetime, note: str, report_no=None):
    """`other` is the same problem as `target`: its stored reports join the target (their
    duplicate_of: the target's first report), the counts add up, and `other` is closed as a duplicate
    pointing at the target. Returns the two events (the caller adds them)."""
    session.execute(
        update(Report)
        .where(Report.incident_id == other.id)
        .values(incident_id=target.id, duplicate_of=target.first_report_no)
        .execution_options(synchronize_session="fetch")
    )
    target.report_count += other.report_count
    target.last_report_at = max(target.last_report_at, other.last_report_at)
    target.updated_at = at
    before = other.status
    other.status, other.close_reason, other.merged_into, other.closed_at, other.updated_at = (
        CLOSED,
        "duplicate",
        target.id,
        at,
        at,
    )
    other.public_note = f"重复问题，已并入{target.id}"
    return [
        IncidentEvent(
            incident_id=other.id,
            at=at,
            actor=actor,
            action="merged",
            from_status=before,
            to_status=CLOSED,
            close_reason="duplicate",
            report_no=report_no,
            public_note=other.public_note,
            internal_note=note,
        ),
        IncidentEvent(
            incident_id=target.id,
            at=at,
            actor=actor,
            action="merged",
            report_no=report_no,
            internal_note=f"{other.id} 并入（{other.report_count} 条上报）：{note}",
        ),
    ]


def split_off(
    session, incident: Incident, reports: list[Report], new: Incident, actor: str, at: dt.datetime, note: str
) -> list[IncidentEvent]:
    """`reports` (in order of time) are another problem than the rest of `incident`: they leave it for
    `new`, which the first of them opens (their duplicate_of: that report; its own: none), and the
    counts follow. Returns the two events (the caller adds them)."""
    nos = [r.report_no for r in reports]
    session.execute(
        update(Report)
        .where(Report.report_no.in_(nos))
        .values(incident_id=new.id, duplicate_of=new.first_report_no)
        .execution_options(synchronize_session="fetch")
    )
    reports[0].duplicate_of = None
    new.report_count = len(reports)
    new.last_report_at = max(r.reported_at for r in reports)
    incident.report_count -= len(reports)
    last = session.scalar(select(func.max(Report.reported_at)).where(Report.incident_id == incident.id))
    incident.last_report_at = last or incident.opened_at
    incident.updated_at = at
    return [
        IncidentEvent(
            incident_id=incident.id,
            at=at,
            actor=actor,
            action="split",
            report_no=nos[0],
            internal_note=f"{len(nos)} 条上报（{'、'.join(nos[:5])}{'等' if len(nos) > 5 else ''}）为另一问题，拆分为{new.id}：{note}",
        ),
        IncidentEvent(
            incident_id=new.id,
            at=at,
            actor=actor,
            action="split",
            to_status=new.status,
            report_no=nos[0],
            internal_note=f"自{incident.id}拆分（{len(nos)} 条上报）：{note}",
        ),
    ]


def resolve_merged(session, incident_id: str) -> Incident | None:
    """The incident a (possibly merged) id stands for now."""
    inc = session.get(Incident, incident_id)
    while inc is not None and inc.merged_into:
        inc = session.get(Incident, inc.merged_into)
    return inc
