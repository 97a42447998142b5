"""Sessions: a random token in a signed, HttpOnly, SameSite cookie; the session itself in the database.

The cookie holds `token` signed with the session key (itsdangerous, with a timestamp so an old cookie
expires even if the database row were kept). The database keeps SHA-256(token), never the token, with
an absolute expiry, an idle timeout and a revocation time: logging out, disabling the user or a
password reset ends the session on the server, whatever the browser keeps.

Anonymous visitors filling the login form get a second signed cookie whose HMAC is the form's CSRF
token (app/auth/csrf.py).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import AppSettings
from app.db.models import LoginSession, User, utcnow

SESSION_COOKIE = "civichub_session"
ANON_COOKIE = "civichub_anon"
TOUCH_SECONDS = 60  # last_seen_at is written at most once a minute per session


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionManager:
    def __init__(self, settings: AppSettings):
        self.settings = settings
        self._signer = URLSafeTimedSerializer(settings.secret_key, salt="civichub.session")
        self._anon_signer = URLSafeTimedSerializer(settings.secret_key, salt="civichub.anon")
        self.max_age = settings.session_hours * 3600
        self.idle = _dt.timedelta(minutes=settings.session_idle_minutes)

    # --- logged-in sessions ---------------------------------------------------------------------------
    def create(self, db: Session, user: User, ip: str | None) -> tuple[str, LoginSession]:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        row = LoginSession(
            id=token_id(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + _dt.timedelta(seconds=self.max_age),
            ip=(ip or "")[:64],
        )
        db.add(row)
        return self._signer.dumps(token), row

    def load(self, db: Session, cookie: str | None) -> tuple[LoginSession, User] | None:
        """The live session and its user behind a cookie, or None (bad signature, expired, idle,
        revoked, user disabled)."""
        if not cookie:
            return None
        try:
            token = self._signer.loads(cookie, max_age=self.max_age)
        except (BadSignature, SignatureExpired):
            return None
        row = db.execute(
            select(LoginSession, User)
            .join(User, User.id == LoginSession.user_id)
            .where(LoginSession.id == token_id(token))
        ).first()
        if row is None:
            return None
        sess, user = row
        now = utcnow()
        if sess.revoked_at is not None or sess.expires_at <= now or now - sess.last_seen_at > self.idle:
            return None
        if user.disabled_at is not None:
            return None
        if (now - sess.last_seen_at).total_seconds() > TOUCH_SECONDS:
            sess.last_seen_at = now
            db.commit()
        return sess, user

    @staticmethod
    def revoke(db: Session, session_id: str) -> None:
        sess = db.get(LoginSession, session_id)
        if sess is not None and sess.revoked_at is None:
            sess.revoked_at = utcnow()

    @staticmethod
    def revoke_user(db: Session, user_id: int) -> int:
        n = 0
        for sess in db.scalars(
            select(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        ):
            sess.revoked_at = utcnow()
            n += 1
        return n

    # --- cookies --------------------------------------------------------------------------------------
    def secure(self, request) -> bool:
        mode = self.settings.secure_cookies
        return mode == "always" or (mode == "auto" and request.url.scheme == "https")

    def set_session_cookie(self, response, request, value: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=self.max_age,
            httponly=True,
            samesite="lax",
            secure=self.secure(request),
            path="/",
        )

    def clear_session_cookie(self, response, request) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure(request))

    # --- anonymous CSRF (the login form) --------------------------------------------------------------
    def anon_value(self, request) -> tuple[str, str | None]:
        """(the visitor's anonymous id, a new cookie value to set or None if the cookie is good)."""
        raw = request.cookies.get(ANON_COOKIE)
        if raw:
            try:
                return self._anon_signer.loads(raw, max_age=24 * 3600), None
            except (BadSignature, SignatureExpired):
                pass
        value = secrets.token_urlsafe(24)
        return value, self._anon_signer.dumps(value)

    def anon_csrf(self, anon_value: str) -> str:
        return hmac.new(self.settings.secret_key.encode(), b"anon:" + anon_value.encode(), hashlib.sha256).hexdigest()

    def set_anon_cookie(self, response, request, cookie_value: str) -> None:
        response.set_cookie(
            ANON_COOKIE,
            cookie_value,
            max_age=24 * 3600,
            httponly=True,
            samesite="lax",
            secure=self.secure(request),
            path="/",
        )
