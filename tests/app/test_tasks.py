"""排摸 tasks on the app, on SQLite and PostgreSQL: a department uploads a list (GBK CSV, headers by
synonym, the mapping confirmed), the hub routes every row and says why, a worker answers at the door
(required questions refused when empty, conditions, 查无此人 with a note, a stale save refused),
re-routes a row in one action, the district routes its queue, the street sees progress, the report
and the export come out in the list's order — each access in the audit log."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from conftest import logged_in
from tasks_world import CHECKLIST, expected_committees, list_csv, list_rows, rows_of

pytestmark = pytest.mark.slow


def upload(app, world, who="minzheng1", encoding="gbk", checklist=CHECKLIST, **fields):
    c, token = logged_in(app, world, who)
    data = {"csrf_token": token, "name": "重点人员排摸", "due": "2026-12-31", "checklist": checklist, **fields}
    files = {"list_file": ("名单.csv", list_csv(list_rows(world), encoding), "text/csv")}
    return c, token, c.post("/d/tasks/new", data=data, files=files)


def created(r) -> int:
    assert r.status_code == 303, r.text[:2000]
    return int(re.match(r"^/d/tasks/(\d+)$", r.headers["location"]).group(1))


def test_an_uploaded_list_is_routed_row_by_row_saying_why(app, world):
    c, token, _ = upload(app, world)
    files = {"list_file": ("名单.csv", list_csv(list_rows(world), "gb18030"), "text/csv")}
    preview = c.post("/d/tasks/mapping", data={"csrf_token": token}, files=files)
    assert preview.status_code == 200
    assert re.search(r'name="map_id_number">.*?<option value="证件号码" selected>', preview.text, re.S)
    assert re.search(r'name="map_address">.*?<option value="家庭住址" selected>', preview.text, re.S)
    assert "****" in preview.text, "the preview masks ID numbers"

    _c, _t, r = upload(
        app, world, map_name="姓名", map_id_number="证件号码", map_phone="手机号码", map_address="家庭住址"
    )
    rows = rows_of(world, created(r))
    assert [r.community_code for r in rows] == expected_committees(world)
    assert [r.match_status for r in rows][:5] == ["matched"] * 5
    assert all("身份证号一致" in r.reason for r in rows[:5])
    assert rows[5].match_status == "unmatched" and rows[5].suggested_community == world.other_committee
    assert rows[6].match_status == "unmatched" and rows[6].suggested_community is None and "无法定位" in rows[6].reason
    assert rows[0].data["来源"] == "市里推送", "columns the hub does not use are kept for the worker"


def test_a_mapping_the_user_changed_is_the_one_used_and_a_bad_checklist_is_refused(app, world):
    _c, _t, r = upload(app, world, map_id_number="", map_phone="", map_address="")  # name only
    rows = rows_of(world, created(r))
    assert all(r.community_code is None for r in rows), "a name alone routes nobody"
    _c, _t, r = upload(app, world, checklist="questions:\n  - {id: a, text: 甲, type: single, options: [一]}")
    assert r.status_code == 422 and "at least two options" in r.text
    _c, _t, r = upload(app, world, map_name="没有这列")
    assert r.status_code == 422 and "不在表头" in r.text


def _answer(c, token, task, row, version, **form):
    return c.post(f"/c/tasks/{task}/rows/{row}", data={"csrf_token": token, "version": str(version), **form})


def test_the_worker_answers_at_the_door_and_nothing_required_is_skipped(app, world):
    task = created(upload(app, world)[2])
    mine = [r for r in rows_of(world, task) if r.community_code == world.committee]
    w, token = logged_in(app, world, "worker1")
    page = w.get(f"/c/tasks/{task}")
    assert page.status_code == 200 and all(f"/rows/{r.id}" in page.text for r in mine)
    first = mine[0]
    r = _answer(w, token, task, first.id, 1, outcome="answered", q_at_home="是")
    assert r.status_code == 422 and "身体状况：必答题" in r.text, "a required question shown is refused when empty"
    r = _answer(
        w, token, task, first.id, 1, outcome="answered", q_at_home="否", q_health="较差", q_needs=["就医", "照料"]
    )
    assert r.status_code == 303 and f"/c/tasks/{task}/rows/" in r.headers["location"], "saved; on to the next door"
    saved = next(x for x in rows_of(world, task) if x.id == first.id)
    assert saved.status == "done" and saved.answers == {"at_home": "否", "needs": ["就医", "照料"]}
    assert saved.answered_by == "王芳"
    r = _answer(w, token, task, first.id, 1, outcome="answered", q_at_home="是", q_health="良好")
    assert r.status_code == 409, "a save that read an older version is refused"
    second = mine[1]
    r = _answer(w, token, task, second.id, 1, outcome="not_found")
    assert r.status_code == 422 and "请写明情况" in r.text
    r = _answer(w, token, task, second.id, 1, outcome="not_found", note="敲门三次无人，邻居称不认识")
    assert r.status_code == 303
    r = w.post(f"/c/tasks/{task}/rows/{mine[2].id}", data={"outcome": "answered", "q_at_home": "是"})
    assert r.status_code == 403, "no CSRF token, no save"


def test_a_row_of_another_committee_is_rerouted_in_one_action(app, world):
    task = created(upload(app, world)[2])
    row = next(r for r in rows_of(world, task) if r.community_code == world.committee)
    w1, t1 = logged_in(app, world, "worker1")
    r = w1.post(f"/c/tasks/{task}/rows/{row.id}/reroute",
                data={"csrf_token": t1, "community": world.other_committee, "why": "住在隔壁小区"})  # fmt: skip
    assert r.status_code == 303
    assert w1.get(f"/c/tasks/{task}/rows/{row.id}").status_code == 404
    w2, _ = logged_in(app, world, "worker2")
    page = w2.get(f"/c/tasks/{task}/rows/{row.id}")
    assert page.status_code == 200 and "住在隔壁小区" in page.text


def test_the_district_routes_its_queue_by_address_and_by_hand(app, world):
    task = created(upload(app, world)[2])
    a, token = logged_in(app, world, "admin1")
    page = a.get(f"/d/tasks/{task}/queue")
    assert page.status_code == 200 and "查无此名" in page.text and "主数据中找不到此人" in page.text
    assert a.post(f"/d/tasks/{task}/queue/by-address", data={"csrf_token": token, "confirm": "yes"}).status_code == 303
    rows = rows_of(world, task)
    assert rows[5].community_code == world.other_committee and "按标准地址库" in rows[5].reason
    r = a.post(f"/d/tasks/{task}/rows/{rows[6].id}/route",
               data={"csrf_token": token, "community": world.committee, "why": "电话核实住在本居委"})  # fmt: skip
    assert r.status_code == 303
    assert rows_of(world, task)[6].community_code == world.committee
    other, ot = logged_in(app, world, "chengguan1")
    assert other.get(f"/d/tasks/{task}/queue").status_code == 404, "another department's task is not found"


def test_progress_report_and_export_follow_the_answers(app, world):
    task = created(upload(app, world)[2])
    rows = rows_of(world, task)
    w, token = logged_in(app, world, "worker1")
    mine = [r for r in rows if r.community_code == world.committee]
    assert _answer(w, token, task, mine[0].id, 1, outcome="answered", q_at_home="是", q_health="一般",
                   q_remark="独居").status_code == 303  # fmt: skip
    assert _answer(w, token, task, mine[1].id, 1, outcome="refused", note="不愿开门").status_code == 303

    s, _ = logged_in(app, world, "street1")
    page = s.get("/s/tasks")
    assert page.status_code == 200 and "重点人员排摸" in page.text
    section = page.text[page.text.index(f'data-task="{task}"') :].split("</section>")[0]
    cells = re.findall(r"<tr><td>[^<]*</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", section)
    assert ("3", "2", "1") in cells, "my committee: 3 rows, 2 done, 1 left"
    s2, _ = logged_in(app, world, "street2")
    assert world.committee not in s2.get("/s/tasks").text

    d, _ = logged_in(app, world, "minzheng1")
    export = d.get(f"/d/tasks/{task}/export.csv")
    assert export.status_code == 200
    out = list(csv.DictReader(io.StringIO(export.content.decode("utf-8"))))
    assert list(out[0])[:8] == ["source_row", "street_code", "community_code", "match_status", "person_id",
                                "household_id", "status", "reason"] and list(out[0])[8:] == ["at_home", "health",
                                                                                             "needs", "remark"]  # fmt: skip
    assert [int(r["source_row"]) for r in out] == list(range(1, 8)), "the list's own order"
    by_row = {int(r["source_row"]): r for r in out}
    first = by_row[mine[0].source_row]
    assert (first["status"], first["at_home"], first["health"], first["remark"]) == ("done", "是", "一般", "独居")
    assert "拒绝配合" in by_row[mine[1].source_row]["reason"]

    xlsx = d.get(f"/d/tasks/{task}/report.xlsx")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["汇总", "明细", "图表"]
    formulas = [
        c.value for row in wb["汇总"].iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")
    ]
    assert any("COUNTIFS(明细!" in f for f in formulas) and any(f.startswith("=SUM(") for f in formulas)
    detail = list(wb["明细"].iter_rows(min_row=3, values_only=True))
    assert len(detail) == 7 and [int(r[0]) for r in detail] == list(range(1, 8))
    header = [c.value for c in wb["明细"][2]]
    answered = detail[mine[0].source_row - 1]
    assert answered[header.index("身体状况")] == "一般" and answered[header.index("核实人")] == "王芳"
    assert all("*" in (r[header.index("身份证号")] or "*") for r in detail), "ID numbers masked in the report"
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist()), "the report has its chart"
    cached = load_workbook(io.BytesIO(xlsx.content), data_only=True)["汇总"]
    totals = next(r for r in cached.iter_rows(values_only=True) if r[0] == "合计")
    assert totals[4:7] == (7, 2, 5), "the formulas carry their values for readers that do not recalculate"


def test_every_view_of_rows_is_audited_and_pages_mask_id_numbers(app, world):
    task = created(upload(app, world)[2])
    row = next(r for r in rows_of(world, task) if r.community_code == world.committee)
    w, _ = logged_in(app, world, "worker1")
    page = w.get(f"/c/tasks/{task}/rows/{row.id}")
    idn = row.data["证件号码"]
    assert idn not in page.text and idn[:6] in page.text and "****" in page.text
    log = world.settings.paths.audit_log.read_text(encoding="utf-8").splitlines()
    events = [json.loads(x) for x in log[-50:]]
    assert any(e.get("target") == f"task/{task}/row/{row.id}" and e.get("actor") == "worker1" for e in events)
