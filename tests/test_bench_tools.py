"""The benchmark says so when Splink (the bench extra) is missing, instead of leaving its figure out."""

from __future__ import annotations

import sys

import bench.__main__ as bench


def test_bench_names_a_missing_splink(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "splink", None)  # `import splink` raises ImportError
    sp = bench.splink_time(tmp_path, str(tmp_path / "hub.duckdb"), tmp_path, 1000)
    assert "not installed" in sp["skipped"] and "bench" in sp["skipped"]
    m = {
        "persons": 1000,
        "months": 2,
        "run_s": 10.0,
        "runs_s": [10.0],
        "cpu_s": 9.0,
        "load": [(1.0, 1.0)],
        "peak_mib": 100.0,
        "rows_read": 10,
        "stages": {},
        "stages_cpu": {},
        "ok": True,
        "splink": sp,
    }
    bench.print_size(m)
    bench.print_summary([m])
    out = capsys.readouterr().out
    assert "Splink not run: Splink is not installed" in out
    assert "not installed" in out.splitlines()[-1]


def test_household_errors_counts_false_and_missed_pairs_by_class(tmp_path, capsys):
    """bench.household_errors on a toy answer key and hub: a family whose police address is stale
    placed with a flat's meter (false pairs), a family member left unresolved (missed pairs), and
    an id change between two months without a recorded merge."""
    import duckdb

    from bench import household_errors

    inbox = tmp_path / "inbox"
    for d in ("2026-10", "2026-11"):
        t = inbox / "_truth" / d
        t.mkdir(parents=True)
        (t / "police_population.csv").write_text(
            "source_row,person_id,household_id,shop_id\n1,P1,H1,\n2,P2,H1,\n3,P3,H2,\n", encoding="utf-8"
        )
        (t / "utility_electricity.csv").write_text(
            "source_row,person_id,household_id,shop_id\n1,,H2,\n2,,H3,\n", encoding="utf-8"
        )
        (t / "planted.csv").write_text(
            "kind,source,source_row,person_id,household_id,shop_id,field,detail\n"
            "address_stale,police_population,3,P3,H2,,居住地址,written H3\n",
            encoding="utf-8",
        )
        (t / "persons.csv").write_text(
            "person_id,name,relation\nP1,张伟,户主\nP2,李娜,配偶\nP3,王芳,户主\n", encoding="utf-8"
        )
    db = tmp_path / "hub.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema master")
        con.execute(
            "create table master.household_xref (delivery varchar, source varchar, source_file varchar,"
            " source_row integer, household_id varchar, match_rule varchar)"
        )
        con.execute("create table master.household (household_id varchar, room varchar)")
        con.execute("create table master.id_history (old_id varchar, new_id varchar, entity_type varchar)")
        con.execute("insert into master.household values ('A', '101'), ('B', '102'), ('C', '103')")
        for d, first in (("2026-10", "A"), ("2026-11", "C")):
            con.execute(
                "insert into master.household_xref values"
                f" ('{d}', 'police_population', '{d}/p.csv', 1, '{first}', 'residence:police_population'),"
                f" ('{d}', 'police_population', '{d}/p.csv', 3, 'B', 'residence:police_population'),"
                f" ('{d}', 'utility_electricity', '{d}/u.csv', 1, '{first}', 'supply_address:exact'),"
                f" ('{d}', 'utility_electricity', '{d}/u.csv', 2, 'B', 'supply_address:exact')"
            )
    household_errors.main(["--inbox", str(inbox), "--db", str(db), "--delivery", "2026-10", "--show", "1"])
    out = capsys.readouterr().out
    assert "false pairs 2 (precision 0.0000)" in out  # P1 with meter 1 (H1, H2), P3 with meter 2 (H2, H3)
    assert "stale police address" in out and "王*" in out and "王芳" not in out
    assert "unresolved" in out  # P2 has no household: its pair with P1 is missed
    assert "id changes 2026-10 -> 2026-11 without a recorded merge/split: 2" in out


def test_the_evidence_bound_tells_what_the_comparisons_can_separate():
    """bench.reports_bound: two problems whose reports differ in what is compared (their photos) are
    told apart at full recall; the same two with the photos left out fall in one cell, and the
    best precision is the share of its pairs that are one problem."""
    import pandas as pd

    from bench.reports_bound import evidence_bound

    scene_a, scene_b = 0xA5A5A5A5A5A5A5A5, 0x0F0F0F0F0F0F0F0F
    rows = []
    for k in range(3):  # two problems side by side, three reports each, minutes apart
        rows.append(("A", 0.0 + k, 0.1 * k, f"{scene_a ^ (1 << k):016x}"))
        rows.append(("B", 0.5 + k, 0.1 * k + 0.05, f"{scene_b ^ (1 << k):016x}"))
    month = pd.DataFrame(
        [
            {"x": x, "y": 0.0, "hours": h, "major": "市政设施", "minor": "道路破损", "photo": p, "problem": pr}
            for pr, x, h, p in rows
        ]
    )
    with_photos = evidence_bound(month)
    assert with_photos.true_pairs == 6
    assert with_photos.recall_at[0.99] == 1.0 and with_photos.best_f1 == 1.0
    blind = evidence_bound(month, photos=False)
    assert blind.recall_at[0.90] == 0.0  # 15 pairs in one cell, 6 of them one problem
    assert abs(blind.best_f1 - 2 * 0.4 * 1.0 / 1.4) < 1e-9
