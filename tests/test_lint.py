"""The code is ruff-clean, lint and format (the configuration is pyproject.toml), and the dbt models
are sqlfluff-clean (.sqlfluff: dbt templater, DuckDB dialect; run through pipelines/sql_lint.py,
which passes the dbt vars a run passes, so that no model is skipped for want of one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(RUFF), *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_and_format_pass():
    lint = _ruff("check", ".")
    assert lint.returncode == 0, lint.stdout[-4000:]
    fmt = _ruff("format", "--check", ".")
    assert fmt.returncode == 0, "not ruff-formatted (run .venv/bin/ruff format):\n" + fmt.stdout[-4000:]


@pytest.mark.slow
def test_sqlfluff_passes_on_the_dbt_models():
    lint = subprocess.run(
        [sys.executable, "-m", "pipelines.sql_lint"], cwd=ROOT, capture_output=True, text=True, timeout=480
    )
    assert lint.returncode == 0, (
        "sqlfluff (python -m pipelines.sql_lint; --fix applies the layout fixes):\n"
        + lint.stdout[-4000:]
        + lint.stderr[-2000:]
    )
