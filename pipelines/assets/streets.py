"""What goes back to the streets: worklists (核实清单) and rosters per committee, monthly reports
(多表合一), and the corrections that come back (`corrections_job`, started by `corrections_sensor`).

No `from __future__ import annotations` here: Dagster reads the context type hints at runtime.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    OpExecutionContext,
    asset,
    in_process_executor,
    job,
    op,
)

from app.intake import describe as describe_app
from app.intake import take_in
from catalog.spec import load_catalog
from pipelines.partitions import deliveries
from pipelines.resources import HubResource
from quality.corrections import describe, process_pending
from quality.reports import report_root, write_monthly_reports
from quality.worklists import worklist_root, write_worklists
from sharing.publish import default_out_root, publish_all
from sharing.roles import load_roles, streets_from


def files_written_check(check_name: str, summary) -> AssetCheckResult:
    """Every file of the step was written (or kept unchanged); the ones that failed, with why."""
    failed = getattr(summary, "failed", []) or []
    return AssetCheckResult(
        check_name=check_name,
        passed=not failed,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(f"{p.name}: {why}" for p, why in failed[:10])
        + (f" … and {len(failed) - 10} more" if len(failed) > 10 else "")
        if failed
        else "every workbook written",
        metadata={"failed_files": len(failed), "kept_unchanged": getattr(summary, "kept", 0)},
    )


def written_spec(key: AssetKey, check_name: str, what: str) -> AssetCheckSpec:
    return AssetCheckSpec(
        check_name,
        asset=key,
        description=f"Every {what} was written; one that could not be is named here with its reason "
        "(the others are written all the same).",
    )


WORKLISTS = AssetKey(["quality", "worklists"])
MONTHLY_REPORTS = AssetKey(["reports", "monthly"])

# Built after the findings and the master data. Nothing in the job depends on these workbooks: a
# failure here is reported and the catalog and publishing still run (pipelines/definitions.py).
UPSTREAM = [
    AssetKey(["quality", "finding"]),
    AssetKey(["master", "person"]),
    AssetKey(["master", "household"]),
    AssetKey(["master", "shop"]),
]


@asset(
    key=WORKLISTS,
    deps=UPSTREAM,
    check_specs=[written_spec(WORKLISTS, "every_worklist_written", "worklist, roster and street summary")],
    partitions_def=deliveries,
    group_name="streets",
    kinds={"python", "excel"},
    description="One worklist (核实清单) per committee of its open findings, grouped by street, with the "
    "committee's corrected roster (花名册): <db dir>/out/worklists/<delivery>/.",
)
def worklists(context: AssetExecutionContext, hub: HubResource):
    with hub.connect() as con:
        s = write_worklists(con, worklist_root(hub.db_path), context.partition_key)
    context.log.info(
        f"worklists {s.delivery}: {s.worklists} workbooks, {s.rows} findings, {s.rosters} rosters → {s.folder}"
        f" ({s.kept} unchanged, {len(s.failed)} failed)"
    )
    yield MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(s.folder)),
            "worklists": s.worklists,
            "finding_rows": s.rows,
            "rosters": s.rosters,
            "unrouted_rows": s.unrouted_rows,
            "kept_unchanged": s.kept,
        }
    )
    yield files_written_check("every_worklist_written", s)


@asset(
    key=MONTHLY_REPORTS,
    deps=UPSTREAM,
    check_specs=[written_spec(MONTHLY_REPORTS, "every_report_written", "committee's monthly report")],
    partitions_def=deliveries,
    group_name="streets",
    kinds={"python", "excel"},
    description="Monthly reports per committee (多表合一) from master data: aid roster with amounts and totals "
    "per type, elderly living alone, street shops with licence status: <db dir>/out/reports/<delivery>/.",
)
def monthly_reports(context: AssetExecutionContext, hub: HubResource):
    with hub.connect() as con:
        s = write_monthly_reports(con, report_root(hub.db_path), context.partition_key)
    context.log.info(
        f"reports {s.delivery}: {s.reports} committees → {s.folder} ({s.kept} unchanged, {len(s.failed)} failed)"
    )
    yield MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(s.folder)),
            "reports": s.reports,
            "aid_families": s.aid_families,
            "elderly_alone": s.elderly,
            "shops": s.shops,
            "kept_unchanged": s.kept,
        }
    )
    yield files_written_check("every_report_written", s)


@op(
    description="Validate and apply the returned worklists in <inbox>/corrections/ (once per file content) and "
    "the verifications and follow-ups saved in the street app (one code path, two channels)."
)
def take_in_corrections(context: OpExecutionContext, hub: HubResource):
    with hub.connect() as con:
        s = process_pending(con, hub.inbox_path)
        s.app = take_in(con, hub.db_path)
    for line in (describe(s) + describe_app(s.app)) or ["  nothing new from the streets"]:
        context.log.info(line)
    return s


@op(description="Publish again when corrections changed the master data or the findings, so every role sees them.")
def publish_after_corrections(context: OpExecutionContext, hub: HubResource, corrections):
    app = corrections.app
    changed = any(f.accepted for f in corrections.files) or (
        app is not None and (app.verifications_accepted or app.follow_ups_kept)
    )
    if not changed:
        context.log.info("nothing accepted: the published files stay as they are")
        return 0
    catalog = load_catalog()
    with hub.connect() as con:
        roles = load_roles(catalog).expand(streets_from(con))
        report = publish_all(con, catalog, roles, default_out_root(hub.db_path))
    context.log.info(f"published {len(report.roles)} roles again in {report.seconds:.1f}s")
    return len(report.roles)


@job(
    executor_def=in_process_executor,
    description="Take in what the streets sent back (returned worklists, the street app's verifications and "
    "follow-ups): decisions, overrides on the master data, audit; then publish again.",
)
def corrections_job():
    publish_after_corrections(take_in_corrections())
