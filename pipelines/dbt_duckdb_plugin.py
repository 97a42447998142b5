"""dbt-duckdb plugin: the hub's DuckDB settings and normalisation functions on every dbt connection.

DuckDB's own string distances count UTF-8 bytes and it cannot parse Chinese addresses or check
ID numbers, so staging models call these Python functions (normalize/) as SQL UDFs.

The memory limit and spill folder come from `pipelines.settings.duckdb_config` (validated, one
setting for the whole hub) rather than the profile's `settings:`: dbt's connection then has the
same configuration as the Python steps' connections to the same file, which DuckDB requires.
"""

from dbt.adapters.duckdb.plugins import BasePlugin

from normalize.duckdb_udfs import register_udfs
from pipelines.settings import duckdb_config


class Plugin(BasePlugin):
    def update_connection_config(self, creds, config):
        config.update(duckdb_config(creds.path))

    def configure_connection(self, conn):
        register_udfs(conn)
