"""Where the hub reads and writes, resolved once per process from the environment.

`get_settings()` is the one place paths come from: the inbox, the database, the output folder
(`CIVICHUB_OUT`, else `<db dir>/out`) and Dagster's home. `civichub run --inbox DIR --db FILE` calls
`configure()` first, which sets the environment for the dbt subprocesses (dbt's profile reads the
same CIVICHUB_DB) and Dagster's `EnvVar` resources; under `dagster dev` set them in the shell.

Nothing happens at import. Folders and Dagster's `dagster.yaml` are made by `prepare_dagster_home()`,
called when the definitions are built or a run starts.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_INBOX = DEFAULT_DATA_DIR / "inbox"
DEFAULT_DB = DEFAULT_DATA_DIR / "civichub.duckdb"

# DuckDB allows one writer: queued runs go one at a time, in submission order.
DAGSTER_YAML = "concurrency:\n  runs:\n    max_concurrent_runs: 1\ntelemetry:\n  enabled: false\n"


class Settings(BaseModel):
    """The paths of one hub: where deliveries arrive, the database, what it writes beside it."""

    model_config = ConfigDict(frozen=True)

    inbox: Path
    db: Path
    out_dir: Path  # worklists, reports, QR codes, catalog, published files, Data Docs
    dagster_home: Path
    dbt_project_dir: Path = DBT_PROJECT_DIR

    @property
    def dbt_manifest_path(self) -> Path:
        return self.dbt_project_dir / "target" / "manifest.json"


def output_dir(db_path: str | Path) -> Path:
    """The folder the hub writes its files to for the database `db_path`: `CIVICHUB_OUT` when set,
    else `out/` beside the database."""
    chosen = os.environ.get("CIVICHUB_OUT")
    return Path(chosen).resolve() if chosen else Path(db_path).resolve().parent / "out"


@functools.cache
def get_settings() -> Settings:
    db = Path(os.environ.get("CIVICHUB_DB") or DEFAULT_DB).resolve()
    return Settings(
        inbox=Path(os.environ.get("CIVICHUB_INBOX") or DEFAULT_INBOX).resolve(),
        db=db,
        out_dir=output_dir(db),
        # Dagster's local storage sits beside the database unless the user chose a DAGSTER_HOME.
        dagster_home=Path(os.environ.get("DAGSTER_HOME") or db.parent / ".dagster").resolve(),
    )


def configure(inbox: str | Path | None = None, db: str | Path | None = None) -> Settings:
    """Fix the inbox and database for this process and the dbt subprocesses it starts."""
    if inbox is not None:
        os.environ["CIVICHUB_INBOX"] = str(Path(inbox).resolve())
    if db is not None:
        os.environ["CIVICHUB_DB"] = str(Path(db).resolve())
    get_settings.cache_clear()
    s = get_settings()
    os.environ["CIVICHUB_INBOX"] = str(s.inbox)
    os.environ["CIVICHUB_DB"] = str(s.db)
    os.environ["DAGSTER_HOME"] = str(s.dagster_home)
    return s


def prepare_dagster_home(s: Settings | None = None) -> Path:
    """Make Dagster's home folder with its `dagster.yaml` (one run at a time) when missing."""
    home = (s or get_settings()).dagster_home
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML, encoding="utf-8")
    return home
