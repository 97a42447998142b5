"""Security of the street app, on SQLite and PostgreSQL: CSRF, escaping, SQL-like input, session
cookies, lockout and throttling, and what reaches the logs."""

from __future__ import annotations

import re

import pytest
from conftest import XSS_ADDRESS, XSS_NAME, csrf_from, logged_in, login
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db import make_engine, make_session_factory
from app.db.models import FollowUp, LoginSession, User, Verification

pytestmark = pytest.mark.slow


def _count(world, model) -> int:
    engine = make_engine(world.url)
    try:
        with make_session_factory(engine)() as s:
            return s.scalar(select(func.count()).select_from(model))
    finally:
        engine.dispose()


def _state(world) -> dict:
    return {m.__name__: _count(world, m) for m in (User, Verification, FollowUp)}


# ------------------------------------------------------------------------------------------ CSRF
def _state_changing_requests(world) -> list[tuple[str, str, dict, str]]:
    """(user, path, a form that would succeed with a valid token, what it would change)."""
    out = [
        (
            "worker1",
            f"/c/findings/{world.id_fids[-1]}/verify",
            {"decision": "不属实", "value": "", "note": ""},
            "Verification",
        ),
        (
            "admin1",
            "/admin/users",
            {"login": "csrf.victim", "role": "admin", "display_name": "x", "community": ""},
            "User",
        ),
        (
            "worker1",
            "/account/password",
            {"current": world.passwords["worker1"], "new": "n3w-pass-word", "again": "n3w-pass-word"},
            None,
        ),
        ("street1", "/d/query", {"sql": "select 1", "limit": "5"}, None),
    ]
    if world.scenario and world.match_in_street:
        out.append(
            (
                "street1",
                f"/scenarios/{world.scenario}/{world.match_in_street}/follow-up",
                {"result": "联系不上", "note": ""},
                "FollowUp",
            )
        )
    return out


def test_state_changing_requests_without_or_with_a_wrong_csrf_token_are_refused(app, world):
    before = _state(world)
    for user, path, form, _changes in _state_changing_requests(world):
        c, token = logged_in(app, world, user)
        other, other_token = logged_in(app, world, user)  # the same user's other session
        for label, data, headers in (
            ("missing", form, {}),
            ("wrong", {**form, "csrf_token": "x" * 43}, {}),
            ("another session's", {**form, "csrf_token": other_token}, {}),
            ("empty header", form, {"X-CSRF-Token": ""}),
        ):
            r = c.post(path, data=data, headers=headers)
            assert r.status_code == 403, (user, path, label, r.status_code)
            assert "CSRF" in r.text
        assert token != other_token
    assert _state(world) == before  # nothing was changed by any refused request
    # the password of worker1 still works (the refused change did not happen)
    c = TestClient(app, follow_redirects=False)
    assert login(c, world, "worker1").status_code == 303


def test_the_login_form_needs_its_token_too(app, world):
    c = TestClient(app, follow_redirects=False)
    r = c.post("/login", data={"login": "worker1", "password": world.passwords["worker1"]})
    assert r.status_code == 403
    c.get("/login")  # sets the anonymous cookie, but the token is still missing
    r = c.post("/login", data={"login": "worker1", "password": world.passwords["worker1"], "csrf_token": "forged"})
    assert r.status_code == 403
    assert "civichub_session" not in r.cookies


def test_a_valid_token_in_the_htmx_header_is_accepted(app, world):
    c, token = logged_in(app, world, "street1")
    r = c.post("/d/query", data={"sql": "select 42 as answer", "limit": "5"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and "42" in r.text


# ------------------------------------------------------------------------------------------ XSS
def test_hostile_names_addresses_and_notes_are_shown_escaped(app, world):
    c, token = logged_in(app, world, "worker1")
    note = "<script>alert('note')</script><img src=x onerror=alert(2)>"
    r = c.post(
        f"/c/findings/{world.xss_fid}/verify",
        data={"decision": "不属实", "value": "", "note": note, "csrf_token": token},
    )
    assert r.status_code == 303
    pages = [
        c.get("/c/findings?show=all"),
        c.get(f"/c/findings/{world.xss_fid}"),
        c.get(f"/c/households/{world.xss_household}"),
        c.get(f"/c/roster?q={XSS_ADDRESS[:8]}"),
    ]
    s, _ = logged_in(app, world, "street1")
    pages += [s.get(f"/s/findings/{world.xss_fid}"), s.get(f"/s/findings?community={world.committee}&status=")]
    payloads = [XSS_NAME, XSS_ADDRESS, note, "<script>", "<img src=x"]
    shown = 0
    for page in pages:
        assert page.status_code == 200, page.url
        for p in payloads:
            assert p not in page.text, (str(page.url), p)
        shown += page.text.count("&lt;script&gt;") + page.text.count("&#34;&gt;&lt;img") + page.text.count("&lt;img")
    assert shown >= len(pages)  # the payloads are there, as text
    # the typed login is echoed escaped; the query page echoes the statement escaped
    anon = TestClient(app, follow_redirects=False)
    r = login(anon, world, "<script>alert(1)</script>", "x")
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    q = s.post(
        "/d/query",
        data={
            "sql": "</textarea><script>alert(3)</script>",
            "limit": "5",
            "csrf_token": csrf_from(s.get("/d/query").text),
        },
    )
    assert "<script>alert(3)</script>" not in q.text and "&lt;/textarea&gt;&lt;script&gt;" in q.text


def test_pages_forbid_inline_scripts_and_framing(app, world):
    c, _ = logged_in(app, world, "worker1")
    r = c.get("/c/findings")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"  # personal data does not stay in a shared phone's cache
    assert re.search(r"<script(?![^>]*\bsrc=)", r.text) is None  # no inline script in the page


# ------------------------------------------------------------------------------------------ SQL-like input
SQLISH = [
    "' OR '1'='1",
    "1; DROP TABLE users; --",
    '"; delete from verifications; --',
    "') union select password_hash from users --",
    "x'); drop table master.person; --",
]


def test_sql_like_input_in_every_form_field_changes_nothing(app, world):
    before = _state(world)
    # login: refused, nobody logged in
    for payload in SQLISH:
        anon = TestClient(app, follow_redirects=False, client=("198.51.100.7", 1234))
        r = login(anon, world, payload, payload)
        assert r.status_code == 401 and "civichub_session" not in r.cookies
    # searches and filters: nothing found, no error
    c, token = logged_in(app, world, "worker1")
    s, stoken = logged_in(app, world, "street1")
    for payload in SQLISH:
        assert c.get("/c/roster", params={"q": payload}).status_code == 200
        assert c.get("/c/findings", params={"show": payload}).status_code == 200
        assert s.get("/s/findings", params={"community": payload}).status_code == 404
        assert s.get("/s/findings", params={"status": payload}).status_code == 200
        assert c.get(f"/c/findings/{payload}").status_code in (404, 405)
        assert "共 0 户" in c.get("/c/roster", params={"q": payload}).text
        bad_number = c.get("/c/roster", params={"page": payload})
        assert bad_number.status_code == 422 and "输入有误" in bad_number.text
    # the verification form: a date field refuses it; a text note is kept literally, nothing executed
    for payload in SQLISH:
        r = c.post(
            f"/c/findings/{world.birth_fids[-1]}/verify",
            data={"decision": "更正", "value": payload, "note": payload, "csrf_token": token},
        )
        assert r.status_code == 422 and "日期" in r.text
        r = c.post(
            f"/c/findings/{world.birth_fids[-1]}/verify",
            data={"decision": payload, "value": "", "note": "", "csrf_token": token},
        )
        assert r.status_code == 422
    # the admin form: refused with a reason, no account made
    a, atoken = logged_in(app, world, "admin1")
    for payload in SQLISH:
        r = a.post(
            "/admin/users",
            data={
                "login": payload,
                "display_name": payload,
                "role": payload,
                "community": payload,
                "csrf_token": atoken,
            },
        )
        assert r.status_code == 422
    # the query page: statements that would change anything are refused by the gateway
    for sql in ("drop table master.person", "select 1; delete from master.person", "attach 'x.db' as x"):
        r = s.post("/d/query", data={"sql": sql, "limit": "5", "csrf_token": stoken})
        assert r.status_code == 400 and "未执行" in r.text
    assert _state(world) == before
    # and the published data is intact
    r = s.post("/d/query", data={"sql": "select count(*) as n from master.person", "limit": "5", "csrf_token": stoken})
    assert r.status_code == 200 and re.search(r"<td>[1-9]\d*</td>", r.text)


# ------------------------------------------------------------------------------------------ sessions
def test_the_session_cookie_is_signed_httponly_samesite_with_an_expiry(app, world):
    c = TestClient(app, follow_redirects=False, base_url="https://testserver")
    r = login(c, world, "street1")
    assert r.status_code == 303
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("civichub_session="))
    low = cookie.lower()
    assert "httponly" in low and "samesite=lax" in low and "secure" in low and "path=/" in low
    assert re.search(r"max-age=\d+", low)
    value = cookie.split(";", 1)[0].split("=", 1)[1].strip('"')
    # a tampered cookie is no session
    t = TestClient(app, follow_redirects=False)
    t.cookies.set("civichub_session", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert t.get("/s/progress").status_code == 303
    # on plain http (no TLS proxy) the cookie is not marked Secure, so a LAN test server still works
    plain = TestClient(app, follow_redirects=False)
    r = login(plain, world, "street1")
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("civichub_session="))
    assert "secure" not in cookie.lower()


def test_logout_ends_the_session_on_the_server(app, world):
    c, token = logged_in(app, world, "street1")
    stolen = c.cookies.get("civichub_session")
    assert c.post("/logout", data={"csrf_token": token}).status_code == 303
    replay = TestClient(app, follow_redirects=False)
    replay.cookies.set("civichub_session", stolen)
    assert replay.get("/s/progress").status_code == 303  # back to the login page


def test_an_idle_session_expires(app, world):
    import datetime as dt

    c, _ = logged_in(app, world, "street1")
    assert c.get("/s/progress").status_code == 200
    engine = make_engine(world.url)
    with make_session_factory(engine)() as s:
        for sess in s.scalars(select(LoginSession).where(LoginSession.revoked_at.is_(None))):
            sess.last_seen_at = sess.last_seen_at - dt.timedelta(hours=3)
        s.commit()
    engine.dispose()
    assert c.get("/s/progress").status_code == 303


def test_a_disabled_account_loses_its_sessions_at_once(app, world):
    from app import users as um

    engine = make_engine(world.url)
    with make_session_factory(engine)() as s:
        _u, password = um.add_user(s, "leaver", "committee", world.committee, "离职者")
        s.commit()
    world.passwords["leaver"] = password
    c, _ = logged_in(app, world, "leaver")
    assert c.get("/c/findings").status_code == 200
    with make_session_factory(engine)() as s:
        um.disable_user(s, "leaver")
        s.commit()
    engine.dispose()
    assert c.get("/c/findings").status_code == 303
    assert login(TestClient(app, follow_redirects=False), world, "leaver").status_code == 401


# ------------------------------------------------------------------------------------------ lockout
def test_repeated_wrong_passwords_lock_the_account(app, world):
    from app import users as um

    engine = make_engine(world.url)
    with make_session_factory(engine)() as s:
        _u, password = um.add_user(s, "target", "street_" + world.street, None, "被攻击者")
        s.commit()
    world.passwords["target"] = password
    c = TestClient(app, follow_redirects=False, client=("203.0.113.5", 4321))
    failures = world.settings.lockout_failures
    for _ in range(failures - 1):
        assert login(c, world, "target", "wrong-password").status_code == 401
    r = login(c, world, "target", "wrong-password")
    assert r.status_code == 423 and "锁定" in r.text
    # the right password does not open a locked account
    r = login(c, world, "target")
    assert r.status_code == 423 and "civichub_session" not in r.cookies
    # the administrator's reset lifts the lock (with a new password)
    with make_session_factory(engine)() as s:
        _u, new = um.reset_password(s, "target")
        s.commit()
    engine.dispose()
    world.passwords["target"] = new
    assert login(c, world, "target").status_code == 303


def test_an_address_trying_many_passwords_is_throttled(world):
    import dataclasses

    from app.main import create_app

    limit = 6  # the production default is 30 in 15 minutes; the rule is the same
    app = create_app(dataclasses.replace(world.settings, ip_failures_per_window=limit))
    attacker = TestClient(app, follow_redirects=False, client=("203.0.113.99", 5555))
    for n in range(limit):
        r = login(attacker, world, f"nobody{n}", "guess")
        assert r.status_code == 401
    r = login(attacker, world, "worker1")  # even a right password, from that address
    assert r.status_code == 429
    other = TestClient(app, follow_redirects=False, client=("203.0.113.100", 5555))
    assert login(other, world, "worker1").status_code == 303


def test_unknown_and_disabled_logins_fail_like_a_wrong_password(app, world):
    c = TestClient(app, follow_redirects=False, client=("203.0.113.20", 1))
    texts = {login(c, world, "worker1", "nope").text.count("登录名或密码不正确")}
    texts.add(login(c, world, "no.such.user", "nope").text.count("登录名或密码不正确"))
    assert texts == {1}


# ------------------------------------------------------------------------------------------ audit
def test_logins_views_of_personal_data_and_submissions_are_audited(app, world):
    from sharing import audit

    log = world.settings.paths.audit_log
    n0 = len(audit.read(log))
    c, token = logged_in(app, world, "worker1")
    c.get(f"/c/findings/{world.birth_fids[0]}")
    c.get(f"/c/households/{world.household}")
    c.post(
        f"/c/findings/{world.id_fids[0]}/verify",
        data={"decision": "不属实", "value": "", "note": "", "csrf_token": token},
    )
    login(TestClient(app, follow_redirects=False, client=("203.0.113.30", 1)), world, "worker1", "wrong")
    records = [r for r in audit.read(log)[n0:] if r.get("kind") == "app"]
    seen = {(r["actor"], r["action"], r["target"], r["outcome"]) for r in records}
    assert ("worker1", "login", "/login", "ok") in seen
    assert ("worker1", "view", f"finding/{world.birth_fids[0]}", "ok") in seen
    assert ("worker1", "view", f"household/{world.household}", "ok") in seen
    assert ("worker1", "submit", f"finding/{world.id_fids[0]}", "ok") in seen
    assert ("worker1", "login", "/login", "refused") in seen
    assert audit.verify(log).ok  # still one unbroken hash chain with the gateway's records
