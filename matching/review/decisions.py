"""A reviewer's decision on a pair, kept by the records' fingerprints so it holds in later deliveries."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from matching.review.queue import (
    CONFIRM,
    DDL,
    DECISION_SPELLINGS,
    DECISIONS_TABLE,
    LOG_TABLE,
    QUEUE_TABLE,
    RECORDS_TABLE,
    ReviewError,
    _blank,
    _table_exists,
)


@dataclass(frozen=True)
class Decision:
    fingerprint_a: str
    fingerprint_b: str
    decision: str
    decided_by: str
    decided_at: _dt.datetime
    note: str | None


def normalise_decision(value: object) -> str | None:
    """'confirm' or 'reject' from any accepted spelling; None for a blank (no decision yet)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    found = DECISION_SPELLINGS.get(text.lower())
    if found is None:
        raise ReviewError(f"决定 must be 确认 or 否决 (confirm or reject), not {text!r}")
    return found


def _clean_fingerprint(value: object, which: str) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip().lower()
    if not text:
        raise ReviewError(f"fingerprint {which} is missing")
    return text


def _known_fingerprints(con, fingerprints: list[str]) -> set[str]:
    sources = []
    if _table_exists(con, QUEUE_TABLE):
        sources += [f"select fingerprint_a as fp from {QUEUE_TABLE}", f"select fingerprint_b from {QUEUE_TABLE}"]
    if _table_exists(con, RECORDS_TABLE):
        sources.append(f"select fingerprint from {RECORDS_TABLE}")
    if _table_exists(con, "master.person_xref"):  # records of earlier deliveries
        sources.append("select fingerprint from master.person_xref")
    if not sources:
        return set()
    union = " union all ".join(sources)
    rows = con.execute(
        f"select distinct fp from ({union}) t(fp) where fp in (select unnest(?::varchar[]))", [fingerprints]
    ).fetchall()
    return {r[0] for r in rows}


def _valid_ids(con, fingerprint: str) -> set[str]:
    """Valid ID numbers the record(s) with this fingerprint carry (never shown, only compared)."""
    if not _table_exists(con, RECORDS_TABLE):
        return set()
    rows = con.execute(
        f"select distinct id_number from {RECORDS_TABLE} where fingerprint = ? and has_valid_id", [fingerprint]
    ).fetchall()
    return {r[0] for r in rows}


def record_decision(
    con: duckdb.DuckDBPyConnection,
    fingerprint_a: str,
    fingerprint_b: str,
    decision: str,
    decided_by: str,
    note: str | None = None,
) -> Decision:
    """Keep a reviewer's decision on a pair of records; the latest decision on a pair wins.

    The fingerprints must be records this database knows (the review queue, this delivery's person
    records or an earlier delivery's cross-references). A pair whose records carry two different
    valid ID numbers cannot be confirmed: the clustering never puts two valid ID numbers in one person.
    """
    verdict = normalise_decision(decision)
    if verdict is None:
        raise ReviewError("a decision is needed: confirm (确认) or reject (否决)")
    who = "" if _blank(decided_by) else str(decided_by).strip()
    if not who:
        raise ReviewError("the reviewer's name (decided_by) is needed: decisions are kept with who made them")
    fa, fb = _clean_fingerprint(fingerprint_a, "A"), _clean_fingerprint(fingerprint_b, "B")
    if fa == fb:
        raise ReviewError(f"fingerprints A and B are the same ({fa}): a pair needs two different records")
    known = _known_fingerprints(con, [fa, fb])
    missing = [fp for fp in (fa, fb) if fp not in known]
    if missing:
        raise ReviewError(
            "unknown fingerprint " + ", ".join(missing) + ": not in the review queue nor among the person records"
        )
    if verdict == CONFIRM:
        ids_a, ids_b = _valid_ids(con, fa), _valid_ids(con, fb)
        if ids_a and ids_b and ids_a.isdisjoint(ids_b):
            raise ReviewError(
                "cannot confirm: the two records carry different valid ID numbers (两条记录的身份证号均有效且不同), "
                "so they are two persons"
            )
    note = None if _blank(note) else str(note).strip()
    a, b = sorted((fa, fb))
    made = Decision(a, b, verdict, who, _dt.datetime.now().replace(microsecond=0), note)
    con.execute(DDL)
    con.execute("begin transaction")
    try:
        con.execute(
            f"""delete from {DECISIONS_TABLE}
                where (fingerprint_a = $a and fingerprint_b = $b) or (fingerprint_a = $b and fingerprint_b = $a)""",
            {"a": a, "b": b},
        )
        row = [made.fingerprint_a, made.fingerprint_b, made.decision, made.decided_by, made.decided_at, made.note]
        con.execute(f"insert into {DECISIONS_TABLE} values (?, ?, ?, ?, ?, ?)", row)
        con.execute(f"insert into {LOG_TABLE} values (?, ?, ?, ?, ?, ?)", row)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return made


def decisions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The decision in force for every pair decided so far."""
    if not _table_exists(con, DECISIONS_TABLE):
        return pd.DataFrame(columns=["fingerprint_a", "fingerprint_b", "decision", "decided_by", "decided_at", "note"])
    return con.execute(f"select * from {DECISIONS_TABLE} order by decided_at, fingerprint_a, fingerprint_b").df()
