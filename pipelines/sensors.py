"""Start a run when a new delivery folder (YYYY-MM) appears in the inbox.

The sensor does not open DuckDB (a read lock would block a running job): it compares the inbox with
the known partitions. Runs are queued one at a time (see settings._write_dagster_yaml), oldest first.
"""


from dagster import RunRequest, SensorEvaluationContext, SensorResult, SkipReason, sensor

from connectors.ingest import list_deliveries
from pipelines.partitions import deliveries
from pipelines.resources import HubResource


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
