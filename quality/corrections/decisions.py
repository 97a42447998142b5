"""One decision on one finding, checked, recorded and applied, whichever channel it comes from: a row of
a returned worklist (quality/corrections/returned.py) or a verification saved in the street app
(app/intake.py calls `validate_and_apply`). Both go through `check_owner` and `check_verdict`, write
the same tables and the same audit; a decision equal to the finding's latest decision, from either
channel, is the same decision (audited as `same_decision`, nothing added twice). `apply_overrides`
writes the corrections onto the master tables after every master build."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from quality import worklist_format as wf
from quality.corrections.fields import MASTER_TABLES, FieldSpec, FieldSpecs, check_value, default_specs
from quality.corrections.workbook import ReturnedRow, parse_decided_on
from quality.findings import refresh_findings

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


@dataclass
class Decision:
    """One verdict on one finding, from either channel: the street app (a saved verification) or
    anything else that is not a workbook row. Workbook rows (ReturnedRow) carry the same fields."""

    finding_id: str
    committee_code: str  # the committee the decision comes from (its worklist, its app account)
    decision: str  # one of worklist_format.DECISIONS
    value: object  # 正确值 as typed ('' or None when none)
    decided_by: str  # 核实人
    decided_on: object = None  # 核实日期 (a date, a datetime or text); None: when received
    note: str = ""
    source_file: str = ""  # where it came from: corrections/<file>.xlsx, app:<uid>
    source_row: int = 0  # the workbook row, the app's verification id


@dataclass
class Accepted:
    row: ReturnedRow | Decision
    finding: dict
    spec: FieldSpec
    decision: str
    corrected_value: str | None  # the value to override with (None: a decision only)
    decided_at: _dt.datetime


@dataclass
class Rejected:
    row: ReturnedRow | Decision
    finding: dict | None
    reason: str


def check_owner(finding_id: str, finding: dict | None, committee: str) -> str | None:
    """Why a decision on this finding cannot come from this committee (None: it can)."""
    if not finding_id:
        return "问题编号为空（隐藏列被清空或行是手工添加的）"
    if finding is None:
        return f"问题编号 {finding_id} 不存在"
    owner = finding.get("community_code") or ""
    if owner != committee:
        return f"该问题不属于本居委（属于 {owner or '未定位的居委'}）"
    return None


def check_verdict(
    finding: dict, decision: str, value: object, decided_by: str, decided_on: object, specs: FieldSpecs
) -> tuple[tuple[FieldSpec, str | None, _dt.datetime | None] | None, str | None]:
    """The rules of a verdict, the same for every channel: ((spec, value to override with, decided_at),
    None) when it can be taken, else (None, the reason in Chinese)."""
    if decision not in wf.DECISIONS:
        return None, (f"核实结果“{decision}”不在 {'/'.join(wf.DECISIONS)} 之内" if decision else "核实结果为空")
    if not decided_by:
        return None, "缺少核实人"
    decided_at, err = parse_decided_on(decided_on)
    if err:
        return None, err
    spec = specs.get(finding.get("entity_type"), finding.get("field"))
    checked: str | None = None
    typed = wf.cell_text(value).strip()
    if decision == wf.CORRECT:
        checked, err = check_value(spec, value)
        if err:
            return None, f"{err}（核实项目：{spec.label}）"
    elif decision == wf.CONFIRM:
        suggested = finding.get("suggested_value")
        if typed:
            return None, "选择“确认”时不填正确值；如需改为其他值请选择“更正”"
        if suggested not in (None, ""):
            checked, err = check_value(spec, suggested)
            if err:
                checked = None  # the suggestion is not a legal value: keep the decision only
    elif typed:
        return None, "选择“不属实”时不填正确值"
    return (spec, checked, decided_at), None


def validate_decision(
    d: Decision, finding: dict | None, specs: FieldSpecs, received_at: _dt.datetime
) -> Accepted | Rejected:
    """One decision from the street app through the same checks as a workbook row (less the workbook's
    own: checksum, duplicate rows)."""
    reason = check_owner(d.finding_id, finding, d.committee_code)
    verdict = None
    if reason is None:
        verdict, reason = check_verdict(finding, d.decision, d.value, d.decided_by, d.decided_on, specs)
    if reason is not None:
        return Rejected(d, finding, reason)
    spec, value, decided_at = verdict
    return Accepted(d, finding, spec, d.decision, value, decided_at or received_at)


def _finding(con, finding_id: str) -> dict | None:
    try:
        df = con.execute("select * from quality.finding where finding_id = ?", [finding_id]).df()
    except Exception:
        return None
    if df.empty:
        return None
    df = df.astype(object).where(df.notna(), None)
    return df.to_dict("records")[0]


def _master_value(con, entity_type: str, entity_id: str, column: str | None) -> str | None:
    if column is None or entity_type not in MASTER_TABLES:
        return None
    table, keycol = MASTER_TABLES[entity_type]
    try:
        rows = con.execute(f"select {column}::varchar from {table} where {keycol} = ?", [entity_id]).fetchall()
    except Exception:
        return None
    return rows[0][0] if rows else None


def latest_decision(con, finding_id: str) -> tuple[str, str | None] | None:
    """(decision, corrected value) of the finding's latest decision, from any channel."""
    rows = con.execute(
        """select decision, corrected_value from quality.finding_decision where finding_id = ?
           order by decided_at desc, source_file desc, source_row desc limit 1""",
        [finding_id],
    ).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def apply_accepted(con, a: Accepted, source_file: str, now: _dt.datetime) -> str:
    """Record one accepted decision (inside the caller's transaction); returns the audit outcome.

    A decision equal to the finding's latest one (same verdict, same value), whichever channel made
    it, is the same decision: it is audited as `same_decision` and adds no decision and no override."""
    f = a.finding
    old = _master_value(con, f.get("entity_type"), f.get("entity_id"), a.spec.column)
    if old is None:
        old = f.get("observed_value")
    if latest_decision(con, f["finding_id"]) == (a.decision, a.corrected_value):
        result = "same_decision"
    else:
        con.execute(
            "insert into quality.finding_decision values (?, ?, ?, ?, ?, ?, ?)",
            [
                f["finding_id"],
                a.decision,
                a.corrected_value,
                a.row.decided_by,
                a.decided_at,
                source_file,
                a.row.source_row,
            ],
        )
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
                    a.row.source_row,
                    f["finding_id"],
                    a.spec.column,
                ],
            )
            result = "override" if a.spec.column else "override_for_department"
    con.execute(
        "insert into quality.correction_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?)",
        [
            source_file,
            a.row.source_row,
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
    return result


def record_rejected(con, r: Rejected, source_file: str, now: _dt.datetime) -> None:
    """Record one rejected decision with its reason (inside the caller's transaction)."""
    f = r.finding or {}
    con.execute(
        "insert into quality.correction_rejection values (?, ?, ?, ?, ?)",
        [source_file, r.row.source_row, r.row.finding_id or None, r.reason, now],
    )
    con.execute(
        "insert into quality.correction_audit values (?, ?, ?, ?, ?, ?, ?, null, ?, ?, null, 'rejected', ?, ?)",
        [
            source_file,
            r.row.source_row,
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


@dataclass
class DecisionOutcome:
    status: str  # accepted | same_decision | rejected
    reason: str | None = None
    result: str | None = None  # the audit outcome: decision_recorded, override, … (None when rejected)


def validate_and_apply(
    con, d: Decision, specs: FieldSpecs | None = None, now: _dt.datetime | None = None
) -> DecisionOutcome:
    """Validate one decision (the street app's channel) and apply it: the same checks, tables and audit
    as a row of a returned workbook. The caller applies the overrides and refreshes the findings after
    a batch (apply_overrides, refresh_statuses)."""
    specs = specs or default_specs()
    now = now or _dt.datetime.now()
    con.execute(DDL)
    finding = _finding(con, d.finding_id)
    checked = validate_decision(d, finding, specs, now)
    con.execute("begin transaction")
    try:
        if isinstance(checked, Rejected):
            record_rejected(con, checked, d.source_file, now)
            out = DecisionOutcome("rejected", checked.reason)
        else:
            result = apply_accepted(con, checked, d.source_file, now)
            out = DecisionOutcome("same_decision" if result == "same_decision" else "accepted", None, result)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return out


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
