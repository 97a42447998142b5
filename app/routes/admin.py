"""District administrator: accounts (add, import an .xlsx roster, disable, reset a password) and the
progress of every street (counts only: the administrator sees no personal data)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app import users as um
from app import verifications as ver
from app.audit import audit
from app.auth.deps import NotFound, get_db, require
from app.auth.principal import Principal
from app.db.models import User
from app.pages import render
from app.queries import findings as fq

router = APIRouter(prefix="/admin")
admin = require("admin")
MAX_ROSTER_BYTES = 5 * 1024 * 1024


def _published(request: Request) -> set[str]:
    return set(request.app.state.store.roles())


def _users_page(request, p, db, status_code=200, **extra):
    users = db.scalars(select(User).order_by(User.kind, User.street_code, User.community_code, User.login)).all()
    roles = sorted(r for r in _published(request) if r not in um.NOT_FOR_PEOPLE)
    return render(
        request,
        "admin/users.html",
        p,
        status_code=status_code,
        users=users,
        roles=roles,
        **{"created": None, "error": None, "imported": None, **extra},
    )


@router.get("/users")
def users(request: Request, p: Principal = Depends(admin), db: Session = Depends(get_db)):
    return _users_page(request, p, db)


@router.post("/users")
def add(
    request: Request,
    login: str = Form(""),
    display_name: str = Form(""),
    role: str = Form(""),
    community: str = Form(""),
    p: Principal = Depends(admin),
    db: Session = Depends(get_db),
):
    try:
        user, password = um.add_user(db, login, role, community or None, display_name, p.login, _published(request))
    except um.UserError as e:
        db.rollback()
        audit(request, p, "add_user", f"user/{login[:40]}", "refused", str(e))
        return _users_page(request, p, db, 422, error=str(e))
    db.commit()
    audit(request, p, "add_user", f"user/{user.login}", "ok", user.hub_role or user.kind)
    return _users_page(request, p, db, created=[(user.login, user.display_name, password)])


@router.post("/users/import")
async def import_users(request: Request, roster: UploadFile = File(...), p: Principal = Depends(admin)):
    data = await roster.read(MAX_ROSTER_BYTES + 1)
    if len(data) > MAX_ROSTER_BYTES:
        return _render_sync(request, p, 413, error="文件过大（超过 5 MB）")
    return await run_in_threadpool(_import_sync, request, p, data)


def _render_sync(request, p, status_code, **extra):
    with request.app.state.session_factory() as db:
        return _users_page(request, p, db, status_code, **extra)


def _import_sync(request: Request, p: Principal, data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.xlsx"
        path.write_bytes(data)
        with request.app.state.session_factory() as db:
            try:
                results = um.import_roster(db, path, p.login, _published(request))
            except um.UserError as e:
                db.rollback()
                audit(request, p, "import_users", "roster.xlsx", "refused", str(e))
                return _users_page(request, p, db, 422, error=str(e))
            db.commit()
            ok = [r for r in results if r.password]
            audit(
                request, p, "import_users", "roster.xlsx", "ok", f"{len(ok)} created, {len(results) - len(ok)} refused"
            )
            return _users_page(
                request,
                p,
                db,
                created=[(r.login, r.display_name, r.password) for r in ok],
                imported=[r for r in results if r.error],
            )


def _user_or_404(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("没有这个账号")
    return user


@router.post("/users/{user_id}/disable")
def disable(request: Request, user_id: int, p: Principal = Depends(admin), db: Session = Depends(get_db)):
    user = _user_or_404(db, user_id)
    if user.id == p.user_id:
        return _users_page(request, p, db, 422, error="不能停用自己的账号")
    um.disable_user(db, user.login)
    db.commit()
    audit(request, p, "disable_user", f"user/{user.login}")
    return _users_page(request, p, db)


@router.post("/users/{user_id}/enable")
def enable(request: Request, user_id: int, p: Principal = Depends(admin), db: Session = Depends(get_db)):
    user = _user_or_404(db, user_id)
    um.enable_user(db, user.login)
    db.commit()
    audit(request, p, "enable_user", f"user/{user.login}")
    return _users_page(request, p, db)


@router.post("/users/{user_id}/reset")
def reset(request: Request, user_id: int, p: Principal = Depends(admin), db: Session = Depends(get_db)):
    user = _user_or_404(db, user_id)
    user, password = um.reset_password(db, user.login)
    db.commit()
    audit(request, p, "reset_password", f"user/{user.login}")
    return _users_page(request, p, db, created=[(user.login, user.display_name, password)])


@router.get("/progress")
def progress(request: Request, p: Principal = Depends(admin), db: Session = Depends(get_db)):
    store = request.app.state.store
    streets = []
    for role in store.roles():
        if not role.startswith("street_"):
            continue
        code = role.removeprefix("street_")
        tables = store.tables(role)
        with store.cursor(role) as cur:
            name = fq.street_name(cur, tables, code)
            per = fq.progress(cur, tables, code)
        latest = ver.latest_in_street(db, code)
        done = sum(
            1
            for c in per
            for fid in c["open_ids"]
            if latest.get(fid) is not None and latest[fid].intake_status in ver.DONE
        )
        opened = sum(c["open"] or 0 for c in per)
        streets.append(
            {
                "street_code": code,
                "street_name": name,
                "committees": len(per),
                "open": opened,
                "verified_in_app": done,
                "left": opened - done,
                "resolved": sum(c["resolved"] or 0 for c in per),
                "rejected": sum(c["rejected"] or 0 for c in per),
                "oldest_open": min((c["oldest_open"] for c in per if c["oldest_open"]), default=None),
            }
        )
    return render(request, "admin/progress.html", p, streets=streets)
