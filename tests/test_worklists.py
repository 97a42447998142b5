"""Worklists to the streets and corrections back (issue 5): the workbook a social worker gets, filled
the way a person would with openpyxl, returned into inbox/corrections and taken in by `civichub run`."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from quality import corrections as corr
from quality import worklist_format as wf
from quality.worklists import build_worklist, display_value

KEY = "test-key"
COMMITTEE = "310106006001"


def _findings() -> pd.DataFrame:
    base = dict(
        severity="medium",
        source="police_population",
        source_file="2026-11/police_population.csv",
        street_code="310106006000",
        community_code=COMMITTEE,
        status="open",
        first_seen="2026-11",
        last_seen="2026-11",
        message="请核实",
        entity_name="张三",
        entity_address="上海市静安区康定路1号101室",
    )
    rows = [
        dict(
            finding_id="F1",
            rule="id_birth_date_mismatch",
            entity_type="person",
            entity_id="P1",
            source_row=1,
            field="出生日期",
            observed_value="1950-01-01",
            suggested_value="1950-01-02",
        ),
        dict(
            finding_id="F2",
            rule="id_number_invalid",
            entity_type="person",
            entity_id="P2",
            source_row=2,
            field="公民身份号码",
            observed_value="110105194912310021",
            suggested_value=None,
            message="身份证号 110105194912310021 校验位不正确，电话 13812345678",
        ),
        dict(
            finding_id="F3",
            rule="aid_family_size_mismatch",
            entity_type="household",
            entity_id="H1",
            source_row=3,
            field="member_count",
            observed_value="3",
            suggested_value=None,
        ),
        dict(
            finding_id="F4",
            rule="x_phone",
            entity_type="person",
            entity_id="P4",
            source_row=4,
            field="联系电话",
            observed_value="13812345678",
            suggested_value=None,
        ),
        dict(
            finding_id="F5",
            rule="id_birth_date_mismatch",
            entity_type="person",
            entity_id="P5",
            source_row=5,
            field="出生日期",
            observed_value="1960-01-01",
            suggested_value=None,
        ),
    ]
    return pd.DataFrame([{**base, **r} for r in rows])


def _meta(code=COMMITTEE, name="江宁居委会"):
    return {
        "delivery": "2026-11",
        "street_code": "310106006000",
        "street_name": "江宁路街道",
        "committee_code": code,
        "committee_name": name,
        "generated_at": "2026-12-01T00:00:00",
    }


def _write(tmp_path: Path, name="wl.xlsx", findings=None, meta=None) -> Path:
    path = tmp_path / name
    summary = pd.DataFrame({"居委代码": [COMMITTEE], "居委名称": ["江宁居委会"], "合计": [5]})
    build_worklist(path, meta or _meta(), _findings() if findings is None else findings, summary, KEY)
    return path


def _columns(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[wf.HEADER_ROW] if c.value}


def _row_of(ws, finding_id: str) -> int:
    col = _columns(ws)[wf.ID_COLUMN]
    for r in range(wf.HEADER_ROW + 1, ws.max_row + 1):
        if ws.cell(r, col).value == finding_id:
            return r
    raise KeyError(finding_id)


def _fill(ws, finding_id: str, decision: str, value=None, by="李四", on=None) -> int:
    col = _columns(ws)
    r = _row_of(ws, finding_id)
    ws.cell(r, col[wf.DECISION_COLUMN]).value = decision
    ws.cell(r, col[wf.VALUE_COLUMN]).value = value
    ws.cell(r, col[wf.BY_COLUMN]).value = by
    ws.cell(r, col[wf.DATE_COLUMN]).value = on
    return r


def _lookup(frame: pd.DataFrame) -> dict[str, dict]:
    return {r["finding_id"]: r for r in frame.to_dict("records")}


# --- the workbook ------------------------------------------------------------------------------------


def test_worklist_locks_evidence_offers_the_dropdown_and_hides_the_id(tmp_path):
    wb = load_workbook(_write(tmp_path))
    assert wb.sheetnames[:3] == [wf.SHEET_WORKLIST, wf.SHEET_HELP, wf.SHEET_SUMMARY]
    assert wb[wf.SHEET_META].sheet_state == "veryHidden"
    ws = wb[wf.SHEET_WORKLIST]
    assert ws.protection.sheet
    col = _columns(ws)
    assert list(col) == wf.ALL_COLUMNS
    r = _row_of(ws, "F1")
    for name in wf.LOCKED_COLUMNS + wf.HIDDEN_COLUMNS:
        assert ws.cell(r, col[name]).protection.locked, name
    for name in wf.INPUT_COLUMNS:
        assert not ws.cell(r, col[name]).protection.locked, name
    for name in wf.HIDDEN_COLUMNS:
        assert any(d.hidden and d.min <= col[name] <= d.max for d in ws.column_dimensions.values()), name
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and lists[0].formula1 == '"确认,更正,不属实"'
    assert ws.cell(r, col[wf.DECISION_COLUMN]).coordinate in lists[0].sqref
    assert ws.max_row == wf.HEADER_ROW + 5
    help_text = " ".join(str(c.value) for c in wb[wf.SHEET_HELP]["A"] if c.value)
    assert "确认" in help_text and "不属实" in help_text


def test_what_reaches_the_street_is_masked_except_the_id_under_verification(tmp_path):
    ws = load_workbook(_write(tmp_path))[wf.SHEET_WORKLIST]
    col = _columns(ws)
    id_row, phone_row = _row_of(ws, "F2"), _row_of(ws, "F4")
    # the ID number being verified is shown whole; the same number quoted in the message is masked
    assert ws.cell(id_row, col["现有值"]).value == "110105194912310021"
    assert "110105********0021" in ws.cell(id_row, col["问题说明"]).value
    assert "13812345678" not in ws.cell(id_row, col["问题说明"]).value
    assert ws.cell(phone_row, col["现有值"]).value == "138****5678"
    assert display_value("出生日期", "1950-01-01") == "1950-01-01"


# --- values ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,entity,raw,expected,error",
    [
        ("公民身份号码", "person", "11010519491231002x", "11010519491231002X", None),
        ("公民身份号码", "person", "110105194912310021", None, "校验位"),
        ("公民身份号码", "person", "370802940221002", "370802199402210029", None),
        ("出生日期", "person", "1990/1/2", "1990-01-02", None),
        ("出生日期", "person", dt.datetime(1990, 1, 2), "1990-01-02", None),
        ("出生日期", "person", "1990-13-45", None, "日期"),
        ("member_count", "household", "3", "3", None),
        ("member_count", "household", 3.0, "3", None),
        ("member_count", "household", "-1", None, "整数"),
        ("member_count", "household", "2.5", None, "整数"),
        ("人员状态", "person", "死亡", "死亡", None),
        ("人员状态", "person", "去世", None, "之一"),
        ("有效期至", "shop", "2027年3月1日", "2027-03-01", None),
        ("联系电话", "person", "138 1234 5678", "13812345678", None),
        ("联系电话", "person", "12345", None, "电话"),
        ("whatever", "person", "", None, "必须填写"),
    ],
)
def test_corrected_value_must_be_legal_for_its_field(field, entity, raw, expected, error):
    spec = corr.default_specs().get(entity, field)
    value, reason = corr.check_value(spec, raw)
    assert value == expected
    assert (reason is None) if error is None else (error in reason)


def test_field_configuration_is_validated_with_clear_errors(tmp_path):
    bad = tmp_path / "c.yml"
    bad.write_text("fields:\n  person:\n    sex: {label: 性别, type: choice}\n", encoding="utf-8")
    with pytest.raises(corr.ConfigError, match=r"c\.yml: fields\.person\.sex\.type: type must be one of"):
        corr.load_field_specs(bad)
    bad.write_text("fields:\n  person:\n    sex: {label: 性别, type: text, colour: red}\n", encoding="utf-8")
    with pytest.raises(corr.ConfigError, match=r"fields\.person\.sex\.colour: unknown key"):
        corr.load_field_specs(bad)
    bad.write_text("fields:\n  person:\n    sex: {label: 性别, type: vocab}\n", encoding="utf-8")
    with pytest.raises(corr.ConfigError, match="needs 'vocabulary'"):
        corr.load_field_specs(bad)
    specs = corr.default_specs()
    assert specs.get("person", "公民身份号码").column == "id_number"
    assert specs.get("household", "家庭人口数").column is None  # the 民政 figure: for the department
    assert specs.get("person", "unknown_field").type == "text"


# --- validation of a returned workbook ------------------------------------------------------------------


def test_filled_rows_are_accepted_and_bad_rows_rejected_with_reasons(tmp_path):
    path = _write(tmp_path)
    other = _findings().assign(finding_id=lambda d: "O" + d.finding_id, community_code="310106006002")
    other_path = _write(tmp_path, "other.xlsx", other, _meta("310106006002", "昌平居委会"))
    wb = load_workbook(path)
    ws = wb[wf.SHEET_WORKLIST]
    col = _columns(ws)
    good = {_fill(ws, "F1", "更正", "1950-01-03", on=dt.datetime(2026, 12, 3)): "F1", _fill(ws, "F3", "确认"): "F3"}
    bad = {
        _fill(ws, "F2", "更正", "110105194912310021"): "校验位",  # illegal value
        _fill(ws, "F5", "更正", "1960-01-05"): "锁定列被修改",  # tampered below
        _fill(ws, "F4", "已核实"): "不在 确认/更正/不属实",  # not in the vocabulary
    }
    ws.cell(_row_of(ws, "F5"), col["现有值"]).value = "1960-01-05"
    # a row copied in from another committee's worklist, and a row with an unknown finding id
    src = load_workbook(other_path)[wf.SHEET_WORKLIST]
    r_other, r_unknown = ws.max_row + 1, ws.max_row + 2
    for c in range(1, len(wf.ALL_COLUMNS) + 1):
        ws.cell(r_other, c).value = src.cell(_row_of(src, "OF1"), c).value
        ws.cell(r_unknown, c).value = ws.cell(_row_of(ws, "F1"), c).value
    ws.cell(r_unknown, col[wf.ID_COLUMN]).value = "FNOSUCH"
    ws.cell(r_other, col[wf.DECISION_COLUMN]).value = "不属实"
    ws.cell(r_other, col[wf.BY_COLUMN]).value = "李四"
    bad[r_other] = "不属于本居委"
    bad[r_unknown] = "不存在"
    wb.save(path)

    book = corr.read_returned(path)
    findings = _lookup(pd.concat([_findings(), other]))
    accepted, rejected, blank = corr.validate(book, findings, KEY, corr.default_specs(), dt.datetime(2026, 12, 5))
    assert {a.row.excel_row: a.finding["finding_id"] for a in accepted} == good
    by_row = {r.row.excel_row: r.reason for r in rejected}
    assert set(by_row) == set(bad)
    for row, expected in bad.items():
        assert expected in by_row[row], (row, by_row[row])
    f1 = next(a for a in accepted if a.finding["finding_id"] == "F1")
    assert f1.corrected_value == "1950-01-03" and f1.decided_at == dt.datetime(2026, 12, 3)
    f3 = next(a for a in accepted if a.finding["finding_id"] == "F3")
    assert f3.corrected_value is None and f3.decided_at == dt.datetime(2026, 12, 5)
    assert blank == 0


def test_a_workbook_that_is_not_a_worklist_is_refused(tmp_path):
    other = tmp_path / "x.xlsx"
    from openpyxl import Workbook

    Workbook().save(other)
    with pytest.raises(corr.NotAWorklist, match="核实清单"):
        corr.read_returned(other)
    (tmp_path / "y.xlsx").write_bytes(b"not a zip")
    with pytest.raises(corr.NotAWorklist, match="无法打开"):
        corr.read_returned(tmp_path / "y.xlsx")


# --- end to end: returned into inbox/corrections, taken in by `civichub run` -------------------------------


def _committee_with_handmade(con) -> str:
    return con.execute(
        """select community_code from quality.finding where finding_id like 'FT%' and entity_type = 'person'
           group by 1 having count(*) >= 4 order by count(*) desc, 1 limit 1"""
    ).fetchall()[0][0]


@pytest.mark.slow
def test_returned_worklists_change_the_master_data_and_resolve_findings(hub_run, district_copy, tmp_path):
    from handmade_findings import add_handmade_findings

    from pipelines.run import run_hub
    from quality.worklists import write_worklists

    _inbox, session_db, _summary = hub_run
    db = tmp_path / "hub.duckdb"
    shutil.copy(session_db, db)
    inbox = district_copy
    with duckdb.connect(str(db)) as con:
        add_handmade_findings(con, "2026-11")
        committee = _committee_with_handmade(con)
        written = write_worklists(con, tmp_path / "out", "2026-11", rosters=False)
        fids = [
            r[0]
            for r in con.execute(
                """select finding_id from quality.finding where community_code = ? and finding_id like 'FT%'
               and entity_type = 'person' order by rule, entity_id""",
                [committee],
            ).fetchall()
        ]
        other_fid = con.execute(
            "select finding_id from quality.finding where community_code <> ? and finding_id like 'FT%' limit 1",
            [committee],
        ).fetchall()[0][0]
        other_committee = con.execute(
            "select community_code from quality.finding where finding_id = ?", [other_fid]
        ).fetchall()[0][0]
        finding = {
            r[0]: r[1:]
            for r in con.execute(
                "select finding_id, entity_id, field, observed_value, suggested_value from quality.finding"
            ).fetchall()
        }
    path = next(p for p in written.files if p.name.startswith(committee))
    other_path = next(p for p in written.files if p.name.startswith(other_committee))
    birth = [f for f in fids if finding[f][1] == "出生日期"]
    ids = [f for f in fids if finding[f][1] == "公民身份号码"]
    corrected, confirmed = birth[0], birth[1]
    not_true = ids[0]

    # 1. a social worker fills three rows and returns the workbook
    wb = load_workbook(path)
    ws = wb[wf.SHEET_WORKLIST]
    _fill(ws, corrected, "更正", "1950-01-02", by="王芳", on=dt.date(2026, 12, 2))
    _fill(ws, confirmed, "确认", by="王芳")
    _fill(ws, not_true, "不属实", by="王芳")
    (inbox / "corrections").mkdir(exist_ok=True)
    good_file = inbox / "corrections" / path.name
    wb.save(good_file)

    # 2. another return with one good row and four bad ones
    wb = load_workbook(path)
    ws = wb[wf.SHEET_WORKLIST]
    col = _columns(ws)
    good_row = _fill(ws, ids[1], "不属实", by="赵六")
    illegal = _fill(ws, birth[0], "更正", "1950-02-30", by="赵六")
    tampered = _fill(ws, birth[1], "确认", by="赵六")
    ws.cell(tampered, col["姓名/名称"]).value = "别人"
    unknown = _fill(ws, ids[0], "确认", by="赵六")
    ws.cell(unknown, col[wf.ID_COLUMN]).value = "FNOSUCHFINDING"
    src = load_workbook(other_path)[wf.SHEET_WORKLIST]
    foreign = ws.max_row + 1
    for c in range(1, len(wf.ALL_COLUMNS) + 1):
        ws.cell(foreign, c).value = src.cell(_row_of(src, other_fid), c).value
    ws.cell(foreign, col[wf.DECISION_COLUMN]).value = "不属实"
    ws.cell(foreign, col[wf.BY_COLUMN]).value = "赵六"
    bad_file = inbox / "corrections" / ("bad_" + path.name)
    wb.save(bad_file)

    summary = run_hub(inbox, db)
    assert summary.ok and not summary.deliveries  # nothing new to ingest, corrections only
    outcomes = {Path(f.source_file).name: f for f in summary.corrections.processed}
    good, bad = outcomes[good_file.name], outcomes[bad_file.name]
    assert (good.accepted, good.rejected) == (3, 0)
    assert (bad.accepted, bad.rejected) == (1, 4)
    reasons = dict(bad.rejections)
    assert set(reasons) == {illegal, tampered, unknown, foreign}
    assert "日期" in reasons[illegal]
    assert "锁定列被修改" in reasons[tampered]
    assert "不存在" in reasons[unknown]
    assert "不属于本居委" in reasons[foreign]

    with duckdb.connect(str(db), read_only=True) as con:
        birth_of = dict(con.execute("select person_id, birth_date::varchar from master.person").fetchall())
        status = dict(con.execute("select finding_id, status from quality.finding").fetchall())
        audit = con.execute(
            """select finding_id, decision, old_value, new_value, decided_by, outcome from quality.correction_audit
               where source_file = ?""",
            [f"corrections/{good_file.name}"],
        ).fetchall()
        rejections = con.execute("select source_row, reason from quality.correction_rejection").fetchall()
        tables = {
            t: con.execute(f"select count(*) from quality.{t}").fetchall()[0][0]
            for t in ("finding_decision", "override", "correction_audit", "correction_rejection")
        }
        birth_before = finding[corrected][2]
    assert birth_of[finding[corrected][0]] == "1950-01-02"
    assert birth_of[finding[confirmed][0]] == finding[confirmed][3]  # 确认 takes the suggested value
    assert status[corrected] == "resolved" and status[confirmed] == "resolved"
    assert status[not_true] == "rejected" and status[ids[1]] == "rejected"
    assert status[other_fid] == "open"
    audit_by = {a[0]: a for a in audit}
    assert audit_by[corrected][1:] == ("更正", birth_before, "1950-01-02", "王芳", "override")
    assert audit_by[not_true][1] == "不属实" and audit_by[not_true][5] == "decision_recorded"
    assert sorted(r[0] for r in rejections) == sorted([illegal, tampered, unknown, foreign])
    assert good_row not in {r[0] for r in rejections}

    # 3. the same file again (even under another name) changes nothing
    shutil.copy(good_file, inbox / "corrections" / "again.xlsx")
    assert run_hub(inbox, db).corrections is None  # its content is known: no corrections run at all
    with duckdb.connect(str(db)) as con:
        direct = corr.process_pending(con, inbox)  # and taken in directly, every file is skipped
        assert {f.status for f in direct.files} == {"skipped"} and direct.overrides_applied == 0
        assert tables == {t: con.execute(f"select count(*) from quality.{t}").fetchall()[0][0] for t in tables}

    # 4. the correction holds when the master data is rebuilt (the master asset re-applies overrides)
    from dagster import DagsterInstance, materialize

    from pipelines.assets.master import person_household_master
    from pipelines.resources import HubResource

    result = materialize(
        [person_household_master],
        partition_key="2026-11",
        instance=DagsterInstance.get(),
        resources={"hub": HubResource(inbox=str(inbox), db_path=str(db))},
    )
    assert result.success
    with duckdb.connect(str(db), read_only=True) as con:
        rebuilt = con.execute(
            "select birth_date::varchar from master.person where person_id = ?", [finding[corrected][0]]
        ).fetchall()[0][0]
    assert rebuilt == "1950-01-02"


@pytest.mark.slow
def test_the_job_writes_a_worklist_per_committee_and_monthly_reports(hub_run):
    """The session run (both deliveries through civichub_job) left worklists and reports beside the db."""
    from quality.reports import report_root
    from quality.worklists import worklist_root

    _inbox, db, summary = hub_run
    assert summary.ok
    folder = worklist_root(db) / "2026-11"
    books = [p for p in folder.rglob("*.xlsx") if "花名册" not in p.name and not p.name.startswith("00_")]
    rows = 0
    for p in books:
        ws = load_workbook(p, read_only=True)[wf.SHEET_WORKLIST]
        rows += sum(1 for r in ws.iter_rows(min_row=wf.HEADER_ROW + 1, values_only=True) if any(r))
    with duckdb.connect(str(db), read_only=True) as con:
        open_findings = con.execute("select count(*) from quality.finding where status = 'open'").fetchall()[0][0]
        committees = con.execute(
            """select count(distinct community_code) from quality.finding where status = 'open'
               and community_code in (select community_code from staging.stg_divisions)"""
        ).fetchall()[0][0]
        aid_total = con.execute(
            """select sum(amount) from (select aid_certificate_no, max(monthly_amount) as amount
               from staging.stg_civil_affairs_assistance where delivery = '2026-11' group by 1)"""
        ).fetchall()[0][0]
    assert open_findings > 0 and rows == open_findings
    routed = [p for p in books if p.parent.name != "未能定位"]
    assert len(routed) == committees
    assert list(folder.rglob("*_花名册.xlsx"))
    # every aid family lands in one committee's report; the totals add up to the 民政 file
    reports = list((report_root(db) / "2026-11").rglob("*_月报.xlsx"))
    assert reports
    total = 0.0
    for p in reports:
        ws = load_workbook(p, read_only=True)["汇总"]
        total += next(r[1] for r in ws.iter_rows(values_only=True) if r[0] == "月救助金额合计（元）")
    assert total == pytest.approx(float(aid_total), abs=0.01)
