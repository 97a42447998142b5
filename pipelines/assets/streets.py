"""What goes back to the streets: worklists (核实清单) and rosters per committee, monthly reports
(多表合一), and the corrections that come back (`corrections_job`, started by `corrections_sensor`).

No `from __future__ import annotations` here: Dagster reads the context type hints at runtime.
"""

from dagster import (
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

from pipelines.partitions import deliveries
from pipelines.resources import HubResource
from quality.corrections import describe, process_pending
from quality.reports import report_root, write_monthly_reports
from quality.worklists import worklist_root, write_worklists

# Built after the findings and the master data.
UPSTREAM = [
    AssetKey(["quality", "finding"]),
    AssetKey(["master", "person"]),
    AssetKey(["master", "household"]),
    AssetKey(["master", "shop"]),
]


@asset(
    key=AssetKey(["quality", "worklists"]),
    deps=UPSTREAM,
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
    )
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(s.folder)),
            "worklists": s.worklists,
            "finding_rows": s.rows,
            "rosters": s.rosters,
            "unrouted_rows": s.unrouted_rows,
        }
    )


@asset(
    key=AssetKey(["reports", "monthly"]),
    deps=UPSTREAM,
    partitions_def=deliveries,
    group_name="streets",
    kinds={"python", "excel"},
    description="Monthly reports per committee (多表合一) from master data: aid roster with amounts and totals "
    "per type, elderly living alone, street shops with licence status: <db dir>/out/reports/<delivery>/.",
)
def monthly_reports(context: AssetExecutionContext, hub: HubResource):
    with hub.connect() as con:
        s = write_monthly_reports(con, report_root(hub.db_path), context.partition_key)
    context.log.info(f"reports {s.delivery}: {s.reports} committees → {s.folder}")
    return MaterializeResult(
        metadata={
            "folder": MetadataValue.path(str(s.folder)),
            "reports": s.reports,
            "aid_families": s.aid_families,
            "elderly_alone": s.elderly,
            "shops": s.shops,
        }
    )


@op(description="Validate and apply the returned worklists in <inbox>/corrections/ (once per file content).")
def take_in_corrections(context: OpExecutionContext, hub: HubResource):
    with hub.connect() as con:
        s = process_pending(con, hub.inbox_path)
    for line in describe(s) or ["  no new returned worklist"]:
        context.log.info(line)
    return s


@job(
    executor_def=in_process_executor,
    description="Take in the worklists the streets returned: decisions, overrides on the master data, audit.",
)
def corrections_job():
    take_in_corrections()
