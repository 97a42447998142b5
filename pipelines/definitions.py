"""Dagster entry point: `dagster dev -m pipelines.definitions`."""

from dagster import Definitions

from pipelines.assets.ingestion import raw_assets, reference_data
from pipelines.assets.master import person_household_master, shop_master
from pipelines.assets.sharing import build_sharing_assets
from pipelines.assets.transform import civichub_dbt_models
from pipelines.jobs import civichub_job
from pipelines.resources import build_resources
from pipelines.sensors import new_delivery_sensor_for

# Everything that builds data; the catalog and publishing come after all of it (they depend on
# every asset listed here, so an asset added to this list is catalogued and published after).
core_assets = [*raw_assets, reference_data, civichub_dbt_models, person_household_master, shop_master]

defs = Definitions(
    assets=[*core_assets, *build_sharing_assets(core_assets)],
    jobs=[civichub_job],
    sensors=[new_delivery_sensor_for(civichub_job)],
    resources=build_resources(),
)
