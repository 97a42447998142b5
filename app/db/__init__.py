"""The app database: engine (SQLite with WAL, or PostgreSQL), sessions, and migrations to the latest revision.

engine = make_engine(url)          # sqlite:///…/app.sqlite or postgresql+psycopg://…
upgrade(url)                       # alembic upgrade head (what `civichub serve` does at start)
with session_scope(factory) as s:  # one unit of work: commit on success, roll back on error
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Base
from citizen_reports.models import metadata as citizen_reports_metadata

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for the app database. SQLite: WAL, a busy timeout, foreign keys on every connection."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_con, _record):
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_size=20, max_overflow=10, pool_pre_ping=True)
    raise ValueError(f"app database URL must be sqlite:///… or postgresql+psycopg://… (got {url.split(':', 1)[0]}:…)")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]):
    s = factory()
    try:
        yield s
        s.commit()
    except Exception:
        s.rollback()
        raise
    finally:
        s.close()


def target_metadata() -> list:
    """Every table the app database holds, for Alembic: the app's own and each feature's
    (citizen reports keep their models in citizen_reports/models.py). One chain of revisions."""

    return [Base.metadata, citizen_reports_metadata]


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the app database to the latest revision (creates it on first use)."""
    from alembic import command

    if url.startswith("sqlite"):
        make_engine(url).dispose()  # creates the folder; WAL is set per connection
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as con:
            return MigrationContext.configure(con).get_current_revision()
    finally:
        engine.dispose()
