"""Corrections back from the streets: returned worklists in `<inbox>/corrections/`.

Each workbook is read and validated row by row:
- the finding exists (quality.finding) and belongs to the workbook's committee;
- the locked cells are untouched (the row checksum, worklist_format.row_checksum);
- 核实结果 is one of 确认 / 更正 / 不属实, 核实人 is given, 核实日期 (if given) is a date;
- for 更正, 正确值 is present and legal for the field (quality/corrections.yml: an ID number passes the
  GB 11643 check, a date parses, a count is a non-negative integer, a vocabulary value is listed …).

Good rows become decisions (quality.finding_decision) and, for 更正 (and 确认 of a finding with a
suggested value), overrides (quality.override) that `apply_overrides` writes onto the master tables
after every master build, so they hold in later deliveries. Every row read, applied or rejected, is
in quality.correction_audit; rejected rows also in quality.correction_rejection with the reason.
A file is processed once: its SHA-256 is kept in quality.correction_file_log, so dropping the same
file again (under any name) changes nothing. Finding statuses are then refreshed
(quality.findings.refresh_findings).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from openpyxl import load_workbook

from normalize.dates import parse_date
from normalize.id_number import id_check_ok, normalize_id
from normalize.phones import normalize_phone
from normalize.uscc import normalize_uscc
from quality import worklist_format as wf
from quality.findings import refresh_findings
from sharing.masking import mask_text

CONFIG_PATH = Path(__file__).with_name("corrections.yml")
TYPES = {"id_number", "date", "count", "vocab", "phone", "uscc", "text"}
MAX_TEXT = 200

DDL = """
create schema if not exists quality;
create table if not exists quality.finding_decision (
    finding_id varchar, decision varchar, corrected_value varchar, decided_by varchar,
    decided_at timestamp, source_file varchar, source_row integer
);
create table if not exists quality.override (
    entity_type varchar, entity_id varchar, field varchar, old_value varchar, new_value varchar,
    decided_by varchar, decided_at timestamp, source_file varchar, source_row integer, applied_at timestamp,
    finding_id varchar, master_column varchar
);
create table if not exists quality.correction_audit (
    source_file varchar, source_row integer, finding_id varchar, entity_type varchar, entity_id varchar,
    field varchar, decision varchar, old_value varchar, new_value varchar, decided_by varchar,
    decided_at timestamp, outcome varchar, reason varchar, processed_at timestamp
);
create table if not exists quality.correction_rejection (
    source_file varchar, source_row integer, finding_id varchar, reason varchar, processed_at timestamp
);
create table if not exists quality.correction_file_log (
    file_hash varchar, source_file varchar, committee_code varchar, delivery varchar, rows_read integer,
    rows_accepted integer, rows_rejected integer, rows_blank integer, overrides integer, status varchar,
    message varchar, processed_at timestamp
);
"""

MASTER_TABLES = {
    "person": ("master.person", "person_id"),
    "household": ("master.household", "household_id"),
    "shop": ("master.shop", "shop_code"),
}


# --- configuration ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str
    values: tuple[str, ...] = ()
    column: str | None = None


class ConfigError(ValueError):
    pass


@dataclass
class FieldSpecs:
    by_entity: dict[str, dict[str, FieldSpec]]
    aliases: dict[str, str]

    def get(self, entity_type: str | None, field_name: str | None) -> FieldSpec:
        """The spec of a finding's field; unknown fields are free text kept for the department."""
        name = self.aliases.get(str(field_name), str(field_name))
        spec = self.by_entity.get(str(entity_type), {}).get(name)
        if spec:
            return spec
        for fields in self.by_entity.values():  # the same field on another entity type: its checks, no column
            if name in fields:
                s = fields[name]
                return FieldSpec(s.name, s.label, s.type, s.values, None)
        return FieldSpec(name, str(field_name), "text")


def load_field_specs(path: Path | str = CONFIG_PATH) -> FieldSpecs:
    """Read and validate quality/corrections.yml (clear errors naming the entry)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(raw.get("fields"), dict):
        raise ConfigError(f"{path}: 'fields' must map entity types to fields")
    by_entity: dict[str, dict[str, FieldSpec]] = {}
    for entity, fields in raw["fields"].items():
        if not isinstance(fields, dict):
            raise ConfigError(f"{path}: fields.{entity} must map field names to settings")
        for name, s in fields.items():
            where = f"{path}: fields.{entity}.{name}"
            if not isinstance(s, dict):
                raise ConfigError(f"{where}: must be a mapping with label and type")
            unknown = set(s) - {"label", "type", "values", "column"}
            if unknown:
                raise ConfigError(f"{where}: unknown setting(s) {sorted(unknown)}")
            if s.get("type") not in TYPES:
                raise ConfigError(f"{where}: type must be one of {sorted(TYPES)}, not {s.get('type')!r}")
            values = tuple(str(v) for v in (s.get("values") or ()))
            if s["type"] == "vocab" and not values:
                raise ConfigError(f"{where}: a vocab field needs 'values'")
            column = s.get("column")
            if column is not None and (
                entity not in MASTER_TABLES or not re.fullmatch(r"[a-z_][a-z0-9_]*", str(column))
            ):
                raise ConfigError(
                    f"{where}: column {column!r} is not a column of a master table "
                    f"(entity types with master tables: {sorted(MASTER_TABLES)})"
                )
            by_entity.setdefault(entity, {})[name] = FieldSpec(
                name, str(s.get("label") or name), s["type"], values, column
            )
    aliases = {str(k): str(v) for k, v in (raw.get("aliases") or {}).items()}
    known = {n for f in by_entity.values() for n in f}
    for alias, target in aliases.items():
        if target not in known:
            raise ConfigError(f"{path}: alias {alias!r} points at unknown field {target!r}")
    return FieldSpecs(by_entity, aliases)


@lru_cache(maxsize=1)
def default_specs() -> FieldSpecs:
    return load_field_specs()


# --- values ----------------------------------------------------------------------------------------


def check_value(spec: FieldSpec, raw: object) -> tuple[str | None, str | None]:
    """(normalised value, None) when `raw` is legal for the field, else (None, reason in Chinese)."""

    text = wf.cell_text(raw).strip()
    if not text:
        return None, "选择“更正”时必须填写正确值"
    t = spec.type
    if t == "id_number":
        n = normalize_id(text)
        if n is None:
            return None, "正确值不是18位（或15位）身份证号"
        if not id_check_ok(n):
            return None, "正确值的身份证号校验位不正确（GB 11643）"
        return n, None
    if t == "date":
        d = raw.date() if isinstance(raw, _dt.datetime) else raw if isinstance(raw, _dt.date) else parse_date(text)
        if d is None:
            return None, "正确值不是可识别的日期（例如 2026-11-05）"
        return d.isoformat(), None
    if t == "count":
        if isinstance(raw, float) and not raw.is_integer():
            return None, "正确值应为不小于0的整数"
        if not re.fullmatch(r"\d{1,6}", text):
            return None, "正确值应为不小于0的整数"
        return str(int(text)), None
    if t == "vocab":
        if text not in spec.values:
            return None, f"正确值应为以下之一：{'/'.join(spec.values)}"
        return text, None
    if t == "phone":
        p = normalize_phone(text)
        if p is None:
            return None, "正确值不是有效的手机号或上海固定电话"
        return p, None
    if t == "uscc":
        u = normalize_uscc(text)
        if u is None:
            return None, "正确值不是18位统一社会信用代码"
        return u, None
    if len(text) > MAX_TEXT:
        return None, f"正确值过长（超过{MAX_TEXT}字）"
    return text, None


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


# --- reading a returned workbook ---------------------------------------------------------------------


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


# --- validation (pure) -------------------------------------------------------------------------------


@dataclass
class Accepted:
    row: ReturnedRow
    finding: dict
    spec: FieldSpec
    decision: str
    corrected_value: str | None  # the value to override with (None: a decision only)
    decided_at: _dt.datetime


@dataclass
class Rejected:
    row: ReturnedRow
    finding: dict | None
    reason: str


def validate(
    book: ReturnedWorkbook, findings: dict[str, dict], key: str, specs: FieldSpecs, received_at: _dt.datetime
) -> tuple[list[Accepted], list[Rejected], int]:
    """Split the filled rows into accepted and rejected (with reasons); also count blank rows.

    findings: finding_id → the finding's columns (community_code, entity_type, entity_id, field,
    observed_value, suggested_value, …)."""
    committee = book.meta.get("committee_code", "")
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    blank = 0
    for row in book.rows:
        if row.blank:
            blank += 1
            continue
        f = findings.get(row.finding_id)

        def reject(reason: str, row=row, f=f) -> None:
            rejected.append(Rejected(row, f, reason))

        if not row.finding_id:
            reject("问题编号为空（隐藏列被清空或行是手工添加的）")
            continue
        if f is None:
            reject(f"问题编号 {row.finding_id} 不存在")
            continue
        owner = f.get("community_code") or ""
        if owner != committee:
            reject(f"该问题不属于本居委（属于 {owner or '未定位的居委'}）")
            continue
        if wf.row_checksum(key, row.finding_id, row.locked) != row.checksum:
            reject("锁定列被修改（校验码不符），请使用原清单重新填写")
            continue
        if row.finding_id in seen:
            reject("同一问题在本文件中出现多次，只采用第一次")
            continue
        if row.decision not in wf.DECISIONS:
            reject(f"核实结果“{row.decision}”不在 确认/更正/不属实 之内" if row.decision else "核实结果为空")
            continue
        if not row.decided_by:
            reject("缺少核实人")
            continue
        decided_at, err = parse_decided_on(row.decided_on)
        if err:
            reject(err)
            continue
        spec = specs.get(f.get("entity_type"), f.get("field"))
        value: str | None = None
        if row.decision == wf.CORRECT:
            value, err = check_value(spec, row.value)
            if err:
                reject(f"{err}（核实项目：{spec.label}）")
                continue
        elif row.decision == wf.CONFIRM:
            typed = wf.cell_text(row.value).strip()
            suggested = f.get("suggested_value")
            if typed:
                reject("选择“确认”时不填正确值；如需改为其他值请选择“更正”")
                continue
            if suggested not in (None, ""):
                value, err = check_value(spec, suggested)
                if err:
                    value = None  # the suggestion is not a legal value: keep the decision only
        elif wf.cell_text(row.value).strip():
            reject("选择“不属实”时不填正确值")
            continue
        seen.add(row.finding_id)
        accepted.append(Accepted(row, f, spec, row.decision, value, decided_at or received_at))
    return accepted, rejected, blank


# --- applying ------------------------------------------------------------------------------------------


@dataclass
class FileOutcome:
    source_file: str
    status: str  # processed | rejected | skipped (already processed)
    committee: str = ""
    accepted: int = 0
    rejected: int = 0
    blank: int = 0
    overrides: int = 0
    message: str = ""
    rejections: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class CorrectionsSummary:
    files: list[FileOutcome] = field(default_factory=list)
    overrides_applied: int = 0

    @property
    def processed(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status != "skipped"]


def corrections_dir(inbox: Path | str) -> Path:
    return Path(inbox) / "corrections"


def pending_files(inbox: Path | str) -> list[Path]:
    folder = corrections_dir(inbox)
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() == ".xlsx" and not p.name.startswith(("~$", "."))
    )


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unprocessed_files(con, inbox: Path | str) -> list[Path]:
    """Files in the corrections folder whose content has not been processed yet (read-only query)."""
    files = pending_files(inbox)
    if not files:
        return []
    try:
        done = {r[0] for r in con.execute("select file_hash from quality.correction_file_log").fetchall()}
    except Exception:  # table not there yet
        done = set()
    return [p for p in files if file_hash(p) not in done]


def _findings(con) -> dict[str, dict]:
    try:
        df = con.execute("select * from quality.finding").df()
    except Exception:
        return {}
    df = df.astype(object).where(df.notna(), None)
    return {r["finding_id"]: r for r in df.to_dict("records")}


def _master_value(con, entity_type: str, entity_id: str, column: str | None) -> str | None:
    if column is None or entity_type not in MASTER_TABLES:
        return None
    table, keycol = MASTER_TABLES[entity_type]
    try:
        rows = con.execute(f"select {column}::varchar from {table} where {keycol} = ?", [entity_id]).fetchall()
    except Exception:
        return None
    return rows[0][0] if rows else None


def apply_file(con, path: Path, inbox: Path | str, specs: FieldSpecs | None = None) -> FileOutcome:
    """Validate and apply one returned workbook (once per file content)."""
    specs = specs or default_specs()
    con.execute(DDL)
    digest = file_hash(path)
    try:
        source_file = str(Path(path).resolve().relative_to(Path(inbox).resolve()))
    except ValueError:
        source_file = str(path)
    if con.execute("select count(*) from quality.correction_file_log where file_hash = ?", [digest]).fetchall()[0][0]:
        return FileOutcome(source_file, "skipped", message="已处理过（内容相同的文件）")
    now = _dt.datetime.now()
    key = wf.worklist_key(con)
    try:
        book = read_returned(path)
        if book.meta.get("signature") != wf.meta_signature(key, book.meta):
            raise NotAWorklist("清单信息页被修改或不是本数据中心下发的清单")
    except NotAWorklist as e:
        con.execute(
            "insert into quality.correction_file_log values (?, ?, null, null, 0, 0, 0, 0, 0, 'rejected', ?, ?)",
            [digest, source_file, str(e), now],
        )
        return FileOutcome(source_file, "rejected", message=str(e))

    accepted, rejected, blank = validate(book, _findings(con), key, specs, now)
    outcome = FileOutcome(
        source_file,
        "processed",
        committee=book.meta.get("committee_name") or "",
        accepted=len(accepted),
        rejected=len(rejected),
        blank=blank,
    )
    con.execute("begin transaction")
    try:
        for a in accepted:
            f = a.finding
            con.execute(
                "insert into quality.finding_decision values (?, ?, ?, ?, ?, ?, ?)",
                [
                    f["finding_id"],
                    a.decision,
                    a.corrected_value,
                    a.row.decided_by,
                    a.decided_at,
                    source_file,
                    a.row.excel_row,
                ],
            )
            old = _master_value(con, f.get("entity_type"), f.get("entity_id"), a.spec.column)
            if old is None:
                old = f.get("observed_value")
            result = "decision_recorded"
            if a.corrected_value is not None:
                con.execute(
                    "insert into quality.override values (?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?, ?)",
                    [
                        f.get("entity_type"),
                        f.get("entity_id"),
                        a.spec.name,
                        old,
                        a.corrected_value,
                        a.row.decided_by,
                        a.decided_at,
                        source_file,
                        a.row.excel_row,
                        f["finding_id"],
                        a.spec.column,
                    ],
                )
                outcome.overrides += 1
                result = "override" if a.spec.column else "override_for_department"
            con.execute(
                "insert into quality.correction_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?)",
                [
                    source_file,
                    a.row.excel_row,
                    f["finding_id"],
                    f.get("entity_type"),
                    f.get("entity_id"),
                    a.spec.name,
                    a.decision,
                    old,
                    a.corrected_value,
                    a.row.decided_by,
                    a.decided_at,
                    result,
                    now,
                ],
            )
        for r in rejected:
            f = r.finding or {}
            con.execute(
                "insert into quality.correction_rejection values (?, ?, ?, ?, ?)",
                [source_file, r.row.excel_row, r.row.finding_id or None, r.reason, now],
            )
            con.execute(
                "insert into quality.correction_audit values (?, ?, ?, ?, ?, ?, ?, null, ?, ?, null, 'rejected', ?, ?)",
                [
                    source_file,
                    r.row.excel_row,
                    r.row.finding_id or None,
                    f.get("entity_type"),
                    f.get("entity_id"),
                    f.get("field"),
                    r.row.decision or None,
                    wf.cell_text(r.row.value) or None,
                    r.row.decided_by or None,
                    r.reason,
                    now,
                ],
            )
            outcome.rejections.append((r.row.excel_row, r.reason))
        con.execute(
            "insert into quality.correction_file_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'processed', ?, ?)",
            [
                digest,
                source_file,
                book.meta.get("committee_code"),
                book.meta.get("delivery"),
                len(book.rows),
                len(accepted),
                len(rejected),
                blank,
                outcome.overrides,
                f"{len(accepted)} 行采用，{len(rejected)} 行退回，{blank} 行未填",
                now,
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return outcome


def _resolve_ids(con, entity_type: str) -> dict[str, str]:
    """old id → the id it was merged into (followed to the end), from master.id_history."""
    try:
        pairs = con.execute(
            "select old_id, new_id from master.id_history where entity_type = ? and kind = 'merge' order by recorded_at",
            [entity_type],
        ).fetchall()
    except Exception:
        return {}
    step = dict(pairs)
    out = {}
    for old in step:
        cur, hops = old, 0
        while cur in step and hops < 20:
            cur, hops = step[cur], hops + 1
        out[old] = cur
    return out


def apply_overrides(con, entity_types: list[str] | None = None) -> int:
    """Write the latest override of each (entity, field) onto the master tables; returns rows changed.

    Called after every master build (pipelines/assets/master.py) and after corrections are taken in,
    so a correction holds whatever later deliveries say, until a newer correction replaces it."""
    con.execute(DDL)
    latest = con.execute(
        """
        select entity_type, entity_id, master_column, arg_max(new_value, (decided_at, source_file, source_row))
        from quality.override where master_column is not null group by all
        """
    ).fetchall()
    changed = 0
    now = _dt.datetime.now()
    by_type: dict[str, list] = {}
    for entity_type, entity_id, column, value in latest:
        if entity_types is None or entity_type in entity_types:
            by_type.setdefault(entity_type, []).append((entity_id, column, value))
    for entity_type, items in by_type.items():
        table, keycol = MASTER_TABLES[entity_type]
        schema, name = table.split(".")
        cols = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchall()
        )
        if not cols:
            continue
        merged = _resolve_ids(con, entity_type)
        for entity_id, column, value in items:
            if column not in cols:
                continue
            target = merged.get(entity_id, entity_id)
            n = con.execute(
                f"update {table} set {column} = cast(? as {cols[column]}) where {keycol} = ? "
                f"and {column} is distinct from cast(? as {cols[column]}) returning 1",
                [value, target, value],
            ).fetchall()
            if entity_type == "person" and column == "id_number" and "id_number_valid" in cols:
                con.execute("update master.person set id_number_valid = true where person_id = ?", [target])
            changed += len(n)
            con.execute(
                "update quality.override set applied_at = ? where entity_type = ? and entity_id = ? and master_column = ?",
                [now, entity_type, entity_id, column],
            )
    return changed


def refresh_statuses(con) -> None:
    """Recompute finding statuses from the decisions (quality/findings.py states the rule)."""
    refresh_findings(con)


def process_pending(con, inbox: Path | str, specs: FieldSpecs | None = None) -> CorrectionsSummary:
    """Take in every new returned workbook, apply the overrides, refresh the findings."""
    con.execute(DDL)
    summary = CorrectionsSummary()
    for path in pending_files(inbox):
        summary.files.append(apply_file(con, path, inbox, specs))
    if any(f.accepted for f in summary.files):
        summary.overrides_applied = apply_overrides(con)
        refresh_statuses(con)
    return summary


def describe(summary: CorrectionsSummary) -> list[str]:
    """Lines for the run summary (reasons are masked: they may quote a typed ID number)."""
    lines = []
    for f in summary.processed:
        if f.status == "rejected":
            lines.append(f"  ✗ {f.source_file}: 整个文件退回 — {f.message}")
            continue
        lines.append(
            f"  {f.source_file} ({f.committee}): {f.accepted} 行采用, {f.rejected} 行退回, "
            f"{f.blank} 行未填, {f.overrides} 条更正"
        )
        for row, reason in f.rejections:
            lines.append(f"      第{row}行: {mask_text(reason)}")
    return lines
