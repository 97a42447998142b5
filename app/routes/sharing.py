"""Departments and street offices as sharing roles: the catalog, the query gateway as a page, Parquet
downloads of the role's published datasets.

The query page calls `sharing.gateway.run_query` — the same two-parser checks, read-only execution,
limits and audit as `civichub query`, with the user's login recorded beside the role.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, Response

from app.audit import audit
from app.auth.deps import Forbidden, NotFound, require
from app.auth.principal import Principal
from app.pages import render
from app.queries import rows
from catalog.spec import load_catalog
from sharing import gateway

router = APIRouter(prefix="/d")
sharing_user = require("sharing")
MAX_PAGE_ROWS = 500


@lru_cache(maxsize=1)
def _catalog():
    return load_catalog()


def _fields(request: Request, role: str) -> dict[str, list[dict]]:
    store = request.app.state.store
    if "about.fields" not in store.tables(role):
        return {}
    with store.cursor(role) as cur:
        found = rows(cur, "select dataset, field, type, grade, shown from about.fields order by dataset")
    out: dict[str, list[dict]] = {}
    for r in found:
        out.setdefault(r["dataset"], []).append(r)
    return out


@router.get("/catalog")
def catalog(request: Request, p: Principal = Depends(sharing_user)):
    cat = _catalog()
    store = request.app.state.store
    received = store.tables(p.hub_role)
    counts = {d["dataset"]: d["rows"] for d in store.manifest(p.hub_role).get("datasets", [])}
    entries = [
        {
            "dataset": e.dataset,
            "code": e.code,
            "name": e.name,
            "provider": e.provider,
            "sharing_class": e.sharing_class,
            "kind": e.kind,
            "received": e.dataset in received,
            "rows": counts.get(e.dataset),
        }
        for e in sorted(cat.entries.values(), key=lambda e: e.code)
        if e.kind == "table" or e.dataset in received
    ]
    return render(request, "sharing/catalog.html", p, entries=entries, role=p.hub_role)


@router.get("/catalog/{dataset}")
def entry(request: Request, dataset: str, p: Principal = Depends(sharing_user)):
    cat = _catalog()
    e = cat.entries.get(dataset)
    if e is None:
        raise NotFound("目录中没有这个数据集")
    store = request.app.state.store
    received = dataset in store.tables(p.hub_role)
    fields = _fields(request, p.hub_role).get(dataset, []) if received else []
    for f in fields:
        g = cat.grade_of(dataset, f["field"])
        f["label"] = g.label if g else ""
    declared = [] if received else [(c, cat.grade_of(dataset, c)) for c in e.declared_fields]
    return render(
        request, "sharing/entry.html", p, e=e, received=received, fields=fields, declared=declared, role=p.hub_role
    )


@router.get("/query")
def query_page(request: Request, p: Principal = Depends(sharing_user)):
    views = sorted(t for t in request.app.state.store.tables(p.hub_role))
    return render(request, "sharing/query.html", p, sql="", result=None, views=views, limit=100)


@router.post("/query")
def query_run(
    request: Request,
    sql: str = Form(""),
    limit: int = Form(100),
    format: str = Form("html"),
    p: Principal = Depends(sharing_user),
):
    settings = request.app.state.settings
    limit = max(1, min(int(limit), gateway.MAX_LIMIT))
    result = gateway.run_query(
        p.hub_role,
        sql,
        db_path=settings.hub_db,
        limit=limit,
        audit_path=settings.paths.audit_log,
        actor=p.login,
    )
    if result.allowed and format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(result.columns)
        for r in result.rows:
            w.writerow(["" if v is None else _csv_safe(str(v)) for v in r])
        return Response(
            "\ufeff" + buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote('查询结果.csv')}"},
        )
    views = sorted(t for t in request.app.state.store.tables(p.hub_role))
    return render(
        request,
        "sharing/query.html",
        p,
        status_code=200 if result.allowed else 400,
        sql=sql,
        result=result,
        shown=result.rows[:MAX_PAGE_ROWS],
        views=views,
        limit=limit,
    )


def _csv_safe(value: str) -> str:
    """A cell that a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/datasets/{dataset}.parquet")
def parquet(request: Request, dataset: str, p: Principal = Depends(sharing_user)):
    cat = _catalog()
    if dataset not in cat.entries:
        raise NotFound("目录中没有这个数据集")
    path = request.app.state.store.parquet_path(p.hub_role, dataset)
    if path is None:
        audit(request, p, "download", f"{dataset}.parquet", "refused", "not granted")
        raise Forbidden("本角色未获授权（或该数据集尚未发布），不能下载")
    audit(request, p, "download", f"{dataset}.parquet")
    return FileResponse(path, media_type="application/vnd.apache.parquet", filename=f"{dataset}.parquet")
