"""Quality findings (quality.finding): the rules' candidates of a delivery merged into a stateful table.

The rules are dbt models (dbt_project/models/quality, run after the master assets); this asset keeps
the state across deliveries (quality/findings.py): new findings open, findings gone resolved, the
streets' decisions applied. Checks here are promises the findings table makes to the worklists.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset_check,
)

from pipelines.partitions import deliveries
from pipelines.resources import HubResource
from quality import findings, gx_master

FINDING = AssetKey(["quality", "finding"])


@asset(
    key=FINDING,
    deps=[
        AssetKey(["quality", "int_quality_findings"]),
        AssetKey(["master", "person"]),
        AssetKey(["master", "household"]),
        AssetKey(["master", "shop"]),
    ],
    group_name="quality",
    kinds={"python", "duckdb"},
    partitions_def=deliveries,
    check_specs=[
        AssetCheckSpec(
            "finding_ids_unique",
            asset=FINDING,
            description="One row per finding id; every status is open, resolved or rejected.",
        ),
        AssetCheckSpec(
            "findings_routed_to_committee",
            asset=FINDING,
            description="Open findings of this delivery carry a street and committee code (routed through the standard address).",
        ),
        AssetCheckSpec(
            "findings_point_at_a_record",
            asset=FINDING,
            description="Every finding of this delivery names its source file and row, rule, field and a Chinese message.",
        ),
    ],
    description="Quality findings with stable ids, routed to street and committee; open / resolved / rejected across deliveries.",
)
def finding(context: AssetExecutionContext, hub: HubResource):
    delivery = context.partition_key
    with hub.connect() as con:
        summary = findings.merge_delivery(con, delivery)
        context.log.info(
            f"findings {delivery}: {summary.candidates} this delivery ({summary.new} new); "
            f"{summary.open} open, {summary.resolved} resolved, {summary.rejected} rejected"
        )
        yield MaterializeResult(
            metadata={
                "candidates": summary.candidates,
                "new": summary.new,
                "open": summary.open,
                "resolved": summary.resolved,
                "rejected": summary.rejected,
                **{f"open/{rule}": n for rule, n in summary.by_rule.items()},
            }
        )
        dup, bad_status = con.execute(
            f"""select count(*) - count(distinct finding_id),
                       count(*) filter (where status not in ({", ".join(repr(s) for s in findings.STATUSES)}))
                from quality.finding"""
        ).fetchall()[0]
        yield AssetCheckResult(
            check_name="finding_ids_unique",
            passed=dup == 0 and bad_status == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"duplicated_ids": dup, "bad_status": bad_status},
        )
        total, unrouted = con.execute(
            """select count(*), count(*) filter (where street_code is null or community_code is null)
               from quality.finding where last_seen = ? and status = 'open'""",
            [delivery],
        ).fetchall()[0]
        yield AssetCheckResult(
            check_name="findings_routed_to_committee",
            passed=unrouted <= 0.05 * max(total, 1),
            severity=AssetCheckSeverity.WARN,
            metadata={"open_findings": total, "without_committee": unrouted},
        )
        incomplete = con.execute(
            """select count(*) from quality.finding where last_seen = ?
               and (source_file is null or source_row is null or rule is null or message is null or field is null)""",
            [delivery],
        ).fetchall()[0][0]
        yield AssetCheckResult(
            check_name="findings_point_at_a_record",
            passed=incomplete == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"incomplete_findings": incomplete},
        )


MASTER_SUITES = {
    "person": AssetKey(["master", "person"]),
    "household": AssetKey(["master", "household"]),
    "shop": AssetKey(["master", "shop"]),
}


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            "gx_master_suite",
            asset=key,
            description=f"Great Expectations suite for master.{table} (ids, codes, value sets); results in the Data Docs.",
        )
        for table, key in MASTER_SUITES.items()
    ],
    name="gx_master_suites",
)
def gx_master_suites(context, hub: HubResource):
    with hub.connect() as con:
        delivery = context.partition_key if context.has_partition_key else ""
        outcomes = gx_master.validate_master_tables(con, hub.db_path, delivery)
    docs = gx_master.data_docs_index(hub.db_path)
    context.log.info(f"Great Expectations Data Docs: {docs}")
    for table, key in MASTER_SUITES.items():
        o = outcomes.get(table)
        if o is None:
            yield AssetCheckResult(
                asset_key=key,
                check_name="gx_master_suite",
                passed=True,
                severity=AssetCheckSeverity.WARN,
                description=f"master.{table} does not exist yet",
            )
            continue
        yield AssetCheckResult(
            asset_key=key,
            check_name="gx_master_suite",
            passed=o.success,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "rows": o.rows,
                "evaluated": o.evaluated,
                "failed": len(o.failed),
                "failed_expectations": MetadataValue.text("\n".join(o.failed) or "none"),
                "data_docs": MetadataValue.path(str(docs)),
            },
        )
