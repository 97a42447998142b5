"""Street office (街道): progress per committee, the street's findings and rosters, Excel downloads.

All from the street's own publication; a committee of another street is "not found".
"""

from __future__ import annotations

import datetime as _dt

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from app import excel
from app import verifications as ver
from app.audit import audit
from app.auth.deps import NotFound, get_db, require
from app.auth.principal import Principal
from app.pages import render
from app.queries import findings as fq
from app.queries import rosters as rq
from app.routes.common import household_page, read, roster_page
from quality import findings as finding_states

router = APIRouter(prefix="/s")
street = require("street")


def _committees(request: Request, p: Principal) -> list[dict]:
    return read(request, p, ("committees", p.street_code), lambda cur, t: fq.committees_of(cur, t, p.street_code))


def _street_name(request: Request, p: Principal) -> str:
    return read(request, p, ("street_name", p.street_code), lambda cur, t: fq.street_name(cur, t, p.street_code))


def _progress(request: Request, p: Principal, db: Session) -> tuple[str, list[dict]]:
    name = _street_name(request, p)
    per = read(request, p, ("progress", p.street_code), lambda cur, t: fq.progress(cur, t, p.street_code))
    latest = ver.latest_in_street(db, p.street_code)
    for c in per:
        done = sum(1 for fid in c["open_ids"] if latest.get(fid) is not None and latest[fid].intake_status in ver.DONE)
        c["verified_in_app"] = done
        c["left"] = c["open"] - done
    return name, per


@router.get("/progress")
def progress(request: Request, p: Principal = Depends(street), db: Session = Depends(get_db)):
    name, per = _progress(request, p, db)
    totals = {k: sum(c[k] or 0 for c in per) for k in ("open", "resolved", "rejected", "verified_in_app", "left")}
    return render(request, "street/progress.html", p, street_name=name, committees=per, totals=totals)


PROGRESS_HEADERS = ["居委代码", "居委名称", "待核实", "已在应用中核实", "尚余", "已解决", "不属实", "最早未结批次"]


@router.get("/progress.xlsx")
def progress_xlsx(request: Request, p: Principal = Depends(street), db: Session = Depends(get_db)):
    name, per = _progress(request, p, db)
    data = excel.workbook(
        f"{name} 各居委核实进度（{_dt.date.today():%Y-%m-%d}）",
        PROGRESS_HEADERS,
        [
            [
                c["community_code"],
                c["community_name"],
                c["open"],
                c["verified_in_app"],
                c["left"],
                c["resolved"],
                c["rejected"],
                c["oldest_open"],
            ]
            for c in per
        ],
    )
    audit(request, p, "download", "street/progress.xlsx")
    return excel.download(f"{name}_核实进度.xlsx", data)


def _community_or_404(request: Request, p: Principal, community: str) -> dict:
    for c in _committees(request, p):
        if c["community_code"] == community:
            return c
    raise NotFound("没有找到这个居委（不存在，或不属于本街道）")


def _findings(request: Request, p: Principal, db: Session, community: str, status: str):
    committees = _committees(request, p)
    if community:
        _community_or_404(request, p, community)
    found = read(
        request,
        p,
        ("findings", p.street_code, community or None, status or None),
        lambda cur, t: fq.findings_of(cur, t, p.street_code, community or None, status=status or None),
    )
    latest = ver.latest_in_street(db, p.street_code)
    for f in found:
        f["state"] = ver.state_label(latest.get(f["finding_id"])) if f["status"] == "open" else f["status"]
    return committees, found


# the finding statuses (quality/findings.py, the one list of them) as a street office reads them
STATUSES = dict(zip(finding_states.STATUSES, ("待核实", "已解决", "不属实"), strict=True)) | {"": "全部"}


PAGE_SIZE = 100


@router.get("/findings")
def findings(
    request: Request,
    community: str = "",
    status: str = "open",
    page: int = 1,
    p: Principal = Depends(street),
    db: Session = Depends(get_db),
):
    status = status if status in STATUSES else "open"
    committees, found = _findings(request, p, db, community, status)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(1, page), pages)
    audit(request, p, "view", f"street/findings?community={community}&status={status}&page={page}")
    return render(
        request,
        "street/findings.html",
        p,
        committees=committees,
        findings=found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(found),
        page=page,
        pages=pages,
        community=community,
        status=status,
        statuses=STATUSES,
    )


FINDING_HEADERS = ["问题编号", "居委代码", "问题类型", "严重程度", "对象编号", "姓名/名称", "地址", "核实项目",
                   "现有值", "建议值", "问题说明", "数据来源", "来源行", "首次发现", "状态"]  # fmt: skip


@router.get("/findings.xlsx")
def findings_xlsx(
    request: Request,
    community: str = "",
    status: str = "open",
    p: Principal = Depends(street),
    db: Session = Depends(get_db),
):
    status = status if status in STATUSES else "open"
    _committees, found = _findings(request, p, db, community, status)
    data = excel.workbook(
        f"{p.street_code} 数据质量问题（{STATUSES[status]}，{_dt.date.today():%Y-%m-%d}）",
        FINDING_HEADERS,
        [
            [
                f["finding_id"],
                f["community_code"],
                f["rule_label"],
                f["severity_label"],
                f["entity_id"],
                f["name_shown"],
                f["address_shown"],
                f["field_label"],
                f["observed"],
                f["suggested"],
                f["message_shown"],
                f["source_label"],
                f["source_where"],
                f["first_seen"],
                f["state"],
            ]
            for f in found
        ],
        note="含个人信息，仅限核实使用；此表为导出件，核实结果请在应用中保存。",
    )
    audit(request, p, "download", f"street/findings.xlsx?community={community}&status={status}")
    return excel.download(f"{community or p.street_code}_问题清单.xlsx", data)


@router.get("/findings/{finding_id}")
def finding(request: Request, finding_id: str, p: Principal = Depends(street), db: Session = Depends(get_db)):
    def reader(cur, tables):
        f = fq.finding_in_scope(cur, tables, finding_id, p.street_code)
        if f is not None:
            f["master"] = fq.master_record(cur, tables, f)
        return f

    f = read(request, p, ("finding", finding_id[:64], p.street_code, None), reader)
    if f is None:
        raise NotFound("没有找到这条问题（不存在，或不属于本街道）")
    latest = ver.latest_in_street(db, p.street_code).get(f["finding_id"])
    audit(request, p, "view", f"finding/{f['finding_id']}")
    return render(request, "street/finding.html", p, f=f, verification=latest, state=ver.state_label(latest))


@router.get("/rosters")
def rosters(request: Request, p: Principal = Depends(street)):
    return render(
        request, "street/rosters.html", p, committees=_committees(request, p), street_name=_street_name(request, p)
    )


@router.get("/rosters/{community}.xlsx")
def roster_xlsx(request: Request, community: str, p: Principal = Depends(street)):
    c = _community_or_404(request, p, community)
    members = read(
        request,
        p,
        ("roster_rows", p.street_code, community),
        lambda cur, t: rq.roster_rows(cur, t, p.street_code, community),
    )
    data = excel.workbook(
        f"{c['community_name']} 居民户花名册",
        [h for _k, h in rq.ROSTER_HEADERS],
        [[m.get(k) for k, _h in rq.ROSTER_HEADERS] for m in members],
        note="含个人信息，仅限基层治理使用，不得外传；身份证号已遮蔽。",
    )
    audit(request, p, "download", f"roster/{community}.xlsx")
    return excel.download(f"{community}_{c['community_name']}_花名册.xlsx", data)


@router.get("/rosters/{community}")
def roster(request: Request, community: str, q: str = "", page: int = 1, p: Principal = Depends(street)):
    c = _community_or_404(request, p, community)
    return roster_page(
        request,
        p,
        community,
        q,
        page,
        title=f"{c['community_name']} 花名册",
        base=f"/s/rosters/{community}",
        household_base="/s/households",
        download=f"/s/rosters/{community}.xlsx",
    )


@router.get("/households/{household_id}")
def household(request: Request, household_id: str, p: Principal = Depends(street)):
    return household_page(request, p, household_id, finding_base="/s/findings")
