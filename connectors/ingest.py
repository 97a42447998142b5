"""Load delivered files into DuckDB: raw.<source>, ingest.quarantine and ingest.file_log.

The caller passes an open DuckDB connection (one writer at a time); nothing here opens or closes
the database.

    ensure_schema(con, specs)
    for delivery in pending_deliveries(con, inbox):
        ingest_delivery(con, inbox, delivery, specs)
    ingest_reference(con, inbox)

Tables (all values VARCHAR as read; normalisation happens later in dbt):

    raw.<source>      delivery, source, source_file, source_row INTEGER, <canonical fields in spec
                      order>, extra_columns (JSON object or NULL), ingested_at TIMESTAMP
    ingest.quarantine delivery, source, source_file, source_row INTEGER, reason, raw_record (JSON),
                      ingested_at TIMESTAMP
    ingest.file_log   source, source_file, delivery, file_hash (sha256), file_size BIGINT,
                      rows_read, rows_loaded, rows_quarantined BIGINT, status ('loaded'|'rejected'),
                      message, ingested_at TIMESTAMP

Rules:
* One transaction per file: its rows, its quarantined rows and its log row, or nothing.
* A file whose latest log row has the same hash is 'skipped' (nothing written). A changed file
  re-delivered for the same month replaces that month's rows of the source (the log keeps both).
* A rejected file writes only its log row (masked message naming the file and the problem); the
  other files of the delivery are still ingested.
* Reference files (delivery 'reference') replace raw.divisions / raw.standard_addresses when their
  hash changes.
* ingested_at is UTC (naive TIMESTAMP).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
import queue
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from connectors.readers import BATCH_ROWS, Batch, FileReader, FileRejected, open_source_file
from connectors.spec import SourceSpec, Specs, load_specs
from pipelines.sql import quote_identifier, quote_literal
from sharing.masking import mask_text

log = logging.getLogger(__name__)

RAW = "raw"
INGEST = "ingest"
REFERENCE_DELIVERY = "reference"
DELIVERY_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
STATUSES = ("loaded", "rejected", "skipped", "missing")
# read the next batch in a thread while DuckDB inserts the current one (CIVICHUB_INGEST_PREFETCH=0: off)
PREFETCH = os.environ.get("CIVICHUB_INGEST_PREFETCH", "1") != "0"

FILE_LOG_COLUMNS = [
    ("source", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("delivery", "VARCHAR"),
    ("file_hash", "VARCHAR"),
    ("file_size", "BIGINT"),
    ("rows_read", "BIGINT"),
    ("rows_loaded", "BIGINT"),
    ("rows_quarantined", "BIGINT"),
    ("status", "VARCHAR"),
    ("message", "VARCHAR"),
    ("ingested_at", "TIMESTAMP"),
]
QUARANTINE_COLUMNS = [
    ("delivery", "VARCHAR"),
    ("source", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("source_row", "INTEGER"),
    ("reason", "VARCHAR"),
    ("raw_record", "VARCHAR"),
    ("ingested_at", "TIMESTAMP"),
]
LINEAGE_COLUMNS = [
    ("delivery", "VARCHAR"),
    ("source", "VARCHAR"),
    ("source_file", "VARCHAR"),
    ("source_row", "INTEGER"),
]
TRAILER_COLUMNS = [("extra_columns", "VARCHAR"), ("ingested_at", "TIMESTAMP")]


@dataclass
class FileResult:
    source: str
    source_file: str  # relative to the inbox, e.g. 2026-10/police_population.csv
    status: str  # loaded | rejected | skipped | missing
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    delivery: str = ""
    file_hash: str | None = None
    file_size: int | None = None
    seconds: float = 0.0
    logged: bool = False  # a file_log row was written by this call


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------- schema


def raw_table_columns(spec: SourceSpec) -> list[tuple[str, str]]:
    return [*LINEAGE_COLUMNS, *((f, "VARCHAR") for f in spec.columns), *TRAILER_COLUMNS]


def _create(con, schema: str, table: str, columns: list[tuple[str, str]]) -> None:
    cols = ", ".join(f"{quote_identifier(c)} {t}" for c, t in columns)
    con.execute(f"CREATE TABLE IF NOT EXISTS {quote_identifier(schema)}.{quote_identifier(table)} ({cols})")
    have = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    }
    for c, t in columns:  # a spec that gained a column: add it (NULL for earlier rows)
        if c not in have:
            con.execute(
                f"ALTER TABLE {quote_identifier(schema)}.{quote_identifier(table)} ADD COLUMN {quote_identifier(c)} {t}"
            )


def ensure_schema(con: duckdb.DuckDBPyConnection, specs: Specs | None = None) -> None:
    """Create the raw and ingest schemas and every table (idempotent; adds columns a spec gained)."""
    specs = specs or load_specs()
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {INGEST}")
    _create(con, INGEST, "file_log", FILE_LOG_COLUMNS)
    _create(con, INGEST, "quarantine", QUARANTINE_COLUMNS)
    for spec in specs.all():
        _create(con, RAW, spec.name, raw_table_columns(spec))


def _ensure_for(con, spec: SourceSpec) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {INGEST}")
    _create(con, INGEST, "file_log", FILE_LOG_COLUMNS)
    _create(con, INGEST, "quarantine", QUARANTINE_COLUMNS)
    _create(con, RAW, spec.name, raw_table_columns(spec))


def _table_exists(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
        ).fetchone()[0]
    )


# -------------------------------------------------------------------------------------------- files


def list_deliveries(inbox: Path) -> list[str]:
    """Delivery folders (YYYY-MM) of the inbox, oldest first."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        return []
    return sorted(p.name for p in inbox.iterdir() if p.is_dir() and DELIVERY_RE.match(p.name))


def find_source_file(folder: Path, spec: SourceSpec) -> tuple[Path | None, list[Path]]:
    """The file of a spec in a folder (its name or an alias, case-insensitive), plus any other matches."""
    if not folder.is_dir():
        return None, []
    wanted = [n.casefold() for n in spec.filenames]
    present = {p.name.casefold(): p for p in folder.iterdir() if p.is_file()}
    found = [present[n] for n in wanted if n in present]
    if not found:
        return None, []
    return found[0], found[1:]


def unexpected_files(inbox: Path, delivery: str, specs: Specs | None = None) -> list[str]:
    """Files in a delivery folder that no spec claims (they are not ingested)."""
    specs = specs or load_specs()
    folder = Path(inbox) / delivery
    if not folder.is_dir():
        return []
    known = {n.casefold() for s in specs.sources.values() for n in s.filenames}
    return sorted(
        f"{delivery}/{p.name}"
        for p in folder.iterdir()
        if p.is_file() and p.name.casefold() not in known and not p.name.startswith(".")
    )


_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> tuple[str, int]:
    """(sha256 hex, size) of a file; cached per (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _HASH_CACHE:
        return _HASH_CACHE[key], st.st_size
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    digest = h.hexdigest()
    if len(_HASH_CACHE) > 4096:
        _HASH_CACHE.clear()
    _HASH_CACHE[key] = digest
    return digest, st.st_size


def _latest_log(con, source_file: str) -> tuple | None:
    if not _table_exists(con, INGEST, "file_log"):
        return None
    return con.execute(
        f"""SELECT file_hash, status, file_size, rows_read, rows_loaded, rows_quarantined, message, ingested_at
            FROM {INGEST}.file_log WHERE source_file = ? ORDER BY ingested_at DESC, rowid DESC LIMIT 1""",
        [source_file],
    ).fetchone()


# ------------------------------------------------------------------------------------------- ingest


def ingest_file(
    con: duckdb.DuckDBPyConnection, inbox: Path, delivery: str, spec: SourceSpec, *, batch_rows: int = BATCH_ROWS
) -> FileResult:
    """Ingest one source's file of one delivery. Never raises for a bad file: it is 'rejected'."""
    inbox = Path(inbox)
    folder = inbox / delivery
    path, others = find_source_file(folder, spec)
    if path is None:
        _ensure_for(con, spec)  # a source never delivered yet still has its (empty) raw table for dbt
        return FileResult(
            spec.name,
            f"{delivery}/{spec.file}",
            "missing",
            delivery=delivery,
            message=f"not delivered: no {spec.file} in {delivery}/",
        )
    rel = f"{delivery}/{path.name}"
    _ensure_for(con, spec)
    problem = None
    if others:
        problem = (
            f"ambiguous delivery: {', '.join(p.name for p in [path, *others])} are all files of {spec.name}; keep one"
        )
    return _ingest_path(con, path, rel, delivery, spec, batch_rows=batch_rows, replace="delivery", problem=problem)


def ingest_reference(
    con: duckdb.DuckDBPyConnection, inbox: Path, specs: Specs | None = None, *, batch_rows: int = BATCH_ROWS
) -> list[FileResult]:
    """(Re)load the reference files of <inbox>/reference/ whose content changed."""
    specs = specs or load_specs()
    folder = Path(inbox) / "reference"
    results = []
    for spec in specs.reference.values():
        path, others = find_source_file(folder, spec)
        _ensure_for(con, spec)
        if path is None:
            results.append(
                FileResult(
                    spec.name,
                    f"reference/{spec.file}",
                    "missing",
                    delivery=REFERENCE_DELIVERY,
                    message=f"not found: no {spec.file} in reference/",
                )
            )
            continue
        rel = f"reference/{path.name}"
        results.append(_ingest_path(con, path, rel, REFERENCE_DELIVERY, spec, batch_rows=batch_rows, replace="all"))
    return results


def ingest_delivery(
    con: duckdb.DuckDBPyConnection,
    inbox: Path,
    delivery: str,
    specs: Specs | None = None,
    progress: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Ingest every source of one delivery; a rejected (or failing) file never stops the others.

    An unexpected error (a bug, a full disk) is reported as 'rejected' with the error, but not logged,
    so that the file is tried again next time.
    """
    specs = specs or load_specs()
    ensure_schema(con, specs)
    results = []
    for spec in specs.sources.values():
        t0 = time.perf_counter()
        try:
            r = ingest_file(con, inbox, delivery, spec)
        except Exception as e:  # noqa: BLE001 - one file must not stop the delivery
            log.error("ingesting %s of %s failed: %s", spec.name, delivery, mask_text(traceback.format_exc()))
            r = FileResult(
                spec.name,
                f"{delivery}/{spec.file}",
                "rejected",
                delivery=delivery,
                seconds=time.perf_counter() - t0,
                message=mask_text(
                    f"{delivery}/{spec.file}: internal error, not logged (will be retried): {type(e).__name__}: {e}"
                )[:500],
            )
        results.append(r)
        if progress is not None:
            progress(r)
    return results


def pending_deliveries(con: duckdb.DuckDBPyConnection, inbox: Path, specs: Specs | None = None) -> list[str]:
    """Deliveries with at least one delivered file not yet logged (or changed since it was logged)."""
    specs = specs or load_specs()
    inbox = Path(inbox)
    have_log = _table_exists(con, INGEST, "file_log")
    latest: dict[str, tuple[str, int]] = {}
    if have_log:
        for sf, h, size in con.execute(
            f"""SELECT source_file, arg_max(file_hash, (ingested_at, rowid)), arg_max(file_size, (ingested_at, rowid))
                    FROM {INGEST}.file_log GROUP BY source_file"""
        ).fetchall():
            latest[sf] = (h, size)
    out = []
    for delivery in list_deliveries(inbox):
        for spec in specs.sources.values():
            path, _ = find_source_file(inbox / delivery, spec)
            if path is None:
                continue
            rel = f"{delivery}/{path.name}"
            if rel not in latest:
                out.append(delivery)
                break
            h, size = latest[rel]
            if size != path.stat().st_size or file_sha256(path)[0] != h:
                out.append(delivery)
                break
    return out


# ------------------------------------------------------------------------------------------ loading


def _ingest_path(
    con,
    path: Path,
    rel: str,
    delivery: str,
    spec: SourceSpec,
    *,
    batch_rows: int,
    replace: str,
    problem: str | None = None,
) -> FileResult:
    t0 = time.perf_counter()
    file_hash, size = file_sha256(path)
    last = _latest_log(con, rel)
    if last is not None and last[0] == file_hash:
        _, status, _, read, loaded, quarantined, message, at = last
        return FileResult(
            spec.name,
            rel,
            "skipped",
            read or 0,
            loaded or 0,
            quarantined or 0,
            message=f"unchanged since {at:%Y-%m-%d %H:%M:%S} UTC (was {status}): {message or ''}",
            delivery=delivery,
            file_hash=file_hash,
            file_size=size,
            seconds=time.perf_counter() - t0,
        )
    ts = _now()
    try:
        if problem:
            raise FileRejected(rel, problem)
        reader = open_source_file(path, spec, display_name=rel, batch_rows=batch_rows)
        result = _load(con, reader, rel, delivery, spec, file_hash, size, ts, replace, replaced_before=last is not None)
    except FileRejected as e:
        message = str(e)
        _write_log(con, spec.name, rel, delivery, file_hash, size, 0, 0, 0, "rejected", message, ts)
        log.info("rejected %s", message)
        return FileResult(
            spec.name,
            rel,
            "rejected",
            message=message,
            delivery=delivery,
            file_hash=file_hash,
            file_size=size,
            seconds=time.perf_counter() - t0,
            logged=True,
        )
    result.seconds = time.perf_counter() - t0
    return result


def _write_log(
    con, source, rel, delivery, file_hash, size, read, loaded, quarantined, status, message, ts, in_txn: bool = False
) -> None:
    sql = f"INSERT INTO {INGEST}.file_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    params = [source, rel, delivery, file_hash, size, read, loaded, quarantined, status, message, ts]
    if in_txn:
        con.execute(sql, params)
        return
    con.begin()
    try:
        con.execute(sql, params)
        con.commit()
    except BaseException:
        con.rollback()
        raise


_BATCH_VIEW = "__civichub_ingest_batch"
_QUAR_VIEW = "__civichub_ingest_quarantine"


def _insert_sql(spec: SourceSpec, reader: FileReader) -> str:
    present = reader.fields_present
    extras = reader.extra_headers
    if extras:
        xs = [f"__x{i}" for i in range(len(extras))]
        obj = ", ".join(f"{quote_literal(h)}, {quote_identifier(x)}" for h, x in zip(extras, xs))
        extra_sql = f"CASE WHEN {' AND '.join(f'{quote_identifier(x)} IS NULL' for x in xs)} THEN NULL ELSE json_object({obj})::VARCHAR END"
    else:
        extra_sql = "NULL"
    cols = ["delivery", "source", "source_file", "source_row", *present, "extra_columns", "ingested_at"]
    sel = [
        "$delivery",
        "$source",
        "$source_file",
        "source_row",
        *(quote_identifier(f) for f in present),
        extra_sql,
        "$ts",
    ]
    return (
        f"INSERT INTO {RAW}.{quote_identifier(spec.name)} ({', '.join(quote_identifier(c) for c in cols)}) "
        f"SELECT {', '.join(sel)} FROM {_BATCH_VIEW}"
    )


def _load(
    con,
    reader: FileReader,
    rel: str,
    delivery: str,
    spec: SourceSpec,
    file_hash: str,
    size: int,
    ts: _dt.datetime,
    replace: str,
    replaced_before: bool,
) -> FileResult:
    insert_sql = _insert_sql(spec, reader)
    params = {"delivery": delivery, "source": spec.name, "source_file": rel, "ts": ts}
    q_sql = (
        f"INSERT INTO {INGEST}.quarantine SELECT $delivery, $source, $source_file, source_row, reason, "
        f"raw_record, $ts FROM {_QUAR_VIEW}"
    )
    con.begin()
    try:
        replaced = 0
        if replace == "all":
            replaced = con.execute(f"SELECT count(*) FROM {RAW}.{quote_identifier(spec.name)}").fetchone()[0]
            con.execute(f"DELETE FROM {RAW}.{quote_identifier(spec.name)}")
            con.execute(f"DELETE FROM {INGEST}.quarantine WHERE source = ?", [spec.name])
        elif replaced_before:
            replaced = con.execute(
                f"SELECT count(*) FROM {RAW}.{quote_identifier(spec.name)} WHERE delivery = ?", [delivery]
            ).fetchone()[0]
            con.execute(f"DELETE FROM {RAW}.{quote_identifier(spec.name)} WHERE delivery = ?", [delivery])
            con.execute(f"DELETE FROM {INGEST}.quarantine WHERE source = ? AND delivery = ?", [spec.name, delivery])
        for batch in _prefetch(reader) if PREFETCH else reader:
            _insert_batch(con, batch, insert_sql, q_sql, params)
        st = reader.stats
        message = reader.describe()
        if replaced:
            message += f"; replaces the {replaced} rows of the earlier version"
        _write_log(
            con,
            spec.name,
            rel,
            delivery,
            file_hash,
            size,
            st.rows_read,
            st.rows_loaded,
            st.rows_quarantined,
            "loaded",
            message,
            ts,
            in_txn=True,
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    log.info("loaded %s: %s", rel, message)
    return FileResult(
        spec.name,
        rel,
        "loaded",
        st.rows_read,
        st.rows_loaded,
        st.rows_quarantined,
        message=message,
        delivery=delivery,
        file_hash=file_hash,
        file_size=size,
        logged=True,
    )


def _prefetch(batches: Iterable[Batch], depth: int = 2) -> Iterable[Batch]:
    """Read the next batches in a thread while DuckDB inserts the current one.

    pyarrow's parser and compute kernels and DuckDB's insert all release the GIL, so on two cores
    reading and inserting overlap. Errors of the reading thread are re-raised here, in order.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        it = iter(batches)
        try:
            for b in it:
                while not stop.is_set():
                    try:
                        q.put(("ok", b), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("ok", done))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(("err", e))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()  # a generator stopped early releases its file and transcoding thread now

    t = threading.Thread(target=produce, name="civichub-reader", daemon=True)
    t.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "err":
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while t.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                pass
            t.join(timeout=0.05)


def _insert_batch(con, batch: Batch, insert_sql: str, q_sql: str, params: dict) -> None:
    if batch.table.num_rows:
        con.register(_BATCH_VIEW, batch.table)
        try:
            con.execute(insert_sql, params)
        finally:
            con.unregister(_BATCH_VIEW)
    if batch.quarantined:
        qt = pa.table(
            {
                "source_row": pa.array([q.source_row for q in batch.quarantined], pa.int32()),
                "reason": pa.array([q.reason for q in batch.quarantined], pa.string()),
                "raw_record": pa.array([_safe_json(q.raw_record) for q in batch.quarantined], pa.string()),
            }
        )
        con.register(_QUAR_VIEW, qt)
        try:
            con.execute(q_sql, params)
        finally:
            con.unregister(_QUAR_VIEW)


def _safe_json(s: str) -> str:
    # json.dumps escapes NULs; lone surrogates cannot be stored as UTF-8: show them as \udcXX
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace").decode("utf-8")


def summarize(results: Iterable[FileResult]) -> str:
    """A short human summary of a delivery's results (for logs and the CLI)."""
    lines = []
    for r in results:
        lines.append(
            f"{r.status:<8} {r.source_file}: {r.rows_read} read, {r.rows_loaded} loaded, "
            f"{r.rows_quarantined} quarantined" + (f" — {r.message}" if r.status == "rejected" else "")
        )
    return "\n".join(lines)


__all__ = [
    "FileResult",
    "FileRejected",
    "ensure_schema",
    "ingest_file",
    "ingest_reference",
    "ingest_delivery",
    "list_deliveries",
    "pending_deliveries",
    "find_source_file",
    "unexpected_files",
    "file_sha256",
    "raw_table_columns",
    "summarize",
]
