"""Real browser (Debian's chromium through Playwright) against `civichub serve`: the 排摸 door flow.

A department uploads a list on the upload page (the header mapping shown and confirmed), a committee
worker on a 375 px phone answers two rows (a required question left empty is refused, a conditional
question appears when its answer says so), the street office sees the progress, and the report
.xlsx and the export carry the answers, the export in the list's own row order."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest
from conftest import browser_login
from tasks_world import CHECKLIST, list_csv, list_rows

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url}: the page is {width}px wide on a 375px screen"


def _download(page, href: str) -> bytes:
    with page.expect_download() as d:
        page.click(f"a[href='{href}']")
    return open(d.value.path(), "rb").read()


def test_a_list_goes_from_upload_to_the_door_to_the_report(live_server, world, browser, tmp_path):
    server = live_server
    listing = tmp_path / "重点人员名单.csv"
    listing.write_bytes(list_csv(list_rows(world), "gb18030"))

    # 1. the department uploads the list; the page shows the mapping it recognised
    desk = browser.new_context(accept_downloads=True)
    page = desk.new_page()
    browser_login(page, server, world, "minzheng1")
    page.goto(server.url + "/d/tasks/new")
    page.fill("input[name=name]", "浏览器排摸")
    page.fill("input[name=due]", "2026-12-31")
    page.set_input_files("#list_file", str(listing))
    page.wait_for_selector("select[name=map_id_number]")
    assert page.input_value("select[name=map_id_number]") == "证件号码"
    assert page.input_value("select[name=map_address]") == "家庭住址"
    page.fill("textarea[name=checklist]", CHECKLIST)
    page.click("form[action='/d/tasks/new'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/d/tasks/\d+$"))
    task_url = page.url
    task = int(task_url.rsplit("/", 1)[1])

    # 2. the worker, on a phone, answers two rows of the committee's list
    phone = browser.new_context(**PHONE)
    w = phone.new_page()
    browser_login(w, server, world, "worker1")
    w.goto(f"{server.url}/c/tasks/{task}")
    _fits(w)
    assert "还剩 3 行" in w.inner_text("main")
    w.locator("ul.list a").first.click()
    w.wait_for_url(re.compile(r".*/rows/\d+$"))
    _fits(w)
    first_row = w.url
    assert w.is_hidden("[data-q=health]"), "身体状况 is asked only when the person is at home"
    w.check("input[name=q_at_home][value='是']")
    assert w.is_visible("[data-q=health]")
    w.click("#answer button[type=submit]")  # 身体状况 left empty
    w.wait_for_load_state()
    assert "身体状况：必答题" in w.inner_text("main"), "a required question left empty is refused"
    w.check("input[name=q_health][value='较差']")
    w.check("input[name=q_needs][value='就医']")
    w.fill("textarea[name=q_remark]", "独居，腿脚不便")
    w.click("#answer button[type=submit]")
    w.wait_for_url(re.compile(r".*saved=1$"))
    assert "已保存" in w.inner_text("main") and w.url != first_row, "saved, and on to the next door"
    w.check("input[name=outcome][value='refused']")
    assert w.is_hidden("#questions")
    w.fill("textarea[name=note]", "隔门答话，不愿开门")
    w.click("#answer button[type=submit]")
    w.wait_for_load_state()
    w.goto(f"{server.url}/c/tasks/{task}")
    assert "还剩 1 行" in w.inner_text("main")

    # 3. the street office sees the progress of its committees
    street = browser.new_context().new_page()
    browser_login(street, server, world, "street1")
    street.goto(server.url + "/s/tasks")
    section = street.locator(f"section[data-task='{task}']")
    assert re.search(r"\t3\t2\t1\t", section.inner_text()), section.inner_text()

    # 4. the report and the export carry the answers; the export in the list's order
    page.goto(task_url)
    report = _download(page, f"/d/tasks/{task}/report.xlsx")
    from openpyxl import load_workbook

    detail = load_workbook(io.BytesIO(report))["明细"]
    header = [c.value for c in detail[2]]
    values = [dict(zip(header, r)) for r in detail.iter_rows(min_row=3, values_only=True)]
    assert [v["身体状况"] for v in values].count("较差") == 1
    assert [v["核实结果"] for v in values].count("拒绝配合") == 1
    export = _download(page, f"/d/tasks/{task}/export.csv").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(export)))
    assert [int(r["source_row"]) for r in rows] == list(range(1, len(list_rows(world)) + 1))
    done = [r for r in rows if r["status"] == "done"]
    assert len(done) == 2 and any(r["health"] == "较差" and r["needs"] == "就医" for r in done)
    assert httpx.get(server.url + f"/d/tasks/{task}/export.csv", follow_redirects=False).status_code == 303, (
        "no session, no export"
    )
    for ctx in (desk, phone):
        ctx.close()
