"""Dagster resources: the hub's DuckDB file and inbox (dbt runs in-process: pipelines/dbt_runner.py)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, EnvVar

from pipelines.settings import duckdb_config


class HubResource(ConfigurableResource):
    """The inbox of deliveries and the DuckDB database.

    Connections are opened per use and closed at once: DuckDB allows one writing process, and dbt
    needs the file free while it runs. Each has the hub's DuckDB memory limit and spill folder
    (`pipelines.settings.duckdb_config`).
    """

    inbox: str
    db_path: str

    @property
    def inbox_path(self) -> Path:
        return Path(self.inbox)

    @contextmanager
    def connect(self, read_only: bool = False):
        Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(self.db_path, read_only=read_only, config=duckdb_config(self.db_path))
        try:
            yield con
        finally:
            con.close()


def build_resources() -> dict:
    return {
        "hub": HubResource(inbox=EnvVar("CIVICHUB_INBOX"), db_path=EnvVar("CIVICHUB_DB")),
    }
