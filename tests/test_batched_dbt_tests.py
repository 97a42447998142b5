"""The batched dbt tests (dbt_project/macros/generic_tests.sql: primary_key, not_null_columns,
accepted_values_columns) check in one query what dbt's per-column tests checked one at a time: each
fails on the fault it is there for (a null in a key, two rows with one key, a null in a required
column, a level outside the list) and passes a table without it. They run here on a small DuckDB
file holding only the columns the selected tests read."""

from __future__ import annotations

import duckdb

from pipelines.dbt_runner import invoke

CLEAN = "primary_key_stg_police_population_source_file__source_row"
FAULTS = {
    # two rows with the same (source_file, source_row)
    "primary_key_stg_market_food_licence_source_file__source_row": "a duplicated key",
    # a key with a null in it, unique otherwise
    "primary_key_stg_hr_graduates_source_file__source_row": "a null in a key",
    # a single-column key shared by two rows
    "primary_key_int_person_move_facts_cluster_key": "a duplicated single-column key",
    # one of two required columns null in one row
    "not_null_columns_int_person_residence_dwelling_key__residence_sources": "a null in a required column",
    # one column's level outside its list (the others and their nulls are accepted)
    "accepted_values_int_person_pair_comparisons_levels": "an unknown level",
}
PASSING = {
    CLEAN,
    "primary_key_int_person_residence_cluster_key",
    "not_null_columns_int_household_meters_dwelling_key__match_rule",
}


def _plant(db: str) -> None:
    with duckdb.connect(db) as con:
        con.execute("create schema staging; create schema matching")
        con.execute(
            "create table staging.stg_police_population as select * from (values ('a.csv', 1), ('a.csv', 2), ('b.csv', 1)) t(source_file, source_row)"
        )
        con.execute(
            "create table staging.stg_market_food_licence as select * from (values ('a.xlsx', 1), ('a.xlsx', 2), ('a.xlsx', 2)) t(source_file, source_row)"
        )
        con.execute(
            "create table staging.stg_hr_graduates as select * from (values ('a.csv', 1), ('a.csv', null)) t(source_file, source_row)"
        )
        con.execute(
            "create table matching.int_person_move_facts as select * from (values ('p1'), ('p2'), ('p2')) t(cluster_key)"
        )
        con.execute(
            "create table matching.int_person_residence as select * from (values "
            "('p1', 'd1', 'police'), ('p2', 'd2', null)) t(cluster_key, dwelling_key, residence_sources)"
        )
        con.execute(
            "create table matching.int_household_meters as select * from (values ('d1', 'room'), ('d2', 'holder')) t(dwelling_key, match_rule)"
        )
        con.execute(
            "create table matching.int_person_pair_comparisons as select * from (values "
            "('exact', 'pinyin', 'close', 'same', 'dwelling', null), "
            "('diff', 'null', 'diff', 'sometimes', 'road', 'same')) "
            "t(id_level, name_level, birth_level, sex_level, address_level, phone_level)"
        )


def test_each_batched_test_fails_on_its_fault_and_passes_without_it(tmp_path):
    db = str(tmp_path / "hub.duckdb")
    _plant(db)
    out = invoke(["test", "--vars", '{"delivery": "2026-10"}', "--select", *FAULTS, *PASSING], "batched_tests", db)
    assert not out.exception, out.errors
    assert set(out.tests("fail")) == set(FAULTS), out.errors
    assert set(out.tests("pass")) == PASSING
