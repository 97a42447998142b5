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
