"""The app's settings: every path derives from the hub database's folder, the rest from the environment.

    settings = AppSettings.from_hub_db("data/civichub.duckdb")

Paths (one small function, `hub_paths`, from the hub's own rules: pipelines.settings.output_dir,
sharing.gateway.audit_log_path):
    <out>/published/<role>/<role>.duckdb          what each role may read (read-only); <out> is
                                                  CIVICHUB_OUT, else <db dir>/out
    <db dir>/audit/query_audit.jsonl              the hub's hash-chained audit log
    <db dir>/app.sqlite                           the app database (default; CIVICHUB_APP_DB overrides)
    <db dir>/secrets/                             generated secrets, 0600 (CIVICHUB_APP_SECRETS_DIR overrides)

Environment:
    CIVICHUB_APP_DB              SQLAlchemy URL of the app database (postgresql+psycopg://user:pw@host/db)
    CIVICHUB_APP_SECRET_KEY      session signing key (else generated once into <secrets>/app_session.key)
    CIVICHUB_APP_SECURE_COOKIES  auto (Secure when the request is https, e.g. behind a TLS proxy) | always | never
    CIVICHUB_APP_SESSION_IDLE_MINUTES, CIVICHUB_APP_SESSION_HOURS, CIVICHUB_APP_LOCKOUT_FAILURES,
    CIVICHUB_APP_LOCKOUT_MINUTES  session and lockout limits (defaults below)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.settings import output_dir
from sharing.gateway import audit_log_path

APP_DB_ENV = "CIVICHUB_APP_DB"
SECRET_ENV = "CIVICHUB_APP_SECRET_KEY"
SECRETS_DIR_ENV = "CIVICHUB_APP_SECRETS_DIR"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class HubPaths:
    db: Path
    base: Path
    published_root: Path
    audit_log: Path
    secrets_dir: Path
    default_app_db: Path


def hub_paths(db: str | Path) -> HubPaths:
    """Where the app finds what the hub wrote, from the hub database's path (the one place they are computed)."""

    db = Path(db).resolve()
    base = db.parent
    secrets_dir = Path(os.environ.get(SECRETS_DIR_ENV) or base / "secrets")
    return HubPaths(
        db=db,
        base=base,
        published_root=output_dir(db) / "published",
        audit_log=audit_log_path(db),
        secrets_dir=secrets_dir,
        default_app_db=base / "app.sqlite",
    )


def app_db_url(db: str | Path) -> str:
    """The app database's SQLAlchemy URL: CIVICHUB_APP_DB, else SQLite beside the hub database."""
    url = os.environ.get(APP_DB_ENV, "").strip()
    return url or f"sqlite:///{hub_paths(db).default_app_db}"


def load_or_create_secret(name: str, env: str | None, secrets_dir: Path) -> str:
    """A secret from the environment, else from <secrets_dir>/<name> (created once, 0600, folder 0700)."""
    if env and os.environ.get(env, "").strip():
        value = os.environ[env].strip()
        if len(value) < 32:
            raise ConfigError(f"{env} must be at least 32 characters (a random key, e.g. `openssl rand -hex 32`)")
        return value
    path = Path(secrets_dir) / name
    if path.exists():
        mode = path.stat().st_mode & 0o077
        if mode:
            raise ConfigError(f"{path}: readable by others (mode {oct(path.stat().st_mode & 0o777)}); chmod 600 it")
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {raw!r})") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive (got {value})")
    return value


@dataclass(frozen=True)
class AppSettings:
    hub_db: Path
    paths: HubPaths
    database_url: str
    secret_key: str = field(repr=False)
    secure_cookies: str = "auto"  # auto | always | never
    session_idle_minutes: int = 120  # a worker walks door to door: two hours without a click
    session_hours: int = 12  # then log in again, whatever happens
    lockout_failures: int = 5  # wrong passwords in a row before the account is locked …
    lockout_minutes: int = 15  # … for this long
    ip_failures_per_window: int = 30  # wrong passwords from one address within the window → 429
    ip_window_minutes: int = 15
    audit_views: bool = True

    @classmethod
    def from_hub_db(cls, db: str | Path, **overrides) -> AppSettings:
        paths = hub_paths(db)
        secure = os.environ.get("CIVICHUB_APP_SECURE_COOKIES", "auto").strip().lower() or "auto"
        if secure not in ("auto", "always", "never"):
            raise ConfigError(f"CIVICHUB_APP_SECURE_COOKIES must be auto, always or never (got {secure!r})")
        values = dict(
            hub_db=paths.db,
            paths=paths,
            database_url=app_db_url(db),
            secret_key=load_or_create_secret("app_session.key", SECRET_ENV, paths.secrets_dir),
            secure_cookies=secure,
            session_idle_minutes=_int_env("CIVICHUB_APP_SESSION_IDLE_MINUTES", 120),
            session_hours=_int_env("CIVICHUB_APP_SESSION_HOURS", 12),
            lockout_failures=_int_env("CIVICHUB_APP_LOCKOUT_FAILURES", 5),
            lockout_minutes=_int_env("CIVICHUB_APP_LOCKOUT_MINUTES", 15),
        )
        values.update(overrides)
        return cls(**values)
