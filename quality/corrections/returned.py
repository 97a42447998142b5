"""Returned worklists in `<inbox>/corrections/`: each workbook read (workbook.py) and validated row by
row (the finding exists and belongs to the workbook's committee, the locked cells are untouched, and
the verdict's own rules, decisions.check_verdict), its good rows recorded and applied
(decisions.apply_accepted), its rejected rows kept with the reason. A file is processed once: its
SHA-256 is kept in quality.correction_file_log, so dropping the same file again (under any name)
changes nothing."""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from quality import worklist_format as wf
from quality.corrections.decisions import (
    DDL,
    Accepted,
    Rejected,
    apply_accepted,
    apply_overrides,
    check_owner,
    check_verdict,
    record_rejected,
    refresh_statuses,
)
from quality.corrections.fields import FieldSpecs, default_specs
from quality.corrections.workbook import NotAWorklist, ReturnedWorkbook, read_returned
from sharing.masking import mask_text


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
        reason = check_owner(row.finding_id, f, committee)
        if reason is None and wf.row_checksum(key, row.finding_id, row.locked) != row.checksum:
            reason = "锁定列被修改（校验码不符），请使用原清单重新填写"
        if reason is None and row.finding_id in seen:
            reason = "同一问题在本文件中出现多次，只采用第一次"
        verdict = None
        if reason is None:
            verdict, reason = check_verdict(f, row.decision, row.value, row.decided_by, row.decided_on, specs)
        if reason is not None:
            rejected.append(Rejected(row, f, reason))
            continue
        spec, value, decided_at = verdict
        seen.add(row.finding_id)
        accepted.append(Accepted(row, f, spec, row.decision, value, decided_at or received_at))
    return accepted, rejected, blank


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
    app: object = None  # app.intake.IntakeSummary: what the street app's channel brought in the same step

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
            if apply_accepted(con, a, source_file, now) in ("override", "override_for_department"):
                outcome.overrides += 1
        for r in rejected:
            record_rejected(con, r, source_file, now)
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
