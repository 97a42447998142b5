"""Accounts from the command line and the admin page: add, import an .xlsx roster, disable; passwords
printed once, stored as Argon2 hashes, never shown again."""

from __future__ import annotations

import re

import pytest
from conftest import csrf_from, logged_in
from openpyxl import Workbook
from sqlalchemy import select

from app.db import make_engine, make_session_factory
from app.db.models import User
from pipelines.cli import main


def _roster(path, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["登录名", "姓名", "角色", "居委代码"])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_users_add_import_disable_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CIVICHUB_APP_DB", raising=False)
    db = tmp_path / "hub.duckdb"
    assert main(["users", "add", "--db", str(db), "--login", "WangFang", "--role", "committee",
                 "--community", "310106012001", "--name", "王芳"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    password = re.search(r"password \(shown once\): (\S+)", out).group(1)
    assert "wangfang" in out and "street_310106012000" in out and "310106012001" in out
    roster = _roster(
        tmp_path / "roster.xlsx",
        [
            ["lisi", "李四", "street_310106012000", None],
            ["zhao", "赵六", "committee", "310106012002"],
            ["bad one", "坏", "committee", "310106012002"],  # not a login
            ["qian", "钱七", "committee", "12345"],  # not a committee code
            ["sun", "孙八", "no_such_role", None],
            ["lisi", "重复", "minzheng", None],  # taken
        ],
    )
    assert main(["users", "import", "--db", str(db), "--file", str(roster)]) == 1  # some rows refused
    out = capsys.readouterr().out
    assert "2 account(s) created" in out and "4 row(s) refused" in out
    assert "row 4 bad one" in out and "row 5 qian" in out and "row 6 sun" in out and "row 7 lisi" in out
    assert main(["users", "disable", "--db", str(db), "--login", "zhao"]) == 0
    assert main(["users", "list", "--db", str(db)]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"zhao\s+赵六\s+committee\s+street_310106012000\s+310106012002\s+disabled", listing)
    assert password not in listing
    assert main(["users", "add", "--db", str(db), "--login", "x1", "--role", "street_310106012000",
                 "--community", "310106013001"]) == 2  # fmt: skip
    assert "不属于" in capsys.readouterr().err
    engine = make_engine(f"sqlite:///{tmp_path / 'app.sqlite'}")
    with make_session_factory(engine)() as s:
        users = {u.login: u for u in s.scalars(select(User))}
    engine.dispose()
    assert set(users) == {"wangfang", "lisi", "zhao"}
    assert all(u.password_hash.startswith("$argon2id$") and password not in u.password_hash for u in users.values())
    assert users["zhao"].disabled_at is not None


@pytest.mark.slow
def test_the_admin_page_creates_and_imports_accounts_and_shows_each_password_once(app, world, tmp_path):
    a, token = logged_in(app, world, "admin1")
    r = a.post(
        "/admin/users",
        data={
            "login": "new.worker",
            "display_name": "新人",
            "role": "committee",
            "community": world.committee,
            "csrf_token": token,
        },
    )
    assert r.status_code == 200
    password = re.search(r'<code class="password">([^<]+)</code>', r.text).group(1)
    world.passwords["new.worker"] = password
    c, _ = logged_in(app, world, "new.worker")
    assert c.get("/c/findings").status_code == 200
    assert password not in a.get("/admin/users").text  # shown once, never again
    roster = _roster(
        tmp_path / "r.xlsx", [["imp1", "导入一", f"street_{world.street}", None], ["imp2", "导入二", "nope", None]]
    )
    r = a.post(
        "/admin/users/import",
        data={"csrf_token": token},
        files={"roster": ("r.xlsx", roster.read_bytes(), "application/octet-stream")},
    )
    assert r.status_code == 200
    assert "imp1" in r.text and len(re.findall(r'<code class="password">', r.text)) == 1
    assert "第3行" in r.text  # the refused row, with its reason
    r = a.post(
        "/admin/users/import", data={"csrf_token": csrf_from(r.text)}, files={"roster": ("x.xlsx", b"not a workbook")}
    )
    assert r.status_code == 422 and "不是可读的" in r.text


@pytest.mark.slow
def test_the_demo_prints_accounts_that_log_in_and_how_to_start_the_app(app_hub_template, tmp_path, capsys, monkeypatch):
    from conftest import clone_hub
    from fastapi.testclient import TestClient

    from app.config import AppSettings
    from app.main import create_app
    from pipelines.cli import _demo_app

    monkeypatch.delenv("CIVICHUB_APP_DB", raising=False)
    db = clone_hub(app_hub_template, tmp_path / "demo")
    _demo_app(db)
    out = capsys.readouterr().out
    assert f"civichub serve --db {db}" in out and "http://127.0.0.1:8000/" in out
    accounts = dict(re.findall(r"^    (\w+)\s+([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})\s", out, flags=re.M))
    assert set(accounts) == {"admin", "juwei", "jiedao", "minzheng", "shijian", "chengguan"}
    shop = re.search(r"http://127\.0\.0\.1:8000(/shops/\w+)", out).group(1)
    app = create_app(AppSettings.from_hub_db(db))
    for login, password in accounts.items():
        c = TestClient(app, follow_redirects=False)
        page = c.get("/login")
        r = c.post("/login", data={"login": login, "password": password, "csrf_token": csrf_from(page.text)})
        assert r.status_code == 303, login
        assert c.get(r.headers["location"]).status_code == 200, login  # each lands on a page of its own
    assert TestClient(app).get(shop).status_code == 200
