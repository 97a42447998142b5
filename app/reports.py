"""Citizen reports (百姓拍) in the app: who may see and act on which incident, and the address library
a posted report is placed with. The rules of the reports themselves live in citizen_reports/.

    desk = reports_desk(request.app)              # configuration, department names, library cache
    scope = incident_scope(principal, desk)       # what this user sees (Forbidden when nothing)
    q = select(Incident).where(*scope.filters())  # every query of the reports pages is scoped so

Who sees what (categories.yml names the owning department of each category, a role of sharing/roles.yml):

    kind        sees                                           may
    department  its own incidents, in every street              change their state, hand them back to the
                (only a role that owns a category)             district's queue, decide its review queue
    street      the incidents placed in its street             read (its board, incidents, .xlsx)
    admin       the district (every incident)                  place the district's queue (hand an
                                                               unroutable incident to a department)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.deps import Forbidden
from app.auth.principal import Principal
from citizen_reports.config import ReportsConfig, department_names, load_reports_config
from citizen_reports.models import Incident, Meta
from citizen_reports.repository import stored_library
from citizen_reports.routing import AddressLibrary


class ReportsDesk:
    """One per app: the configuration (loaded at the first request, not at import) and the address
    library the last import kept in the app database (reloaded when its fingerprint changes)."""

    def __init__(self) -> None:
        self.cfg: ReportsConfig = load_reports_config()
        self.names: dict[str, str] = department_names(self.cfg)
        self._lock = threading.Lock()
        self._library: AddressLibrary | None = None
        self._fingerprint: str | None = None

    @property
    def queue_id(self) -> str:
        return self.cfg.district_queue.id

    def library(self, session: Session) -> AddressLibrary | None:
        fp = session.scalar(select(Meta.value).where(Meta.key == "address_library"))
        if fp is None:
            return None
        with self._lock:
            if fp != self._fingerprint:
                self._library, self._fingerprint = stored_library(session), fp
            return self._library

    def name(self, department: str) -> str:
        return self.names.get(department, department)


def reports_desk(app: FastAPI) -> ReportsDesk:
    desk = getattr(app.state, "reports_desk", None)
    if desk is None:
        desk = app.state.reports_desk = ReportsDesk()
    return desk


@dataclass(frozen=True)
class IncidentScope:
    label: str
    kind: str  # department | street | district
    department: str | None = None
    street: str | None = None

    def filters(self) -> list:
        out = []
        if self.department:
            out.append(Incident.department == self.department)
        if self.street:
            out.append(Incident.street_code == self.street)
        return out

    def sees(self, incident: Incident) -> bool:
        return (self.department is None or incident.department == self.department) and (
            self.street is None or incident.street_code == self.street
        )

    @property
    def board_key(self) -> dict:
        return {"department": self.department, "street": self.street}


def incident_scope(p: Principal, desk: ReportsDesk) -> IncidentScope:
    if p.kind == "department":
        if p.hub_role not in desk.cfg.departments():
            raise Forbidden("本部门不负责百姓拍的任何类别（见 citizen_reports/categories.yml）")
        return IncidentScope(desk.name(p.hub_role), "department", department=p.hub_role)
    if p.kind == "street":
        return IncidentScope(f"街道 {p.street_code}", "street", street=p.street_code)
    if p.kind == "admin":
        return IncidentScope(desk.cfg.district, "district")
    raise Forbidden()


def may_change(p: Principal, incident: Incident) -> bool:
    """Only the owning department changes an incident's state (and not one merged into another)."""
    return p.kind == "department" and incident.department == p.hub_role and not incident.merged_into


def may_place(p: Principal, incident: Incident, desk: ReportsDesk) -> bool:
    """The district's desk (admin) hands a queued incident to a department; the owning department
    hands one that is not its own back to the queue."""
    if incident.merged_into:
        return False
    if p.kind == "admin":
        return incident.department == desk.queue_id
    return may_change(p, incident)
