"""The app's tables for citizen reports (SQLAlchemy 2): reports, incidents, their state changes, the
review queue of borderline duplicates, the files taken in and the rows refused.

They live in the street app's operational database (SQLite by default, PostgreSQL in production),
not in DuckDB: an incident changes state in the app. The metadata is separate so that the app's
Alembic chain includes it (`target_metadata = [app_metadata, citizen_reports.models.metadata]`).
Times are stored in UTC (naive on SQLite); `as_cst` turns them back into Beijing time.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)
CST = dt.timezone(dt.timedelta(hours=8))

# Incident states, after FixMyStreet and Open311 (open: received, accepted, in_progress; closed:
# resolved, closed with a reason).
RECEIVED, ACCEPTED, IN_PROGRESS, RESOLVED, CLOSED = "received", "accepted", "in_progress", "resolved", "closed"
OPEN_STATES = (RECEIVED, ACCEPTED, IN_PROGRESS)
STATES = (RECEIVED, ACCEPTED, IN_PROGRESS, RESOLVED, CLOSED)
CLOSE_REASONS = ("duplicate", "not_responsible", "unable_to_fix", "invalid", "no_further_action")


def utc(t: dt.datetime) -> dt.datetime:
    """Aware → naive UTC, the stored form."""
    return t.astimezone(dt.UTC).replace(tzinfo=None) if t.tzinfo else t


def as_cst(t: dt.datetime | None) -> dt.datetime | None:
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(CST)


class Base(DeclarativeBase):
    metadata = metadata


class ReportFileLog(Base):
    """One row per daily file taken in (or refused whole)."""

    __tablename__ = "report_file"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # loaded | rejected
    message: Mapped[str | None] = mapped_column(Text)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_taken: Mapped[int] = mapped_column(Integer, default=0)  # new reports
    rows_already: Mapped[int] = mapped_column(Integer, default=0)  # same 编号 again: a no-op
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    reports_queued: Mapped[int] = mapped_column(Integer, default=0)  # to the district's queue
    reports_merged: Mapped[int] = mapped_column(Integer, default=0)  # joined an open incident
    reports_review: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Incident(Base):
    """One problem in the street, however many citizens reported it."""

    __tablename__ = "incident"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # SJ-20261103-0042
    major: Mapped[str] = mapped_column(String(16))
    minor: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64), index=True)  # role id; the district queue id
    street_code: Mapped[str | None] = mapped_column(String(12), index=True)
    community_code: Mapped[str | None] = mapped_column(String(12))
    lon: Mapped[float | None] = mapped_column(Float)  # where the first report placed it (GCJ-02)
    lat: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), index=True)
    close_reason: Mapped[str | None] = mapped_column(String(32))
    public_note: Mapped[str | None] = mapped_column(Text)  # the department's latest note to citizens
    first_report_no: Mapped[str] = mapped_column(String(64))
    report_count: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)  # the first report's time
    last_report_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    queue_reason: Mapped[str | None] = mapped_column(Text)  # why it sits in the district's queue
    routing_note: Mapped[str | None] = mapped_column(Text)
    merged_into: Mapped[str | None] = mapped_column(String(32))  # after a review decided "same problem"

    reports: Mapped[list[Report]] = relationship(back_populates="incident", order_by="Report.reported_at")
    events: Mapped[list[IncidentEvent]] = relationship(back_populates="incident", order_by="IncidentEvent.id")


class Report(Base):
    """One citizen's report, as received, with where it was placed and why it joined its incident."""

    __tablename__ = "report"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_no: Mapped[str] = mapped_column(String(64), unique=True)  # 编号
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    major: Mapped[str] = mapped_column(String(16))
    minor: Mapped[str] = mapped_column(String(64))
    minor_known: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float | None] = mapped_column(Float)  # as reported (GCJ-02)
    lat: Mapped[float | None] = mapped_column(Float)
    address_text: Mapped[str] = mapped_column(Text, default="")
    photo_hash: Mapped[str | None] = mapped_column(String(16))  # hex
    reporter: Mapped[str] = mapped_column(String(64), default="")  # opaque id; never shown publicly
    source: Mapped[str] = mapped_column(String(16))  # file | open311
    source_file: Mapped[str | None] = mapped_column(String(255))
    source_row: Mapped[int | None] = mapped_column(Integer)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id"), index=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(64))  # 编号 of the incident's first report
    match_probability: Mapped[float | None] = mapped_column(Float)
    match_explanation: Mapped[str | None] = mapped_column(Text)  # JSON: evidence and weights
    # where the hub takes it to be: the position, or the library address its text names
    pos_lon: Mapped[float | None] = mapped_column(Float)
    pos_lat: Mapped[float | None] = mapped_column(Float)
    placement: Mapped[str] = mapped_column(String(16))  # position | address | address_near | crossing | road | none
    cell: Mapped[int | None] = mapped_column(Integer)  # grid cell of the position (geo.cell_of): "what is near"
    street_code: Mapped[str | None] = mapped_column(String(12))
    community_code: Mapped[str | None] = mapped_column(String(12))
    address_id: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)  # JSON list: problems that did not stop the report

    incident: Mapped[Incident] = relationship(back_populates="reports")

    __table_args__ = (Index("ix_report_cell", "cell", "reported_at"),)


class IncidentEvent(Base):
    """Every change of an incident: created, a report joined, a state change with its notes, a transfer."""

    __tablename__ = "incident_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))  # a login, or 'system'
    action: Mapped[str] = mapped_column(String(16))  # created | joined | status | transfer | merged
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    close_reason: Mapped[str | None] = mapped_column(String(32))
    report_no: Mapped[str | None] = mapped_column(String(64))
    public_note: Mapped[str | None] = mapped_column(Text)  # shown on the public status page
    internal_note: Mapped[str | None] = mapped_column(Text)

    incident: Mapped[Incident] = relationship(back_populates="events")


class ReviewItem(Base):
    """A borderline pair: the report started its own incident; the department decides."""

    __tablename__ = "report_review"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_no: Mapped[str] = mapped_column(String(64), index=True)
    incident_id: Mapped[str] = mapped_column(String(32), index=True)  # the report's own incident
    candidate_incident_id: Mapped[str] = mapped_column(String(32), index=True)
    candidate_report_no: Mapped[str] = mapped_column(String(64))  # the closest report of the candidate
    department: Mapped[str] = mapped_column(String(64), index=True)
    probability: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | merged | kept_apart
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class RejectedRow(Base):
    """A row refused at intake, with its content and the reason (never silently dropped)."""

    __tablename__ = "report_rejected"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("report_file.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    source_file: Mapped[str | None] = mapped_column(String(255))
    source_row: Mapped[int | None] = mapped_column(Integer)
    report_no: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # JSON of the fields as received
    at: Mapped[dt.datetime] = mapped_column(DateTime)


class DedupeModel(Base):
    """Duplicate weights estimated at an import: what a single report posted later is scored with."""

    __tablename__ = "report_dedupe_model"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estimated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    pairs: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(Text)  # JSON


class IncidentSequence(Base):
    """Last number given to an incident opened on a day: ids are SJ-<day>-<number>."""

    __tablename__ = "incident_sequence"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class AddressPoint(Base):
    """The standard address library as reports were last placed with (reference/standard_addresses.csv
    with its 经度/纬度), kept here so that the app places a report posted to it the same way."""

    __tablename__ = "report_address_point"
    address_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    street_code: Mapped[str] = mapped_column(String(12))
    community_code: Mapped[str] = mapped_column(String(12))
    full_address: Mapped[str] = mapped_column(Text)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)


class Division(Base):
    """Streets and committees by name (reference/divisions.csv), for boards and pages."""

    __tablename__ = "report_division"
    community_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    community_name: Mapped[str] = mapped_column(String(64))
    street_code: Mapped[str] = mapped_column(String(12), index=True)
    street_name: Mapped[str] = mapped_column(String(64))


class Meta(Base):
    """Small facts about the report tables, e.g. the fingerprint of the address library kept."""

    __tablename__ = "report_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
