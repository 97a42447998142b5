"""The code is ruff-clean, lint and format (the configuration is pyproject.toml). The dbt models'
sqlfluff configuration is .sqlfluff; the models are not yet clean, so sqlfluff is not part of the
test command."""

from __future__ import annotations

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
