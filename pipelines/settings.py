"""Where the hub reads and writes, resolved once per process from the environment.

`get_settings()` is the one place paths come from: the inbox, the database, the output folder
(`CIVICHUB_OUT`, else `<db dir>/out`) and Dagster's home. `civichub run --inbox DIR --db FILE` calls
`configure()` first, which sets the environment for the dbt subprocesses (dbt's profile reads the
same CIVICHUB_DB) and Dagster's `EnvVar` resources; under `dagster dev` set them in the shell.

DuckDB's memory limit and spill folder are one setting too (`DuckDBSettings`, `duckdb_config()`):
every connection the pipeline opens on the hub's database (the Dagster resource, `civichub run`, dbt
through its plugin, the evaluation) passes the same config, so DuckDB spills to disk instead of
growing without bound (its own default is 80% of RAM, per process). `CIVICHUB_DUCKDB_MEMORY_LIMIT`
(`4GB`, `1.5GiB`, `30%` of physical memory) and `CIVICHUB_DUCKDB_TEMP_DIR` (a folder on a real disk,
not a tmpfs: each database spills to `<dir>/<database file>.tmp`) override the defaults: 2 GiB (25% of
physical memory where that is less), spilling to `<database>.tmp` beside the database.

Nothing happens at import. Folders and Dagster's `dagster.yaml` are made by `prepare_dagster_home()`,
called when the definitions are built or a run starts.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_INBOX = DEFAULT_DATA_DIR / "inbox"
DEFAULT_DB = DEFAULT_DATA_DIR / "civichub.duckdb"

MEMORY_LIMIT_ENV = "CIVICHUB_DUCKDB_MEMORY_LIMIT"
TEMP_DIR_ENV = "CIVICHUB_DUCKDB_TEMP_DIR"
# DuckDB's buffer pool by default: 2 GiB, or a quarter of physical memory on a smaller machine. The
# hub's peak is this plus the Python side (the run's process ~1.7 GB at a million persons, the
# workbook workers, the citizen-report intake beside the deliveries: 0.6-1.9 GB at a million), and
# the target is a whole run at 1M persons under 6 GB. With 3 GiB the run's process reached 4.9 GB
# in int_shop_records (1M, 2026-11); that model alone at 3 / 2 / 1.5 GiB: 6.4 / 8.2 / 9.2 s of CPU,
# 3,043 / 2,303 / 1,799 MiB. Below 1M DuckDB stays under 2 GiB anyway (100k: the process 1.6 GB).
DEFAULT_MEMORY_LIMIT = "2GiB"
DEFAULT_MEMORY_SHARE = "25%"
MIN_MEMORY_LIMIT_MIB = 128  # below this DuckDB cannot hold a row group of the wider tables
_UNITS_MIB = {"KB": 1e3 / 2**20, "MB": 1e6 / 2**20, "GB": 1e9 / 2**20, "TB": 1e12 / 2**20}
_UNITS_MIB |= {"KIB": 1 / 1024, "MIB": 1.0, "GIB": 1024.0, "TIB": 1024.0**2}
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|[KMGT]I?B)\s*$", re.IGNORECASE)


class ConfigError(ValueError):
    """A setting from the environment that the hub cannot use; the message names the variable."""


def physical_memory_mib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20


def memory_limit_mib(text: str) -> int:
    """`4GB`, `1.5GiB`, `512MB`, `30%` (of physical memory) in MiB; ValueError when it is none of these."""
    m = _AMOUNT.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not a memory amount (e.g. 4GB, 1.5GiB, 512MB or 30%)")
    amount, unit = float(m.group(1)), m.group(2).upper()
    if unit == "%":
        if not 0 < amount <= 100:
            raise ValueError(f"{text!r}: a share of physical memory is between 0 and 100%")
        return int(physical_memory_mib() * amount / 100)
    return int(amount * _UNITS_MIB[unit])


def default_memory_limit() -> str:
    """`DEFAULT_MEMORY_LIMIT`, or `DEFAULT_MEMORY_SHARE` of physical memory where that is less."""
    return f"{min(memory_limit_mib(DEFAULT_MEMORY_LIMIT), memory_limit_mib(DEFAULT_MEMORY_SHARE))}MiB"


class DuckDBSettings(BaseModel):
    """How much memory DuckDB may use on the hub's database, and where it spills beyond that."""

    model_config = ConfigDict(frozen=True)

    memory_limit_mib: int
    temp_directory: Path

    @field_validator("memory_limit_mib", mode="before")
    @classmethod
    def _amount(cls, v):
        mib = memory_limit_mib(v) if isinstance(v, str) else int(v)
        if mib < MIN_MEMORY_LIMIT_MIB:
            raise ValueError(f"{mib} MiB is below the {MIN_MEMORY_LIMIT_MIB} MiB DuckDB needs to run the hub")
        return mib

    def connect_config(self) -> dict[str, str]:
        """The `config` of `duckdb.connect` (the same for every connection: DuckDB refuses a second
        connection to an open file with another configuration)."""
        return {"memory_limit": f"{self.memory_limit_mib}MiB", "temp_directory": str(self.temp_directory)}


def duckdb_settings(db_path: str | Path | None = None) -> DuckDBSettings:
    """The DuckDB settings for the database `db_path` (default: the configured one), from the
    environment; a clear ConfigError naming the variable when a value is unusable."""
    db = Path(db_path or os.environ.get("CIVICHUB_DB") or DEFAULT_DB).resolve()
    limit = os.environ.get(MEMORY_LIMIT_ENV) or default_memory_limit()
    temp = os.environ.get(TEMP_DIR_ENV)
    try:
        return DuckDBSettings(
            memory_limit_mib=limit,
            temp_directory=(Path(temp).resolve() if temp else db.parent) / f"{db.name}.tmp",
        )
    except ValidationError as e:
        reason = "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors())
        raise ConfigError(f"{MEMORY_LIMIT_ENV}={limit!r}: {reason}") from None


# DuckDB names a database's catalog after its file (hub.duckdb → hub) and the models address tables
# as <catalog>.<schema>.<table>: a file named after one of DuckDB's own catalogs makes every such
# name resolve to DuckDB's catalog instead ("schema main.raw does not exist").
RESERVED_CATALOG_NAMES = frozenset({"main", "system", "temp"})


def check_database_name(db_path: str | Path) -> None:
    """A ConfigError for a database file DuckDB cannot serve the models from, before anything runs."""
    stem = Path(db_path).stem
    if stem.lower() in RESERVED_CATALOG_NAMES:
        raise ConfigError(
            f"database file {db_path}: DuckDB would name its catalog {stem!r}, one of its own catalogs "
            f"({', '.join(sorted(RESERVED_CATALOG_NAMES))}); choose another file name, e.g. hub.duckdb"
        )


def duckdb_config(db_path: str | Path | None = None) -> dict[str, str]:
    """`duckdb.connect(db, config=duckdb_config(db))`: the memory limit and spill folder of `db`."""
    return duckdb_settings(db_path).connect_config()


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
