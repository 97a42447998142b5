"""Answers flow back without files: the app's verifications and follow-ups go through the same validation,
tables and audit as returned workbooks; one decision made in both channels is one decision.

A small hand-built hub (a few master rows and findings) and an app database on SQLite and PostgreSQL:
no pipeline run needed.
"""

from __future__ import annotations

import datetime as dt
import uuid

import duckdb
import pytest
from sqlalchemy import select

from app.db import make_engine, make_session_factory, upgrade
from app.db.models import FollowUp, Verification, utcnow
from app.intake import pending, pending_marker, take_in
from app.users import add_user
from quality import corrections as corr
from quality.findings import ensure_tables

C1, C2 = "310106012001", "310106012002"
STREET = "310106012000"


@pytest.fixture(params=["sqlite", "postgres"])
def hub(request, tmp_path):
    db = tmp_path / "hub.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema master")
        con.execute(
            "create table master.person (person_id varchar, name varchar, birth_date date, id_number varchar, "
            "id_number_valid boolean, household_id varchar)"
        )
        con.execute(
            """insert into master.person values
               ('P1', '王一', '1950-01-01', null, true, 'H1'), ('P2', '王二', '1960-01-01', null, true, 'H1'),
               ('P3', '王三', '1970-01-01', null, true, 'H2'), ('P4', '王四', '1980-01-01', null, true, 'H2')"""
        )
        ensure_tables(con)
        con.executemany(
            "insert into quality.finding values (?, 'id_birth_date_mismatch', 'medium', 'person', ?, 'police_population', "
            "'2026-11/police_population.csv', ?, ?, ?, '出生日期', ?, ?, '出生日期与身份证号不一致', 'open', '2026-11', '2026-11')",
            [
                ("F1", "P1", 1, STREET, C1, "1950-01-01", "1950-01-02"),
                ("F2", "P2", 2, STREET, C1, "1960-01-01", None),
                ("F3", "P3", 3, STREET, C2, "1970-01-01", "1970-01-03"),
                ("F4", "P4", 4, STREET, C1, "1980-01-01", None),
            ],
        )
        con.execute("create schema scenario")
        con.execute(
            "create table scenario.match (match_id varchar, scenario varchar, delivery varchar, entity_id varchar, "
            "street_code varchar, community_code varchar)"
        )
        con.execute(f"insert into scenario.match values ('M1', 'aid_screening', '2026-11', 'H1', '{STREET}', '{C1}')")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    else:
        url = request.getfixturevalue("pg_cluster").new_database("intake")
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with factory() as s:
        worker, _ = add_user(s, "w1", "committee", C1, "王芳")
        s.commit()
        uid = worker.id
    yield db, url, factory, uid
    engine.dispose()


def _verification(s, user_id, finding_id, decision, value=None, community=C1, note=None):
    v = Verification(
        uid=uuid.uuid4().hex,
        finding_id=finding_id,
        street_code=STREET,
        community_code=community,
        decision=decision,
        corrected_value=value,
        note=note,
        decided_by="王芳",
        user_id=user_id,
        decided_at=utcnow(),
    )
    s.add(v)
    s.flush()
    return v


def test_app_verifications_go_through_the_corrections_rules_and_tables(hub):
    db, url, factory, uid = hub
    with factory() as s:
        ok_confirm = _verification(s, uid, "F1", "确认").id
        ok_correct = _verification(s, uid, "F2", "更正", "1960-02-03", note="户口簿").id
        bad_value = _verification(s, uid, "F4", "更正", "1980-02-30").id
        foreign = _verification(s, uid, "F3", "不属实").id  # a committee-1 account on committee 2's finding
        unknown = _verification(s, uid, "FNOSUCH", "不属实").id
        s.commit()
    assert pending(db, url) == (5, 0) and pending_marker(db, url) == f"{unknown}:0"
    with duckdb.connect(str(db)) as con:
        summary = take_in(con, db, url)
        birth = dict(con.execute("select person_id, birth_date::varchar from master.person").fetchall())
        status = dict(con.execute("select finding_id, status from quality.finding").fetchall())
        decisions = con.execute(
            "select finding_id, decision, corrected_value, decided_by, source_row from quality.finding_decision order by 1"
        ).fetchall()
        audit = dict(con.execute("select source_row, outcome from quality.correction_audit").fetchall())
        rejections = dict(con.execute("select source_row, reason from quality.correction_rejection").fetchall())
    assert (summary.verifications_accepted, summary.verifications_rejected) == (2, 3)
    assert birth["P1"] == "1950-01-02" and birth["P2"] == "1960-02-03"  # 确认 takes the suggestion; 更正 the value
    assert birth["P3"] == "1970-01-01" and birth["P4"] == "1980-01-01"
    assert status == {"F1": "resolved", "F2": "resolved", "F3": "open", "F4": "open"}
    assert decisions == [
        ("F1", "确认", "1950-01-02", "王芳", ok_confirm),
        ("F2", "更正", "1960-02-03", "王芳", ok_correct),
    ]
    assert audit[ok_confirm] == "override" and audit[ok_correct] == "override"
    assert "日期" in rejections[bad_value] and "不属于本居委" in rejections[foreign] and "不存在" in rejections[unknown]
    with factory() as s:
        got = {v.id: (v.intake_status, v.intake_reason) for v in s.scalars(select(Verification))}
    assert got[ok_confirm] == ("accepted", None) and got[bad_value][0] == "rejected" and "日期" in got[bad_value][1]
    assert pending(db, url) == (0, 0) and pending_marker(db, url) is None
    # taking in again changes nothing
    with duckdb.connect(str(db)) as con:
        again = take_in(con, db, url)
        assert again.taken == 0
        assert con.execute("select count(*) from quality.finding_decision").fetchone()[0] == 2


def test_one_decision_in_the_app_and_in_a_workbook_is_one_decision(hub):
    db, url, factory, uid = hub
    with duckdb.connect(str(db)) as con:
        # a returned workbook said 不属实 for F4 first …
        wb = corr.Decision(
            "F4", C1, "不属实", "", "李丽", dt.date(2026, 12, 1), source_file="corrections/x.xlsx", source_row=5
        )
        assert corr.validate_and_apply(con, wb).status == "accepted"
    with factory() as s:
        same = _verification(s, uid, "F4", "不属实").id  # … and the worker says the same in the app
        s.commit()
    with duckdb.connect(str(db)) as con:
        summary = take_in(con, db, url)
        assert summary.verifications_same == 1 and summary.verifications_accepted == 0
        assert con.execute("select count(*) from quality.finding_decision where finding_id = 'F4'").fetchone()[0] == 1
        assert con.execute("select outcome from quality.correction_audit where source_row = ?", [same]).fetchone()[
            0
        ] == ("same_decision")
        # the other way round: the app decided F2 first, then a workbook row says the same
        with factory() as s:
            _verification(s, uid, "F2", "更正", "1960-05-05")
            s.commit()
        take_in(con, db, url)
        wb = corr.Decision("F2", C1, "更正", "1960-05-05", "李丽", source_file="corrections/y.xlsx", source_row=7)
        assert corr.validate_and_apply(con, wb).status == "same_decision"
        assert con.execute("select count(*) from quality.override where finding_id = 'F2'").fetchone()[0] == 1
        # a different decision is a new one
        wb = corr.Decision("F2", C1, "更正", "1960-06-06", "李丽", source_file="corrections/z.xlsx", source_row=8)
        assert corr.validate_and_apply(con, wb).status == "accepted"
        assert con.execute("select count(*) from quality.override where finding_id = 'F2'").fetchone()[0] == 2
    with factory() as s:
        assert s.get(Verification, same).intake_status == "same_decision"


def test_a_verification_taken_in_twice_is_recorded_once(hub):
    """The process stopped after the hub's commit and before the app's: the next intake finds it done."""
    db, url, factory, uid = hub
    with factory() as s:
        vid = _verification(s, uid, "F1", "确认").id
        s.commit()
    with duckdb.connect(str(db)) as con:
        take_in(con, db, url)
    with factory() as s:  # as if the app database had not been updated
        s.get(Verification, vid).intake_status = "pending"
        s.commit()
    with duckdb.connect(str(db)) as con:
        summary = take_in(con, db, url)
        assert summary.verifications_accepted == 1
        assert con.execute("select count(*) from quality.finding_decision").fetchone()[0] == 1
        assert con.execute("select count(*) from quality.override").fetchone()[0] == 1


def test_follow_ups_reach_scenario_follow_up_by_the_workbook_rules(hub):
    db, url, factory, uid = hub
    today = dt.date.today()
    with factory() as s:
        for match, result, day in (("M1", "已核实-需帮扶", today), ("M1", "乱填", today), ("MX", "联系不上", today)):
            s.add(
                FollowUp(
                    uid=uuid.uuid4().hex,
                    match_id=match,
                    scenario="aid_screening",
                    entity_id="H1",
                    street_code=STREET,
                    community_code=C1,
                    result=result,
                    followed_by="王芳",
                    user_id=uid,
                    followed_on=day,
                )
            )
        s.commit()
    with duckdb.connect(str(db)) as con:
        summary = take_in(con, db, url)
        rows = con.execute(
            "select match_id, result, followed_by, source_file, file_hash from scenario.follow_up"
        ).fetchall()
    assert (summary.follow_ups_kept, summary.follow_ups_rejected) == (1, 2)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("M1", "已核实-需帮扶", "王芳", "app")]
    assert rows[0][4].startswith("app:")
    with factory() as s:
        states = sorted(f.intake_status for f in s.scalars(select(FollowUp)))
    assert states == ["accepted", "rejected", "rejected"]


def test_without_an_app_database_the_hub_takes_nothing_in(tmp_path):
    db = tmp_path / "hub.duckdb"
    with duckdb.connect(str(db)) as con:
        summary = take_in(con, db, f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert summary.taken == 0 and summary.error is None
    assert not (tmp_path / "none.sqlite").exists()
