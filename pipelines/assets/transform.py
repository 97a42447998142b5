"""dbt models as Dagster assets, in three dbt steps per delivery, run inside the Dagster process.

The main step builds staging and matching; the quality rules (models/quality) and the targeting
facts (models/targeting) read the master tables, which Python writes after the matching models, so
each is a dbt step of its own after the master assets (their dbt sources `master.*` map to the
asset keys master/<table>). The steps cost what their models cost: dbt is parsed once per process
and invoked in-process (pipelines/dbt_runner.py), so three steps are not three dbt start-ups.

dbt tests of severity `error` (the keys the master data relies on) are blocking Dagster asset
checks; the warning tests are batched into their model's materialization metadata.
The partition (delivery) and the matching settings (matching/matching.yml) are passed as dbt vars.

The steps need the dbt manifest, so they are built by `build_dbt_assets()` when the definitions are
built, not at import. A dbt model's asset key is [schema, model] (e.g. matching/int_person_clusters).
"""

import functools

from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from matching.config import dbt_vars
from pipelines.dbt_project import civichub_dbt
from pipelines.dbt_runner import build_events
from pipelines.partitions import deliveries


class CivicHubDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props):
        fqn = dbt_resource_props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else "dbt"

    def is_blocking_test(self, manifest, test_unique_id: str) -> bool:
        test = manifest["nodes"].get(test_unique_id) or {}
        return str(test.get("config", {}).get("severity") or "error").lower() == "error"

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        # warning tests are not an asset check each: dbt_runner batches them per model
        if not self.is_blocking_test(manifest, unique_id):
            return None
        return super().get_asset_check_spec(asset_spec, manifest, unique_id, project)


TRANSLATOR = CivicHubDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
QUALITY_MODELS = "path:models/quality"
TARGETING_MODELS = "path:models/targeting"


def delivery_dbt_assets(name: str, select: str = "fqn:*", exclude: str | None = None):
    """A partitioned `dbt build` of the selected models for one delivery."""

    @dbt_assets(
        manifest=civichub_dbt().manifest_path,
        project=civichub_dbt(),
        select=select,
        exclude=exclude,
        name=name,
        partitions_def=deliveries,
        dagster_dbt_translator=TRANSLATOR,
    )
    def _dbt_step(context: AssetExecutionContext):
        # the delivery and matching/matching.yml's settings
        yield from build_events(context, TRANSLATOR, dbt_vars(context.partition_key))

    return _dbt_step


@functools.cache
def build_dbt_assets() -> tuple:
    """The three dbt steps of a delivery: staging and matching; the quality rules; the targeting facts."""
    return (
        delivery_dbt_assets("civichub_dbt_models", exclude=f"{QUALITY_MODELS} {TARGETING_MODELS}"),
        delivery_dbt_assets("civichub_dbt_quality_rules", select=QUALITY_MODELS),
        delivery_dbt_assets("targeting_dbt_models", select=TARGETING_MODELS),
    )
