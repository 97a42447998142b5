"""dbt models as Dagster assets, in three dbt steps per delivery.

dbt tests surface as Dagster asset checks. The partition (delivery) and the matching settings
(matching/matching.yml) are passed as dbt vars. The main
step builds staging and matching; the quality rules (models/quality) and the targeting facts
(models/targeting) read the master tables, which Python writes after the matching models, so each is
a dbt step of its own after the master assets (their dbt sources `master.*` map to the asset keys
master/<table>).

The steps need the dbt manifest, so they are built by `build_dbt_assets()` when the definitions are
built, not at import. A dbt model's asset key is [schema, model] (e.g. matching/int_person_clusters).
"""

import functools
import json

from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from matching.config import dbt_vars
from pipelines.dbt_project import civichub_dbt
from pipelines.partitions import deliveries


class CivicHubDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props):
        fqn = dbt_resource_props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else "dbt"


# the quality rules, with the tests of the master tables (sources written by Python) they read
QUALITY_MODELS = "path:models/quality source:master"
TARGETING_MODELS = "path:models/targeting"


def delivery_dbt_assets(name: str, select: str = "fqn:*", exclude: str | None = None, source_tests: bool = False):
    """A partitioned `dbt build` of the selected models for one delivery (source_tests: the tests of the
    sources it reads are its checks too)."""

    @dbt_assets(
        manifest=civichub_dbt().manifest_path,
        project=civichub_dbt(),
        select=select,
        exclude=exclude,
        name=name,
        partitions_def=deliveries,
        dagster_dbt_translator=CivicHubDbtTranslator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=source_tests)
        ),
    )
    def _dbt_step(context: AssetExecutionContext, dbt: DbtCliResource):
        # the delivery and matching/matching.yml's settings
        yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars(context.partition_key))], context=context).stream()

    return _dbt_step


@functools.cache
def build_dbt_assets() -> tuple:
    """The three dbt steps of a delivery: staging and matching; the quality rules; the targeting facts."""
    return (
        delivery_dbt_assets("civichub_dbt_models", exclude=f"{QUALITY_MODELS} {TARGETING_MODELS}"),
        delivery_dbt_assets("civichub_dbt_quality_rules", select=QUALITY_MODELS, source_tests=True),
        delivery_dbt_assets("targeting_dbt_models", select=TARGETING_MODELS),
    )
