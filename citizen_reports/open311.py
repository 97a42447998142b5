"""Open311 GeoReport v2 over the citizen reports: the services, a new request, requests and their status.

The web routes (app) only translate HTTP; everything the interface means is here:

- a *service* is a 小类 (group: its 大类); its code is stable ASCII made of the 大类's letters and the
  pinyin initials of the 小类 (SZ-DLPS for 市政设施/道路破损);
- a *request* is one citizen's report: `service_request_id` is its 编号 (given by the hub, `API…`);
  `status` is open/closed (Open311) from its incident's state, `status_notes` the department's public
  note; extensions: `incident_id`, `duplicate_of` (the 编号 of the incident's first report) and
  `state` (received, accepted, in_progress, resolved, closed);
- `lat`/`long` are GCJ-02 degrees, as in the daily files (contracts.md);
- what a client may send about the person (email, phone, name, device or account id) is never kept:
  the reporter is an opaque hash of the device or account id.

A posted request goes through `service.take_in`, the same path as a daily file's row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping

from pypinyin import Style, lazy_pinyin
from sqlalchemy import select

from citizen_reports.config import MAJOR_CATEGORIES, ReportsConfig
from citizen_reports.intake import CST, Rejected, validate
from citizen_reports.models import CLOSED, OPEN_STATES, RESOLVED, Incident, Report, as_cst, utc
from citizen_reports.repository import SqlRepository
from citizen_reports.service import take_in
from citizen_reports.states import OPEN311_STATUS
from sharing.masking import mask_text

# the six 大类 (citizen_reports/config.py, their one list), each with its service_code prefix
MAJOR_CODES = dict(zip(MAJOR_CATEGORIES, ("SZ", "HW", "ZF", "ZT", "YL", "GD"), strict=True))
assert MAJOR_CODES["市政设施"] == "SZ" and MAJOR_CODES["工地管理"] == "GD"  # the list's order, as the codes assume
MAX_LIST = 1000


class Open311Error(ValueError):
    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description

    def body(self) -> list[dict]:
        return [{"code": self.code, "description": self.description}]


_CODES: dict[int, dict[str, tuple[str, str]]] = {}


def _codes(cfg: ReportsConfig) -> dict[str, tuple[str, str]]:
    """service_code -> (大类, 小类), in the order of the configuration."""
    cached = _CODES.get(id(cfg))
    if cached is not None:
        return cached
    out: dict[str, tuple[str, str]] = {}
    for major, cat in cfg.categories.items():
        for minor in cat.subcategories:
            base = f"{MAJOR_CODES.get(major, 'XX')}-" + "".join(
                p[0].upper() for p in lazy_pinyin(minor, style=Style.NORMAL)
            )
            code, n = base, 2
            while code in out:
                code, n = f"{base}{n}", n + 1
            out[code] = (major, minor)
    _CODES[id(cfg)] = out
    return out


def service_code(cfg: ReportsConfig, major: str, minor: str) -> str | None:
    for code, mm in _codes(cfg).items():
        if mm == (major, minor):
            return code
    return None


def services(cfg: ReportsConfig, department_names: Mapping[str, str] | None = None) -> list[dict]:
    """GET services.json: one service per 小类."""
    names = department_names or {}
    out = []
    for code, (major, minor) in _codes(cfg).items():
        rule = cfg.rule(major, minor)
        out.append(
            {
                "service_code": code,
                "service_name": minor,
                "description": f"{major}：{minor}（{names.get(rule.department, rule.department)}负责，{rule.due_hours:g}小时内答复）",
                "metadata": False,
                "type": "realtime",
                "keywords": f"{major},{minor}",
                "group": major,
            }
        )
    return out


def reporter_id(form: Mapping[str, str]) -> str:
    """An opaque id for the sender: a hash of its device or account id, never the person's details."""
    key = (form.get("device_id") or form.get("account_id") or "").strip()
    return "O" + hashlib.sha256(key.encode()).hexdigest()[:12] if key else ""


def new_report_no(now: dt.datetime) -> str:
    return f"API{now.astimezone(CST):%Y%m%d%H%M%S}{secrets.token_hex(3).upper()}"


def incoming_from_form(form: Mapping[str, str], cfg: ReportsConfig, now: dt.datetime):
    """The report a POST requests.json describes (or Open311Error with the reason)."""
    code = (form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required (GET services.json lists them)")
    mm = _codes(cfg).get(code)
    if mm is None:
        raise Open311Error(404, f"service_code {code!r} not found (GET services.json lists them)")
    lat, lon, address = (
        (form.get("lat") or "").strip(),
        (form.get("long") or "").strip(),
        (form.get("address_string") or "").strip(),
    )
    if not (lat and lon) and not address:
        raise Open311Error(400, "a location is required: lat and long (GCJ-02), or address_string")
    photo = (form.get("attribute[photo_hash]") or form.get("photo_hash") or "").strip()
    fields = {
        "编号": new_report_no(now),
        "上报时间": now.astimezone(CST).isoformat(timespec="seconds"),
        "大类": mm[0],
        "小类": mm[1],
        "描述": (form.get("description") or "").strip(),
        "经度": lon,
        "纬度": lat,
        "地址": address,
        "照片指纹": photo,
        "上报人": reporter_id(form),
    }
    r = validate(fields, cfg, source="open311", now=now)
    if isinstance(r, Rejected):
        raise Open311Error(400, r.reason)
    return r


def request_view(report: Report, incident: Incident, cfg: ReportsConfig, department_names: Mapping[str, str]) -> dict:
    """One request as GET requests.json shows it (no personal data: no reporter, no photo hash; ID
    numbers and phones a citizen typed into the description masked)."""
    code = service_code(cfg, report.major, report.minor)
    lat = report.lat if report.lat is not None else report.pos_lat
    lon = report.lon if report.lon is not None else report.pos_lon
    expected = as_cst(incident.due_at)
    return {
        "service_request_id": report.report_no,
        "status": OPEN311_STATUS[incident.status],
        "status_notes": incident.public_note or "",
        "service_name": report.minor,
        "service_code": code or "",
        "description": mask_text(report.description),  # a phone or ID number typed in is not published
        "agency_responsible": department_names.get(incident.department, incident.department),
        "service_notice": "",
        "requested_datetime": as_cst(report.reported_at).isoformat(timespec="seconds"),
        "updated_datetime": as_cst(incident.updated_at).isoformat(timespec="seconds"),
        "expected_datetime": expected.isoformat(timespec="seconds") if expected else "",
        "address": mask_text(report.address_text),
        "address_id": report.address_id or "",
        "zipcode": "",
        "lat": round(lat, 6) if lat is not None else None,
        "long": round(lon, 6) if lon is not None else None,
        "media_url": "",
        "incident_id": incident.id,
        "duplicate_of": report.duplicate_of or "",
        "state": incident.status,
    }


def find_requests(
    session,
    *,
    ids: list[str] | None = None,
    service_code_: str | None = None,
    status: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    cfg: ReportsConfig,
    limit: int = MAX_LIST,
):
    """(report, incident) pairs for GET requests.json, newest first; a merged incident is followed."""
    q = select(Report, Incident).join(Incident, Report.incident_id == Incident.id)
    if ids:
        q = q.where(Report.report_no.in_(ids[:MAX_LIST]))
    if service_code_:
        mm = _codes(cfg).get(service_code_)
        if mm is None:
            return []
        q = q.where(Report.major == mm[0], Report.minor == mm[1])
    if status == "open":
        q = q.where(Incident.status.in_(OPEN_STATES))
    elif status == "closed":
        q = q.where(Incident.status.in_((RESOLVED, CLOSED)))
    if start is not None:
        q = q.where(Report.reported_at >= utc(start))
    if end is not None:
        q = q.where(Report.reported_at <= utc(end))
    return list(session.execute(q.order_by(Report.reported_at.desc()).limit(min(limit, MAX_LIST))).all())


def post_request(session, form: Mapping[str, str], cfg: ReportsConfig, lib, names: Mapping[str, str], now=None) -> dict:
    """POST requests.json: the report taken in through `service.take_in` (placed, compared with the
    open incidents near it, routed) and committed; what the client is told back. Open311Error when
    the form is refused (with the reason a daily file's row would get)."""

    now = now or dt.datetime.now(CST)
    if lib is None:
        raise Open311Error(
            503, "the address library has not been taken in yet (civichub reports import / civichub run)"
        )
    r = incoming_from_form(form, cfg, now)
    out = take_in([r], SqlRepository(session), cfg, lib, now=now)
    if out.rejected:
        raise Open311Error(400, out.rejected[0].reason)
    incident = session.get(Incident, out.incident_of[r.report_no])
    report = session.scalars(select(Report).where(Report.report_no == r.report_no)).one()
    queued = incident.department == cfg.district_queue.id
    notice = (
        f"已受理，暂由{names.get(incident.department, incident.department)}分拨：{incident.queue_reason or ''}"
        if queued
        else f"已受理，由{names.get(incident.department, incident.department)}处理"
    )
    if report.duplicate_of:
        notice += f"（同一问题已有人上报，已并入事件 {incident.id}）"
    return {
        "service_request_id": r.report_no,
        "service_notice": notice,
        "account_id": None,
        "incident_id": incident.id,
        "duplicate_of": report.duplicate_of or "",
        "agency_responsible": names.get(incident.department, incident.department),
        "state": incident.status,
    }


def parse_time(value: str | None, name: str) -> dt.datetime | None:
    """A start_date / end_date parameter (ISO 8601; Beijing time when it names no zone)."""
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time, got {value[:40]!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=CST)
