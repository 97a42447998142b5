"""What several areas' routes share: reading the caller's publication (cached per version), the roster
page and the household file, which committees and street offices show alike within their scope."""

from __future__ import annotations

from fastapi import Request

from app.audit import audit
from app.auth.deps import NotFound
from app.auth.principal import Principal
from app.pages import render
from app.queries import rosters as rq


def read(request: Request, p: Principal, key: tuple, reader):
    """`reader(cursor, tables)` on the user's hub role's publication, remembered per publication."""
    return request.app.state.store.query(p.hub_role, key, reader)


def roster_page(request: Request, p: Principal, community: str, q: str, page: int, *, title: str, base: str,
                household_base: str, download: str | None):  # fmt: skip
    """One page of a committee's households (the caller has checked the committee is in scope)."""
    q = q.strip()[:50]
    page = max(1, page)
    found, total = read(
        request,
        p,
        ("households", p.street_code, community, q, page),
        lambda cur, t: rq.households(cur, t, p.street_code, community, q, page),
    )
    audit(request, p, "view", f"roster/{community}")
    return render(
        request,
        "roster.html",
        p,
        households=found,
        total=total,
        q=q,
        page=page,
        pages=max(1, -(-total // rq.PAGE_SIZE)),
        title=title,
        base=base,
        household_base=household_base,
        download=download,
    )


def household_page(request: Request, p: Principal, household_id: str, *, finding_base: str, back: str | None = None):
    """A household file in the user's street (and committee, for a committee worker), else 404."""
    community = p.community_code if p.kind == "committee" else None
    h = read(
        request,
        p,
        ("household", household_id[:32], p.street_code, community),
        lambda cur, t: rq.household(cur, t, household_id, p.street_code, community),
    )
    if h is None:
        raise NotFound("没有找到这一户（不存在，或不在您的辖区）")
    audit(request, p, "view", f"household/{h['household_id']}")
    return render(
        request,
        "household.html",
        p,
        h=h,
        flags=rq.flags,
        finding_base=finding_base,
        back=back or f"/s/rosters/{h['community_code']}",
    )
