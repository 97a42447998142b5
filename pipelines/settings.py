"""Where the hub reads and writes: one place, read from the environment.

`civichub run --inbox DIR --db FILE` sets these before loading the Dagster definitions; under
`dagster dev` set them in the shell or a `.env` file. dbt's profile reads the same CIVICHUB_DB.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_INBOX = DEFAULT_DATA_DIR / "inbox"
DEFAULT_DB = DEFAULT_DATA_DIR / "civichub.duckdb"


def configure(inbox: str | Path | None = None, db: str | Path | None = None) -> tuple[Path, Path]:
    """Fix the inbox and database paths for this process (and the dbt subprocesses it starts)."""
    if inbox is not None:
        os.environ["CIVICHUB_INBOX"] = str(Path(inbox).resolve())
    if db is not None:
        os.environ["CIVICHUB_DB"] = str(Path(db).resolve())
    os.environ.setdefault("CIVICHUB_INBOX", str(DEFAULT_INBOX))
    os.environ.setdefault("CIVICHUB_DB", str(DEFAULT_DB))
    db_path = Path(os.environ["CIVICHUB_DB"])
    # Dagster's local storage sits beside the database unless the user chose a DAGSTER_HOME.
    os.environ.setdefault("DAGSTER_HOME", str(db_path.parent / ".dagster"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    _write_dagster_yaml(Path(os.environ["DAGSTER_HOME"]))
    return Path(os.environ["CIVICHUB_INBOX"]), db_path


def _write_dagster_yaml(home: Path) -> None:
    # DuckDB allows one writer: queued runs go one at a time, in submission order.
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(
            "concurrency:\n  runs:\n    max_concurrent_runs: 1\ntelemetry:\n  enabled: false\n",
            encoding="utf-8",
        )
