"""Scenario lists to the committees as workbooks, and the follow-up that comes back.

`write_workbooks`: one .xlsx per committee under out/scenarios/<delivery>/<street>/<committee>.xlsx,
a 说明 sheet and one sheet per scenario; each row has its reason, a 跟进结果 dropdown, 跟进人 and
跟进日期, and a hidden 列表编号 (the row's match_id, the same in every delivery).

`read_follow_up`: a returned workbook → `scenario.follow_up` (one row per filled row, with file,
sheet, row, who and when). Importing the same file again replaces what it gave before (keyed by the
file's content hash), so it is idempotent; rows that cannot be used are rejected with a reason and
the rest are kept. Kept small and separate so it can be routed through the corrections inbox.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.datavalidation import DataValidation

from normalize.dates import parse_date
from pipelines.settings import output_dir
from quality.cells import is_missing, text
from quality.writing import FileTask, fingerprint, write_files
from targeting.config import ScenarioSet
from targeting.masking import mask_row, masked_reason
from targeting.search import FindCriteria, build_scenario_query

RESULTS = ("已核实-需帮扶", "已核实-情况正常", "已转介相关部门", "联系不上", "信息有误", "已去世或迁出")
HEADERS = [
    "列表编号",
    "街道",
    "居委",
    "对象编号",
    "姓名",
    "身份证号",
    "联系电话",
    "居住地址",
    "列入原因",
    "首次列入",
    "跟进结果",
    "跟进人",
    "跟进日期",
    "备注",
]
FOLLOW_UP_DDL = """
create schema if not exists scenario;
create table if not exists scenario.follow_up (
    match_id varchar, scenario varchar, entity_id varchar, result varchar, followed_by varchar,
    followed_on date, note varchar, source_file varchar, sheet varchar, source_row integer,
    file_hash varchar, recorded_at timestamp
);
"""


def default_out_dir(db_path: Path) -> Path:
    return output_dir(db_path) / "scenarios"


_UNSAFE = re.compile(r'[\\/:*?"<>|\[\]]')


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip() or "_"


@dataclass
class Written:
    folder: Path
    files: int = 0
    rows: int = 0
    failed: list[tuple[Path, str]] = field(default_factory=list)  # workbooks that could not be written, why


def write_workbooks(con: duckdb.DuckDBPyConnection, scenarios: ScenarioSet, delivery: str, out_dir: Path) -> Written:
    """Every committee's scenario workbook of a delivery (quality.writing: on every core when there
    is much to write, one committee's failure reported without stopping the others, unchanged kept)."""

    folder = Path(out_dir) / delivery
    written = Written(folder=folder)
    role = scenarios.delivery_role
    per_committee: dict[tuple, dict[str, list]] = {}
    for s in scenarios.scenarios:
        try:
            sql, params = build_scenario_query(FindCriteria(scenario=s.name, delivery=delivery))
            rows = con.execute(sql, params).df().to_dict("records")
        except duckdb.CatalogException:
            rows = []
        for r in rows:
            r = {k: (None if is_missing(v) else v) for k, v in r.items()}
            hidden = masked_reason(s.reasons[r["reason_code"]], r["reason_fields"], s.sensitive)
            r = mask_row(r, role, sensitive_reason=hidden)
            key = (
                text(r.get("street_code")),
                text(r.get("street_name")) or "未定位",
                text(r.get("community_code")),
                text(r.get("community_name")) or "未定位",
            )
            per_committee.setdefault(key, {}).setdefault(s.name, []).append(r)
    sheets = [(s.name, _safe(s.title)[:31]) for s in scenarios.scenarios]
    tasks = []
    for (street_code, street_name, community_code, community_name), by_scenario in sorted(per_committee.items()):
        path = folder / _safe(f"{street_code}_{street_name}") / f"{_safe(f'{community_code}_{community_name}')}.xlsx"
        meta = (delivery, street_name, community_code, community_name)
        rows = [[_row_cells(r, street_name, community_name) for r in by_scenario.get(n, [])] for n, _ in sheets]
        n = sum(len(x) for x in rows)
        tasks.append(FileTask(path, build_committee_workbook, (meta, sheets, rows), fingerprint(meta, sheets, rows), n))
        written.rows += n
    report = write_files(folder, tasks)
    written.files = len(report.files)
    written.failed = report.failed
    return written


def _row_cells(r: dict, street_name: str, community_name: str) -> list:
    """One listed entity's cells in HEADERS order (text; the four follow-up cells empty)."""
    return [
        text(r.get("match_id")),
        street_name,
        community_name,
        text(r.get("entity_id")),
        text(r.get("name")),
        text(r.get("id_number")),
        text(r.get("phone")),
        text(r.get("address")),
        text(r.get("reason")),
        text(r.get("first_seen")),
        "",
        "",
        "",
        "",
    ]


def build_committee_workbook(path: Path, meta: tuple, sheets: list[tuple[str, str]], rows: list[list[list]]) -> int:
    """Write one committee's workbook: the 说明 sheet, then a sheet per scenario with rows."""
    delivery, street_name, community_code, community_name = meta
    wb = Workbook()
    info = wb.active
    info.title = "说明"
    info.append(["重点人群排查名单", f"{street_name} {community_name}"])
    info.append(["数据批次", delivery])
    info.append(["居委代码", community_code])
    info.append(
        [
            "填写说明",
            "请逐行走访核实，在“跟进结果”下拉框中选择结果，填写跟进人和跟进日期（如 2026-11-20），"
            "填好后将本文件交回街道。名单仅用于排查，不作为救助认定结论。",
        ]
    )
    info.append(["跟进结果可选", "、".join(RESULTS)])
    info.column_dimensions["A"].width = 14
    info.column_dimensions["B"].width = 90
    total = 0
    for (_, title), sheet_rows in zip(sheets, rows):
        if not sheet_rows:
            continue
        ws = wb.create_sheet(title)
        ws.append(HEADERS)
        for c in ws[1]:
            c.font = Font(bold=True)
        for cells in sheet_rows:
            ws.append([_excel_text(v) for v in cells])
        n = len(sheet_rows) + 1
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(RESULTS) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="跟进结果",
            error="请从下拉列表中选择",
        )
        ws.add_data_validation(dv)
        dv.add(f"K2:K{n}")
        ws.column_dimensions["A"].hidden = True
        for col, width in zip("BCDEFGHIJKLMN", (14, 16, 13, 10, 20, 14, 36, 60, 10, 16, 10, 12, 20)):
            ws.column_dimensions[col].width = width
        for row in ws.iter_rows(min_row=2, min_col=9, max_col=9):
            row[0].alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "E2"
        total += len(sheet_rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return total


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _excel_text(value: object) -> str:
    """Text a cell can hold: control characters (illegal in the file's XML) dropped, 32,767 at most."""
    return _ILLEGAL_XML.sub("", text(value))[:32767]


@dataclass
class FollowUpReport:
    file: str
    kept: int = 0
    blank: int = 0
    rejected: list[tuple[str, int, str]] = field(default_factory=list)  # (sheet, row, reason)


def _parse_date(value) -> _dt.date | None:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if value is None:
        return None

    try:
        parsed = parse_date(str(value))
    except Exception:  # noqa: BLE001 - any unparsable text is a rejected row
        return None
    if isinstance(parsed, _dt.datetime):
        return parsed.date()
    return parsed if isinstance(parsed, _dt.date) else None


def follow_up_problems(
    match_id: object, result: object, who: object, when: object, known: dict, today: _dt.date
) -> tuple[list[str], _dt.date | None]:
    """What is wrong with one follow-up (empty list: nothing) and its date; the same rules for a row of a
    returned workbook and a follow-up recorded in the street app. known: match_id → scenario|entity."""
    problems = []
    if not match_id or str(match_id) not in known:
        problems.append("列表编号 is missing or unknown (was the hidden column changed?)")
    if result not in RESULTS:
        problems.append(f"跟进结果 {result!r} is not one of {'/'.join(RESULTS)}")
    if not who:
        problems.append("跟进人 is empty")
    day = _parse_date(when)
    if day is None:
        problems.append(f"跟进日期 {when!r} is not a date")
    elif day > today:
        problems.append(f"跟进日期 {day} is in the future")
    return problems, day


def known_matches(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """match_id → 'scenario|entity_id' of every row of scenario.match (empty when not built)."""
    if not con.execute(
        "select count(*) from information_schema.tables where table_schema = 'scenario' and table_name = 'match'"
    ).fetchall()[0][0]:
        return {}
    return dict(
        con.execute(
            "select match_id, any_value(scenario || '|' || entity_id) from scenario.match group by 1"
        ).fetchall()
    )


def read_follow_up(con: duckdb.DuckDBPyConnection, path: Path, today: _dt.date | None = None) -> FollowUpReport:
    """Record the follow-up of a returned scenario workbook; see the module docstring."""

    path = Path(path)
    report = FollowUpReport(file=str(path))
    try:
        data = path.read_bytes()
        wb = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except Exception as e:  # noqa: BLE001 - not a workbook, truncated ...
        raise ValueError(f"{path}: not a readable .xlsx workbook ({type(e).__name__}: {e})") from None
    file_hash = hashlib.sha256(data).hexdigest()
    today = today or _dt.date.today()
    con.execute(FOLLOW_UP_DDL)
    known = known_matches(con)
    keep = []
    now = _dt.datetime.now()
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if not header or "列表编号" not in header:
            continue
        col = {h: i for i, h in enumerate(header) if h}
        missing = [h for h in ("列表编号", "跟进结果", "跟进人", "跟进日期") if h not in col]
        if missing:
            report.rejected.append((ws.title, 1, f"missing column(s) {', '.join(missing)}"))
            continue
        for n, row in enumerate(rows, start=2):

            def get(h, row=row, col=col):
                i = col.get(h)
                v = row[i] if i is not None and i < len(row) else None
                return v.strip() if isinstance(v, str) else v

            result, who, when = get("跟进结果"), get("跟进人"), get("跟进日期")
            if not result and not who and not when:
                report.blank += 1
                continue
            mid = get("列表编号")
            problems, day = follow_up_problems(mid, result, who, when, known, today)
            if problems:
                report.rejected.append((ws.title, n, "; ".join(problems)))
                continue
            scenario, entity = known[str(mid)].split("|", 1)
            keep.append(
                (
                    str(mid),
                    scenario,
                    entity,
                    result,
                    str(who),
                    day,
                    get("备注"),
                    str(path.name),
                    ws.title,
                    n,
                    file_hash,
                    now,
                )
            )
    con.execute("begin transaction")
    try:
        con.execute("delete from scenario.follow_up where file_hash = ?", [file_hash])
        if keep:
            con.executemany("insert into scenario.follow_up values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", keep)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    report.kept = len(keep)
    return report
