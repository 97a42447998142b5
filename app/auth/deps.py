"""FastAPI dependencies every route uses: the database session, who is asking, the area check, CSRF.

    @router.get("/c/findings")
    def findings(p: Principal = Depends(require("committee")), db: Session = Depends(get_db)): …

`require(area)` sends an anonymous visitor to the login page (a GET) or answers 401, and answers 403
to a user whose kind may not enter the area (app/auth/principal.py: AREAS). Scope within an area
(street, committee) is applied by the queries, which answer "not found" for anything outside it.

`csrf_protect` runs for every request (a global dependency of the app): a POST, PUT, PATCH or DELETE
must carry the session's CSRF token (form field `csrf_token` or header `X-CSRF-Token`, which the base
layout sets for htmx), or, before login, the token bound to the anonymous cookie. Starlette has no
CSRF protection of its own (shared/domain.md).
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.auth.principal import Principal
from app.auth.sessions import SESSION_COOKIE
from app.db import session_scope

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_UNSET = object()


class NotAuthenticated(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, message: str = "您的账号无权访问此页面"):
        super().__init__(message)
        self.message = message


class NotFound(Exception):
    def __init__(self, message: str = "没有找到（不存在，或不在您的辖区）"):
        super().__init__(message)
        self.message = message


class CsrfFailed(Exception):
    pass


def get_db(request: Request):
    with session_scope(request.app.state.session_factory) as s:
        yield s


def load_principal(request: Request) -> Principal | None:
    """The logged-in user of this request (cached on the request), or None."""
    cached = getattr(request.state, "principal", _UNSET)
    if cached is not _UNSET:
        return cached
    principal = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        sessions = request.app.state.sessions
        with request.app.state.session_factory() as db:
            found = sessions.load(db, cookie)
            if found is not None:
                sess, user = found
                principal = Principal(
                    user_id=user.id,
                    login=user.login,
                    display_name=user.display_name,
                    kind=user.kind,
                    hub_role=user.hub_role,
                    street_code=user.street_code,
                    community_code=user.community_code,
                    session_id=sess.id,
                    csrf_token=sess.csrf_token,
                )
    request.state.principal = principal
    return principal


def get_principal(request: Request) -> Principal | None:
    return load_principal(request)


def require(area: str):
    def dependency(principal: Principal | None = Depends(get_principal)) -> Principal:
        if principal is None:
            raise NotAuthenticated()
        if not principal.may(area):
            raise Forbidden()
        return principal

    dependency.__name__ = f"require_{area}"
    return dependency


def expected_csrf(request: Request, principal: Principal | None) -> str | None:
    if principal is not None:
        return principal.csrf_token
    sessions = request.app.state.sessions
    value, new_cookie = sessions.anon_value(request)
    if new_cookie is not None:  # no (valid) anonymous cookie: nothing to compare with
        return None
    return sessions.anon_csrf(value)


# paths that use no session at all (a cookie gives them nothing to ride on): Open311 clients post there
CSRF_EXEMPT_PREFIXES = ("/open311/",)


async def csrf_protect(request: Request) -> None:
    if request.method in SAFE_METHODS or request.url.path.startswith(CSRF_EXEMPT_PREFIXES):
        return
    principal = await run_in_threadpool(load_principal, request)
    expected = expected_csrf(request, principal)
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed()
