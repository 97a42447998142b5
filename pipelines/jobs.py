"""The one job that does everything for a delivery: ingest, stage, check (later: match, publish)."""

from dagster import AssetSelection, define_asset_job, in_process_executor

from pipelines.partitions import deliveries

# In-process: DuckDB allows one writer, so steps must not run in parallel processes.
civichub_job = define_asset_job(
    name="civichub_job",
    selection=AssetSelection.all(),
    partitions_def=deliveries,
    executor_def=in_process_executor,
    description="Ingest a delivery, build staging models, run every check.",
)
