"""Clerical review of uncertain person matches: the queue, the spreadsheet round trip, the decisions.

Pairs whose match probability lies in the review band (matching.yml: review_floor <= p < accept)
and whose records did not end in one person are listed by the dbt model int_person_review_queue,
with both records' evidence side by side and ID numbers and phones already masked. A reviewer
confirms (same person) or rejects (two people) a pair; the decision is kept in
review.person_decisions, keyed by the two records' fingerprints (same source, same identifying
content), so it holds in every later delivery where those records appear again. int_person_clusters
applies the decisions on each build: a confirmed pair is merged before any score, a rejected pair is
never linked directly.

One row per pair in review.person_decisions (the latest decision wins); every decision as made is
also appended to review.person_decision_log (who decided what, when: PIPL art. 56 processing records).

DuckDB allows one writer: callers pass a connection they hold briefly, or a database path that is
opened here in a short `with` block.

The package: `queue` (the queue and its tables, the terminal listing), `decisions` (one decision
kept), `workbook` (the spreadsheet a reviewer fills in, and reading it back).
"""

from matching.review.decisions import Decision, decisions, normalise_decision, record_decision
from matching.review.queue import (
    CONFIRM,
    DDL,
    DECISIONS_TABLE,
    LOG_TABLE,
    QUEUE_TABLE,
    REJECT,
    ReviewError,
    format_queue,
    list_queue,
)
from matching.review.workbook import ImportReport, export_queue, import_decisions, queue_sheet

__all__ = [
    "CONFIRM",
    "DDL",
    "DECISIONS_TABLE",
    "LOG_TABLE",
    "QUEUE_TABLE",
    "REJECT",
    "Decision",
    "ImportReport",
    "ReviewError",
    "decisions",
    "export_queue",
    "format_queue",
    "import_decisions",
    "list_queue",
    "normalise_decision",
    "queue_sheet",
    "record_decision",
]
