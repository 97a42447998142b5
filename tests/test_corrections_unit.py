"""One decision on one finding, as the street app sends it: checked, recorded, applied
(quality.corrections.validate_and_apply, then the batch's apply_overrides and refresh_statuses).
A hand-made database; no hub run."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from matching.master_tables import DDL as MASTER_DDL
from quality.corrections import Decision, apply_overrides, refresh_statuses, validate_and_apply
from quality.findings import ensure_tables

COMMITTEE = "310106012001"


@pytest.fixture()
def con():
    c = duckdb.connect()
    c.execute(MASTER_DDL)
    c.execute(
        """insert into master.person (person_id, name, sex, birth_date, status, in_latest_delivery, first_seen, last_seen)
           values ('P1', '张三', '男', date '1950-01-02', '正常', true, '2026-10', '2026-10')"""
    )
    ensure_tables(c)
    c.execute(
        f"""insert into quality.finding values
            ('F1', 'id_birth_date_mismatch', 'medium', 'person', 'P1', 'police_population', 'p.csv', 1,
             '310106012000', '{COMMITTEE}', '出生日期', '1950-01-02', null, '出生日期与身份证号不一致', 'open',
             '2026-10', '2026-10')"""
    )
    yield c
    c.close()


def _decision(**changes) -> Decision:
    base = dict(
        finding_id="F1",
        decision="更正",
        decided_by="王五",
        decided_on=dt.datetime(2026, 11, 3),
        committee_code=COMMITTEE,
        value="1950/1/3",
        source_file="app:1",
        source_row=1,
    )
    return Decision(**(base | changes))


def test_a_correction_is_checked_recorded_and_applied(con):
    out = validate_and_apply(con, _decision())
    assert out.status == "accepted" and out.result == "override"
    assert apply_overrides(con) == 1
    refresh_statuses(con)
    assert con.execute("select birth_date::varchar from master.person").fetchall() == [("1950-01-03",)]
    assert con.execute("select status from quality.finding").fetchall() == [("resolved",)]
    assert con.execute("select decided_by, source_file from quality.finding_decision").fetchall() == [("王五", "app:1")]


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"committee_code": "310106012002"}, "不属于本居委"),
        ({"finding_id": "F9"}, "不存在"),
        ({"decision": "已核实"}, "不在"),
        ({"decided_by": ""}, "缺少核实人"),
        ({"value": "不知道"}, "日期"),
        ({"decision": "不属实"}, "不填正确值"),
    ],
)
def test_a_bad_decision_is_refused_with_its_reason_and_audited(con, changes, reason):
    out = validate_and_apply(con, _decision(**changes))
    assert out.status == "rejected" and reason in out.reason
    assert con.execute("select count(*) from quality.finding_decision").fetchall() == [(0,)]
    assert con.execute("select outcome from quality.correction_audit").fetchall() == [("rejected",)]
    assert con.execute("select birth_date::varchar from master.person").fetchall() == [("1950-01-02",)]


def test_the_same_decision_twice_is_recorded_once(con):
    assert validate_and_apply(con, _decision()).status == "accepted"
    again = validate_and_apply(con, _decision(source_file="app:2", source_row=2))
    assert again.status == "same_decision"
    assert con.execute("select count(*) from quality.finding_decision").fetchall() == [(1,)]
