"""Accounts: add, import from an .xlsx roster, disable, reset a password. Used by `civichub users …`
and by the admin page, so both apply the same rules.

A role is what sharing/roles.yml calls it, plus two levels of the app's own:

    admin                       the district administrator (users, progress; no personal data)
    minzheng, gongan, …         a department (the roles of roles.yml except `public`)
    street_<street code>        a street office
    committee --community CODE  a committee worker (居委); the street is the committee code's
    (street_<code> --community CODE means the same committee worker)

A new account gets a generated password, returned once to be printed or shown once; it is never
stored in clear, logged or shown again (a reset makes a new one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.passwords import generate_password, hash_password
from app.auth.principal import street_of, street_role
from app.auth.sessions import SessionManager
from app.db.models import User, utcnow
from catalog.spec import load_catalog
from sharing.roles import load_roles

LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
CODE_RE = re.compile(r"^\d{12}$")
STREET_ROLE_RE = re.compile(r"^street_(\d{12})$")
NOT_FOR_PEOPLE = {"public"}  # the public pages' role: nobody logs in as it

ROSTER_HEADERS = {
    "login": ("登录名", "账号", "login"),
    "name": ("姓名", "name", "display_name"),
    "role": ("角色", "role"),
    "community": ("居委代码", "community", "community_code"),
}


class UserError(ValueError):
    pass


@dataclass
class Placement:
    kind: str
    hub_role: str | None
    street_code: str | None
    community_code: str | None


@lru_cache(maxsize=1)
def department_roles() -> frozenset[str]:

    return frozenset(r for r in load_roles(load_catalog()).roles if r not in NOT_FOR_PEOPLE)


def place(role: str, community: str | None, published: set[str] | None = None) -> Placement:
    """Where an account sits, from the role and committee given; UserError says what is wrong."""
    role = (role or "").strip()
    community = (community or "").strip() or None
    if community is not None and not CODE_RE.match(community):
        raise UserError(f"居委代码应为12位数字（got {community!r}）")
    if role == "admin":
        if community:
            raise UserError("区管理员不属于某个居委（去掉 --community）")
        return Placement("admin", None, None, None)
    street_match = STREET_ROLE_RE.match(role)
    if role == "committee" or (street_match and community):
        if community is None:
            raise UserError("居委工作人员需要 --community 居委代码")
        street = street_of(community)
        if street_match and street_match.group(1) != street:
            raise UserError(f"居委 {community} 不属于 {role}（属于 street_{street}）")
        hub = street_role(street)
        if published is not None and published and hub not in published:
            raise UserError(f"街道 {street} 没有发布的数据（{hub} 不在已发布的角色中）")
        return Placement("committee", hub, street, community)
    if street_match:
        if published is not None and published and role not in published:
            raise UserError(f"{role} 不在已发布的角色中（街道代码是否正确？）")
        return Placement("street", role, street_match.group(1), None)
    if role in department_roles():
        if community:
            raise UserError("部门账号不属于某个居委（去掉 --community）")
        return Placement("department", role, None, None)
    known = ", ".join(sorted(department_roles()))
    raise UserError(
        f"未知角色 {role!r}：应为 admin、committee（加 --community）、street_<街道代码> 或部门角色（{known}）"
    )


def check_login(login: str) -> str:
    login = (login or "").strip().lower()
    if not LOGIN_RE.match(login):
        raise UserError("登录名为2–40位小写字母、数字、点、下划线或连字符，以字母或数字开头")
    return login


def add_user(
    db: Session,
    login: str,
    role: str,
    community: str | None = None,
    display_name: str | None = None,
    created_by: str | None = None,
    published: set[str] | None = None,
) -> tuple[User, str]:
    """Create an account (the caller commits); returns it and its password, to be shown once."""
    login = check_login(login)
    placement = place(role, community, published)
    if db.scalar(select(User).where(User.login == login)) is not None:
        raise UserError(f"登录名 {login} 已存在")
    name = (display_name or "").strip()[:64] or login
    password = generate_password()
    user = User(
        login=login,
        display_name=name,
        kind=placement.kind,
        hub_role=placement.hub_role,
        street_code=placement.street_code,
        community_code=placement.community_code,
        password_hash=hash_password(password),
        failed_logins=0,
        created_at=utcnow(),
        created_by=created_by,
        password_changed_at=utcnow(),
    )
    db.add(user)
    db.flush()
    return user, password


def find_user(db: Session, login: str) -> User:
    user = db.scalar(select(User).where(User.login == (login or "").strip().lower()))
    if user is None:
        raise UserError(f"没有登录名为 {login} 的账号")
    return user


def disable_user(db: Session, login: str) -> User:
    """Disable an account and end its sessions at once (the caller commits)."""
    user = find_user(db, login)
    if user.disabled_at is None:
        user.disabled_at = utcnow()
    SessionManager.revoke_user(db, user.id)
    return user


def enable_user(db: Session, login: str) -> User:
    user = find_user(db, login)
    user.disabled_at = None
    return user


def reset_password(db: Session, login: str) -> tuple[User, str]:
    """A new password (returned once), the lock lifted, every session ended."""
    user = find_user(db, login)
    password = generate_password()
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    SessionManager.revoke_user(db, user.id)
    return user, password


@dataclass
class ImportRow:
    row: int
    login: str
    display_name: str
    role: str
    password: str | None = None
    error: str | None = None


def read_roster(path: Path) -> list[tuple[int, dict]]:
    """(row number, {login, name, role, community}) from the first sheet of an .xlsx roster."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - not a workbook, truncated …
        raise UserError(f"{Path(path).name}: 不是可读的 .xlsx 文件（{type(e).__name__}）") from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(it, [])]
    col = {}
    for key, names in ROSTER_HEADERS.items():
        for i, h in enumerate(header):
            if h in names:
                col[key] = i
    missing = [ROSTER_HEADERS[k][0] for k in ("login", "role") if k not in col]
    if missing:
        raise UserError(f"{Path(path).name}: 第1行缺少列 {'、'.join(missing)}（应有 登录名、姓名、角色、居委代码）")
    out = []
    for n, values in enumerate(it, start=2):
        values = list(values or [])
        if all(v is None or str(v).strip() == "" for v in values):
            continue

        def get(key: str, values: list = values) -> str:
            i = col.get(key)
            v = values[i] if i is not None and i < len(values) else None
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            return "" if v is None else str(v).strip()

        out.append((n, {k: get(k) for k in ROSTER_HEADERS}))
    return out


def import_roster(
    db: Session, path: Path, created_by: str | None = None, published: set[str] | None = None
) -> list[ImportRow]:
    """Create an account per row; a bad row is reported and the others are still created."""
    results = []
    for n, rec in read_roster(path):
        r = ImportRow(n, rec["login"], rec["name"], rec["role"])
        try:
            with db.begin_nested():
                _user, r.password = add_user(
                    db, rec["login"], rec["role"], rec["community"] or None, rec["name"], created_by, published
                )
        except UserError as e:
            r.error = str(e)
        results.append(r)
    return results
