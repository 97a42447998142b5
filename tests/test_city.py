"""A city of three districts (synthetic/city.py, issue 17): the generator's cross-district persons,
and the city run on Spark that must make each of them one person while namesakes stay two."""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path

import pytest

from synthetic.city import generate_city

DISTRICTS = ("jingan", "xuhui", "changning")
CODES = {"jingan": "310106", "xuhui": "310104", "changning": "310105"}


def _rows(path: Path, encoding: str = "utf-8") -> list[dict]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def test_a_city_registers_people_in_one_district_who_live_in_another(tmp_path):
    inbox = tmp_path / "city"
    s = generate_city(inbox, DISTRICTS, persons=400, months=1, seed=5)
    assert s["districts"] == ["静安区", "徐汇区", "长宁区"]
    assert s["id_number_collisions"] == 0
    (month,) = s["months"]
    divisions = _rows(inbox / "reference" / "divisions.csv")
    assert {r["街道代码"][:6] for r in divisions} == set(CODES.values())

    cross = _rows(inbox / "_truth" / "city_cross_district.csv")
    assert len(cross) == s["cross_district_persons"] > 10
    assert all(c["lives_in"] != c["registered_in"] for c in cross)
    truth = _rows(inbox / "_truth" / month / "police_population.csv")
    police = _rows(inbox / month / "police_population.csv", "gb18030")
    assert len(truth) == len(police)
    rows_of = defaultdict(list)
    for t, p in zip(truth, police):
        rows_of[t["person_id"]].append(p)
    for c in cross:
        rows = rows_of[c["person_id"]]
        # lives in one district, 户籍 in another: each police export has them, one 户籍地址
        assert len(rows) >= 2, c
        regs = {r["户籍地址"] for r in rows}
        assert len(regs) == 1, c
        assert {"静安区": "jingan", "徐汇区": "xuhui", "长宁区": "changning"}[regs.pop()[3:6]] == c["registered_in"]
        assert c["person_id"].startswith(c["lives_in"] + ":")
    # two people of two districts with one name: the answer key keeps them two
    pairs = _rows(inbox / "_truth" / "city_namesakes.csv")
    assert len(pairs) == s["namesake_pairs"] >= 3
    assert all(p["person_id"].split(":")[0] != p["namesake_id"].split(":")[0] for p in pairs)
    # the same arguments give the same city
    again = generate_city(tmp_path / "again", DISTRICTS, persons=400, months=1, seed=5)
    assert again["months"] == s["months"]
    for f in (f"{month}/police_population.csv", f"{month}/utility_electricity.csv", f"_truth/{month}/persons.csv"):
        assert (inbox / f).read_bytes() == (tmp_path / "again" / f).read_bytes(), f


def test_families_move_to_another_district_from_one_month_to_the_next(tmp_path):
    inbox = tmp_path / "city"
    s = generate_city(inbox, DISTRICTS, persons=400, months=2, seed=5)
    first, second = sorted(s["months"])
    movers = _rows(inbox / "_truth" / "city_movers.csv")
    assert len(movers) == s["movers"] >= 6
    assert {m["moved_from"] for m in movers} == set(DISTRICTS) and all(m["first_month"] == second for m in movers)
    district_of = {"静安区": "jingan", "徐汇区": "xuhui", "长宁区": "changning"}
    for month in (first, second):
        truth = _rows(inbox / "_truth" / month / "police_population.csv")
        police = _rows(inbox / month / "police_population.csv", "gb18030")
        rows_of = defaultdict(list)
        for t, p in zip(truth, police):
            rows_of[t["person_id"]].append(p)
        for m in movers:
            rows = rows_of[m["person_id"]]
            lives = {district_of[r["居住地址"][3:6]] for r in rows if r["居住地址"]}
            if month == first:
                # still at home: the one row of the district they come from
                assert len(rows) == 1 and lives <= {m["moved_from"]}, m
            else:
                # the district moved to registers them at the new flat; the one left keeps its row;
                # one person: one ID number, one name, one 户籍 on both
                assert len(rows) == 2 and m["moved_to"] in lives, m
                assert len({(r["公民身份号码"], r["姓名"], r["户籍地址"]) for r in rows}) == 1, m


@pytest.mark.spark
@pytest.mark.slow
def test_the_city_on_spark_makes_a_cross_district_person_one_person(tmp_path, spark):
    """3 × 1,000 persons × 2 months through `civichub run --engine spark`: every person registered in one
    district and living in another is one city person (one stable id), namesakes of two districts stay
    two, a person who moved to another district keeps the id of the month before, and person precision
    and recall hold city-wide against the answer key."""
    from pipelines.engines import ENGINE_ENV
    from pipelines.evaluate import evaluate
    from pipelines.run import run_hub

    inbox = tmp_path / "city"
    s = generate_city(inbox, DISTRICTS, persons=1_000, months=2, seed=11)
    os.environ[ENGINE_ENV] = "spark"
    try:
        summary = run_hub(inbox, tmp_path / "hub.duckdb", progress=False)
    finally:
        os.environ.pop(ENGINE_ENV, None)
    assert summary.ok, [(d.failed_steps, d.error) for d in summary.deliveries]
    result = evaluate(inbox, tmp_path / "hub.duckdb")
    for month in s["months"]:
        city = result["city"][month]
        assert 50 < city["cross_district_persons"] <= s["cross_district_persons"]
        assert city["split_over_hub_persons"] == 0
        assert city["one_hub_person"] == city["cross_district_persons"]
        assert city["namesake_pairs"] >= 3 and city["namesakes_merged"] == 0
        person = result["entities"]["person"]["deliveries"][month]
        assert person["pairwise"]["precision"] >= 0.99 and person["pairwise"]["recall"] >= 0.98, person
        print(f"{month}: city person pairwise {person['pairwise']}, B-cubed {person['bcubed']}; {city}")
    # the families that moved to another district in the second month: each member one hub person,
    # with the id they had in the district they left
    city = result["city"][sorted(s["months"])[-1]]
    assert city["movers"] == s["movers"] >= 6
    assert city["movers_one_hub_person"] == city["movers"], city
