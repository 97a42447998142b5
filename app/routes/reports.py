"""Citizen reports (百姓拍) for the staff: each department's and each street's day, the incidents, their
state changes, the review queue of borderline duplicates, and the district's queue.

    GET  /r/board                 received today, duplicates merged, open, overdue by category, closed this
    GET  /r/board.xlsx            month, a 30-day chart; the same figures as a workbook
    GET  /r/incidents             the list (open / overdue / closed / all)
    GET  /r/incidents/<id>        the incident, its reports, its history; the owner's forms
    POST /r/incidents/<id>/state  received → accepted → in progress → resolved / closed with a reason, public note
    POST /r/incidents/<id>/place  hand to a department (the district's desk) or back to the queue (the owner)
    GET  /r/review                borderline duplicates, both reports side by side
    POST /r/review/<n>            same problem (merge) or two problems
    GET  /r/queue                 the district's queue of incidents no department could be given

Every route checks the user's kind (area "reports") and scopes every query (app/reports.py); an
incident outside the scope is "not found". Every view and change is audited by incident id.
"""

from __future__ import annotations

import datetime as dt
import json

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import excel
from app.audit import audit
from app.auth.deps import Forbidden, NotFound, get_db, require
from app.auth.principal import Principal
from app.pages import render
from app.reports import IncidentScope, incident_scope, may_change, may_place, reports_desk
from citizen_reports.board import board, board_workbook, chart_geometry
from citizen_reports.models import CST, OPEN_STATES, Incident, Report, ReviewItem, as_cst, utc
from citizen_reports.states import (
    CLOSE_REASON_LABELS,
    STATE_LABELS,
    TRANSITIONS,
    StateError,
    change_state,
    decide_review,
    transfer,
)
from sharing.masking import mask_text

router = APIRouter(prefix="/r")
staff = require("reports")
PAGE_SIZE = 50
LISTS = {"open": "未办结", "overdue": "超期", "closed": "已办结或关闭", "all": "全部"}


def _now() -> dt.datetime:
    return dt.datetime.now(CST)


def _scope(request: Request, p: Principal) -> IncidentScope:
    return incident_scope(p, reports_desk(request.app))


def _incident_or_404(db: Session, scope: IncidentScope, incident_id: str) -> Incident:
    inc = db.get(Incident, incident_id)
    if inc is None or not scope.sees(inc):
        raise NotFound("没有找到这个事件（不存在，或不归您管）")
    return inc


def _common(request: Request, p: Principal, scope: IncidentScope, db: Session) -> dict:
    desk = reports_desk(request.app)
    reviews = 0
    if scope.kind == "department":
        reviews = (
            db.scalar(
                select(func.count())
                .select_from(ReviewItem)
                .where(ReviewItem.status == "open", ReviewItem.department == scope.department)
            )
            or 0
        )
    return {
        "scope": scope,
        "open_reviews": reviews,
        "STATE_LABELS": STATE_LABELS,
        "OPEN_STATES": OPEN_STATES,
        "CLOSE_REASON_LABELS": CLOSE_REASON_LABELS,
        "dept_name": desk.name,
        "as_cst": as_cst,
        "is_admin": p.kind == "admin",
    }


# ---------------------------------------------------------------------------------------- board
@router.get("/board")
def board_page(request: Request, p: Principal = Depends(staff), db: Session = Depends(get_db)):
    scope = _scope(request, p)
    b = board(db, _now(), title=scope.label, **scope.board_key)
    audit(request, p, "view", f"reports/board?{scope.kind}={scope.department or scope.street or 'district'}")
    return render(request, "reports/board.html", p, b=b, chart=chart_geometry(b), **_common(request, p, scope, db))


@router.get("/board.xlsx")
def board_xlsx(request: Request, p: Principal = Depends(staff), db: Session = Depends(get_db)):
    scope = _scope(request, p)
    b = board(db, _now(), title=scope.label, **scope.board_key)
    audit(request, p, "download", f"reports/board.xlsx?{scope.kind}={scope.department or scope.street or 'district'}")
    return excel.download(f"{scope.label}_百姓拍工作进展_{b.now:%Y%m%d}.xlsx", board_workbook(b))


# ---------------------------------------------------------------------------------------- incidents
def _listed(db: Session, scope: IncidentScope, which: str, extra=()):
    q = select(Incident).where(Incident.merged_into.is_(None), *scope.filters(), *extra)
    if which == "open":
        q = q.where(Incident.status.in_(OPEN_STATES)).order_by(Incident.due_at)
    elif which == "overdue":
        q = q.where(Incident.status.in_(OPEN_STATES), Incident.due_at < utc(_now())).order_by(Incident.due_at)
    elif which == "closed":
        q = q.where(Incident.status.not_in(OPEN_STATES)).order_by(Incident.updated_at.desc())
    else:
        q = q.order_by(Incident.opened_at.desc())
    return q


def _page(db: Session, q, page: int) -> tuple[list[Incident], int, int, int]:
    total = db.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = list(db.scalars(q.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    return rows, total, page, pages


def _list_page(request, p, db, scope: IncidentScope, q, page: int, which: str, title: str, target: str):
    rows, total, page, pages = _page(db, q, page)
    audit(request, p, "view", f"{target}&page={page}" if "?" in target else f"{target}?page={page}")
    return render(
        request,
        "reports/incidents.html",
        p,
        rows=rows,
        total=total,
        which=which,
        lists=LISTS,
        page=page,
        pages=pages,
        query=f"which={which}&" if which in LISTS else "",
        now_utc=utc(_now()),
        title=title,
        **_common(request, p, scope, db),
    )


@router.get("/incidents")
def incidents(
    request: Request,
    which: str = "open",
    page: int = 1,
    p: Principal = Depends(staff),
    db: Session = Depends(get_db),
):
    scope = _scope(request, p)
    which = which if which in LISTS else "open"
    q = _listed(db, scope, which)
    return _list_page(request, p, db, scope, q, page, which, LISTS[which], f"reports/incidents?which={which}")


@router.get("/queue")
def queue(request: Request, page: int = 1, p: Principal = Depends(staff), db: Session = Depends(get_db)):
    """The district's queue: incidents no department could be given (no usable place, outside the
    district, an unknown 小类 …), each with the reason; the district's desk hands them on."""
    scope = _scope(request, p)
    desk = reports_desk(request.app)
    if scope.kind != "district":
        raise Forbidden("区里的待分拨队列由区城运中心（区管理员）处理")
    q = _listed(db, IncidentScope(scope.label, "district"), "open", (Incident.department == desk.queue_id,))
    return _list_page(request, p, db, scope, q, page, "queue", desk.cfg.district_queue.name, "reports/queue")


def _reports_of(inc: Incident) -> list[dict]:
    out = []
    for r in inc.reports:
        why = None
        if r.match_explanation:
            try:
                why = json.loads(r.match_explanation)
            except ValueError:
                why = None
        try:  # what intake noted on the row (a 大类 taken from the 小类, a late time …): staff should see it
            notes = [mask_text(str(n)) for n in json.loads(r.notes)] if r.notes else []
        except ValueError:
            notes = [mask_text(r.notes)]
        out.append(
            {
                "r": r,
                "description": mask_text(r.description),
                "address": mask_text(r.address_text),
                "why": why,
                "notes": notes,
            }
        )
    return out


def _incident_page(request, p, db, inc: Incident, status_code=200, error=None, saved=False):
    scope = _scope(request, p)
    desk = reports_desk(request.app)
    db.refresh(inc)
    return render(
        request,
        "reports/incident.html",
        p,
        status_code=status_code,
        inc=inc,
        reports=_reports_of(inc),
        events=list(inc.events),
        next_states=sorted(TRANSITIONS[inc.status], key=list(STATE_LABELS).index) if not inc.merged_into else [],
        can_change=may_change(p, inc),
        can_place=may_place(p, inc, desk),
        departments=[(d, desk.name(d)) for d in desk.cfg.departments() if d != inc.department],
        queue_id=desk.queue_id,
        error=error,
        saved=saved,
        overdue=inc.status in OPEN_STATES and inc.due_at < utc(_now()),
        **_common(request, p, scope, db),
    )


@router.get("/incidents/{incident_id}")
def incident(
    request: Request, incident_id: str, saved: int = 0, p: Principal = Depends(staff), db: Session = Depends(get_db)
):
    inc = _incident_or_404(db, _scope(request, p), incident_id)
    audit(request, p, "view", f"incident/{inc.id}")
    return _incident_page(request, p, db, inc, saved=bool(saved))


@router.post("/incidents/{incident_id}/state")
def incident_state(
    request: Request,
    incident_id: str,
    to: str = Form(""),
    public_note: str = Form(""),
    internal_note: str = Form(""),
    close_reason: str = Form(""),
    p: Principal = Depends(staff),
    db: Session = Depends(get_db),
):
    inc = _incident_or_404(db, _scope(request, p), incident_id)
    if not may_change(p, inc):
        audit(request, p, "update", f"incident/{inc.id}", outcome="denied", reason="not the owning department")
        raise Forbidden("只有负责该事件的部门可以更改状态")
    try:
        change_state(
            db,
            inc,
            to,
            p.login,
            public_note=public_note,
            internal_note=internal_note,
            close_reason=close_reason or None,
        )
    except StateError as e:
        db.rollback()
        return _incident_page(request, p, db, db.get(Incident, incident_id), 422, error=str(e))
    db.commit()
    audit(request, p, "update", f"incident/{inc.id}", reason=f"state {to}")
    return RedirectResponse(f"/r/incidents/{inc.id}?saved=1", status_code=303)


@router.post("/incidents/{incident_id}/place")
def incident_place(
    request: Request,
    incident_id: str,
    department: str = Form(""),
    reason: str = Form(""),
    p: Principal = Depends(staff),
    db: Session = Depends(get_db),
):
    desk = reports_desk(request.app)
    inc = _incident_or_404(db, _scope(request, p), incident_id)
    if not may_place(p, inc, desk):
        audit(request, p, "update", f"incident/{inc.id}", outcome="denied", reason="may not place")
        raise Forbidden("只有负责该事件的部门或区城运中心可以转派")
    if p.kind == "department":
        department = desk.queue_id  # a department hands back to the district's desk, which places it
    if department not in desk.cfg.departments() and department != desk.queue_id:
        return _incident_page(request, p, db, inc, 422, error="请选择要转派的部门")
    try:
        transfer(db, inc, department, p.login, reason)
    except StateError as e:
        db.rollback()
        return _incident_page(request, p, db, db.get(Incident, incident_id), 422, error=str(e))
    db.commit()
    audit(request, p, "update", f"incident/{inc.id}", reason=f"to {department}")
    back = "/r/queue" if p.kind == "admin" else f"/r/incidents/{inc.id}?saved=1"
    return RedirectResponse(back, status_code=303)


# ---------------------------------------------------------------------------------------- review
def _review_items(db: Session, scope: IncidentScope) -> list[dict]:
    if scope.kind != "department":
        raise Forbidden("重复上报的复核由负责的部门处理")
    items = list(
        db.scalars(
            select(ReviewItem)
            .where(ReviewItem.status == "open", ReviewItem.department == scope.department)
            .order_by(ReviewItem.id)
            .limit(100)
        )
    )
    nos = {i.report_no for i in items} | {i.candidate_report_no for i in items}
    reports = {r.report_no: r for r in db.scalars(select(Report).where(Report.report_no.in_(nos)))} if nos else {}
    incs = {i.incident_id for i in items} | {i.candidate_incident_id for i in items}
    incidents = {x.id: x for x in db.scalars(select(Incident).where(Incident.id.in_(incs)))} if incs else {}
    out = []
    for item in items:
        a, b = reports.get(item.report_no), reports.get(item.candidate_report_no)
        try:
            why = json.loads(item.explanation)
        except ValueError:
            why = None
        out.append(
            {
                "item": item,
                "pair": [
                    {"r": x, "inc": incidents.get(iid), "description": mask_text(x.description) if x else ""}
                    for x, iid in ((a, item.incident_id), (b, item.candidate_incident_id))
                ],
                "why": why,
            }
        )
    return out


@router.get("/review")
def review(request: Request, p: Principal = Depends(staff), db: Session = Depends(get_db)):
    scope = _scope(request, p)
    items = _review_items(db, scope)
    audit(request, p, "view", "reports/review")
    return render(request, "reports/review.html", p, items=items, error=None, **_common(request, p, scope, db))


@router.post("/review/{item_id}")
def review_decide(
    request: Request,
    item_id: int,
    same: str = Form(""),
    p: Principal = Depends(staff),
    db: Session = Depends(get_db),
):
    scope = _scope(request, p)
    item = db.get(ReviewItem, item_id)
    if item is None or scope.kind != "department" or item.department != scope.department:
        raise NotFound("没有找到这一对（不存在，或不归您复核）")
    if same not in ("1", "0"):
        raise NotFound("请选择：同一问题，或不同问题")
    try:
        decide_review(db, item, same == "1", p.login)
    except StateError as e:
        db.rollback()
        items = _review_items(db, scope)
        return render(
            request, "reports/review.html", p, 422, items=items, error=str(e), **_common(request, p, scope, db)
        )
    db.commit()
    audit(request, p, "update", f"review/{item.id}", reason="same" if same == "1" else "apart")
    return RedirectResponse("/r/review", status_code=303)
