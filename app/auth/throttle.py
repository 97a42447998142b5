"""Logging in: password check with throttling by address and lockout by account.

- an account is locked for `lockout_minutes` after `lockout_failures` wrong passwords in a row
  (a success resets the count); a locked account is refused even with the right password;
- an address with `ip_failures_per_window` failed attempts within `ip_window_minutes` is refused
  before any password is checked (429), whatever login it tries;
- an unknown login and a disabled account fail exactly like a wrong password (same message, same
  Argon2 work), so the form does not tell which logins exist.
Every attempt is a row of login_attempts (login as typed, truncated; never the password).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.config import AppSettings
from app.db.models import LoginAttempt, User, utcnow

WRONG = "登录名或密码不正确"


@dataclass
class LoginResult:
    user: User | None
    reason: str  # ok | wrong | locked | disabled | throttled
    message: str | None = None
    status_code: int = 200


def normalise_login(login: str) -> str:
    return (login or "").strip().lower()[:64]


def ip_failures(db: Session, ip: str, settings: AppSettings) -> int:
    since = utcnow() - _dt.timedelta(minutes=settings.ip_window_minutes)
    return db.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.ip == ip, LoginAttempt.at >= since, LoginAttempt.success.is_(False))
    )


def authenticate(db: Session, login: str, password: str, ip: str, settings: AppSettings) -> LoginResult:
    """Check one login attempt and record it (the caller commits)."""
    login = normalise_login(login)
    ip = (ip or "unknown")[:64]
    now = utcnow()

    def record(success: bool, reason: str) -> None:
        db.add(LoginAttempt(login=login, ip=ip, at=now, success=success, reason=reason))

    if ip_failures(db, ip, settings) >= settings.ip_failures_per_window:
        record(False, "throttled")
        return LoginResult(None, "throttled", "尝试次数过多，请稍后再试", 429)
    user = db.scalar(select(User).where(User.login == login)) if login else None
    if user is not None and user.locked_until is not None and user.locked_until > now:
        record(False, "locked")
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return LoginResult(None, "locked", f"密码连续输错，账号已锁定，请{minutes}分钟后再试或联系管理员", 423)
    ok = verify_password(user.password_hash if user is not None else None, password or "")
    if user is None or not ok:
        if user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= settings.lockout_failures:
                user.locked_until = now + _dt.timedelta(minutes=settings.lockout_minutes)
                user.failed_logins = 0
                record(False, "wrong_locked")
                return LoginResult(
                    None,
                    "locked",
                    f"密码连续输错{settings.lockout_failures}次，账号已锁定{settings.lockout_minutes}分钟",
                    423,
                )
        record(False, "wrong")
        return LoginResult(None, "wrong", WRONG, 401)
    if user.disabled_at is not None:
        record(False, "disabled")
        return LoginResult(None, "disabled", WRONG, 401)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record(True, "ok")
    return LoginResult(user, "ok")
