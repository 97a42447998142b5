"""The monthly report's elderly roster says "用电量骤降" where the quality rule found a power drop.

The rule (qc_electricity.sql, elderly_power_drop: at least three months of readings, the latest under
30% of the earlier median) lives in dbt; the report takes its finding for the delivery instead of
judging the readings again with a rule of its own, and leaves out a drop a street found untrue.
"""

from __future__ import annotations

import duckdb

from quality.reports import POWER_DROP_RULE, elderly_alone, rows_elderly_flags


def _hub() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema master; create schema quality")
    con.execute(
        """create table master.household as select * from (values
               ('h1', 'c1', '宝山路1号101室', 1, null), ('h2', 'c1', '宝山路1号102室', 1, null),
               ('h3', 'c1', '宝山路1号103室', 1, null))
           t(household_id, community_code, full_address, member_count, electricity_accounts)"""
    )
    con.execute(
        """create table master.person as select * from (values
               ('p1', '欧阳娜', '女', date '1940-01-02', null, '正常', 'h1', true, true),
               ('p2', '李伟', '男', date '1941-03-04', null, '正常', 'h2', true, true),
               ('p3', '王芳', '女', date '1942-05-06', null, '正常', 'h3', true, true))
           t(person_id, name, sex, birth_date, phone, status, household_id, on_elderly_alone_list, in_latest_delivery)"""
    )
    con.execute(
        """create table quality.finding_history as select * from (values
               ('2026-10', 'f0', ?, 'open', 'h3'),       -- an earlier delivery's drop
               ('2026-11', 'f1', ?, 'open', 'h1'),
               ('2026-11', 'f2', ?, 'rejected', 'h2'),   -- the committee found the old person well
               ('2026-11', 'f3', 'account_holder_dead', 'open', 'h3'))
           t(delivery, finding_id, rule, status, entity_id)""",
        [POWER_DROP_RULE] * 3,
    )
    return con


def test_the_report_flags_the_power_drops_the_quality_rule_found_this_delivery():
    elderly = elderly_alone(_hub(), "2026-11")
    flagged = dict(zip(elderly["person_id"], elderly["power_drop"], strict=True))
    assert flagged == {"p1": True, "p2": False, "p3": False}
    assert [r.person_id for r in rows_elderly_flags(elderly)] == ["p1"]
    assert elderly.loc[elderly["person_id"] == "p1", "age"].item() == 86  # on 2026-11-30
