"""Corrections back from the streets, by two channels and one code path: returned worklists in
`<inbox>/corrections/`, and verifications saved in the street app (app/intake.py calls
`validate_and_apply` for each one). Both go through `check_owner` and `check_verdict`, write the same
tables and the same audit; a decision equal to the finding's latest decision, from either channel, is
the same decision (audited as `same_decision`, nothing added twice).

Each workbook is read and validated row by row:
- the finding exists (quality.finding) and belongs to the workbook's committee;
- the locked cells are untouched (the row checksum, worklist_format.row_checksum);
- 核实结果 is one of worklist_format.DECISIONS (the vocabulary finding_decision), 核实人 is given, 核实日期 (if given) is a date;
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
`workbook` (reading a returned worklist), `decisions` (one decision checked, recorded and applied,
whichever channel; the overrides written onto the master tables), `returned` (the files in
corrections/).
"""

from quality.corrections.decisions import (
    DDL,
    Accepted,
    Decision,
    DecisionOutcome,
    Rejected,
    apply_accepted,
    apply_overrides,
    check_owner,
    check_verdict,
    latest_decision,
    record_rejected,
    refresh_statuses,
    validate_and_apply,
    validate_decision,
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
    CorrectionsSummary,
    FileOutcome,
    apply_file,
    corrections_dir,
    describe,
    file_hash,
    pending_files,
    process_pending,
    unprocessed_files,
    validate,
)
from quality.corrections.workbook import (
    NotAWorklist,
    ReturnedRow,
    ReturnedWorkbook,
    parse_decided_on,
    read_returned,
)

__all__ = [
    "Accepted",
    "CONFIG_PATH",
    "ConfigError",
    "CorrectionsSummary",
    "DDL",
    "Decision",
    "DecisionOutcome",
    "FieldSpec",
    "FieldSpecs",
    "FileOutcome",
    "MASTER_TABLES",
    "NotAWorklist",
    "Rejected",
    "ReturnedRow",
    "ReturnedWorkbook",
    "apply_accepted",
    "apply_file",
    "apply_overrides",
    "check_owner",
    "check_value",
    "check_verdict",
    "corrections_dir",
    "default_specs",
    "describe",
    "file_hash",
    "latest_decision",
    "load_field_specs",
    "parse_decided_on",
    "pending_files",
    "process_pending",
    "read_returned",
    "record_rejected",
    "refresh_statuses",
    "unprocessed_files",
    "validate",
    "validate_and_apply",
    "validate_decision",
]
