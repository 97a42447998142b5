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

The package follows those seams: `fields` (what may be corrected, how a value is checked),
`workbook` (reading a returned worklist), `decisions` (one decision checked, recorded and applied:
`validate_and_apply_decision` is what the street app calls), `returned` (the files in corrections/).
"""

from quality.corrections.decisions import (
    DDL,
    Decision,
    DecisionOutcome,
    apply_overrides,
    check_decision,
    check_scope,
    validate_and_apply_decision,
)
from quality.corrections.fields import (
    CONFIG_PATH,
    MASTER_TABLES,
    ConfigError,
    FieldSpec,
    FieldSpecs,
    check_value,
    default_specs,
    load_field_specs,
)
from quality.corrections.returned import (
    Accepted,
    CorrectionsSummary,
    FileOutcome,
    Rejected,
    apply_file,
    corrections_dir,
    describe,
    file_hash,
    pending_files,
    process_pending,
    unprocessed_files,
    validate,
)
from quality.corrections.workbook import NotAWorklist, ReturnedRow, ReturnedWorkbook, parse_decided_on, read_returned

__all__ = [
    "CONFIG_PATH",
    "DDL",
    "MASTER_TABLES",
    "Accepted",
    "ConfigError",
    "CorrectionsSummary",
    "Decision",
    "DecisionOutcome",
    "FieldSpec",
    "FieldSpecs",
    "FileOutcome",
    "NotAWorklist",
    "Rejected",
    "ReturnedRow",
    "ReturnedWorkbook",
    "apply_file",
    "apply_overrides",
    "check_decision",
    "check_scope",
    "check_value",
    "corrections_dir",
    "default_specs",
    "describe",
    "file_hash",
    "load_field_specs",
    "parse_decided_on",
    "pending_files",
    "process_pending",
    "read_returned",
    "unprocessed_files",
    "validate",
    "validate_and_apply_decision",
]
