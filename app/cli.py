"""`civichub serve` and `civichub users …` (wired into pipelines/cli.py).

civichub serve --db data/civichub.duckdb [--host 127.0.0.1] [--port 8000] [--workers 1]
civichub users add --login wangfang --role committee --community 310106012001 --name 王芳
civichub users import --file roster.xlsx
civichub users disable --login wangfang
civichub users reset --login wangfang          # a new password, printed once
civichub users list
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.config import AppSettings, ConfigError, app_db_url, hub_paths


def _hub_db(args) -> Path:
    from pipelines import settings

    return Path(args.db or os.environ.get("CIVICHUB_DB") or settings.DEFAULT_DB)


def _session(db: Path):
    from app.db import make_engine, make_session_factory, upgrade

    url = app_db_url(db)
    upgrade(url)
    engine = make_engine(url)
    return engine, make_session_factory(engine)()


def _published(db: Path) -> set[str]:
    root = hub_paths(db).published_root
    if not root.is_dir():
        return set()
    return {p.name for p in root.iterdir() if not p.name.startswith(".") and p.exists()}


def cmd_serve(args) -> int:
    import uvicorn

    from app.db import upgrade
    from app.logs import log_config
    from app.main import create_app

    db = _hub_db(args)
    try:
        settings = AppSettings.from_hub_db(db)
    except ConfigError as e:
        print(f"civichub serve: {e}", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    if not settings.paths.published_root.is_dir():
        print(
            f"civichub serve: nothing published under {settings.paths.published_root} yet — "
            f"run `civichub run --inbox DIR --db {db}` first; pages will say so until then",
            file=sys.stderr,
        )
    print(f"street app on http://{args.host}:{args.port}/  (app database: {_display_url(settings.database_url)})")
    common = dict(
        host=args.host,
        port=args.port,
        log_config=log_config(),
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        server_header=False,
    )
    if args.workers > 1:
        os.environ["CIVICHUB_DB"] = str(Path(db).resolve())
        uvicorn.run("app.main:app_from_env", factory=True, workers=args.workers, **common)
    else:
        uvicorn.run(create_app(settings), **common)
    return 0


def _display_url(url: str) -> str:
    """The URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_users(args) -> int:
    from app import users as um

    db = _hub_db(args)
    engine, s = _session(db)
    try:
        if args.users_command == "add":
            user, password = um.add_user(s, args.login, args.role, args.community, args.name, "cli", _published(db))
            s.commit()
            print(f"created {user.login} ({user.display_name}, {user.kind}, {user.hub_role or '-'}"
                  f"{', ' + user.community_code if user.community_code else ''})")  # fmt: skip
            print(f"password (shown once): {password}")
        elif args.users_command == "import":
            results = um.import_roster(s, Path(args.file), "cli", _published(db))
            s.commit()
            made = [r for r in results if r.password]
            print(f"{len(made)} account(s) created from {args.file}, {len(results) - len(made)} row(s) refused")
            for r in made:
                print(f"  {r.login:<24} {r.display_name:<10} password (shown once): {r.password}")
            for r in results:
                if r.error:
                    print(f"  row {r.row} {r.login}: {r.error}")
            return 1 if len(made) < len(results) else 0
        elif args.users_command == "disable":
            user = um.disable_user(s, args.login)
            s.commit()
            print(f"disabled {user.login}; its sessions are ended")
        elif args.users_command == "enable":
            user = um.enable_user(s, args.login)
            s.commit()
            print(f"enabled {user.login}")
        elif args.users_command == "reset":
            user, password = um.reset_password(s, args.login)
            s.commit()
            print(f"new password for {user.login} (shown once): {password}; its sessions are ended")
        elif args.users_command == "list":
            from sqlalchemy import select

            from app.db.models import User

            for u in s.scalars(select(User).order_by(User.kind, User.login)):
                state = "disabled" if u.disabled_at else ("locked" if u.locked_until else "active")
                print(f"{u.login:<24} {u.display_name:<10} {u.kind:<10} {u.hub_role or '-':<22} "
                      f"{u.community_code or '-':<12} {state}")  # fmt: skip
    except um.UserError as e:
        s.rollback()
        print(f"civichub users: {e}", file=sys.stderr)
        return 2
    finally:
        s.close()
        engine.dispose()
    return 0


def add_parsers(sub) -> None:
    sv = sub.add_parser("serve", help="serve the street app (committees, streets, departments, the public shop pages)")
    sv.add_argument("--db", default=None, help="hub database (its folder holds out/published/; default $CIVICHUB_DB)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    sv.set_defaults(func=cmd_serve)

    u = sub.add_parser("users", help="street app accounts: add, import, disable, enable, reset, list")
    usub = u.add_subparsers(dest="users_command", required=True)
    ua = usub.add_parser("add", help="create an account; its password is printed once")
    ua.add_argument("--login", required=True)
    ua.add_argument(
        "--role",
        required=True,
        help="admin, committee (with --community), street_<street code>, or a department role of sharing/roles.yml",
    )
    ua.add_argument("--community", default=None, help="12-digit committee code (a committee worker)")
    ua.add_argument("--name", default=None, help="the person's name (shown as 核实人)")
    ui = usub.add_parser("import", help="create accounts from an .xlsx roster: 登录名, 姓名, 角色, 居委代码")
    ui.add_argument("--file", required=True)
    for name, text in (
        ("disable", "disable an account and end its sessions"),
        ("enable", "enable a disabled account"),
        ("reset", "a new password (printed once); ends its sessions and lifts a lockout"),
    ):
        p = usub.add_parser(name, help=text)
        p.add_argument("--login", required=True)
    usub.add_parser("list", help="the accounts (never a password)")
    for p in (ua, ui, *[usub.choices[n] for n in ("disable", "enable", "reset", "list")]):
        p.add_argument(
            "--db", default=None, help="hub database (default $CIVICHUB_DB); the app database sits beside it"
        )
    u.set_defaults(func=cmd_users)
