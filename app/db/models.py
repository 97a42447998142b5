"""The app's operational tables (SQLAlchemy 2). Alembic revisions in app/migrations/versions/ create them.

users            accounts: a kind (admin / department / street / committee), the hub role whose published
                 data they read (sharing/roles.yml), their street and committee, an Argon2 hash, lockout state
login_sessions   server-side sessions behind the signed cookie (revocable; idle and absolute expiry)
login_attempts   every login attempt (for throttling by address and for the record)
verifications    a committee's verdict on a finding (核实结果, 正确值, 备注), saved at once and
                 taken in by the hub (intake_status) through quality.corrections
follow_ups       a scenario list row's follow-up (跟进结果), taken in to scenario.follow_up

Later issues add their tables here and a revision in app/migrations/versions/.
"""

from __future__ import annotations

import datetime as _dt

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

USER_KINDS = ("admin", "department", "street", "committee")
INTAKE_STATUSES = ("pending", "accepted", "same_decision", "rejected")


def utcnow() -> _dt.datetime:
    """Naive UTC: the same on SQLite and PostgreSQL `timestamp without time zone` columns."""
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    hub_role: Mapped[str | None] = mapped_column(String(64))
    street_code: Mapped[str | None] = mapped_column(String(12))
    community_code: Mapped[str | None] = mapped_column(String(12))
    password_hash: Mapped[str] = mapped_column(String(256))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(64))
    last_login_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)

    sessions: Mapped[list[LoginSession]] = relationship(back_populates="user")

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class LoginSession(Base):
    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the token in the cookie
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[_dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(32))


class Verification(Base):
    __tablename__ = "verifications"
    __table_args__ = (
        Index("ix_verifications_community_finding", "community_code", "finding_id"),
        Index("ix_verifications_intake", "intake_status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # quality.finding_decision.source_file = app:<uid>
    finding_id: Mapped[str] = mapped_column(String(64))
    street_code: Mapped[str] = mapped_column(String(12))
    community_code: Mapped[str] = mapped_column(String(12))
    decision: Mapped[str] = mapped_column(String(8))
    corrected_value: Mapped[str | None] = mapped_column(String(256))
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(64))  # 核实人 (the user's name)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    intake_status: Mapped[str] = mapped_column(String(16), default="pending")
    intake_reason: Mapped[str | None] = mapped_column(Text)
    intake_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)


class FollowUp(Base):
    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_scope", "street_code", "scenario", "match_id"),
        Index("ix_follow_ups_intake", "intake_status", "id"),
        UniqueConstraint("uid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32))
    match_id: Mapped[str] = mapped_column(String(64))
    scenario: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    street_code: Mapped[str | None] = mapped_column(String(12))
    community_code: Mapped[str | None] = mapped_column(String(12))
    result: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    followed_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    followed_on: Mapped[_dt.date] = mapped_column(Date)
    recorded_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    intake_status: Mapped[str] = mapped_column(String(16), default="pending")
    intake_reason: Mapped[str | None] = mapped_column(Text)
    intake_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)


# ---------------------------------------------------------------------------------------- 排摸 tasks
TASK_KINDS = ("screening", "shop_visit")
ROW_OUTCOMES = {"answered": "已核实", "not_found": "查无此人", "refused": "拒绝配合", "moved": "已搬离"}


class Task(Base):
    """A 排摸 task: a list a department uploaded once, its checklist, due date and owner (seed 000)."""

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="screening")
    department: Mapped[str] = mapped_column(String(64))  # the owning department (a hub role or a name)
    checklist_yaml: Mapped[str] = mapped_column(Text)
    due_date: Mapped[_dt.date | None] = mapped_column(Date)
    list_name: Mapped[str] = mapped_column(String(256))
    headers: Mapped[list] = mapped_column(JSON)  # the list's headers, in its order
    mapping: Mapped[dict] = mapped_column(JSON)  # field → header (name, id_number, phone, address)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    report_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)


class TaskRow(Base):
    """One row of a task's list: where it was routed and why, and the answer at the door."""

    __tablename__ = "task_rows"
    __table_args__ = (
        UniqueConstraint("task_id", "source_row"),
        Index("ix_task_rows_scope", "task_id", "community_code", "status"),
        Index("ix_task_rows_street", "task_id", "street_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    source_row: Mapped[int] = mapped_column(Integer)  # 1-based data row of the list
    data: Mapped[dict] = mapped_column(JSON)  # the row as uploaded, by header
    name: Mapped[str | None] = mapped_column(String(128))
    match_status: Mapped[str] = mapped_column(String(16))  # matched | ambiguous | unmatched
    match_rule: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    candidates: Mapped[list] = mapped_column(JSON, default=list)
    suggested_community: Mapped[str | None] = mapped_column(String(12))
    person_id: Mapped[str | None] = mapped_column(String(32))
    household_id: Mapped[str | None] = mapped_column(String(32))
    street_code: Mapped[str | None] = mapped_column(String(12))
    community_code: Mapped[str | None] = mapped_column(String(12))  # None: in the district's queue
    walk_key: Mapped[str | None] = mapped_column(String(200))  # road/lane/number/room: one walk covers a lane
    address_shown: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | done
    outcome: Mapped[str | None] = mapped_column(String(16))  # ROW_OUTCOMES
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[_dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)  # a save names the version it read


class TaskEvent(Base):
    """Every routing decision and answer of a task row: who, when, from where to where, why."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("task_rows.id"), index=True)
    at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # routed | rerouted | queued | answered
    from_community: Mapped[str | None] = mapped_column(String(12))
    to_community: Mapped[str | None] = mapped_column(String(12))
    detail: Mapped[str | None] = mapped_column(Text)


class ShopVisit(Base):
    """最多查一次 (seed 001): one visit to a street shop fills 餐饮设施基础信息登记, 沿街店铺走访调查 and
    餐饮行业综合检查 at once, pre-filled from the shop file (一店一码). Written into the next delivery as
    `street_shop_visits_app` (tasks/shop_visits.py), so the shop file and its findings use it."""

    __tablename__ = "shop_visits"
    __table_args__ = (Index("ix_shop_visits_scope", "community_code", "shop_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # the delivery row's 应用记录编号
    shop_code: Mapped[str] = mapped_column(String(20))
    street_code: Mapped[str] = mapped_column(String(12))
    community_code: Mapped[str] = mapped_column(String(12))
    visited_on: Mapped[_dt.date] = mapped_column(Date)
    sign_name: Mapped[str] = mapped_column(String(200))
    registered_name: Mapped[str | None] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18))
    business_address: Mapped[str] = mapped_column(String(256))
    licence_no: Mapped[str | None] = mapped_column(String(64))
    licence_valid_until: Mapped[str | None] = mapped_column(String(10))
    contact_name: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    business_format: Mapped[str] = mapped_column(String(32))
    inspection_result: Mapped[str] = mapped_column(String(16))
    checks: Mapped[dict] = mapped_column(JSON, default=dict)  # the three forms' other items
    note: Mapped[str | None] = mapped_column(Text)
    visitor: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[_dt.datetime] = mapped_column(DateTime, default=utcnow)
    delivered_in: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM of the delivery that carried it
