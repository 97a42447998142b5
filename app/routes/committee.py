"""Committee worker (居委): my open findings with evidence, verdicts saved at once, my roster (花名册).

Everything is read from the street's publication filtered to the worker's committee; a finding or a
household of another committee is "not found" (404), exactly like an id that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from app import verifications as ver
from app.audit import audit
from app.auth.deps import NotFound, get_db, require
from app.auth.principal import Principal
from app.pages import render
from app.queries import findings as fq
from app.routes.common import household_page, read, roster_page
from quality import worklist_format as wf

router = APIRouter(prefix="/c")
committee = require("committee")


def _committee_name(request: Request, p: Principal) -> str:
    committees = read(request, p, ("committees", p.street_code), lambda cur, t: fq.committees_of(cur, t, p.street_code))
    for c in committees:
        if c["community_code"] == p.community_code:
            return c["community_name"]
    return p.community_code or ""


PAGE_SIZE = 50  # a phone at the door on a slow connection: a page of 50, the count of what is left on top


@router.get("/findings")
def my_findings(
    request: Request,
    show: str = "todo",
    page: int = 1,
    p: Principal = Depends(committee),
    db: Session = Depends(get_db),
):
    found = read(
        request,
        p,
        ("findings", p.street_code, p.community_code, "open"),
        lambda cur, t: fq.findings_of(cur, t, p.street_code, p.community_code, status="open"),
    )
    name = _committee_name(request, p)
    latest = ver.latest(db, p.community_code)
    for f in found:
        v = latest.get(f["finding_id"])
        f["verification"] = v
        f["state"] = ver.state_label(v)
        f["done"] = v is not None and v.intake_status in ver.DONE
    done = sum(1 for f in found if f["done"])
    show = show if show in ("todo", "done", "all") else "todo"
    shown = [
        f for f in found if (show == "all") or (show == "done" and f["done"]) or (show == "todo" and not f["done"])
    ]
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(max(1, page), pages)
    audit(request, p, "view", f"committee/findings?show={show}&page={page}")
    return render(
        request,
        "committee/findings.html",
        p,
        findings=shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(found),
        done=done,
        left=len(found) - done,
        show=show,
        page=page,
        pages=pages,
        committee_name=name,
    )


def _finding_or_404(request: Request, p: Principal, finding_id: str) -> dict:
    def reader(cur, tables):
        f = fq.finding_in_scope(cur, tables, finding_id, p.street_code, p.community_code)
        if f is not None:
            f["master"] = fq.master_record(cur, tables, f)
        return f

    f = read(request, p, ("finding", finding_id[:64], p.street_code, p.community_code), reader)
    if f is None:
        raise NotFound("没有找到这条问题（不存在，或不属于本居委）")
    f["open_ids"] = read(
        request,
        p,
        ("open_ids", p.street_code, p.community_code),
        lambda cur, t: fq.open_ids(cur, t, p.street_code, p.community_code),
    )
    return f


def _next_open(db: Session, p: Principal, f: dict) -> str | None:
    """The next finding still to verify after this one in the list's order (then from the top)."""
    ids = f["open_ids"]
    latest = ver.latest(db, p.community_code)
    position = {fid: n for n, fid in enumerate(ids)}
    here = position.get(f["finding_id"], -1)
    todo = [
        i
        for i in ids
        if i != f["finding_id"] and not (latest.get(i) is not None and latest[i].intake_status in ver.DONE)
    ]
    after = [i for i in todo if position[i] > here]
    return (after or todo or [None])[0]


def _finding_page(request, p, db, f, status_code=200, error=None, form=None, saved=False):
    latest = ver.latest(db, p.community_code, [f["finding_id"]]).get(f["finding_id"])
    template = "committee/_verify.html" if "hx-request" in request.headers else "committee/finding.html"
    return render(
        request,
        template,
        p,
        status_code=status_code,
        f=f,
        verification=latest,
        state=ver.state_label(latest),
        decisions=wf.DECISIONS,
        error=error,
        form=form or {"decision": "", "value": "", "note": ""},
        saved=saved,
        next_id=_next_open(db, p, f),
        can_verify=f.get("status") == "open",
    )


@router.get("/findings/{finding_id}")
def finding(
    request: Request, finding_id: str, saved: int = 0, p: Principal = Depends(committee), db: Session = Depends(get_db)
):
    f = _finding_or_404(request, p, finding_id)
    audit(request, p, "view", f"finding/{f['finding_id']}")
    return _finding_page(request, p, db, f, saved=bool(saved))


@router.post("/findings/{finding_id}/verify")
def verify(
    request: Request,
    finding_id: str,
    decision: str = Form(""),
    value: str = Form(""),
    note: str = Form(""),
    p: Principal = Depends(committee),
    db: Session = Depends(get_db),
):
    f = _finding_or_404(request, p, finding_id)
    form = {"decision": decision, "value": value, "note": note}
    htmx = "hx-request" in request.headers
    if f.get("status") != "open":
        audit(request, p, "submit", f"finding/{f['finding_id']}", "refused", "finding not open")
        return _finding_page(request, p, db, f, 200 if htmx else 409, "该问题已处理，无需再核实", form)
    result = ver.save(db, f, decision, value, note, p)
    if result.error:
        db.rollback()
        audit(request, p, "submit", f"finding/{f['finding_id']}", "refused", result.error)
        return _finding_page(request, p, db, f, 200 if htmx else 422, result.error, form)
    db.commit()
    audit(
        request, p, "submit", f"finding/{f['finding_id']}", "ok", f"verification {result.verification.id}: {decision}"
    )
    if htmx:
        return _finding_page(request, p, db, f, saved=True)
    return RedirectResponse(f"/c/findings/{f['finding_id']}?saved=1", status_code=303)


@router.get("/roster")
def roster(request: Request, q: str = "", page: int = 1, p: Principal = Depends(committee)):
    title = f"{_committee_name(request, p)} 花名册"
    return roster_page(
        request,
        p,
        p.community_code,
        q,
        page,
        title=title,
        base="/c/roster",
        household_base="/c/households",
        download=None,
    )


@router.get("/households/{household_id}")
def household(request: Request, household_id: str, p: Principal = Depends(committee)):
    return household_page(request, p, household_id, finding_base="/c/findings", back="/c/roster")
