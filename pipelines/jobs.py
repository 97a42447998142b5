"""The one job that does everything for a delivery: ingest, stage, match, check, write for the streets, publish."""

from dagster import AssetSelection, define_asset_job, in_process_executor

# In-process: DuckDB allows one writer, so steps must not run in parallel processes. The partitions
# (one per delivery) are the assets' own: every asset is partitioned by `pipelines.partitions`.
civichub_job = define_asset_job(
    name="civichub_job",
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Ingest a delivery, build staging models, run every check.",
)
