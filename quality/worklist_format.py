"""The layout of a worklist (核实清单) workbook, shared by the writer (worklists.py) and the reader of
returned workbooks (corrections.py): sheet and column names, the hidden metadata sheet and the
per-row checksum that makes an edit of a locked cell detectable.

The checksum is an HMAC (SHA-256) over the finding id and the locked cells of its row, keyed by a
secret kept in the database (quality.worklist_key): the sheet protection stops casual edits, the
checksum catches the rest (protection is easily removed, a key in the database is not at hand).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import secrets

from normalize.vocabularies import vocabulary

FORMAT_VERSION = "1"

SHEET_WORKLIST = "核实清单"
SHEET_HELP = "填写说明"
SHEET_SUMMARY = "街道汇总"
SHEET_META = "_civichub"

# Evidence: written by the hub, locked.
LOCKED_COLUMNS = [
    "序号",
    "问题类型",
    "严重程度",
    "对象类型",
    "对象编号",
    "姓名/名称",
    "地址",
    "核实项目",
    "现有值",
    "建议值",
    "问题说明",
    "数据来源",
    "来源行",
    "首次发现",
]
# Filled in by the committee, unlocked.
DECISION_COLUMN = "核实结果"
VALUE_COLUMN = "正确值"
BY_COLUMN = "核实人"
DATE_COLUMN = "核实日期"
NOTE_COLUMN = "备注"
INPUT_COLUMNS = [DECISION_COLUMN, VALUE_COLUMN, BY_COLUMN, DATE_COLUMN, NOTE_COLUMN]
# Hidden (and locked): which finding the row is, and the checksum of the locked cells.
ID_COLUMN = "问题编号"
CHECKSUM_COLUMN = "校验码"
HIDDEN_COLUMNS = [ID_COLUMN, CHECKSUM_COLUMN]
ALL_COLUMNS = LOCKED_COLUMNS + INPUT_COLUMNS + HIDDEN_COLUMNS

# 核实结果: the vocabulary finding_decision (dbt_project/seeds/vocabularies.csv), in its order
DECISIONS = vocabulary("finding_decision")
CONFIRM, CORRECT, NOT_TRUE = DECISIONS

HEADER_ROW = 3  # 1-based: title, one-line hint, header; data from row 4
TITLE_ROW = 1
HINT_ROW = 2

META_KEYS = [
    "format_version",
    "delivery",
    "street_code",
    "street_name",
    "committee_code",
    "committee_name",
    "generated_at",
    "signature",
]


def cell_text(value: object) -> str:
    """A cell's value as the text the checksum covers (None and '' are the same)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def row_checksum(key: str, finding_id: str, locked_values: list[object]) -> str:
    if type(finding_id) is str and all(type(v) is str for v in locked_values):  # cell_text(s) is s
        msg = "\x1f".join([finding_id, *locked_values])
    else:
        msg = "\x1f".join([cell_text(finding_id), *[cell_text(v) for v in locked_values]])
    return hmac.new(key.encode(), msg.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def meta_signature(key: str, meta: dict) -> str:
    msg = "\x1f".join(cell_text(meta.get(k)) for k in META_KEYS if k != "signature")
    return hmac.new(key.encode(), msg.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


KEY_DDL = """
create schema if not exists quality;
create table if not exists quality.worklist_key (key varchar, created_at timestamp);
"""


def worklist_key(con) -> str:
    """The database's worklist signing key, created on first use."""
    con.execute(KEY_DDL)
    rows = con.execute("select key from quality.worklist_key order by created_at limit 1").fetchall()
    if rows:
        return rows[0][0]
    key = secrets.token_hex(32)
    con.execute("insert into quality.worklist_key values (?, ?)", [key, _dt.datetime.now()])
    return key
