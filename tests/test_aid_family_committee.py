"""The monthly report places an aid family in the committee where most members live, the same every run.

A family split evenly between two committees goes to the first-listed member's committee; before,
DuckDB's `mode()` broke the tie by thread scheduling and the family moved between the two
committees' reports from one run to the next.
"""

from __future__ import annotations

import duckdb
import pytest

from quality.reports import aid_families


def _hub(threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": threads})
    con.execute("create schema master; create schema staging")
    con.execute(
        """create table master.household as select * from (values
               ('h1', 'c1', '宝山路1号101室'), ('h2', 'c2', '华山路2号201室'), ('h3', 'c2', '华山路2号202室'))
           t(household_id, community_code, full_address)"""
    )
    con.execute(
        """create table master.person as select * from (values
               ('p1', 'h1'), ('p2', 'h2'), ('p3', 'h1'), ('p4', 'h2'), ('p5', 'h3'))
           t(person_id, household_id)"""
    )
    con.execute(
        """create table master.person_xref as select * from (values
               ('aid.csv', 1, '2026-11', 'p1'), ('aid.csv', 2, '2026-11', 'p2'),
               ('aid.csv', 3, '2026-11', 'p3'), ('aid.csv', 4, '2026-11', 'p4'), ('aid.csv', 5, '2026-11', 'p5'))
           t(source_file, source_row, delivery, person_id)"""
    )
    # A: one member in c1 (listed first), one in c2; B: one in c1, two in c2 (two flats)
    con.execute(
        """create table staging.stg_civil_affairs_assistance as select * from (values
               ('aid.csv', 1, '2026-11', 'A', '低保', '甲', null, 2, null, '甲', 900, null, null),
               ('aid.csv', 2, '2026-11', 'A', '低保', '甲', null, 2, null, '乙', 900, null, null),
               ('aid.csv', 3, '2026-11', 'B', '特困', '丙', null, 3, null, '丙', 800, null, null),
               ('aid.csv', 4, '2026-11', 'B', '特困', '丙', null, 3, null, '丁', 800, null, null),
               ('aid.csv', 5, '2026-11', 'B', '特困', '丙', null, 3, null, '戊', 800, null, null))
           t(source_file, source_row, delivery, aid_certificate_no, aid_type, head_name, head_id_number,
             family_size, id_number, name, monthly_amount, family_address_raw, aid_since)"""
    )
    return con


@pytest.mark.parametrize("threads", [1, 4])
def test_an_aid_family_lands_in_the_committee_of_most_members_and_a_tie_in_the_first_listed(threads):
    for _ in range(5):
        families = aid_families(_hub(threads), "2026-11").set_index("aid_certificate_no")
        assert families.loc["A", "community_code"] == "c1"  # 1 and 1: the first-listed member's
        assert families.loc["A", "lives_at"] == "宝山路1号101室"
        assert families.loc["B", "community_code"] == "c2"  # 2 of 3 live in c2
        assert families.loc["B", "lives_at"] == "华山路2号201室"  # in c2; no flat has two: the first listed
