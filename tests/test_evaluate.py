"""`civichub evaluate` on a hand-made answer key and hand-made xref tables (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.evaluate import EvaluateError, evaluate, print_report

EXT = {
    "civil_affairs_assistance": "xlsx",
    "civil_affairs_elderly_alone": "xlsx",
    "market_food_licence": "xlsx",
    "street_shop_visits": "xlsx",
}

# person truth in both months: P1 = police 1 + graduates 1, P2 = police 2, P3 = police 3 + elderly 1;
# police 4 and 5 carry no person (e.g. a garbage row); households H1 = {P1, P2, utility 1}, H2 = {P3};
# utility 2 is a shop's meter (S1), which also has registry 1 and visits 1; registry 2 is no street shop.
TRUTH = {
    "police_population": [
        (1, "P1", "H1", ""),
        (2, "P2", "H1", ""),
        (3, "P3", "H2", ""),
        (4, "", "", ""),
        (5, "", "", ""),
    ],
    "hr_graduates": [(1, "P1", "H1", "")],
    "civil_affairs_elderly_alone": [(1, "P3", "H2", "")],
    "utility_electricity": [(1, "", "H1", ""), (2, "", "", "S1")],
    "market_business_registry": [(1, "", "", "S1"), (2, "", "", "")],
    "street_shop_visits": [(1, "", "", "S1")],
}

PERFECT_PERSON = {
    ("police_population", 1): "A",
    ("hr_graduates", 1): "A",
    ("police_population", 2): "B",
    ("police_population", 3): "C",
    ("civil_affairs_elderly_alone", 1): "C",
}


def write_truth(inbox: Path, months=("2026-10",), truth=TRUTH) -> None:
    for m in months:
        d = inbox / "_truth" / m
        d.mkdir(parents=True, exist_ok=True)
        for src, rows in truth.items():
            lines = ["source_row,person_id,household_id,shop_id"] + [",".join(map(str, r)) for r in rows]
            (d / f"{src}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (d / "persons.csv").write_text("person_id\nP1\n", encoding="utf-8")  # ignored


def write_db(db: Path, xrefs: dict[str, dict[str, dict]], id_history=None) -> None:
    """xrefs: {"person": {"2026-10": {(source, row): id}}}; only the given tables are created."""
    cols = {"person": "person_id", "household": "household_id", "shop": "shop_code"}
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS master")
        for entity, by_month in xrefs.items():
            con.execute(f"""CREATE TABLE master.{entity}_xref (delivery VARCHAR, source VARCHAR, source_file VARCHAR,
                            source_row INTEGER, {cols[entity]} VARCHAR, match_rule VARCHAR, match_score DOUBLE)""")
            for month, mapping in by_month.items():
                for (src, row), eid in mapping.items():
                    con.execute(
                        f"INSERT INTO master.{entity}_xref VALUES (?, ?, ?, ?, ?, 'test', 1.0)",
                        [month, src, f"{month}/{src}.{EXT.get(src, 'csv')}", row, eid],
                    )
        if id_history is not None:
            con.execute("""CREATE TABLE master.id_history (old_id VARCHAR, new_id VARCHAR, entity_type VARCHAR,
                           kind VARCHAR, delivery VARCHAR, recorded_at TIMESTAMP)""")
            for old, new, et in id_history:
                con.execute("INSERT INTO master.id_history VALUES (?, ?, ?, 'merge', '2026-11', now())", [old, new, et])


@pytest.fixture()
def inbox(tmp_path) -> Path:
    ib = tmp_path / "inbox"
    write_truth(ib)
    return ib


def run(inbox, tmp_path, xrefs, id_history=None, delivery=None):
    db = tmp_path / "hub.duckdb"
    write_db(db, xrefs, id_history)
    return evaluate(inbox, db, delivery)


def test_perfect_clustering(inbox, tmp_path):
    res = run(inbox, tmp_path, {"person": {"2026-10": PERFECT_PERSON}})
    m = res["entities"]["person"]["deliveries"]["2026-10"]
    assert m["pairwise"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 2, "pred_pairs": 2, "true_pairs": 2}
    assert m["bcubed"]["precision"] == m["bcubed"]["recall"] == m["bcubed"]["f1"] == 1.0
    assert (m["records"], m["truth_entities"], m["pred_entities"], m["unresolved"], m["extra_records"]) == (
        5,
        3,
        3,
        0,
        0,
    )
    assert m["by_source"]["police_population"]["pair_recall"] == 1.0


def test_one_wrong_merge(inbox, tmp_path):
    res = run(inbox, tmp_path, {"person": {"2026-10": {**PERFECT_PERSON, ("police_population", 2): "A"}}})
    m = res["entities"]["person"]["deliveries"]["2026-10"]
    # A = {pol1, hr1, pol2}: 3 predicted pairs of which 1 true; C: 1 true pair
    assert (m["pairwise"]["tp"], m["pairwise"]["pred_pairs"], m["pairwise"]["true_pairs"]) == (2, 4, 2)
    assert m["pairwise"]["precision"] == pytest.approx(0.5)
    assert m["pairwise"]["recall"] == 1.0
    assert m["pairwise"]["f1"] == pytest.approx(2 / 3)
    assert m["bcubed"]["precision"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)
    assert m["bcubed"]["recall"] == pytest.approx(1.0)
    assert m["pred_entities"] == 2


def test_missing_xref_row_is_a_singleton(inbox, tmp_path):
    xref = dict(PERFECT_PERSON)
    del xref[("hr_graduates", 1)]
    m = run(inbox, tmp_path, {"person": {"2026-10": xref}})["entities"]["person"]["deliveries"]["2026-10"]
    assert m["unresolved"] == 1 and m["records"] == 5
    assert (m["pairwise"]["tp"], m["pairwise"]["pred_pairs"], m["pairwise"]["true_pairs"]) == (1, 1, 2)
    assert m["pairwise"]["precision"] == 1.0 and m["pairwise"]["recall"] == pytest.approx(0.5)
    assert m["bcubed"]["recall"] == pytest.approx((0.5 + 0.5 + 1 + 1 + 1) / 5)
    assert m["by_source"]["hr_graduates"] == {
        "records": 1,
        "unresolved": 1,
        "extra_records": 0,
        "pair_recall": 0.0,
        "pair_precision": None,
    }
    assert m["by_source"]["police_population"]["pair_recall"] == pytest.approx(0.5)


def test_empty_truth_id_in_a_cluster_is_a_false_positive(inbox, tmp_path):
    # police 4 (no person in the key) joins A; police 5 gets its own id: not scored
    xref = {**PERFECT_PERSON, ("police_population", 4): "A", ("police_population", 5): "Z"}
    m = run(inbox, tmp_path, {"person": {"2026-10": xref}})["entities"]["person"]["deliveries"]["2026-10"]
    assert m["extra_records"] == 1 and m["records"] == 6 and m["truth_entities"] == 4
    assert (m["pairwise"]["tp"], m["pairwise"]["pred_pairs"], m["pairwise"]["true_pairs"]) == (2, 4, 2)
    assert m["pairwise"]["precision"] == pytest.approx(0.5) and m["pairwise"]["recall"] == 1.0


def test_households_with_utility_and_a_shop_meter(inbox, tmp_path):
    hh = {
        ("police_population", 1): "h1",
        ("police_population", 2): "h1",
        ("hr_graduates", 1): "h1",
        ("utility_electricity", 1): "h1",
        ("utility_electricity", 2): "h1",  # a shop meter put in a dwelling
        ("police_population", 3): "h2",
        ("civil_affairs_elderly_alone", 1): "h2",
    }
    shop = {
        ("utility_electricity", 2): "Q1",
        ("market_business_registry", 1): "Q1",
        ("street_shop_visits", 1): "Q1",
        ("market_business_registry", 2): "Q2",
    }
    res = run(inbox, tmp_path, {"household": {"2026-10": hh}, "shop": {"2026-10": shop}})
    m = res["entities"]["household"]["deliveries"]["2026-10"]
    # h1 has 5 records (10 pairs), 4 of them H1 (6 pairs); h2 = H2 (1 pair)
    assert (m["pairwise"]["tp"], m["pairwise"]["pred_pairs"], m["pairwise"]["true_pairs"]) == (7, 11, 7)
    assert m["extra_records"] == 1 and m["records"] == 7
    s = res["entities"]["shop"]["deliveries"]["2026-10"]
    assert s["pairwise"]["f1"] == 1.0 and s["records"] == 3 and s["extra_records"] == 0
    assert res["entities"]["person"]["status"] == "not built"


def test_missing_tables_are_not_built(inbox, tmp_path):
    res = run(inbox, tmp_path, {"person": {"2026-10": PERFECT_PERSON}})
    assert res["entities"]["person"]["status"] == "ok"
    assert res["entities"]["household"]["status"] == "not built"
    assert res["entities"]["shop"] == {
        "status": "not built",
        "table": "master.shop_xref",
        "deliveries": {},
        "stability": [],
    }
    assert res["id_history"] == "not built"
    # a database with no master schema at all
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    res = evaluate(inbox, empty)
    assert {e["status"] for e in res["entities"].values()} == {"not built"}
    print_report(res)  # does not crash


def two_months(tmp_path, id_history):
    ib = tmp_path / "inbox2"
    write_truth(ib, months=("2026-10", "2026-11"))
    nov = {
        **PERFECT_PERSON,
        ("police_population", 2): "B2",
        ("police_population", 3): "C2",
        ("civil_affairs_elderly_alone", 1): "C2",
    }
    db = tmp_path / "hub2.duckdb"
    write_db(db, {"person": {"2026-10": PERFECT_PERSON, "2026-11": nov}}, id_history)
    return ib, db


def test_stability_with_id_history(tmp_path):
    ib, db = two_months(tmp_path, [("C", "C2", "person"), ("B", "B9", "person"), ("B", "B2", "household")])
    res = evaluate(ib, db)
    (s,) = res["entities"]["person"]["stability"]
    assert (s["from"], s["to"]) == ("2026-10", "2026-11")
    assert (s["entities_in_both"], s["compared"], s["same"], s["changed"]) == (3, 3, 1, 2)
    assert (s["changed_explained"], s["changed_unexplained"]) == (1, 1)  # B→B2 recorded for households only
    assert s["same_share"] == pytest.approx(1 / 3)
    # both months are still perfect clusterings
    assert all(m["pairwise"]["f1"] == 1.0 for m in res["entities"]["person"]["deliveries"].values())


def test_stability_without_id_history(tmp_path, capsys):
    ib, db = two_months(tmp_path, None)
    res = evaluate(ib, db)
    (s,) = res["entities"]["person"]["stability"]
    assert (s["changed"], s["changed_explained"], s["changed_unexplained"]) == (2, 0, 2)
    print_report(res)
    out = capsys.readouterr().out
    assert "2 changed without a recorded merge/split" in out and "not built" in out
    # one delivery still compares with the month before it
    res = evaluate(ib, db, delivery="2026-11")
    assert res["deliveries"] == ["2026-11"] and list(res["entities"]["person"]["deliveries"]) == ["2026-11"]
    assert len(res["entities"]["person"]["stability"]) == 1
    res = evaluate(ib, db, delivery="2026-10")
    assert res["entities"]["person"]["stability"] == []


def test_delivery_without_xref_rows_is_not_built(tmp_path):
    ib = tmp_path / "inbox3"
    write_truth(ib, months=("2026-10", "2026-11"))
    db = tmp_path / "hub3.duckdb"
    write_db(db, {"person": {"2026-10": PERFECT_PERSON}})
    res = evaluate(ib, db)
    assert res["entities"]["person"]["deliveries"]["2026-11"]["status"] == "not built"
    assert res["entities"]["person"]["stability"] == []


def test_errors(inbox, tmp_path):
    with pytest.raises(EvaluateError):
        evaluate(tmp_path / "nowhere", tmp_path / "hub.duckdb")
    write_db(tmp_path / "hub.duckdb", {})
    with pytest.raises(EvaluateError):
        evaluate(inbox, tmp_path / "hub.duckdb", delivery="2030-01")
    with pytest.raises(EvaluateError):
        evaluate(inbox, tmp_path / "missing.duckdb")


def test_cli_writes_json(inbox, tmp_path, capsys):
    from pipelines.cli import main

    db = tmp_path / "hub.duckdb"
    write_db(db, {"person": {"2026-10": PERFECT_PERSON}})
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--inbox", str(inbox), "--db", str(db), "--json", str(out)]) == 0
    assert "person" in capsys.readouterr().out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["entities"]["person"]["deliveries"]["2026-10"]["pairwise"]["f1"] == 1.0
    assert main(["evaluate", "--inbox", str(inbox), "--db", str(db), "--delivery", "2031-01"]) == 2


def test_stability_tells_a_tipped_split_from_a_renamed_household(tmp_path, capsys):
    """H1 is split over hub households X and Y in both months and only its majority moves from X to Y;
    H2 is renamed Z → Z2. Both are unexplained changes; only H1 is a split whose majority tipped."""
    ib = tmp_path / "inbox_split"
    write_truth(ib, months=("2026-10", "2026-11"))
    oct_ = {
        ("police_population", 1): "X",
        ("police_population", 2): "X",
        ("hr_graduates", 1): "X",
        ("utility_electricity", 1): "Y",
        ("police_population", 3): "Z",
        ("civil_affairs_elderly_alone", 1): "Z",
    }
    nov = {**oct_, ("police_population", 2): "Y", ("hr_graduates", 1): "Y"}
    nov.update({("police_population", 3): "Z2", ("civil_affairs_elderly_alone", 1): "Z2"})
    db = tmp_path / "hub_split.duckdb"
    write_db(db, {"household": {"2026-10": oct_, "2026-11": nov}})
    (s,) = evaluate(ib, db)["entities"]["household"]["stability"]
    assert (s["changed"], s["changed_unexplained"], s["changed_split_majority_tipped"]) == (2, 2, 1)
    print_report(evaluate(ib, db))
    assert "1 of them a split whose majority tipped" in capsys.readouterr().out


def test_stability_keeps_the_id_of_a_household_that_grew_to_a_tie(tmp_path):
    """H1 is one hub household Y in October; in November as many of its records are in hub household
    X (another family moved in, its records still at their old address): a tie, and Y still holds what
    it held. Y keeps the majority (not the smaller X); a tie that drops Y's share below X's would not."""
    ib = tmp_path / "inbox_tie"
    write_truth(ib, months=("2026-10", "2026-11"))
    oct_ = {
        ("police_population", 1): "Y",
        ("police_population", 2): "Y",
        ("hr_graduates", 1): "Y",
        ("utility_electricity", 1): "Y",
        ("police_population", 3): "Z",
    }
    tie = {**oct_, ("police_population", 2): "X", ("hr_graduates", 1): "X"}
    db = tmp_path / "hub_tie.duckdb"
    write_db(db, {"household": {"2026-10": oct_, "2026-11": tie}})
    (s,) = evaluate(ib, db)["entities"]["household"]["stability"]
    assert (s["same"], s["changed"]) == (2, 0)
    fewer = {**tie, ("utility_electricity", 1): "X"}
    db2 = tmp_path / "hub_fewer.duckdb"
    write_db(db2, {"household": {"2026-10": oct_, "2026-11": fewer}})
    (s2,) = evaluate(ib, db2)["entities"]["household"]["stability"]
    assert (s2["changed"], s2["changed_unexplained"]) == (1, 1)
