"""Open311 GeoReport v2 (JSON) for existing clients: the services, a new request, requests, one request.

    GET  /open311/v2/services.json
    POST /open311/v2/requests.json            service_code, lat/long (GCJ-02) or address_string, description,
                                              attribute[photo_hash], device_id/account_id (hashed, never kept)
    GET  /open311/v2/requests.json            service_request_id=a,b | service_code | status | start_date | end_date
    GET  /open311/v2/requests/<编号>.json

No login and no cookie: what the interface means (and the masking of what a citizen typed) is in
citizen_reports/open311.py; these routes only translate HTTP. Errors are Open311's
`[{"code": …, "description": …}]` with the HTTP status of the code.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app.reports import reports_desk
from citizen_reports import open311

router = APIRouter(prefix="/open311/v2")


def _error(e: open311.Open311Error) -> JSONResponse:
    return JSONResponse(e.body(), status_code=e.code)


def _session(request: Request) -> Session:
    return request.app.state.session_factory()


@router.get("/services.json")
def services(request: Request):
    desk = reports_desk(request.app)
    return JSONResponse(open311.services(desk.cfg, desk.names))


@router.post("/requests.json")
async def create_request(request: Request):
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            return _error(open311.Open311Error(400, "the body is not valid JSON"))
        if not isinstance(body, dict):
            return _error(open311.Open311Error(400, "the body must be a JSON object"))
        form = {str(k): "" if v is None else str(v) for k, v in body.items()}
    else:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_create, request, form)


def _create(request: Request, form: dict[str, str]) -> JSONResponse:
    desk = reports_desk(request.app)
    with _session(request) as session:
        try:
            out = open311.post_request(session, form, desk.cfg, desk.library(session), desk.names)
        except open311.Open311Error as e:
            session.rollback()
            return _error(e)
    return JSONResponse([out])


@router.get("/requests.json")
def list_requests(
    request: Request,
    service_request_id: str = "",
    service_code: str = "",
    status: str = "",
    start_date: str = "",
    end_date: str = "",
):
    desk = reports_desk(request.app)
    try:
        if status not in ("", "open", "closed"):
            raise open311.Open311Error(400, "status must be open or closed")
        start = open311.parse_time(start_date, "start_date")
        end = open311.parse_time(end_date, "end_date")
    except open311.Open311Error as e:
        return _error(e)
    ids = [x.strip() for x in service_request_id.split(",") if x.strip()]
    with _session(request) as session:
        rows = open311.find_requests(
            session,
            ids=ids or None,
            service_code_=service_code or None,
            status=status or None,
            start=start,
            end=end,
            cfg=desk.cfg,
        )
        return JSONResponse([open311.request_view(r, i, desk.cfg, desk.names) for r, i in rows])


@router.get("/requests/{request_id}.json")
def one_request(request: Request, request_id: str):
    desk = reports_desk(request.app)
    with _session(request) as session:
        rows = open311.find_requests(session, ids=[request_id], cfg=desk.cfg)
        if not rows:
            return _error(open311.Open311Error(404, f"service_request_id {request_id[:64]!r} not found"))
        return JSONResponse([open311.request_view(r, i, desk.cfg, desk.names) for r, i in rows])
