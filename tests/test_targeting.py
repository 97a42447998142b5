"""Targeted aid and alerts on the session's generated district: the scenarios find what was planted,
their edge cases (a family that left aid, a new meter, missing months), the committee workbooks and
the follow-up that comes back."""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from targeting.config import load_scenarios

DELIVERY = "2026-11"
pytestmark = pytest.mark.slow


def test_scenarios_are_assets_after_the_master_data():
    from dagster import AssetKey

    from pipelines.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    for s in load_scenarios().scenarios:
        node = graph.get(AssetKey(["targeting", s.name]))
        assert AssetKey(["targeting", "tgt_person_facts"]) in node.parent_keys
        assert node.partitions_def is not None
    facts = graph.get(AssetKey(["targeting", "tgt_person_facts"]))
    assert {AssetKey(["master", "person"]), AssetKey(["master", "person_xref"])} <= facts.parent_keys
    # the main dbt build does not try to build the targeting models before the master data exists
    from pipelines.assets.transform import build_dbt_assets

    civichub_dbt_models = build_dbt_assets()[0]
    assert not [k for k in civichub_dbt_models.keys if k.path[0] == "targeting"]
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("targeting/elderly_power_alert", "every_match_has_a_reason") in checks


def test_every_scenario_finds_its_planted_cases(hub_run):
    from targeting.evaluate import evaluate

    inbox, db, summary = hub_run
    assert summary.ok, [d.error for d in summary.deliveries]
    results = evaluate(inbox, db, DELIVERY)
    measured = 0
    for scenario, rows in results.items():
        if scenario == "delivery":
            continue
        for label, s in rows.items():
            if s["truth"]:
                measured += 1
                assert s["recall"] >= 0.95, (scenario, label, s)
                assert s["precision"] >= 0.9, (scenario, label, s)
    assert measured >= 6
    assert results["aid_family_graduates"]["vs planted graduate_from_aid_family_unemployed"]["truth"] >= 1
    assert results["elderly_power_alert"]["drop of listed persons vs planted elderly_power_drop"]["truth"] >= 1


def test_scenario_lists_go_to_each_committee_masked(hub_run):
    from openpyxl import load_workbook

    _, db, _ = hub_run
    folder = db.parent / "out" / "scenarios" / DELIVERY
    files = sorted(folder.rglob("*.xlsx"))
    with duckdb.connect(str(db), read_only=True) as con:
        committees, rows = con.execute(
            "select count(distinct community_code), count(*) from scenario.match where delivery = ?", [DELIVERY]
        ).fetchall()[0]
        assert con.execute("select count(*) from scenario.match where delivery = '2026-10'").fetchall()[0][0] > 0
    assert len(files) == committees and rows > 0
    seen = 0
    for f in files:
        wb = load_workbook(f)
        assert wb.sheetnames[0] == "说明"
        for ws in wb.worksheets[1:]:
            header = [c.value for c in ws[1]]
            assert header[:1] == ["列表编号"] and {"列入原因", "跟进结果", "跟进人", "跟进日期"} <= set(header)
            assert ws.column_dimensions["A"].hidden
            assert ws.data_validations.dataValidation, "跟进结果 has a dropdown"
            for row in ws.iter_rows(min_row=2, values_only=True):
                seen += 1
                assert row[header.index("列入原因")]
                idn = row[header.index("身份证号")]
                assert not idn or re.fullmatch(r"\d{6}\*+[0-9X]{4}", idn), "ID numbers are masked"
    assert seen == rows


# ---- edge cases on a copy of the district, edited and rebuilt ---------------------------------


def _dbt_build_targeting(db: Path) -> None:
    from matching.config import dbt_vars
    from pipelines import dbt_runner

    outcome = dbt_runner.invoke(
        ["build", "--select", "path:models/targeting", "--vars", json.dumps(dbt_vars(DELIVERY))],
        "test_targeting",
        db,
    )
    assert outcome.success, "\n".join(outcome.errors[-20:]) or outcome.exception


def _elderly_households(con, n: int) -> list[tuple[str, str]]:
    """Listed elderly living persons with a meter read every month and no alert."""
    return con.execute(
        """
        select p.person_id, p.household_id from targeting.tgt_person_facts p
        join targeting.tgt_household_electricity e using (household_id)
        where p.on_elderly_alone_list and p.status = '正常' and e.previous_readings >= 10 and e.missing_months = 0
          and e.latest_kwh >= 0.6 * e.baseline_kwh and e.accounts = 1
          and p.person_id not in (select entity_id from scenario.match where scenario = 'elderly_power_alert')
          and p.household_id in (select household_id from targeting.tgt_person_facts group by 1 having count(*) = 1)
        order by p.person_id limit ?
        """,
        [n],
    ).fetchall()


def _meter_rows(household_id: str, months_sql: str) -> str:
    return f"""
        (source_file, source_row) in (
            select x.source_file, x.source_row from master.household_xref x
            where x.delivery = '{DELIVERY}' and x.source = 'utility_electricity' and x.household_id = '{household_id}')
        and delivery = '{DELIVERY}' and {months_sql}
    """


@pytest.fixture(scope="module")
def edited_hub(hub_run, tmp_path_factory):
    """A copy of the district where: a graduate's family left assistance this month; two listed
    elderly people got a new meter (2 earlier readings), one reading 0 and one reading 1 kWh this
    month; one meter lost three months of its history and then dropped; one has no reading this month."""
    from targeting.engine import run_scenario

    _, db, _ = hub_run
    path = tmp_path_factory.mktemp("edited") / "hub.duckdb"
    shutil.copy(db, path)
    cases: dict[str, tuple[str, str]] = {}
    with duckdb.connect(str(path)) as con:
        grad = con.execute(
            "select person_id, household_id from scenario.match where scenario = 'aid_family_graduates' and delivery = ? "
            "order by person_id limit 1",
            [DELIVERY],
        ).fetchall()
        assert grad, "the district has a planted graduate from an aid family"
        cases["graduate"] = grad[0]
        certs = [
            r[0]
            for r in con.execute(
                "select distinct aid_certificate_no from targeting.tgt_person_facts where household_id = ? "
                "and aid_certificate_no is not null",
                [grad[0][1]],
            ).fetchall()
        ]
        con.execute(
            "delete from staging.stg_civil_affairs_assistance where delivery = ? and aid_certificate_no in "
            "(select unnest(?::varchar[]))",
            [DELIVERY, certs],
        )
        picked = _elderly_households(con, 5)
        assert len(picked) == 5
        cases.update(
            zip(("new_meter_zero", "new_meter_low", "gaps_then_drop", "latest_missing", "one_month_missing"), picked)
        )
        before_sep = "reading_month < '2026-09'"
        latest = f"reading_month = '{DELIVERY}'"
        gaps = "reading_month in ('2026-03', '2026-05', '2026-07')"
        for key in ("new_meter_zero", "new_meter_low"):
            con.execute("delete from staging.stg_utility_electricity where " + _meter_rows(cases[key][1], before_sep))
        con.execute(
            "update staging.stg_utility_electricity set kwh = 0 where "
            + _meter_rows(cases["new_meter_zero"][1], latest)
        )
        con.execute(
            "update staging.stg_utility_electricity set kwh = 1 where " + _meter_rows(cases["new_meter_low"][1], latest)
        )
        hh = cases["gaps_then_drop"][1]
        con.execute("delete from staging.stg_utility_electricity where " + _meter_rows(hh, gaps))
        con.execute("update staging.stg_utility_electricity set kwh = 2 where " + _meter_rows(hh, latest))
        last_two = f"reading_month in ('2026-10', '{DELIVERY}')"
        con.execute(
            "delete from staging.stg_utility_electricity where " + _meter_rows(cases["latest_missing"][1], last_two)
        )
        con.execute(
            "delete from staging.stg_utility_electricity where " + _meter_rows(cases["one_month_missing"][1], latest)
        )
    _dbt_build_targeting(path)
    with duckdb.connect(str(path)) as con:
        for s in load_scenarios().scenarios:
            run_scenario(con, s, DELIVERY)
    return path, cases


def _reasons(db: Path, scenario: str, entity_id: str) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            r[0]
            for r in con.execute(
                "select reason_code from scenario.match where scenario = ? and delivery = ? and entity_id = ?",
                [scenario, DELIVERY, entity_id],
            ).fetchall()
        }


def test_graduate_whose_family_left_aid_is_not_listed_but_the_family_is_screened(edited_hub):
    db, cases = edited_hub
    person, household = cases["graduate"]
    assert _reasons(db, "aid_family_graduates", person) == set()
    assert "left_assistance" in _reasons(db, "aid_screening", household)


def test_new_meter_without_history_is_flagged_for_zero_use_only(edited_hub):
    db, cases = edited_hub
    assert _reasons(db, "elderly_power_alert", cases["new_meter_zero"][0]) == {"zero_use"}
    assert _reasons(db, "elderly_power_alert", cases["new_meter_low"][0]) == set()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "select previous_readings from targeting.tgt_household_electricity where household_id = ?",
            [cases["new_meter_low"][1]],
        ).fetchall() == [(2,)]


def test_meter_with_missing_months_still_has_a_baseline_and_a_meter_no_longer_read_is_its_own_reason(edited_hub):
    db, cases = edited_hub
    assert _reasons(db, "elderly_power_alert", cases["gaps_then_drop"][0]) == {"power_drop"}
    # no reading in the export's last two months: the meter has stopped being read
    assert _reasons(db, "elderly_power_alert", cases["latest_missing"][0]) == {"latest_reading_missing"}
    # one missing month alone is a gap in the export, not a sign
    assert _reasons(db, "elderly_power_alert", cases["one_month_missing"][0]) == set()
    with duckdb.connect(str(db), read_only=True) as con:
        missing = con.execute(
            "select missing_months from targeting.tgt_household_electricity where household_id = ?",
            [cases["gaps_then_drop"][1]],
        ).fetchall()
        reason = con.execute(
            "select reason from scenario.match where scenario = 'elderly_power_alert' and entity_id = ?",
            [cases["gaps_then_drop"][0]],
        ).fetchall()[0][0]
    assert missing == [(3,)]
    assert "2026-11用电2度" in reason


def test_follow_up_comes_back_idempotently_and_bad_rows_are_rejected(edited_hub, tmp_path):
    from openpyxl import load_workbook

    from targeting.worklists import read_follow_up, write_workbooks

    db, _ = edited_hub
    with duckdb.connect(str(db)) as con:
        written = write_workbooks(con, load_scenarios(), DELIVERY, tmp_path / "out")
        assert written.files > 0
        book = max(
            written.folder.rglob("*.xlsx"), key=lambda f: sum(ws.max_row for ws in load_workbook(f).worksheets[1:])
        )
        wb = load_workbook(book)
        ws = wb.worksheets[1]
        assert ws.max_row >= 3, "a committee with two rows to follow up"
        ws["K2"], ws["L2"], ws["M2"] = "已核实-需帮扶", "王社工", _dt.datetime(2026, 12, 3)
        ws["K3"], ws["L3"], ws["M3"] = "看过了", "", "下周"
        returned = tmp_path / "returned.xlsx"
        wb.save(returned)
        first = read_follow_up(con, returned, today=_dt.date(2026, 12, 10))
        again = read_follow_up(con, returned, today=_dt.date(2026, 12, 10))
        rows = con.execute(
            "select match_id, result, followed_by, followed_on, source_file, sheet, source_row from scenario.follow_up"
        ).fetchall()
    assert first.kept == again.kept == 1
    assert len(first.rejected) == 1 and first.rejected[0][1] == 3
    assert (
        "跟进结果" in first.rejected[0][2] and "跟进人" in first.rejected[0][2] and "跟进日期" in first.rejected[0][2]
    )
    assert rows == [(ws["A2"].value, "已核实-需帮扶", "王社工", _dt.date(2026, 12, 3), "returned.xlsx", ws.title, 2)]


def test_follow_up_of_a_file_that_is_not_a_workbook_says_so(edited_hub, tmp_path):
    from targeting.worklists import read_follow_up

    db, _ = edited_hub
    bad = tmp_path / "x.xlsx"
    bad.write_bytes(b"not a zip")
    with duckdb.connect(str(db)) as con, pytest.raises(ValueError, match="x.xlsx"):
        read_follow_up(con, bad)


def test_find_cli_prints_a_scenario_per_committee_masked(hub_run, capsys):
    from pipelines.cli import main

    _, db, _ = hub_run
    assert main(["find", "--db", str(db), "--scenario", "elderly_power_alert"]) == 0
    out = capsys.readouterr().out
    assert "独居老人用电异常" in out and "居委" in out
    assert not re.search(r"\d{17}[\dX]", out), "no full ID number in the output"
    assert main(["find", "--db", str(db), "--age", "60-", "--flag", "elderly_alone", "--aid", "any"]) == 0
    out = capsys.readouterr().out
    assert "岁" in out and "低保" not in out and "低收入" not in out
    assert main(["find", "--db", str(db), "--scenario", "nope"]) == 2
    # a sharing role: 民政 sees the aid status it is granted; an unknown role is refused
    assert (
        main(["find", "--db", str(db), "--age", "60-", "--flag", "elderly_alone", "--aid", "any", "--role", "minzheng"])
        == 0
    )
    out = capsys.readouterr().out
    assert "低保" in out or "低收入" in out or "特困" in out
    assert main(["find", "--db", str(db), "--scenario", "elderly_power_alert", "--role", "full"]) == 2
    assert "unknown role 'full'" in capsys.readouterr().err
