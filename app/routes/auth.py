"""Logging in and out, and changing one's own password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from app.audit import audit, audit_login, client_ip
from app.auth.deps import get_db, get_principal, require
from app.auth.passwords import hash_password, verify_password
from app.auth.principal import Principal
from app.auth.throttle import authenticate, normalise_login
from app.db.models import User, utcnow
from app.pages import home_for, render

router = APIRouter()
any_user = require("account")
MIN_PASSWORD = 10


def _safe_next(value: str | None) -> str | None:
    """Only a path of this site (no scheme, no //host): never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value and len(value) < 300:
        return value
    return None


@router.get("/login")
def login_page(request: Request, next: str | None = None, principal: Principal | None = Depends(get_principal)):
    if principal is not None:
        return RedirectResponse(_safe_next(next) or home_for(principal), status_code=303)
    return render(request, "login.html", None, next=_safe_next(next) or "", error=None, login="")


@router.post("/login")
def login_submit(
    request: Request,
    login: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),
    db: Session = Depends(get_db),
):
    settings = request.app.state.settings
    result = authenticate(db, login, password, client_ip(request), settings)
    typed = normalise_login(login)
    if result.user is None:
        db.commit()
        audit_login(request, typed, "-", "refused", result.reason)
        return render(
            request,
            "login.html",
            None,
            status_code=result.status_code,
            next=_safe_next(next) or "",
            error=result.message,
            login=typed,
        )
    user = result.user
    cookie, sess = request.app.state.sessions.create(db, user, client_ip(request))
    db.commit()
    role = user.hub_role or user.kind
    if user.kind == "committee":
        role = f"{user.hub_role}/committee_{user.community_code}"
    audit_login(request, user.login, role, "ok")
    principal = Principal(
        user.id,
        user.login,
        user.display_name,
        user.kind,
        user.hub_role,
        user.street_code,
        user.community_code,
        sess.id,
        sess.csrf_token,
    )
    response = RedirectResponse(_safe_next(next) or home_for(principal), status_code=303)
    request.app.state.sessions.set_session_cookie(response, request, cookie)
    return response


@router.post("/logout")
def logout(request: Request, db: Session = Depends(get_db), principal: Principal | None = Depends(get_principal)):
    sessions = request.app.state.sessions
    if principal is not None:
        sessions.revoke(db, principal.session_id)
        db.commit()
        audit(request, principal, "logout", "/logout")
    response = RedirectResponse("/login", status_code=303)
    sessions.clear_session_cookie(response, request)
    return response


@router.get("/account/password")
def password_page(request: Request, principal: Principal = Depends(any_user)):
    return render(request, "password.html", principal, error=None, done=False)


@router.post("/account/password")
def password_change(
    request: Request,
    current: str = Form(""),
    new: str = Form(""),
    again: str = Form(""),
    principal: Principal = Depends(any_user),
    db: Session = Depends(get_db),
):
    user = db.get(User, principal.user_id)
    error = None
    if not verify_password(user.password_hash, current):
        error = "当前密码不正确"
    elif len(new) < MIN_PASSWORD:
        error = f"新密码至少 {MIN_PASSWORD} 位"
    elif new != again:
        error = "两次输入的新密码不一致"
    elif new == current:
        error = "新密码不能与当前密码相同"
    if error:
        audit(request, principal, "change_password", "/account/password", "refused", error)
        return render(request, "password.html", principal, status_code=422, error=error, done=False)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    # every other session of the user ends; this one stays
    for sess in user.sessions:
        if sess.id != principal.session_id and sess.revoked_at is None:
            sess.revoked_at = utcnow()
    db.commit()
    audit(request, principal, "change_password", "/account/password")
    return render(request, "password.html", principal, error=None, done=True)
