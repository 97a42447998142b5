"""The code is ruff-clean (lint and format) and the dbt models sqlfluff-clean (dbt templater, DuckDB
dialect; the configuration is pyproject.toml and .sqlfluff). The dbt models are rendered with the
hub's own vars (matching/matching.yml), as a run renders them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUFF), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_and_format_pass():
    lint = _ruff("check", ".")
    assert lint.returncode == 0, lint.stdout[-4000:]
    fmt = _ruff("format", "--check", ".")
    assert fmt.returncode == 0, "not ruff-formatted (run .venv/bin/ruff format):\n" + fmt.stdout[-4000:]


def test_sqlfluff_passes_on_the_dbt_models(tmp_path, monkeypatch):
    from sqlfluff.core import FluffConfig, Linter

    from matching.config import dbt_vars

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("CIVICHUB_DB", str(tmp_path / "lint.duckdb"))  # dbt compiles; nothing is built
    config = FluffConfig.from_root(overrides={"templater": "dbt"})
    # the dbt vars as a mapping (an INI-style context value cannot hold the nested ones)
    config._configs["templater"]["dbt"]["context"] = dbt_vars("2026-01")
    result = Linter(config=config).lint_paths(("dbt_project/models",), processes=1)
    problems = [
        f"{r['filepath']}:{v['start_line_no']}: {v['code']} {v['description']}"
        for r in result.as_records()
        for v in r["violations"]
    ]
    linted = {r["filepath"] for r in result.as_records()}
    assert len(linted) >= len(list((ROOT / "dbt_project" / "models").rglob("*.sql"))), "a model was not linted"
    assert not problems, "\n".join(problems[:50]) + (f"\n… and {len(problems) - 50} more" if len(problems) > 50 else "")
    assert os.environ["CIVICHUB_DB"].endswith("lint.duckdb")
