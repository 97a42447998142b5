"""dbt-duckdb plugin: registers civichub's normalisation functions on every dbt connection.

DuckDB's own string distances count UTF-8 bytes and it cannot parse Chinese addresses or check
ID numbers, so staging models call these Python functions (normalize/) as SQL UDFs.
"""

from dbt.adapters.duckdb.plugins import BasePlugin

from normalize.duckdb_udfs import register_udfs


class Plugin(BasePlugin):
    def configure_connection(self, conn):
        register_udfs(conn)
