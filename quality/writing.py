"""Writing a delivery's many workbooks: on every core, each file on its own, unchanged ones kept.

- Parallel: writing .xlsx is pure Python (xlsxwriter / openpyxl build the XML cell by cell), so the
  files are written by worker processes, one per core, when there is enough to write to pay for
  starting them (`PARALLEL_MIN_ROWS`); below that, in this process.
- One file at a time: a file whose writer raises is reported with its reason (`WriteReport.failed`)
  and removed; the other files are written all the same.
- Unchanged files kept: each file's fingerprint (a hash of the data and layout it is written from,
  given by the caller) is recorded in `<folder>/.fingerprints.json`; when a delivery is written
  again (a re-run, a re-materialisation from the Dagster UI) a file whose fingerprint is the same
  is left as it is. Files of the folder that are no longer produced are removed.
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import json
import multiprocessing
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

LAYOUT_VERSION = "1"  # bump when a writer's output changes for the same data
# Below this many rows, starting the workers (a Python with pandas and xlsxwriter each, ~1 s of CPU
# once per run: the pool is kept for the run's later deliveries) costs more than they save; the
# tests' small districts stay in this process. A row costs ~0.1-0.15 ms of xlsxwriter, so 10,000
# rows (a district of ~5,000 persons) are ~1.5 s of work, about what the start costs.
PARALLEL_MIN_ROWS = 10_000
FINGERPRINTS = ".fingerprints.json"
# xlsxwriter assembles a workbook's XML parts in memory instead of one temporary file each (a
# delivery writes hundreds of small workbooks: the temporary files cost more than the XML on a busy
# disk); the files are the same byte for byte. A committee's largest sheet is a few thousand rows.
XLSX_OPTIONS = {"in_memory": True, "nan_inf_to_errors": True}  # a NaN/inf cell is #NUM!, not a failed file
_pool: ProcessPoolExecutor | None = None


@dataclass
class FileTask:
    """One file to write: `fn(path, *args)` returns the number of data rows it wrote."""

    path: Path
    fn: Callable[..., int]
    args: tuple
    fingerprint: str
    rows_hint: int = 0  # how much there is to write (decides whether to use the worker processes)


@dataclass
class WriteReport:
    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # unchanged since written: not rewritten
    failed: list[tuple[Path, str]] = field(default_factory=list)
    rows: int = 0

    @property
    def files(self) -> list[Path]:
        return self.written + self.kept


class FrameDigest(bytes):
    """What `fingerprint` hashes of a frame (its columns, then each row's hash), made ahead: see
    `split_with_digests`."""


def frame_digest(frame: pd.DataFrame, row_hashes=None) -> FrameDigest:
    head = repr(list(frame.columns)).encode()
    if row_hashes is None:
        try:
            row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        except (TypeError, ValueError):
            return FrameDigest(head + pickle.dumps(frame.astype(str).values.tolist()))
    return FrameDigest(head + row_hashes.tobytes())


def split_with_digests(
    frame: pd.DataFrame, keys, sort: bool = False
) -> tuple[dict[Any, pd.DataFrame], dict[Any, FrameDigest]]:
    """The frame's rows per key (each part in the frame's order, index reset), and each part's
    `FrameDigest`: the rows are hashed once for the whole frame instead of once per part (hashing
    a small frame costs ~0.1 ms a column whatever its length; a district has hundreds of parts).
    `fingerprint(part)` and `fingerprint(digest)` are the same. Parts in the order of `groupby`
    (`sort`: by key; else as the keys first appear)."""
    try:
        row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except (TypeError, ValueError):
        row_hashes = None
    parts, digests = {}, {}
    indices = frame.groupby(keys, sort=sort).indices
    for key in sorted(indices) if sort else indices:
        positions = indices[key]
        part = frame.iloc[positions].reset_index(drop=True)
        parts[key] = part
        digests[key] = frame_digest(part, None if row_hashes is None else row_hashes[positions])
    return parts, digests


def fingerprint(*parts: Any) -> str:
    """A stable hash of what a file is made from (frames by content, the rest by value)."""
    h = hashlib.sha256(LAYOUT_VERSION.encode())
    for part in parts:
        if isinstance(part, pd.DataFrame):
            h.update(frame_digest(part))
        elif isinstance(part, FrameDigest):
            h.update(part)
        else:
            try:
                h.update(pickle.dumps(part))
            except Exception:
                h.update(repr(part).encode())
    return h.hexdigest()[:32]


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def _shared_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the parent holds DuckDB and Dagster threads that a fork would copy
        _pool = ProcessPoolExecutor(max_workers=_workers(), mp_context=multiprocessing.get_context("spawn"))
        atexit.register(_pool.shutdown, cancel_futures=True)
    return _pool


def pool_memory_mib() -> float:
    """Resident memory of the worker processes now (0 when there are none)."""
    total = 0
    for proc in list(getattr(_pool, "_processes", None) or {}):
        try:
            with open(f"/proc/{proc}/status", encoding="ascii") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError):
            pass
    return total / 1024


def release_pool(above_mib: float = 0.0) -> None:
    """End the worker processes (the next `run_many` or parallel `write_files` starts new ones);
    with `above_mib`, only when they hold more memory than that (small workers are kept: starting
    them again costs ~1 s of CPU each)."""
    global _pool
    if _pool is not None and (above_mib <= 0 or pool_memory_mib() > above_mib):
        pool, _pool = _pool, None
        atexit.unregister(pool.shutdown)
        pool.shutdown(wait=True, cancel_futures=True)


def _importable(fn: Callable) -> bool:
    """A worker imports `fn` by its module and name: only when that is `fn` itself does the worker run
    the same function (not so for a function defined inside another, or one replaced after import)."""
    import sys

    target: Any = sys.modules.get(getattr(fn, "__module__", ""), None)
    for part in getattr(fn, "__qualname__", "<none>").split("."):
        target = getattr(target, part, None)
    return target is fn


def _run(fn: Callable[..., int], path: Path, args: tuple) -> tuple[int, str | None]:
    # Python's cyclic garbage collector off while a file is written: a roster of a few thousand rows
    # is ~100,000 cell tuples, and each collection walks all of them again (10-15% of the writing
    # time at 20k and 1M persons); what a file leaves behind is collected when it is back on
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows = fn(path, *args)
        return int(rows or 0), None
    except Exception as e:  # one file's failure is reported, never raised: the others go on
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
        return 0, f"{type(e).__name__}: {e}"
    finally:
        if collecting:
            gc.enable()


def _starmap_chunk(fn: Callable, chunk: list[tuple]) -> list:
    return [fn(*args) for args in chunk]


def run_many(fn: Callable, calls: list[tuple], min_calls: int = 2_000, chunk: int = 500) -> list:
    """`fn(*args)` for every args of `calls`, in the worker processes when there are many (in
    chunks, so the cost of shipping a call stays below the call), else here; results in order."""
    if len(calls) < min_calls or _workers() < 2:
        return [fn(*args) for args in calls]
    pool = _shared_pool()
    futures = [pool.submit(_starmap_chunk, fn, calls[i : i + chunk]) for i in range(0, len(calls), chunk)]
    return [r for f in futures for r in f.result()]


def write_files(folder: Path, tasks: list[FileTask], parallel: bool | None = None) -> WriteReport:
    """Write the files of `folder` (see the module docstring); returns what was written and kept."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    book = folder / FINGERPRINTS
    try:
        old = json.loads(book.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    report = WriteReport()
    todo: list[FileTask] = []
    wanted = set()
    for t in tasks:
        rel = str(Path(t.path).relative_to(folder))
        wanted.add(rel)
        if old.get(rel) == t.fingerprint and Path(t.path).exists():
            report.kept.append(Path(t.path))
        else:
            todo.append(t)
    for p in folder.rglob("*"):  # files of committees that are gone, and leftovers of a failed run
        if p.is_file() and p.name != FINGERPRINTS and str(p.relative_to(folder)) not in wanted:
            p.unlink()
    for t in todo:
        Path(t.path).parent.mkdir(parents=True, exist_ok=True)
        Path(t.path).unlink(missing_ok=True)
    if parallel is None:
        # when the rows pay for the workers. Not merely because they already run: the 20k district's
        # ~210 small monthly reports cost 3.6-3.8 s of CPU here and 4.9 s in the two workers (the
        # frames pickled to them), for no gain in wall time at a load of 9 (bench/PROFILE.md)
        parallel = len(todo) > 1 and sum(t.rows_hint for t in todo) >= PARALLEL_MIN_ROWS and _workers() > 1
        parallel = parallel and all(_importable(t.fn) for t in todo)
    if parallel:
        pool = _shared_pool()
        # the biggest files first: the last file to finish is then a small one, and no core idles
        # while the other writes a large committee's roster
        order = sorted(range(len(todo)), key=lambda i: -todo[i].rows_hint)
        submitted = {i: pool.submit(_run, todo[i].fn, Path(todo[i].path), todo[i].args) for i in order}
        futures = [submitted[i] for i in range(len(todo))]
        results = []
        for f in futures:
            try:
                results.append(f.result())
            except Exception as e:  # a worker that died (memory, signal): that file failed
                results.append((0, f"{type(e).__name__}: {e}"))
    else:
        results = [_run(t.fn, Path(t.path), t.args) for t in todo]
    fingerprints = {k: v for k, v in old.items() if k in wanted}
    for t, (rows, error) in zip(todo, results):
        rel = str(Path(t.path).relative_to(folder))
        if error is None:
            report.written.append(Path(t.path))
            report.rows += rows
            fingerprints[rel] = t.fingerprint
        else:
            report.failed.append((Path(t.path), error))
            fingerprints.pop(rel, None)
    book.write_text(json.dumps(fingerprints, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
    return report
