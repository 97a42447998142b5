"""Dagster entry point: `dagster dev -m pipelines.definitions`."""

from dagster import Definitions

from pipelines.assets.ingestion import raw_assets, reference_data
from pipelines.assets.master import person_household_master, shop_master
from pipelines.assets.quality import finding, gx_master_suites
from pipelines.assets.sharing import build_sharing_assets
from pipelines.assets.streets import corrections_job, monthly_reports, worklists
from pipelines.assets.targeting import targeting_assets
from pipelines.assets.transform import civichub_dbt_models, civichub_dbt_quality_rules
from pipelines.jobs import civichub_job
from pipelines.resources import build_resources
from pipelines.sensors import app_submissions_sensor_for, corrections_sensor_for, new_delivery_sensor_for

# Everything that builds data; the catalog and publishing come after all of it (they depend on
# every asset listed here, so an asset added to this list is catalogued and published after).
core_assets = [
    *raw_assets,
    reference_data,
    civichub_dbt_models,
    person_household_master,
    shop_master,
    civichub_dbt_quality_rules,
    finding,
    worklists,
    monthly_reports,
    *targeting_assets,
]

defs = Definitions(
    assets=[*core_assets, *build_sharing_assets(core_assets)],
    asset_checks=[gx_master_suites],
    jobs=[civichub_job, corrections_job],
    sensors=[
        new_delivery_sensor_for(civichub_job),
        corrections_sensor_for(corrections_job),
        app_submissions_sensor_for(corrections_job),
    ],
    resources=build_resources(),
)
