"""Raw assets: one per registry in connectors/sources.yml, plus the reference data.

Each asset ingests its file of one delivery (the partition) into raw.<source>. A rejected file does
not fail the asset, so the rest of the delivery and the dbt models still run; the rejection shows
as a failed `file_accepted` check with the reason, and in ingest.file_log.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset,
    multi_asset,
)

from connectors.ingest import ingest_file, ingest_reference
from connectors.spec import load_specs
from pipelines.partitions import deliveries
from pipelines.resources import HubResource
from quality.gx_suites import validate_source_delivery


def _file_metadata(result) -> dict:
    return {
        "source_file": result.source_file,
        "status": result.status,
        "rows_read": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "message": MetadataValue.text(result.message or ""),
    }


def build_raw_asset(spec):
    key = AssetKey(["raw", spec.name])

    @asset(
        key=key,
        partitions_def=deliveries,
        group_name="raw",
        kinds={"python", "duckdb"},
        description=f"{spec.department}: {spec.description}",
        metadata={"department": spec.department, "file": spec.file},
        check_specs=[
            AssetCheckSpec("file_accepted", asset=key, description="The delivered file could be read (not rejected)."),
            AssetCheckSpec("gx_expectations", asset=key, description="Great Expectations suite for this source."),
        ],
    )
    def _raw(context: AssetExecutionContext, hub: HubResource):
        delivery = context.partition_key
        with hub.connect() as con:
            result = ingest_file(con, hub.inbox_path, delivery, spec)
            context.log.info(
                f"{spec.name} {delivery}: {result.status}, {result.rows_loaded} rows loaded, "
                f"{result.rows_quarantined} quarantined"
            )
            yield MaterializeResult(asset_key=key, metadata=_file_metadata(result))
            yield AssetCheckResult(
                asset_key=key,
                check_name="file_accepted",
                passed=result.status != "rejected",
                severity=AssetCheckSeverity.ERROR,
                metadata={"status": result.status, "message": MetadataValue.text(result.message or "")},
            )
            if result.status in ("loaded", "skipped"):
                outcome = validate_source_delivery(con, spec, delivery)
                yield AssetCheckResult(
                    asset_key=key,
                    check_name="gx_expectations",
                    passed=outcome.success,
                    severity=AssetCheckSeverity.WARN,
                    metadata={
                        "evaluated": outcome.evaluated,
                        "failed": outcome.failed,
                        "failed_expectations": MetadataValue.text("\n".join(outcome.failed_descriptions()) or "none"),
                        "rows": outcome.rows or 0,
                        "rows_validated": outcome.sampled or outcome.rows or 0,
                    },
                )
            else:
                yield AssetCheckResult(
                    asset_key=key,
                    check_name="gx_expectations",
                    passed=True,
                    severity=AssetCheckSeverity.WARN,
                    description=f"not run: file {result.status}",
                    metadata={"status": result.status},
                )
        if result.status == "rejected":
            context.log.error(f"rejected {result.source_file}: {result.message}")

    return _raw


_specs = load_specs()
raw_assets = [build_raw_asset(spec) for spec in _specs.sources.values()]
_reference_keys = [AssetKey(["raw", name]) for name in _specs.reference]


@multi_asset(
    specs=[AssetSpec(k, group_name="reference", kinds={"python", "duckdb"}) for k in _reference_keys],
    partitions_def=deliveries,
    name="reference_data",
    description="Divisions and the standard address library, reloaded when the files change.",
)
def reference_data(context: AssetExecutionContext, hub: HubResource):
    with hub.connect() as con:
        results = ingest_reference(con, hub.inbox_path)
    by_name = {r.source: r for r in results}
    for k in _reference_keys:
        r = by_name.get(k.path[-1])
        if r is not None and r.status == "rejected":
            raise RuntimeError(f"reference file {r.source_file} rejected: {r.message}")
        yield MaterializeResult(asset_key=k, metadata=_file_metadata(r) if r else {})
