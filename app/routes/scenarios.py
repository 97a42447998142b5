"""Scenario lists (精准救助与预警, targeting/scenarios.yml): per street, with the reasons; follow-up recorded
in the browser and taken in to scenario.follow_up like a returned workbook's 跟进结果.

An analyst is a department user whose role receives scenario.match (民政 in roles.yml); street offices
see their street, committee workers their committee.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from functools import lru_cache

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import audit
from app.auth.deps import Forbidden, NotFound, get_db, require
from app.auth.principal import Principal
from app.db.models import FollowUp, utcnow
from app.pages import render
from app.queries import scenarios as sq
from targeting.config import load_scenarios
from targeting.worklists import RESULTS

router = APIRouter(prefix="/scenarios")
scenario_user = require("scenarios")
MAX_NOTE = 500


@lru_cache(maxsize=1)
def _scenarios():
    return load_scenarios()


def _scope(p: Principal) -> tuple[str | None, str | None]:
    if p.kind == "committee":
        return p.street_code, p.community_code
    if p.kind == "street":
        return p.street_code, None
    return None, None


def _tables(request: Request, p: Principal):
    store = request.app.state.store
    tables = store.tables(p.hub_role)
    if "scenario.match" not in tables:
        raise Forbidden("本角色未获授权查看走访名单（scenario.match）")
    return store, tables


def _scenario_or_404(name: str):
    for s in _scenarios().scenarios:
        if s.name == name:
            return s
    raise NotFound("没有这个名单")


def _latest_follow_ups(db: Session, match_ids: list[str]) -> dict[str, FollowUp]:
    if not match_ids:
        return {}
    newest = select(func.max(FollowUp.id)).where(FollowUp.match_id.in_(match_ids)).group_by(FollowUp.match_id)
    return {f.match_id: f for f in db.scalars(select(FollowUp).where(FollowUp.id.in_(newest))).all()}


@router.get("")
def index(request: Request, p: Principal = Depends(scenario_user)):
    store, tables = _tables(request, p)
    street, community = _scope(p)
    with store.cursor(p.hub_role) as cur:
        counts = sq.counts(cur, tables, street, community)
    by_scenario: dict[str, list[dict]] = {}
    for c in counts:
        by_scenario.setdefault(c["scenario"], []).append(c)
    items = [
        {"s": s, "streets": by_scenario.get(s.name, []), "total": sum(c["n"] for c in by_scenario.get(s.name, []))}
        for s in _scenarios().scenarios
    ]
    return render(request, "scenarios/index.html", p, items=items)


@router.get("/{name}")
def scenario_list(
    request: Request, name: str, street: str = "", p: Principal = Depends(scenario_user), db: Session = Depends(get_db)
):
    s = _scenario_or_404(name)
    store, tables = _tables(request, p)
    scope_street, community = _scope(p)
    with store.cursor(p.hub_role) as cur:
        found = sq.matches(cur, tables, name, scope_street, community, only_street=street[:12] or None)
    latest = _latest_follow_ups(db, [m["match_id"] for m in found])
    for m in found:
        m["follow_up"] = latest.get(m["match_id"])
    audit(request, p, "view", f"scenario/{name}?street={street[:12]}")
    return render(request, "scenarios/list.html", p, s=s, matches=found, results=RESULTS, street=street[:12])


@router.post("/{name}/{match_id}/follow-up")
def follow_up(
    request: Request,
    name: str,
    match_id: str,
    result: str = Form(""),
    note: str = Form(""),
    p: Principal = Depends(scenario_user),
    db: Session = Depends(get_db),
):
    _scenario_or_404(name)
    store, tables = _tables(request, p)
    street, community = _scope(p)
    with store.cursor(p.hub_role) as cur:
        m = sq.match_in_scope(cur, tables, name, match_id, street, community)
    if m is None:
        raise NotFound("名单中没有这一条（不存在，或不在您的辖区）")
    if result not in RESULTS:
        audit(request, p, "submit", f"follow_up/{match_id}", "refused", "result not in vocabulary")
        return render(request, "error.html", p, status_code=422, status=422, message="请选择跟进结果")
    f = FollowUp(
        uid=uuid.uuid4().hex,
        match_id=m["match_id"],
        scenario=name,
        entity_id=m["entity_id"],
        street_code=m["street_code"],
        community_code=m["community_code"],
        result=result,
        note=(note or "").strip()[:MAX_NOTE] or None,
        followed_by=p.display_name,
        user_id=p.user_id,
        followed_on=_dt.date.today(),
        recorded_at=utcnow(),
    )
    db.add(f)
    db.commit()
    audit(request, p, "submit", f"follow_up/{match_id}", "ok", result)
    if "hx-request" in request.headers:
        return render(request, "scenarios/_follow_up.html", p, m={**m, "follow_up": f}, s_name=name, results=RESULTS)
    return RedirectResponse(f"/scenarios/{name}#m-{m['match_id']}", status_code=303)
