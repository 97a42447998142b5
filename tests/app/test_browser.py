"""Real-browser tests: Playwright drives Debian's chromium (executable_path) against `civichub serve`,
on SQLite and on PostgreSQL.

- a committee worker on a 375 px phone verifies one finding and corrects another; `civichub run`
  takes both in: the override is on the master record, the findings are resolved, and the app (which
  picked up the new publication while serving) shows them done;
- the public shop page opens from the URL decoded from a QR PNG the hub generated;
- a department runs a query in the page (and is refused a statement that would change data);
- nothing the browser did put a password, an ID number or a phone in clear into a log line.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import duckdb
import pytest
from conftest import XSS_NAME, browser_login, build_world, new_app_database, start_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def _no_dialogs(page) -> list:
    fired = []
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    return fired


def _open_from_the_list(page, server, finding_id: str, show: str = "todo") -> None:
    """Page through the worker's list until the finding's link shows, and tap it."""
    for n in range(1, 100):
        page.goto(f"{server.url}/c/findings?show={show}&page={n}")
        link = page.locator(f"a[href='/c/findings/{finding_id}']")
        if link.count():
            link.first.click()
            page.wait_for_url(f"**/c/findings/{finding_id}")
            return
        if page.locator(".pager a", has_text="下一页").count() == 0:
            break
    raise AssertionError(f"{finding_id} is not in the list")


def _fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url}: the page is {width}px wide on a 375px screen"


def test_a_committee_worker_verifies_and_corrects_on_a_phone_and_the_hub_takes_it_in(
    backend, app_hub_template, hub_run, browser, tmp_path, request, monkeypatch
):
    from pipelines.run import run_hub

    world = build_world(app_hub_template, tmp_path / "hub", new_app_database(backend, request, tmp_path))
    server = start_server(world, tmp_path / "server.log")
    try:
        with duckdb.connect(str(world.db), read_only=True) as con:
            findings = {
                r[0]: r[1:]
                for r in con.execute(
                    "select finding_id, entity_id, observed_value, suggested_value from quality.finding where finding_id in (?, ?)",
                    world.birth_fids[:2],
                ).fetchall()
            }
        confirm_fid, correct_fid = world.birth_fids[:2]
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        dialogs = _no_dialogs(page)
        browser_login(page, server, world, "worker1")
        assert page.url.endswith("/c/findings")
        _fits_the_phone(page)
        assert page.locator("progress").count() == 1
        left_before = int(re.search(r"还剩 (\d+) 条", page.inner_text("main")).group(1))

        # 1. 确认: the finding's suggested value is the correction
        _open_from_the_list(page, server, confirm_fid)
        _fits_the_phone(page)
        assert findings[confirm_fid][2] in page.inner_text(".evidence")  # the evidence, side by side
        page.check("input[name=decision][value=确认]")
        page.click("#verify button[type=submit]")
        page.wait_for_selector("#verify .ok")  # htmx swapped the saved state in, no page load
        assert "待数据中心入库" in page.inner_text("#verify")

        # 2. 更正 with a value: first an impossible date is refused on the spot, then the right one
        page.goto(f"{server.url}/c/findings/{correct_fid}")
        page.check("input[name=decision][value=更正]")
        page.evaluate("document.querySelector('input[name=value]').type = 'text'")  # type it as a person would
        page.fill("input[name=value]", "1950-02-30")
        page.click("#verify button[type=submit]")
        page.wait_for_selector("#verify .alert")
        assert "日期" in page.inner_text("#verify .alert")
        page.check("input[name=decision][value=更正]")
        page.evaluate("document.querySelector('input[name=value]').type = 'text'")
        page.fill("input[name=value]", "1950-01-02")
        page.fill("textarea[name=note]", "本人出示户口簿核对")
        page.click("#verify button[type=submit]")
        page.wait_for_selector("#verify .ok")
        page.goto(f"{server.url}/c/findings")
        assert int(re.search(r"还剩 (\d+) 条", page.inner_text("main")).group(1)) == left_before - 2
        assert not dialogs

        # 3. civichub run takes them in (no new delivery: the corrections step only) and publishes again
        monkeypatch.setenv("CIVICHUB_APP_DB", world.url)
        inbox = hub_run[0]
        summary = run_hub(inbox, world.db)
        assert summary.ok, summary.corrections_error
        app_in = summary.corrections.app
        assert (app_in.verifications_accepted, app_in.verifications_rejected) == (2, 0)
        with duckdb.connect(str(world.db), read_only=True) as con:
            birth = dict(
                con.execute(
                    "select person_id, birth_date::varchar from master.person where person_id in (?, ?)",
                    [findings[confirm_fid][0], findings[correct_fid][0]],
                ).fetchall()
            )
            status = dict(
                con.execute(
                    "select finding_id, status from quality.finding where finding_id in (?, ?)", world.birth_fids[:2]
                ).fetchall()
            )
            decisions = con.execute(
                "select finding_id, decision, corrected_value, decided_by, source_file from quality.finding_decision "
                "where finding_id in (?, ?) order by finding_id",
                world.birth_fids[:2],
            ).fetchall()
        assert birth[findings[confirm_fid][0]] == findings[confirm_fid][2]  # 确认 took the suggested value
        assert birth[findings[correct_fid][0]] == "1950-01-02"  # 更正 took the typed value
        assert status == {confirm_fid: "resolved", correct_fid: "resolved"}
        assert {d[0]: d[1:4] for d in decisions} == {
            confirm_fid: ("确认", findings[confirm_fid][2], "王芳"),
            correct_fid: ("更正", "1950-01-02", "王芳"),
        }
        assert all(d[4].startswith("app:") for d in decisions)

        # 4. the running app picked up the new publication: the two are no longer open, the worker sees them in
        page.goto(f"{server.url}/c/findings")
        text = page.inner_text("main")
        assert int(re.search(r"还剩 (\d+) 条", text).group(1)) == left_before - 2
        assert f"/c/findings/{confirm_fid}" not in page.content()  # resolved: off the open list
        page.goto(f"{server.url}/c/findings/{correct_fid}")
        assert "已入库" in page.inner_text("#verify")
        ctx.close()
    finally:
        server.stop()


def test_the_public_shop_page_opens_from_a_decoded_qr_code(world, live_server, browser, hub_run):
    import zxingcpp
    from PIL import Image

    from matching.config import load_matching_config
    from matching.stable_ids import make_id

    qr_dir = Path(hub_run[1]).parent / "out" / "qr"
    png = qr_dir / f"{world.shop}.png"
    if not png.exists():
        png = sorted(qr_dir.glob("*.png"))[0]
    decoded = zxingcpp.read_barcodes(Image.open(png))
    assert len(decoded) == 1
    url = decoded[0].text
    base = load_matching_config().shop_page_base_url
    assert url.startswith(base + "/")
    path = urlparse(url).path  # /shops/<code>: the same path on this server
    code = path.rsplit("/", 1)[-1]
    with duckdb.connect(str(world.db), read_only=True) as con:  # the hub's own record of the shop
        name, registered = con.execute(
            "select name, registered_name from master.shop where shop_code = ?", [code]
        ).fetchone()
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    response = page.goto(live_server.url + path)
    assert response.status == 200
    _fits_the_phone(page)
    body = page.inner_text("main")
    assert code in body and (name or registered) in body
    assert "检查记录" in body and "食品经营许可证" in body
    assert not page.context.cookies()  # the public page sets no cookie
    # a mistyped code (last character changed) says so; a well-formed unknown code is 404
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    response = page.goto(f"{live_server.url}/shops/{wrong}")
    assert response.status == 400 and "有误" in page.inner_text("main")
    response = page.goto(f"{live_server.url}/shops/{make_id('M', 99_999_999)}")
    assert response.status == 404
    ctx.close()


def test_a_department_runs_a_query_in_the_page(world, live_server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    browser_login(page, live_server, world, "minzheng1")
    page.goto(live_server.url + "/d/query")
    page.fill("textarea[name=sql]", "select count(*) as persons from master.person")
    page.click("button[value=html]")
    page.wait_for_selector("table.result")
    with duckdb.connect(str(world.db), read_only=True) as con:  # 民政 is of district scope: every person
        persons = con.execute("select count(*) from master.person").fetchone()[0]
    assert page.inner_text("table.result tbody td") == str(persons)
    assert "审计 #" in page.inner_text("main")
    page.fill("textarea[name=sql]", "delete from master.person")
    page.click("button[value=html]")
    page.wait_for_selector(".alert")
    assert "未执行" in page.inner_text(".alert")
    # the CSV download of the same statement
    page.fill("textarea[name=sql]", "select person_id from master.person order by 1 limit 3")
    with page.expect_download() as dl:
        page.click("button[value=csv]")
    lines = Path(dl.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "person_id" and len(lines) == 4
    ctx.close()


def test_hostile_names_do_not_run_in_the_browser(world, live_server, browser):
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    dialogs = _no_dialogs(page)
    browser_login(page, live_server, world, "worker1")
    _open_from_the_list(page, live_server, world.xss_fid, show="all")
    assert XSS_NAME in page.inner_text("main")  # shown as text, not run
    page.goto(f"{live_server.url}/c/households/{world.xss_household}")
    assert "<img" in page.inner_text("main")
    assert dialogs == []
    ctx.close()


def test_no_password_id_number_or_phone_in_clear_in_any_log_line(world, live_server, browser):
    """Runs after the browser tests above on the same server; adds requests that carry an ID number and a
    phone in the URL and a password in a form, then reads every line the server and the audit wrote."""
    import httpx

    with duckdb.connect(str(world.db), read_only=True) as con:
        id_number = con.execute(
            "select id_number from master.person where id_number_valid and length(id_number) = 18 limit 1"
        ).fetchone()[0]
        phone = con.execute(
            "select phone from master.person where phone like '1%' and length(phone) = 11 limit 1"
        ).fetchone()[0]
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    browser_login(page, live_server, world, "worker1")
    page.goto(f"{live_server.url}/c/roster?q={phone}")
    page.goto(f"{live_server.url}/c/roster?q={id_number}")
    page.goto(f"{live_server.url}/c/findings/{id_number}")
    ctx.close()
    with httpx.Client(base_url=live_server.url) as c:
        login_page = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text).group(1)
        c.post("/login", data={"login": phone, "password": world.passwords["worker2"], "csrf_token": token})
        c.post("/login", data={"login": "worker2", "password": id_number, "csrf_token": token})
    lines = live_server.log.read_text(encoding="utf-8").splitlines()
    lines += world.settings.paths.audit_log.read_text(encoding="utf-8").splitlines()
    assert any("/c/roster" in line for line in lines)  # the requests were logged …
    # an ID number or a mobile standing alone (not digits inside a hash or a longer number)
    id_digits = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
    mobile = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
    for line in lines:
        assert id_number not in line and phone not in line, line  # … masked
        assert not id_digits.search(line), line
        assert not mobile.search(line), line
        for password in world.passwords.values():
            assert password not in line, "a password reached a log line"
