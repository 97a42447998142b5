"""Read-only access to the per-role published DuckDB files, picking up a new publication atomically.

The hub publishes each role into a version folder and swaps `<published>/<role>` (a symlink) in one
rename (sharing/publish.py). Here, every request resolves that link: while it points at the version
already open, the open database is reused (a cursor per request: DuckDB connections are not shared
between threads); when it points at a new version, that version is opened and used by new requests,
and the old one is closed a little later, once requests that started on it have finished.
A request therefore reads one whole publication, never a mix of two, and never waits for the pipeline.

A publication never changes once written, so what a page reads from it is kept (`query`, an LRU cache
keyed by the publication's version): fifty workers opening their lists again and again cost DuckDB
one query each per publication, and a new publication is a new key.

The app never opens the hub's writer database: only these files, read-only, external access off.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sharing.gateway import READ_CONFIG  # one configuration per file and process (the query page shares it)

GRACE_SECONDS = 120.0  # an old publication stays open this long after a new one is picked up
CACHE_ENTRIES = 1024  # results kept per process (a committee's list, a roster page, a household …)


class NotPublished(LookupError):
    """Nothing is published for the role (yet): the hub has not run, or the role is not configured."""


@dataclass
class _Open:
    version: Path
    con: duckdb.DuckDBPyConnection
    manifest: dict
    tables: frozenset[str]
    retired_at: float | None = None


class PublishedStore:
    def __init__(self, root: Path, cache_entries: int = CACHE_ENTRIES):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._current: dict[str, _Open] = {}
        self._retired: list[_Open] = []
        self._cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cache_entries = cache_entries

    def _resolve(self, role: str) -> Path:
        link = self.root / role
        if not role or "/" in role or role.startswith(".") or not link.exists():
            raise NotPublished(role)
        return link.resolve()

    def _open(self, role: str) -> _Open:
        version = self._resolve(role)
        with self._lock:
            cur = self._current.get(role)
            if cur is not None and cur.version == version:
                return cur
            db_file = version / f"{role}.duckdb"
            con = duckdb.connect(str(db_file), read_only=True, config=READ_CONFIG)
            manifest_path = version / "manifest.json"
            manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
            tables = frozenset(
                f"{s}.{t}"
                for s, t in con.execute(
                    "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
                ).fetchall()
            )
            opened = _Open(version, con, manifest, tables)
            if cur is not None:
                cur.retired_at = time.monotonic()
                self._retired.append(cur)
            self._current[role] = opened
            self._close_retired()
            return opened

    def _close_retired(self) -> None:
        now = time.monotonic()
        keep = []
        for o in self._retired:
            if now - (o.retired_at or now) > GRACE_SECONDS:
                o.con.close()
            else:
                keep.append(o)
        self._retired = keep

    @contextmanager
    def cursor(self, role: str):
        """A cursor on the role's current publication, for the duration of one request."""
        opened = self._open(role)
        with self._lock:  # creating a cursor touches the shared connection: one thread at a time
            cur = opened.con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def query(self, role: str, key: Hashable, read: Callable):
        """`read(cursor, tables)` on the role's current publication, remembered for that publication.

        The caller gets its own copy of a list of dicts or a dict (pages add to what they read)."""
        opened = self._open(role)
        ck = (role, opened.version, key)
        with self._cache_lock:
            if ck in self._cache:
                self._cache.move_to_end(ck)
                return _copy(self._cache[ck])
        with self.cursor(role) as cur:
            value = read(cur, opened.tables)
        with self._cache_lock:
            self._cache[ck] = value
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)
        return _copy(value)

    def has(self, role: str, dataset: str) -> bool:
        try:
            return dataset in self._open(role).tables
        except NotPublished:
            return False

    def tables(self, role: str) -> frozenset[str]:
        return self._open(role).tables

    def manifest(self, role: str) -> dict:
        return self._open(role).manifest

    def version(self, role: str) -> str:
        return self._open(role).version.name

    def parquet_path(self, role: str, dataset: str) -> Path | None:
        """The Parquet file of a dataset in the role's current publication (None if not published)."""
        opened = self._open(role)
        if dataset not in opened.tables:
            return None
        path = opened.version / f"{dataset}.parquet"
        return path if path.exists() else None

    def roles(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if not p.name.startswith(".") and p.exists())

    def close(self) -> None:
        with self._lock:
            for o in [*self._current.values(), *self._retired]:
                try:
                    o.con.close()
                except duckdb.Error:
                    pass
            self._current.clear()
            self._retired.clear()


def _copy(value):
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value
