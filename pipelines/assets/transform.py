"""dbt models (staging today; matching and master marts later) as Dagster assets.

dbt tests surface as Dagster asset checks. The partition (delivery) is passed as a dbt var.
"""


import json

from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines.dbt_project import civichub_dbt
from pipelines.partitions import deliveries


class CivicHubDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props):
        fqn = dbt_resource_props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else "dbt"


# The quality rules (models/quality) read the master tables, which Python writes after the matching
# models: they are a second dbt step, after the master assets (their dbt sources `master.*` map to
# the asset keys master/<table>).
QUALITY_MODELS = "path:models/quality"


@dbt_assets(
    manifest=civichub_dbt.manifest_path,
    project=civichub_dbt,
    # quality rules and targeting models read the master tables: their own dbt assets, after master
    exclude=f"{QUALITY_MODELS} path:models/targeting",
    partitions_def=deliveries,
    dagster_dbt_translator=CivicHubDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def civichub_dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    dbt_vars = {"delivery": context.partition_key}
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()


@dbt_assets(
    manifest=civichub_dbt.manifest_path,
    project=civichub_dbt,
    select=QUALITY_MODELS,
    name="civichub_dbt_quality_rules",
    partitions_def=deliveries,
    dagster_dbt_translator=CivicHubDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def civichub_dbt_quality_rules(context: AssetExecutionContext, dbt: DbtCliResource):
    dbt_vars = {"delivery": context.partition_key}
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()
