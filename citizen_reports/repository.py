"""Where reports and incidents are kept: a small interface over the app database (SQLAlchemy 2).

The intake, the duplicate detection and the routing only talk to `ReportRepository`; `SqlRepository`
is the one implementation (SQLite by default, PostgreSQL in production). `app_engine` opens the app's
database the way the street app does (CIVICHUB_APP_DB, default `<db dir>/app.sqlite`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, Integer, func, insert, inspect, select
from sqlalchemy.orm import Session, selectinload

from app.db import make_engine, upgrade
from citizen_reports.models import (
    OPEN_STATES,
    AddressPoint,
    DedupeModel,
    Division,
    Incident,
    IncidentEvent,
    IncidentSequence,
    Meta,
    RejectedRow,
    Report,
    ReportFileLog,
    ReviewItem,
)
from citizen_reports.routing import AddressLibrary


def app_db_url(db: Path | str) -> str:
    """The app database: $CIVICHUB_APP_DB, else SQLite beside the hub database (contracts.md)."""
    url = os.environ.get("CIVICHUB_APP_DB")
    if url:
        return url
    return f"sqlite:///{Path(db).resolve().parent / 'app.sqlite'}"


def app_engine(url: str) -> Engine:
    """An engine on the app database with the report tables in place: the street app's Alembic chain
    brought to its head (the report tables are its revision 0002_citizen_reports)."""
    upgrade(url)
    return make_engine(url)


class ReportRepository(Protocol):
    def reports_by_no(self, report_nos: Iterable[str]) -> dict[str, Report]: ...
    def open_reports(
        self, since: dt.datetime, cells: list[int] | None = None, majors: list[str] | None = None
    ) -> list: ...
    def reports_since(self, since: dt.datetime) -> list[tuple[Report, bool]]: ...
    def incidents(self, ids: Iterable[str]) -> dict[str, Incident]: ...
    def allocate_incident_numbers(self, day: str, n: int) -> int: ...
    def latest_model(self) -> str | None: ...
    def estimates_and_reports_since(self) -> tuple[int, int]: ...
    def add(self, obj) -> None: ...
    def add_all(self, objs) -> None: ...
    def file_taken(self, name: str, sha256: str) -> bool: ...
    def commit(self) -> None: ...


# what duplicate detection reads of a stored report (plain rows: no ORM objects to build)
HISTORY_COLUMNS = (
    Report.report_no,
    Report.reported_at,
    Report.major,
    Report.minor,
    Report.pos_lon,
    Report.pos_lat,
    Report.description,
    Report.photo_hash,
    Report.address_text,
    Report.reporter,
    Report.incident_id,
    Report.address_id,
    Report.street_code,
)


class SqlRepository:
    def __init__(self, session: Session):
        self.session = session

    def reports_by_no(self, report_nos: Iterable[str]) -> dict[str, Report]:
        nos = list(dict.fromkeys(report_nos))
        out: dict[str, Report] = {}
        for i in range(0, len(nos), 500):
            chunk = nos[i : i + 500]
            out.update(
                {r.report_no: r for r in self.session.scalars(select(Report).where(Report.report_no.in_(chunk)))}
            )
        return out

    def open_reports(self, since: dt.datetime, cells: list[int] | None = None, majors: list[str] | None = None) -> list:
        """Reports since `since` (UTC) of open incidents whose latest report is at or after it too
        (rows of HISTORY_COLUMNS); with `cells` (geo.cells_near), only those placed in them: found by
        cell first (its index), then kept if their incident is open (a single post reads little)."""
        open_incident = (
            Incident.status.in_(OPEN_STATES),
            Incident.last_report_at >= since,
            Incident.merged_into.is_(None),
        )
        if cells is None:
            q = select(*HISTORY_COLUMNS).join(Incident, Report.incident_id == Incident.id).where(*open_incident)
            return list(self.session.execute(q))
        if not cells:
            return []
        q = select(*HISTORY_COLUMNS).where(Report.cell.in_(cells), Report.reported_at >= since)
        if majors:
            q = q.where(Report.major.in_(majors))
        near = list(self.session.execute(q))
        if not near:
            return []
        ids = {r.incident_id for r in near}
        keep = set(self.session.scalars(select(Incident.id).where(Incident.id.in_(ids), *open_incident)))
        return [r for r in near if r.incident_id in keep]

    def reports_since(self, since: dt.datetime) -> list[tuple]:
        """Every report at or after `since` (UTC) (HISTORY_COLUMNS), with whether its incident is open."""
        q = (
            select(*HISTORY_COLUMNS, Incident.status.in_(OPEN_STATES) & Incident.merged_into.is_(None))
            .join(Incident, Report.incident_id == Incident.id)
            .where(Report.reported_at >= since)
        )
        return [(r, bool(r[-1])) for r in self.session.execute(q)]

    def incidents(self, ids: Iterable[str]) -> dict[str, Incident]:
        ids = list(dict.fromkeys(ids))
        out: dict[str, Incident] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            out.update({x.id: x for x in self.session.scalars(select(Incident).where(Incident.id.in_(chunk)))})
        return out

    def incident(self, incident_id: str, with_reports: bool = False) -> Incident | None:
        q = select(Incident).where(Incident.id == incident_id)
        if with_reports:
            q = q.options(selectinload(Incident.reports), selectinload(Incident.events))
        return self.session.scalars(q).first()

    def allocate_incident_numbers(self, day: str, n: int) -> int:
        """Reserve n consecutive numbers of `day` (YYYYMMDD); returns the first."""
        q = select(IncidentSequence).where(IncidentSequence.day == day)
        if self.session.bind.dialect.name == "postgresql":
            q = q.with_for_update()
        seq = self.session.scalars(q).first()
        if seq is None:
            seq = IncidentSequence(day=day, last=0)
            self.session.add(seq)
        first = seq.last + 1
        seq.last += n
        return first

    def latest_model(self) -> str | None:
        row = self.session.scalars(select(DedupeModel).order_by(DedupeModel.id.desc()).limit(1)).first()
        return row.model if row else None

    def estimates_and_reports_since(self) -> tuple[int, int]:
        """(duplicate-weight estimates stored, reports taken in after the latest of them)."""
        n, last = self.session.execute(select(func.count(), func.max(DedupeModel.estimated_at))).one()
        if not n:
            return 0, 0
        since = self.session.scalar(select(func.count()).select_from(Report).where(Report.received_at > last))
        return n, int(since or 0)

    def file_taken(self, name: str, sha256: str) -> bool:
        q = (
            select(func.count())
            .select_from(ReportFileLog)
            .where(ReportFileLog.sha256 == sha256, ReportFileLog.status == "loaded")
        )
        return bool(self.session.scalar(q))

    def taken_file_names(self) -> set[str]:
        return set(self.session.scalars(select(ReportFileLog.name).where(ReportFileLog.status == "loaded")))

    def add(self, obj) -> None:
        self.session.add(obj)

    def add_all(self, objs) -> None:
        """New reports and incident events go in as rows, many per statement (Core `insert`): the
        ORM's unit of work costs ~0.1 ms an object, a quarter of a large district's intake. They are
        not changed after this (a merge moves stored reports with an UPDATE); everything else (new
        incidents, which later reports of the batch still count, reviews, the file's log) stays in
        the session, flushed first: the rows point at the incidents."""
        objs = list(objs)
        rows: dict[type, list] = {Report: [], IncidentEvent: []}
        rest = []
        for o in objs:
            kind = type(o)
            if kind in rows and inspect(o).transient:
                rows[kind].append(o)
            else:
                rest.append(o)
        self.session.add_all(rest)
        if not (rows[Report] or rows[IncidentEvent]):
            return
        self.session.flush()
        for kind, items in rows.items():
            if items:
                self.session.execute(insert(kind.__table__), [_row(kind, o) for o in items])

    def commit(self) -> None:
        self.session.commit()

    def open_reviews(self, department: str | None = None) -> list[ReviewItem]:
        q = select(ReviewItem).where(ReviewItem.status == "open").order_by(ReviewItem.id)
        if department:
            q = q.where(ReviewItem.department == department)
        return list(self.session.scalars(q))

    def rejected_rows(self, source_file: str | None = None) -> list[RejectedRow]:
        q = select(RejectedRow).order_by(RejectedRow.id)
        if source_file:
            q = q.where(RejectedRow.source_file == source_file)
        return list(self.session.scalars(q))


_COLUMNS: dict[type, list[tuple[str, object]]] = {}


def _row(kind: type, obj) -> dict:
    """A transient ORM object's column values, every column but an autoincrement key: the same keys
    in every row of one statement."""
    cols = _COLUMNS.get(kind)
    if cols is None:
        cols = []
        for c in kind.__table__.columns:
            if c.primary_key and c.autoincrement in (True, "auto") and isinstance(c.type, Integer):
                continue
            if c.default is not None and not c.default.is_scalar:
                raise TypeError(f"{kind.__name__}.{c.key}: a computed default; add it through the session")
            cols.append((c.key, c.default.arg if c.default is not None else None))
        _COLUMNS[kind] = cols
    values = obj.__dict__
    # as the ORM: a column left unset or set to None takes its default
    return {k: d if values.get(k) is None else values[k] for k, d in cols}


def sync_library(session: Session, lib) -> bool:
    """Keep the address library (and the divisions' names) in the app database when it changed."""
    from sqlalchemy import delete

    fp = lib.fingerprint()
    meta = session.get(Meta, "address_library")
    if meta is not None and meta.value == fp:
        return False
    session.execute(delete(AddressPoint))
    session.execute(delete(Division))
    rows = [
        {
            "address_id": a,
            "street_code": s,
            "community_code": c,
            "full_address": f,
            "lon": None if lon != lon else float(lon),
            "lat": None if lat != lat else float(lat),
        }
        for a, s, c, f, lon, lat in zip(
            lib.address_id, lib.street_code, lib.community_code, lib.full_address, lib.lon, lib.lat
        )
    ]
    if rows:
        session.execute(insert(AddressPoint), rows)
    streets = lib.street_names
    divisions = [
        {
            "community_code": c,
            "community_name": n,
            "street_code": c[:9] + "000",
            "street_name": streets.get(c[:9] + "000", ""),
        }
        for c, n in lib.community_names.items()
        if c
    ]
    if divisions:
        session.execute(insert(Division), divisions)
    if meta is None:
        session.add(Meta(key="address_library", value=fp))
    else:
        meta.value = fp
    session.commit()
    return True


def stored_library(session: Session):
    """The address library kept by the last import (None before any): what the app places reports with."""
    import numpy as np

    points = session.execute(
        select(
            AddressPoint.address_id,
            AddressPoint.street_code,
            AddressPoint.community_code,
            AddressPoint.full_address,
            AddressPoint.lon,
            AddressPoint.lat,
        ).order_by(AddressPoint.address_id)
    ).all()
    if not points:
        return None
    divisions = session.execute(
        select(Division.community_code, Division.community_name, Division.street_code, Division.street_name)
    ).all()
    return AddressLibrary(
        [p[0] for p in points],
        [p[1] for p in points],
        [p[2] for p in points],
        [p[3] for p in points],
        np.array([np.nan if p[4] is None else p[4] for p in points], dtype="float64"),
        np.array([np.nan if p[5] is None else p[5] for p in points], dtype="float64"),
        {d[2]: d[3] for d in divisions},
        {d[0]: d[1] for d in divisions},
        "app database",
    )


def notes_json(notes: list[str]) -> str | None:
    return json.dumps(notes, ensure_ascii=False) if notes else None
