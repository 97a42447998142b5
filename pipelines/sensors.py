"""Start a run when a new delivery folder (YYYY-MM) appears in the inbox.

The sensor does not open DuckDB (a read lock would block a running job): it compares the inbox with
the known partitions. Runs are queued one at a time (see settings.prepare_dagster_home), oldest first.
"""

import hashlib

from dagster import RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from app.intake import pending_marker
from connectors.ingest import list_deliveries
from pipelines.partitions import deliveries
from pipelines.resources import HubResource
from quality.corrections import file_hash, pending_files


def new_delivery_sensor_for(job):
    @sensor(job=job, minimum_interval_seconds=60, description="New delivery folder in the inbox → run the hub job.")
    def new_delivery_sensor(context: SensorEvaluationContext, hub: HubResource):
        known = set(context.instance.get_dynamic_partitions(deliveries.name))
        new = [d for d in list_deliveries(hub.inbox_path) if d not in known]
        if not new:
            return SkipReason("no new delivery folder")
        return SensorResult(
            run_requests=[RunRequest(partition_key=d, run_key=f"delivery-{d}") for d in new],
            dynamic_partitions_requests=[deliveries.build_add_request(new)],
        )

    return new_delivery_sensor


def corrections_sensor_for(job):
    """Start `corrections_job` when a returned worklist appears (or changes) in <inbox>/corrections/.

    The run key is the files' content hashes: the same files never start two runs, and the job itself
    skips content it has already taken in (quality.correction_file_log)."""

    @sensor(
        job=job,
        minimum_interval_seconds=60,
        description="Returned worklist in inbox/corrections → take in the corrections.",
    )
    def corrections_sensor(context: SensorEvaluationContext, hub: HubResource):
        files = pending_files(hub.inbox_path)
        if not files:
            return SkipReason("no returned worklist in corrections/")
        digest = hashlib.sha256("".join(sorted(file_hash(p) for p in files)).encode()).hexdigest()[:16]
        if context.cursor == digest:
            return SkipReason("no new or changed file in corrections/")
        context.update_cursor(digest)
        return RunRequest(run_key=f"corrections-{digest}")

    return corrections_sensor


def app_submissions_sensor_for(job):
    """Start `corrections_job` when the street app holds verifications or follow-ups not yet taken in.

    Reads the app database only (never DuckDB); the run key is the newest id pending of each kind, so a
    new submission starts one run and the same submissions never start two."""

    @sensor(
        job=job,
        minimum_interval_seconds=60,
        description="Verifications or follow-ups saved in the street app → take them in.",
    )
    def app_submissions_sensor(context: SensorEvaluationContext, hub: HubResource):
        marker = pending_marker(hub.db_path)
        if marker is None:
            return SkipReason("nothing pending in the street app")
        if context.cursor == marker:
            return SkipReason("these submissions are already being taken in")
        context.update_cursor(marker)
        return RunRequest(run_key=f"app-{marker}")

    return app_submissions_sensor
