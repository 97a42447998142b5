"""Dagster's SQLite event log, without a new connection and an fsync for every event.

Dagster's `SqliteEventLogStorage` opens a fresh SQLite connection for each event it stores and
closes it again: a commit (fsync of the write-ahead log) and, on close, a checkpoint (fsync of the
database) per event, and a run of the hub job stores about a thousand events (step starts, outputs,
materializations, check results). On a busy disk that was a third of a small delivery's run time.

This subclass keeps the files and their layout (a database per run plus the index shard, so
`dagster dev` reads the same history), but keeps one pooled connection per shard open and sets
`synchronous=NORMAL` in WAL mode, SQLite's documented setting for WAL: a commit no longer waits for
the disk, and the database cannot be corrupted; a power cut may lose the last events of a run log,
never the hub's data (that is DuckDB's). `civichub run` uses it through `instance()`.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as db
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

_OPEN_SHARDS = 8  # the index shard and the runs in progress; older run shards are closed


def _pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one open connection per shard (see the module docstring)."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, db.engine.Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str):
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                pool_size=1,
                max_overflow=2,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            db.event.listen(engine, "connect", _pragmas)
            self._engines[shard] = engine
            while len(self._engines) > _OPEN_SHARDS:
                _, old = self._engines.popitem(last=False)
                old.dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str):
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()


def instance():
    """The persistent Dagster instance of DAGSTER_HOME, with the pooled event log storage."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    home = Path(os.environ["DAGSTER_HOME"])
    ref = InstanceRef.from_dir(
        str(home),
        overrides={
            "event_log_storage": {
                "module": __name__,
                "class": PooledSqliteEventLogStorage.__name__,
                "config": {"base_dir": str(home / "history" / "runs")},
            }
        },
    )
    return DagsterInstance.from_ref(ref)
