"""Reading a returned worklist (核实清单): its metadata and the rows a committee filled in."""

from __future__ import annotations

import datetime as _dt
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from normalize.dates import parse_date
from quality import worklist_format as wf


def parse_decided_on(raw: object) -> tuple[_dt.datetime | None, str | None]:

    if raw is None or wf.cell_text(raw).strip() == "":
        return None, None
    if isinstance(raw, _dt.datetime):
        return raw, None
    if isinstance(raw, _dt.date):
        return _dt.datetime.combine(raw, _dt.time()), None
    d = parse_date(wf.cell_text(raw).strip())
    if d is None:
        return None, "核实日期无法识别（例如 2026-11-05）"
    return _dt.datetime.combine(d, _dt.time()), None


@dataclass
class ReturnedRow:
    excel_row: int
    finding_id: str
    checksum: str
    locked: list[object]
    decision: str
    value: object
    decided_by: str
    decided_on: object
    note: str

    @property
    def blank(self) -> bool:
        return not (self.decision or wf.cell_text(self.value).strip() or self.decided_by)

    @property
    def source_row(self) -> int:
        return self.excel_row


@dataclass
class ReturnedWorkbook:
    meta: dict
    rows: list[ReturnedRow]


class NotAWorklist(ValueError):
    pass


def read_returned(path: Path) -> ReturnedWorkbook:
    """The metadata and filled rows of a returned worklist; NotAWorklist with the reason otherwise."""

    try:
        wb = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise NotAWorklist(f"无法打开（不是有效的 xlsx 文件）: {type(e).__name__}") from None
    if wf.SHEET_META not in wb.sheetnames or wf.SHEET_WORKLIST not in wb.sheetnames:
        raise NotAWorklist("不是数据中心下发的核实清单（缺少“核实清单”页或清单信息）")
    meta = {}
    for row in wb[wf.SHEET_META].iter_rows(min_row=1, max_col=2, values_only=True):
        if row[0]:
            meta[str(row[0])] = wf.cell_text(row[1])
    ws = wb[wf.SHEET_WORKLIST]
    header = [
        wf.cell_text(c).strip()
        for c in next(ws.iter_rows(min_row=wf.HEADER_ROW, max_row=wf.HEADER_ROW, values_only=True))
    ]
    missing = [c for c in wf.ALL_COLUMNS if c not in header]
    if missing:
        raise NotAWorklist(f"核实清单的列被删除或改名：{'、'.join(missing)}")
    col = {name: header.index(name) for name in wf.ALL_COLUMNS}
    rows = []
    for r, values in enumerate(ws.iter_rows(min_row=wf.HEADER_ROW + 1, values_only=True), start=wf.HEADER_ROW + 1):
        values = list(values) + [None] * (len(header) - len(values))
        if all(v is None or wf.cell_text(v).strip() == "" for v in values):
            continue
        rows.append(
            ReturnedRow(
                excel_row=r,
                finding_id=wf.cell_text(values[col[wf.ID_COLUMN]]).strip(),
                checksum=wf.cell_text(values[col[wf.CHECKSUM_COLUMN]]).strip(),
                locked=[values[col[c]] for c in wf.LOCKED_COLUMNS],
                decision=wf.cell_text(values[col[wf.DECISION_COLUMN]]).strip(),
                value=values[col[wf.VALUE_COLUMN]],
                decided_by=wf.cell_text(values[col[wf.BY_COLUMN]]).strip(),
                decided_on=values[col[wf.DATE_COLUMN]],
                note=wf.cell_text(values[col[wf.NOTE_COLUMN]]).strip(),
            )
        )
    return ReturnedWorkbook(meta, rows)
