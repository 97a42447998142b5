"""The spreadsheet round trip: the queue written for a reviewer (决定 column), the filled file read back
into decisions."""

from __future__ import annotations

import csv
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import xlsxwriter
from openpyxl import load_workbook

from matching.review.decisions import Decision, normalise_decision, record_decision
from matching.review.queue import (
    COMPARISON_HEADERS,
    CONFIRM,
    REJECT,
    ReviewError,
    _address,
    _blank,
    list_queue,
)

SOURCE_LABELS = {
    "police_population": "公安实有人口",
    "civil_affairs_assistance": "民政社会救助",
    "civil_affairs_elderly_alone": "民政独居老人",
    "hr_graduates": "人社高校毕业生",
}
ID_STATUS_LABELS = {
    "valid": "有效",
    "valid_from_15": "有效(15位转换)",
    "bad_check": "校验位错误",
    "bad_date": "出生日期无效",
    "blank": "空白",
    "malformed": "格式错误",
}
RULE_LABELS = {
    "id_one_char": "身份证号差一位",
    "id_transposed": "身份证号相邻两位颠倒",
    "id_same_unchecked": "身份证号相同(未通过校验)",
    "pinyin_birth": "姓名读音+出生日期",
    "pinyin_address": "姓名读音+地址",
    "pinyin_phone": "姓名读音+电话",
    "rare_name": "罕见姓名相同",
}
LEVEL_LABELS = {
    "id": {
        "exact": "相同",
        "one_edit": "差一位或相邻颠倒",
        "same_birth": "出生日期段相同",
        "diff": "不同",
        "null": "缺失",
    },
    "name": {"exact": "相同", "pinyin": "同音", "one_char": "差一字", "diff": "不同", "null": "缺失"},
    "birth": {"exact": "相同", "close": "相近", "diff": "不同", "null": "缺失"},
    "sex": {"same": "相同", "diff": "不同", "null": "缺失"},
    "address": {"dwelling": "同一户", "building": "同楼不同室", "road": "同路不同楼", "diff": "不同", "null": "缺失"},
    "phone": {"same": "相同", "diff": "不同", "null": "缺失"},
}

DECISION_HEADER = "决定"
NOTE_HEADER = "备注"
FP_HEADERS = {"a": "记录A指纹", "b": "记录B指纹"}
SIDE_FIELDS = [  # (queue column stem, header after 记录A/记录B)
    ("source", "来源"),
    ("source_file", "文件"),
    ("source_row", "行号"),
    ("name", "姓名"),
    ("id_number_masked", "身份证号(脱敏)"),
    ("id_number_status", "身份证号状态"),
    ("birth_date", "出生日期"),
    ("sex", "性别"),
    ("address", "居住地址"),
    ("phone_masked", "电话(脱敏)"),
]
INSTRUCTIONS = [
    "人员匹配复核说明",
    "每一行是两条可能属于同一人的记录（记录A、记录B），系统无法确定，请人工判断。",
    "在“决定”列填写：确认（同一人）或 否决（不是同一人）；无法判断的留空，下次仍会列出。",
    "“备注”列可写判断依据。请勿修改“记录A指纹”“记录B指纹”两列，导入时据此识别记录。",
    "身份证号只显示前6位和后4位，电话只显示前3位和后4位（个人信息保护）。",
    "决定按记录指纹保存，以后各期数据中相同的记录继续适用；下次构建时生效。",
    "导入：civichub review import --db 数据库文件 --file 本文件 --by 复核人",
]


def _comparison(kind: str, level, weight) -> str:
    if _blank(level):
        return ""
    label = LEVEL_LABELS[kind].get(level, str(level))
    return label if _blank(weight) or level == "null" else f"{label} ({float(weight):+.1f})"


def queue_sheet(queue: pd.DataFrame) -> pd.DataFrame:
    """The queue as a reviewer reads it: Chinese headers, labels instead of codes, an empty 决定."""
    rows = []
    for i, r in enumerate(queue.to_dict("records"), start=1):
        row = {
            "序号": i,
            "匹配概率": round(float(r["probability"]), 3),
            "候选依据": "、".join(RULE_LABELS.get(x, x) for x in str(r.get("blocking_rules") or "").split(",") if x),
        }
        for side, label in (("a", "记录A"), ("b", "记录B")):
            for stem, header in SIDE_FIELDS:
                if stem == "address":
                    value = _address(r.get(f"address_key_{side}"), r.get(f"room_{side}"))
                else:
                    value = r.get(f"{stem}_{side}")
                    if stem == "source":
                        value = SOURCE_LABELS.get(value, value)
                    elif stem == "id_number_status":
                        value = ID_STATUS_LABELS.get(value, value)
                    elif stem == "birth_date" and not _blank(value):
                        value = pd.Timestamp(value).strftime("%Y-%m-%d")
                    elif stem == "source_row" and not _blank(value):
                        value = int(value)
                row[f"{label}{header}"] = "" if _blank(value) else value
        for kind, header in COMPARISON_HEADERS.items():
            row[header] = _comparison(kind, r.get(f"{kind}_level"), r.get(f"{kind}_weight"))
        row[DECISION_HEADER] = ""
        row[NOTE_HEADER] = ""
        row[FP_HEADERS["a"]] = r["fingerprint_a"]
        row[FP_HEADERS["b"]] = r["fingerprint_b"]
        rows.append(row)
    columns = (
        ["序号", "匹配概率", "候选依据"]
        + [f"{label}{h}" for label in ("记录A", "记录B") for _s, h in SIDE_FIELDS]
        + list(COMPARISON_HEADERS.values())
        + [DECISION_HEADER, NOTE_HEADER, FP_HEADERS["a"], FP_HEADERS["b"]]
    )
    return pd.DataFrame(rows, columns=columns)


def _write_xlsx(sheet: pd.DataFrame, path: Path) -> None:

    book = xlsxwriter.Workbook(str(path))
    try:
        ws = book.add_worksheet("待复核")
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
        decide = book.add_format({"bold": True, "bg_color": "#FFF2CC", "border": 1})
        text = book.add_format({"num_format": "@"})
        columns = list(sheet.columns)
        for c, name in enumerate(columns):
            ws.write_string(0, c, name, decide if name in (DECISION_HEADER, NOTE_HEADER) else head)
        for r, values in enumerate(sheet.itertuples(index=False), start=1):
            for c, value in enumerate(values):
                if isinstance(value, numbers.Real) and not isinstance(value, bool):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, "" if _blank(value) else str(value), text)
        widths = {"序号": 5, "匹配概率": 8, "候选依据": 22, DECISION_HEADER: 10, NOTE_HEADER: 20}
        for c, name in enumerate(columns):
            width = widths.get(
                name, 34 if name in FP_HEADERS.values() else 30 if "文件" in name or "地址" in name else 14
            )
            ws.set_column(c, c, width)
        d = columns.index(DECISION_HEADER)
        if len(sheet):
            ws.data_validation(
                1,
                d,
                len(sheet),
                d,
                {
                    "validate": "list",
                    "source": ["确认", "否决"],
                    "input_title": "决定",
                    "input_message": "确认：同一人；否决：不是同一人；留空：暂不决定",
                },
            )
        ws.freeze_panes(1, 3)
        ws.autofilter(0, 0, max(len(sheet), 1), len(columns) - 1)
        notes = book.add_worksheet("说明")
        notes.set_column(0, 0, 100)
        for i, line in enumerate(INSTRUCTIONS):
            notes.write_string(i, 0, line, head if i == 0 else None)
    finally:
        book.close()


def export_queue(db: str | Path, path: str | Path, limit: int | None = None) -> int:
    """Write the pending queue to a .xlsx or .csv a reviewer fills in; returns the number of pairs."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ReviewError(f"{path}: export to a .xlsx or .csv file")
    db = Path(db)
    if not db.exists():
        raise ReviewError(f"database {db} does not exist")
    with duckdb.connect(str(db), read_only=True) as con:
        queue = list_queue(con, limit)
    sheet = queue_sheet(queue)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        _write_xlsx(sheet, path)
    else:
        # UTF-8 with BOM: Excel opens it with the Chinese intact
        sheet.to_csv(path, index=False, encoding="utf-8-sig")
    return len(sheet)


# accepted headers per field: the export's, and the queue's own column names
_HEADER_ALIASES = {
    "fingerprint_a": {FP_HEADERS["a"], "fingerprint_a"},
    "fingerprint_b": {FP_HEADERS["b"], "fingerprint_b"},
    "decision": {DECISION_HEADER, "decision", "决定（确认/否决）", "决定(确认/否决)"},
    "note": {NOTE_HEADER, "note"},
}


@dataclass
class ImportReport:
    path: Path
    applied: list[Decision] = field(default_factory=list)
    undecided: int = 0  # rows left blank: still in the queue
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row number in the file, reason)

    @property
    def confirmed(self) -> int:
        return sum(1 for d in self.applied if d.decision == CONFIRM)

    @property
    def rejected_pairs(self) -> int:
        return sum(1 for d in self.applied if d.decision == REJECT)


def _read_rows(path: Path) -> list[list[object]]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # a broken or non-Excel file
            raise ReviewError(f"{path}: cannot be read as an Excel workbook ({type(e).__name__}: {e})") from None
        try:
            sheet = book.worksheets[0]
            return [list(r) for r in sheet.iter_rows(values_only=True)]
        finally:
            book.close()
    if suffix == ".csv":
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):  # Excel on a Chinese Windows saves CSV as GBK
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ReviewError(f"{path}: neither UTF-8 nor GB18030 text")
        return [list(r) for r in csv.reader(text.splitlines())]
    raise ReviewError(f"{path}: import a .xlsx or .csv file")


def import_decisions(db: str | Path, path: str | Path, decided_by: str) -> ImportReport:
    """Read a filled review file and keep its decisions; rows that cannot be accepted are reported
    with the reason (row numbers as the spreadsheet shows them, header = row 1), the rest applied."""
    path, db = Path(path), Path(db)
    if not path.exists():
        raise ReviewError(f"{path} does not exist")
    if not (decided_by or "").strip():
        raise ReviewError("the reviewer's name (--by) is needed: decisions are kept with who made them")
    if not db.exists():
        raise ReviewError(f"database {db} does not exist")
    rows = _read_rows(path)
    if not rows:
        raise ReviewError(f"{path}: the file is empty")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    where: dict[str, int] = {}
    for key, aliases in _HEADER_ALIASES.items():
        for i, h in enumerate(header):
            if h in aliases:
                where[key] = i
                break
    missing = [k for k in ("fingerprint_a", "fingerprint_b", "decision") if k not in where]
    if missing:
        names = {"fingerprint_a": FP_HEADERS["a"], "fingerprint_b": FP_HEADERS["b"], "decision": DECISION_HEADER}
        raise ReviewError(f"{path}: missing column(s) " + ", ".join(names[k] for k in missing))

    def cell(values: list, key: str):
        i = where.get(key)
        return values[i] if i is not None and i < len(values) else None

    report = ImportReport(path=path)
    with duckdb.connect(str(db)) as con:
        for number, values in enumerate(rows[1:], start=2):
            if all(_blank(v) for v in values):
                continue
            try:
                verdict = normalise_decision(cell(values, "decision"))
                if verdict is None:
                    report.undecided += 1
                    continue
                made = record_decision(
                    con,
                    cell(values, "fingerprint_a"),
                    cell(values, "fingerprint_b"),
                    verdict,
                    decided_by,
                    note=cell(values, "note"),
                )
            except ReviewError as e:
                report.rejected.append((number, str(e)))
                continue
            report.applied.append(made)
    return report
