"""Targeting: scenario configuration, search builders, masking and reasons, without a hub run."""

from __future__ import annotations

import copy

import duckdb
import pytest
import yaml

from sharing.masking import mask_address, mask_name
from targeting.config import DEFAULT_PATH, ScenarioConfigError, load_scenarios, parse_scenarios
from targeting.engine import match_id, render_reason
from targeting.masking import RoleError, View, mask_row, view_for_role
from targeting.search import FindCriteria, FindError, build_find_query, build_scenario_query, parse_age_range

RAW = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _with(**changes):
    data = copy.deepcopy(RAW)
    data["scenarios"][0].update(changes)
    return data


def test_shipped_scenarios_load_with_the_four_required():
    s = load_scenarios()
    assert {"aid_family_graduates", "elderly_power_alert", "aid_renhu_fenli", "aid_screening"} <= set(s.names)
    for sc in s.scenarios:
        assert sc.title and sc.owner and sc.reasons
        assert {"entity_id", "person_id", "household_id", "reason_code"} <= set(sc.columns)
    assert s.get("aid_family_graduates").query_params("2026-11")["year"] == 2026


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"entity": "shop"}, "scenario 'aid_family_graduates': entity: Input should be 'person' or 'household'"),
        ({"sql": "delete from master.person"}, "must be a SELECT"),
        (
            {
                "sql": "select person_id as entity_id, person_id, household_id, 'x' as reason_code from raw.police_population"
            },
            "outside the schemas",
        ),
        (
            {"sql": "select person_id as entity_id, household_id, 'x' as reason_code from master.person"},
            "must return the column(s) person_id",
        ),
        ({"sql": "select * from master.person"}, "no select *"),
        (
            {
                "sql": "select person_id as entity_id, person_id, household_id, reason_code from targeting.t where a = $nope"
            },
            "$nope",
        ),
        ({"reasons": {"unemployed_graduate_aid_family": "{no_such_column}"}}, "{no_such_column}"),
        ({"sql": "select from where"}, "does not parse"),
        ({"title": ""}, "title: String should have at least 1 character"),
        ({"colour": "red"}, "colour: unknown key"),
        ({"name": "Bad Name"}, "name: String should match pattern"),
    ],
)
def test_bad_scenario_files_are_rejected_with_the_scenario_and_field(changes, message):
    with pytest.raises(ScenarioConfigError) as e:
        parse_scenarios(_with(**changes), "s.yml")
    assert message in str(e.value)
    assert "s.yml" in str(e.value)


def test_duplicate_scenario_names_are_rejected():
    data = copy.deepcopy(RAW)
    data["scenarios"].append(copy.deepcopy(data["scenarios"][0]))
    with pytest.raises(ScenarioConfigError, match="defined twice"):
        parse_scenarios(data)


def test_unknown_scenario_names_the_known_ones():
    with pytest.raises(ScenarioConfigError, match="aid_screening"):
        load_scenarios().get("nope")


@pytest.mark.parametrize(
    "text, expected",
    [("60-", (60, None)), ("-17", (None, 17)), ("18-35", (18, 35)), ("70", (70, 70)), (" 60 - 80 ", (60, 80))],
)
def test_age_ranges(text, expected):
    assert parse_age_range(text) == expected


@pytest.mark.parametrize("text", ["x", "-", "80-60", "60+", ""])
def test_bad_age_ranges(text):
    with pytest.raises(FindError):
        parse_age_range(text)


def test_user_values_travel_as_parameters_never_in_the_sql():
    evil = "x'); drop table master.person; --"
    sql, params = build_find_query(
        FindCriteria(
            age=(60, None),
            flags=["elderly_alone"],
            street=evil,
            committee=evil,
            graduation_year=2026,
            aid=["低保", "特困"],
            employment=["未就业"],
        )
    )
    assert evil not in sql and "低保" not in sql and "2026" not in sql
    assert params["street"] == evil and params["committee"] == evil
    assert params["aid"] == ["低保", "特困"] and params["age_min"] == 60 and params["graduation_year"] == 2026
    sql, params = build_scenario_query(FindCriteria(scenario=evil, street=evil))
    assert evil not in sql and params["scenario"] == evil


def test_find_rejects_unknown_flags_and_vocabulary():
    with pytest.raises(FindError, match="flags"):
        build_find_query(FindCriteria(flags=["rich"]))
    with pytest.raises(FindError, match="低保"):
        build_find_query(FindCriteria(aid=["低保户"]))
    with pytest.raises(FindError, match="未就业"):
        build_find_query(FindCriteria(employment=["失业"]))


def _facts(con):
    con.execute("create schema targeting; create schema staging")
    con.execute("""create table staging.stg_divisions as select * from (values
        ('310106012000', '南京西路街道', '310106012001', '华山居委会')) t(street_code, street_name, community_code, community_name)""")
    con.execute("""create table targeting.tgt_person_facts as select * from (values
        ('P1', 'H1', '上海市静安区华山路1弄1号101室', '310106012000', '310106012001', '张三丰', '310106194001011234', '13812345678', '正常', 86, true, true, true, '低保', false, null::int, null, false, false),
        ('P2', 'H2', '上海市静安区华山路1弄2号101室', '310106012000', '310106012001', '李四', '310106200401011234', null, '正常', 22, false, false, false, null, true, 2026, '未就业', false, false),
        ('P3', 'H1', '上海市静安区华山路1弄1号101室', '310106012000', '310106012001', '王五', null, null, '死亡', 90, false, false, false, null, false, null::int, null, false, false))
        t(person_id, household_id, full_address, street_code, community_code, name, id_number, phone, status, age,
          lives_alone, on_elderly_alone_list, renhu_fenli, aid_type, aided_in_previous_delivery, graduation_year,
          employment_status, registered_elsewhere, x)""")


def test_find_runs_on_the_facts_groups_and_masks():
    from targeting.search import find, format_rows

    con = duckdb.connect()
    _facts(con)
    rows = find(con, FindCriteria(age=(60, None), flags=["elderly_alone"], aid=["any"]), role="masked")
    assert [r["entity_id"] for r in rows] == ["P1"]
    r = rows[0]
    assert r["name"] == "张**" and r["id_number"] == "310106********1234" and r["phone"] == "138****5678"
    assert "低保" not in r["reason"] and "86岁" in r["reason"] and "独居老人" in r["reason"]
    full = find(con, FindCriteria(age=(60, None), flags=["elderly_alone"], aid=["any"]), role="full")[0]
    assert full["name"] == "张三丰" and "享受低保" in full["reason"]
    out = format_rows(rows)
    assert "南京西路街道 / 华山居委会" in out and "310106194001011234" not in out and "13812345678" not in out
    # the dead are left out unless asked for
    assert [r["entity_id"] for r in find(con, FindCriteria(age=(89, None)))] == []
    assert [r["entity_id"] for r in find(con, FindCriteria(age=(89, None), status=None))] == ["P3"]
    assert [
        r["entity_id"]
        for r in find(con, FindCriteria(graduation_year=2026, employment=["未就业"], street="南京西路街道"))
    ] == ["P2"]
    assert find(con, FindCriteria(graduation_year=2026, committee="别的居委会")) == []
    hh = find(con, FindCriteria(entity="household", status=None, age=(80, None)), role="committee")
    assert [(r["entity_id"], r["reason"].split("：")[0]) for r in hh] == [("H1", "2名成员")]


def test_masking_roles():
    row = {"name": "欧阳娜娜", "id_number": "31010619400101123X", "phone": "13812345678", "reason": "享受低保"}
    assert mask_row(row, "full") == row
    committee = mask_row(row, "committee")
    assert committee["name"] == "欧阳娜娜" and committee["id_number"] == "310106********123X"
    masked = mask_row(row, "masked", sensitive_reason="享受***")
    assert masked["name"] == "欧阳**" and masked["phone"] == "138****5678" and masked["reason"] == "享受***"
    assert mask_name("李") == "李*"
    with pytest.raises(ValueError):
        mask_row(row, "admin")
    # a sharing role's view: only the fields it is granted are in clear
    view = View("renshe", frozenset({"name", "phone"}))
    shown = mask_row({**row, "address": "上海市静安区华山路1弄1号101室"}, view, sensitive_reason="享受***")
    assert shown["name"] == "欧阳娜娜" and shown["phone"] == "13812345678"
    assert shown["id_number"] == "310106********123X" and shown["reason"] == "享受***"
    assert shown["address"] == mask_address("上海市静安区华山路1弄1号101室") == "上海市静安区华山路****"


def test_find_uses_the_sharing_roles_fields_and_street():
    """`civichub find --role` takes the roles of sharing/roles.yml: fields in clear per grants,
    a street office sees only its street, a role without the data is refused."""
    from targeting.search import find

    con = duckdb.connect()
    _facts(con)
    criteria = FindCriteria(age=(60, None), flags=["elderly_alone"], aid=["any"])
    minzheng = view_for_role(con, "minzheng")
    r = find(con, criteria, role=minzheng)[0]
    assert r["name"] == "张三丰" and r["id_number"] == "310106194001011234" and "享受低保" in r["reason"]
    street = view_for_role(con, "street_310106012000")  # expanded from staging.stg_divisions
    assert street.street_code == "310106012000"
    r = find(con, criteria, role=street)[0]
    assert r["name"] == "张三丰" and r["id_number"] == "310106********1234" and "享受低保" in r["reason"]
    other = View("street_310106099000", street.clear, "310106099000", street.datasets)
    assert find(con, criteria, role=other) == []
    renshe = view_for_role(con, "renshe")  # master.person with name and phone, no scenario lists
    r = find(con, criteria, role=renshe)[0]
    assert r["name"] == "张三丰" and r["id_number"] == "310106********1234" and "低保" not in r["reason"]
    with pytest.raises(RoleError, match="scenario.match"):
        find(con, FindCriteria(scenario="aid_screening"), role=renshe)
    with pytest.raises(RoleError, match="master.person"):
        find(con, criteria, role=view_for_role(con, "chengguan"))
    with pytest.raises(RoleError, match="minzheng"):
        view_for_role(con, "full")  # the built-in views are not caller roles
    assert view_for_role(con, None).role == "masked"


def test_reasons_render_and_hide_sensitive_fields():
    t = "{graduation_year}年毕业，家庭享受{aid_type}"
    assert render_reason(t, {"graduation_year": 2026, "aid_type": "低保"}) == "2026年毕业，家庭享受低保"
    assert render_reason(t, {"graduation_year": 2026.0, "aid_type": None}) == "2026年毕业，家庭享受"
    assert (
        render_reason(t, {"graduation_year": 2026, "aid_type": "低保"}, hidden=("aid_type",))
        == "2026年毕业，家庭享受***"
    )
    assert (
        match_id("a", "person", "P1", "r") == match_id("a", "person", "P1", "r") != match_id("a", "person", "P1", "s")
    )
