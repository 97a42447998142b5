"""Dagster entry point: `dagster dev -m pipelines.definitions`.

The definitions are built on first use (`build_definitions()`, cached), not at import: building them
parses the dbt project when its manifest is stale and prepares Dagster's home folder.
"""

import functools

import dagster as dg

from pipelines import settings
from pipelines.assets.ingestion import raw_assets, reference_data
from pipelines.assets.master import person_household_master, shop_master
from pipelines.assets.quality import finding, gx_master_suites
from pipelines.assets.sharing import build_sharing_assets
from pipelines.assets.streets import corrections_job, monthly_reports, worklists
from pipelines.assets.targeting import targeting_data_assets, targeting_report_assets
from pipelines.assets.transform import build_dbt_assets
from pipelines.jobs import civichub_job
from pipelines.resources import build_resources
from pipelines.sensors import app_submissions_sensor_for, corrections_sensor_for, new_delivery_sensor_for


@functools.cache
def build_definitions() -> dg.Definitions:
    settings.prepare_dagster_home(settings.configure())
    dbt_models, dbt_quality_rules, dbt_targeting_facts = build_dbt_assets()
    # Everything that builds data; the catalog and publishing come after all of it (they depend on
    # every asset listed here, so an asset added to this list is catalogued and published after).
    core_assets = [
        *raw_assets,
        reference_data,
        dbt_models,
        person_household_master,
        shop_master,
        dbt_quality_rules,
        finding,
        dbt_targeting_facts,
        *targeting_data_assets,
    ]
    # Workbooks for the streets, written from that data: nothing depends on them, so one that fails
    # is reported (a failed check, or a failed step) while the catalog and publishing still run.
    report_assets = [worklists, monthly_reports, *targeting_report_assets]
    return dg.Definitions(
        assets=[*core_assets, *report_assets, *build_sharing_assets(core_assets)],
        asset_checks=[gx_master_suites],
        jobs=[civichub_job, corrections_job],
        sensors=[
            new_delivery_sensor_for(civichub_job),
            corrections_sensor_for(corrections_job),
            app_submissions_sensor_for(corrections_job),
        ],
        resources=build_resources(),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
