"""The review queue (the dbt model int_person_review_queue) and its tables, read and printed for a
terminal."""

from __future__ import annotations

import duckdb
import pandas as pd

QUEUE_TABLE = "matching.int_person_review_queue"
RECORDS_TABLE = "matching.int_person_records"
DECISIONS_TABLE = "review.person_decisions"
LOG_TABLE = "review.person_decision_log"

DDL = f"""
create schema if not exists review;
create table if not exists {DECISIONS_TABLE} (
    fingerprint_a varchar, fingerprint_b varchar, decision varchar, decided_by varchar,
    decided_at timestamp, note varchar
);
create table if not exists {LOG_TABLE} (
    fingerprint_a varchar, fingerprint_b varchar, decision varchar, decided_by varchar,
    decided_at timestamp, note varchar
);
"""

CONFIRM, REJECT = "confirm", "reject"
# What a reviewer may write in the 决定 column (or pass on the command line).
DECISION_SPELLINGS = {
    "confirm": CONFIRM,
    "确认": CONFIRM,
    "同一人": CONFIRM,
    "是": CONFIRM,
    "reject": REJECT,
    "否决": REJECT,
    "不是同一人": REJECT,
    "非同一人": REJECT,
    "否": REJECT,
}


COMPARISON_HEADERS = {
    "id": "身份证号比对",
    "name": "姓名比对",
    "birth": "出生日期比对",
    "sex": "性别比对",
    "address": "地址比对",
    "phone": "电话比对",
}


class ReviewError(ValueError):
    """A decision or a review file that cannot be accepted, with the reason in the message."""


def _table_exists(con, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def list_queue(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> pd.DataFrame:
    """The pairs waiting for a decision, most probable first (masked evidence only).

    A pair decided since the queue was built (the decision is applied on the next build) is left out.
    """
    if not _table_exists(con, QUEUE_TABLE):
        raise ReviewError(f"no review queue in this database ({QUEUE_TABLE} is missing): run `civichub run` first")
    undecided = ""
    if _table_exists(con, DECISIONS_TABLE):
        undecided = f"""
        where not exists (
            select 1 from {DECISIONS_TABLE} d
            where (d.fingerprint_a = q.fingerprint_a and d.fingerprint_b = q.fingerprint_b)
               or (d.fingerprint_a = q.fingerprint_b and d.fingerprint_b = q.fingerprint_a))"""
    sql = f"select q.* from {QUEUE_TABLE} q {undecided} order by q.probability desc, q.record_a, q.record_b"
    if limit is not None:
        if int(limit) < 0:
            raise ReviewError(f"limit must be zero or more, not {limit}")
        sql += f" limit {int(limit)}"
    return con.execute(sql).df()


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT or (isinstance(v, str) and not v.strip())


def _address(key, room) -> str:
    if _blank(key):
        return ""
    return f"{key}{room}室" if not _blank(room) else str(key)


def _text(v) -> str:
    return "-" if _blank(v) else str(v)


def format_queue(queue: pd.DataFrame) -> str:
    """The queue for a terminal: one block per pair, masked evidence, both fingerprints in full."""
    if queue.empty:
        return "The review queue is empty: no pair waits for a decision."
    lines = []
    for i, r in enumerate(queue.to_dict("records"), start=1):
        rules = str(r.get("blocking_rules") or "")
        lines.append(f"#{i}  probability {float(r['probability']):.3f}   blocked by {rules}")
        for side in ("a", "b"):
            birth = r.get(f"birth_date_{side}")
            birth = pd.Timestamp(birth).strftime("%Y-%m-%d") if not _blank(birth) else "-"
            fields = [
                _text(r.get(f"name_{side}")),
                _text(r.get(f"id_number_masked_{side}")),
                birth,
                _text(r.get(f"sex_{side}")),
                _address(r.get(f"address_key_{side}"), r.get(f"room_{side}")) or "-",
                _text(r.get(f"phone_masked_{side}")),
            ]
            lines.append(
                f"    {side.upper()} {r[f'fingerprint_{side}']}  {r[f'source_file_{side}']}:{r[f'source_row_{side}']}"
            )
            lines.append("      " + "  ".join(fields))
        levels = []
        for kind in COMPARISON_HEADERS:
            level, weight = r.get(f"{kind}_level"), r.get(f"{kind}_weight")
            levels.append(f"{kind} {level}" + ("" if _blank(weight) or level == "null" else f" {float(weight):+.1f}"))
        lines.append("    " + ", ".join(levels))
    return "\n".join(lines)
