"""A street's verdict on one finding (确认 / 更正 / 不属实): checked, recorded, and its corrected value
kept as an override that holds over every later rebuild of the master data.

`validate_and_apply_decision(con, decision)` is the one way in for a decision, whatever brought it
(a returned worklist row, the street app): it checks the decision against the finding and the field's
rules (quality/corrections.yml), records it in quality.finding_decision (and quality.override for a
corrected value) with an audit row, applies the override and refreshes the finding's status.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from quality import worklist_format as wf
from quality.corrections.fields import MASTER_TABLES, FieldSpec, FieldSpecs, check_value, default_specs
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


@dataclass(frozen=True)
class Decision:
    """What someone decided about one finding, wherever it came from."""

    finding_id: str
    decision: str  # 确认 / 更正 / 不属实
    decided_by: str
    decided_at: _dt.datetime
    committee_code: str  # the committee the decision is made for: a finding of another is refused
    corrected_value: object = None  # 正确值 as typed (更正 only)
    source: str = ""  # where it came from: the returned worklist, or e.g. "app"
    source_row: int | None = None


@dataclass
class DecisionOutcome:
    accepted: bool
    reason: str | None = None  # why it was refused (Chinese, for the person who decided)
    corrected_value: str | None = None  # the normalised value kept as an override
    overrides_applied: int = 0


def check_scope(decision: Decision, finding: dict | None) -> str | None:
    """Why the finding cannot be decided by this committee (None: it can)."""
    if finding is None:
        return f"问题编号 {decision.finding_id} 不存在"
    owner = finding.get("community_code") or ""
    if owner != decision.committee_code:
        return f"该问题不属于本居委（属于 {owner or '未定位的居委'}）"
    return None


def check_decision(decision: Decision, finding: dict, spec: FieldSpec) -> tuple[str | None, str | None]:
    """(the value to override with or None, None) when the decision stands, else (None, the reason)."""
    if decision.decision not in wf.DECISIONS:
        return None, (
            f"核实结果“{decision.decision}”不在 {'/'.join(wf.DECISIONS)} 之内" if decision.decision else "核实结果为空"
        )
    if not decision.decided_by:
        return None, "缺少核实人"
    typed = wf.cell_text(decision.corrected_value).strip()
    if decision.decision == wf.CORRECT:
        value, err = check_value(spec, decision.corrected_value)
        return (None, f"{err}（核实项目：{spec.label}）") if err else (value, None)
    if decision.decision == wf.CONFIRM:
        if typed:
            return None, "选择“确认”时不填正确值；如需改为其他值请选择“更正”"
        suggested = finding.get("suggested_value")
        if suggested not in (None, ""):
            value, err = check_value(spec, suggested)
            return (None if err else value), None  # a suggestion that is not a legal value: the decision only
        return None, None
    if typed:
        return None, "选择“不属实”时不填正确值"
    return None, None


def finding(con, finding_id: str) -> dict | None:
    """The finding's columns, or None."""
    try:
        df = con.execute("select * from quality.finding where finding_id = ?", [finding_id]).df()
    except Exception:  # noqa: BLE001 - no findings table yet
        return None
    df = df.astype(object).where(df.notna(), None)
    rows = df.to_dict("records")
    return rows[0] if rows else None


def _master_value(con, entity_type: str, entity_id: str, column: str | None) -> str | None:
    if column is None or entity_type not in MASTER_TABLES:
        return None
    table, keycol = MASTER_TABLES[entity_type]
    try:
        rows = con.execute(f"select {column}::varchar from {table} where {keycol} = ?", [entity_id]).fetchall()
    except Exception:  # noqa: BLE001 - master table not built yet
        return None
    return rows[0][0] if rows else None


def record_decision(
    con, decision: Decision, finding: dict, spec: FieldSpec, corrected_value: str | None, now: _dt.datetime
) -> bool:
    """Write an accepted decision (and its override, and the audit row); True when it overrides a value.
    Inside the caller's transaction."""
    con.execute(
        "insert into quality.finding_decision values (?, ?, ?, ?, ?, ?, ?)",
        [
            finding["finding_id"],
            decision.decision,
            corrected_value,
            decision.decided_by,
            decision.decided_at,
            decision.source,
            decision.source_row,
        ],
    )
    old = _master_value(con, finding.get("entity_type"), finding.get("entity_id"), spec.column)
    if old is None:
        old = finding.get("observed_value")
    result = "decision_recorded"
    if corrected_value is not None:
        con.execute(
            "insert into quality.override values (?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?, ?)",
            [
                finding.get("entity_type"),
                finding.get("entity_id"),
                spec.name,
                old,
                corrected_value,
                decision.decided_by,
                decision.decided_at,
                decision.source,
                decision.source_row,
                finding["finding_id"],
                spec.column,
            ],
        )
        result = "override" if spec.column else "override_for_department"
    con.execute(
        "insert into quality.correction_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?)",
        [
            decision.source,
            decision.source_row,
            finding["finding_id"],
            finding.get("entity_type"),
            finding.get("entity_id"),
            spec.name,
            decision.decision,
            old,
            corrected_value,
            decision.decided_by,
            decision.decided_at,
            result,
            now,
        ],
    )
    return corrected_value is not None


def record_rejection(con, decision: Decision, finding: dict | None, reason: str, now: _dt.datetime) -> None:
    """Write a refused decision with its reason (quality.correction_rejection and the audit)."""
    f = finding or {}
    con.execute(
        "insert into quality.correction_rejection values (?, ?, ?, ?, ?)",
        [decision.source, decision.source_row, decision.finding_id or None, reason, now],
    )
    con.execute(
        "insert into quality.correction_audit values (?, ?, ?, ?, ?, ?, ?, null, ?, ?, null, 'rejected', ?, ?)",
        [
            decision.source,
            decision.source_row,
            decision.finding_id or None,
            f.get("entity_type"),
            f.get("entity_id"),
            f.get("field"),
            decision.decision or None,
            wf.cell_text(decision.corrected_value) or None,
            decision.decided_by or None,
            reason,
            now,
        ],
    )


def validate_and_apply_decision(con, decision: Decision, specs: FieldSpecs | None = None) -> DecisionOutcome:
    """Check one decision, record it (or its refusal, with the reason), apply its override onto the
    master data and refresh the finding statuses."""
    specs = specs or default_specs()
    con.execute(DDL)
    now = _dt.datetime.now()
    f = finding(con, decision.finding_id)
    reason = check_scope(decision, f)
    value = None
    spec = None
    if reason is None:
        spec = specs.get(f.get("entity_type"), f.get("field"))
        value, reason = check_decision(decision, f, spec)
    con.execute("begin transaction")
    try:
        if reason is not None:
            record_rejection(con, decision, f, reason, now)
        else:
            record_decision(con, decision, f, spec, value, now)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    if reason is not None:
        return DecisionOutcome(False, reason)
    applied = apply_overrides(con, [f.get("entity_type")]) if value is not None else 0
    refresh_findings(con)
    return DecisionOutcome(True, None, value, applied)


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
