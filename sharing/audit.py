"""The hub's audit log: append-only JSON lines, each chained to the one before by a SHA-256 hash.

Two kinds of record share the one chain: every query of the gateway (`append`) and every event of the
street app (`append_event`: logins, views of pages with personal data, submissions, downloads).

Why a file and not a DuckDB table: the hub database has one writer at a time and is held by the
pipeline during runs, so a gateway writing there would block or fail exactly when departments query;
and whoever can write a table can also UPDATE or DELETE its rows without a trace. A JSON-lines file
opened only in append mode (O_APPEND, under an exclusive lock so concurrent queries never interleave)
can only grow through this code; every record carries `prev_hash` and `hash = sha256(prev_hash +
record)`, so editing, deleting or reordering any line breaks the chain from there on and `verify()`
names the first broken line. (Operations may add `chattr +a` on the file for OS-level enforcement.)
PIPL art. 56: processing records are kept at least three years; nothing here ever truncates the file.

Statements are stored with ID numbers and phone numbers masked (logs never show them in clear), plus
the SHA-256 of the exact statement, so a statement shown later can be proven to be the one run.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sharing.masking import mask_text

GENESIS = "0" * 64


def _digest(prev_hash: str, record: dict) -> str:
    body = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _last_line(f) -> str | None:
    f.seek(0, os.SEEK_END)
    end = f.tell()
    if end == 0:
        return None
    block, data, pos = 4096, b"", end
    while pos > 0:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
        lines = data.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or pos == 0:
            return lines[-1].decode("utf-8")
    return None


def _append_record(path: Path, body: dict) -> dict:
    """Chain `body` to the last record under an exclusive lock and append it; returns the record."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "ab") as w, open(path, "rb") as r:
        fcntl.flock(w.fileno(), fcntl.LOCK_EX)
        try:
            last = _last_line(r)
            prev = json.loads(last) if last else None
            record = {
                "seq": (prev["seq"] + 1) if prev else 1,
                "time": _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="milliseconds"),
                **body,
                "prev_hash": prev["hash"] if prev else GENESIS,
            }
            record["hash"] = _digest(record["prev_hash"], record)
            w.write((json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8"))
            w.flush()
            os.fsync(w.fileno())
        finally:
            fcntl.flock(w.fileno(), fcntl.LOCK_UN)
    return record


def append(
    path: Path,
    *,
    role: str,
    statement: str,
    outcome: str,
    rows_returned: int | None,
    reason: str | None,
    seconds: float | None = None,
    actor: str | None = None,
) -> dict:
    """Append one record (allowed, refused or failed query) and return it.

    actor: the person behind the role when known (the street app's user login)."""
    body = {
        "role": role,
        "statement": mask_text(statement),
        "statement_sha256": hashlib.sha256(statement.encode("utf-8")).hexdigest(),
        "outcome": outcome,
        "rows_returned": rows_returned,
        "reason": mask_text(reason) if reason else None,
        "seconds": None if seconds is None else round(seconds, 3),
    }
    if actor is not None:
        body["actor"] = actor
    return _append_record(path, body)


def append_event(
    path: Path,
    *,
    actor: str,
    role: str,
    action: str,
    target: str,
    outcome: str = "ok",
    reason: str | None = None,
    ip: str | None = None,
) -> dict:
    """Append one event of the street app: a login, a view of personal data, a submission, a download.

    Kept in the same chain as the queries (one log of who saw and changed what, PIPL art. 56).
    Free text is masked like statements are."""
    body = {
        "kind": "app",
        "actor": mask_text(actor),
        "role": role,
        "action": action,
        "target": mask_text(target),
        "outcome": outcome,
        "reason": mask_text(reason) if reason else None,
        "ip": ip,
    }
    return _append_record(path, body)


def describe(record: dict) -> str:
    """One line for a person reading the log (`civichub audit`)."""
    if record.get("kind") == "app":
        why = f" ({record['reason']})" if record.get("reason") else ""
        return (
            f"#{record['seq']} {record['time']} app {record.get('actor')} [{record.get('role')}] "
            f"{record.get('action')} {record.get('target')} {record.get('outcome')}{why}"
        )
    rows = "" if record.get("rows_returned") is None else f"{record['rows_returned']} rows"
    who = f" by {record['actor']}" if record.get("actor") else ""
    line = f"#{record['seq']} {record['time']} {record.get('role')}{who} {record.get('outcome')} {rows} {record.get('reason') or ''}"
    return line.rstrip() + f"\n    {str(record.get('statement') or '')[:200]}"


def read(path: Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@dataclass
class Verification:
    ok: bool
    records: int
    problem: str | None = None
    line: int | None = None


def verify(path: Path) -> Verification:
    """Recompute the chain; the first line whose hash, link or sequence does not hold is named."""
    path = Path(path)
    if not path.exists():
        return Verification(True, 0)
    prev_hash, seq = GENESIS, 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                return Verification(False, n - 1, "not a JSON record", n)
            stored = rec.pop("hash", None)
            if rec.get("prev_hash") != prev_hash:
                return Verification(False, n - 1, "chain broken: prev_hash does not match the line before", n)
            if rec.get("seq") != seq + 1:
                return Verification(False, n - 1, f"sequence jumps from {seq} to {rec.get('seq')}", n)
            if _digest(prev_hash, rec) != stored:
                return Verification(False, n - 1, "record altered: its hash does not match its content", n)
            prev_hash, seq = stored, rec["seq"]
    return Verification(True, seq)


def head(path: Path) -> tuple[int, str]:
    """(records, hash of the last record): recorded elsewhere (Dagster metadata) to anchor the chain."""
    path = Path(path)
    if not path.exists():
        return 0, GENESIS
    with open(path, "rb") as f:
        last = _last_line(f)
    if not last:
        return 0, GENESIS
    rec = json.loads(last)
    return int(rec["seq"]), str(rec["hash"])
