"""Dagster entry point: `dagster dev -m pipelines.definitions`."""

from dagster import Definitions

from pipelines.assets.ingestion import raw_assets, reference_data
from pipelines.assets.master import person_household_master, shop_master
from pipelines.assets.targeting import targeting_assets
from pipelines.assets.transform import civichub_dbt_models
from pipelines.jobs import civichub_job
from pipelines.resources import build_resources
from pipelines.sensors import new_delivery_sensor_for

defs = Definitions(
    assets=[*raw_assets, reference_data, civichub_dbt_models, person_household_master, shop_master,
            *targeting_assets],
    jobs=[civichub_job],
    sensors=[new_delivery_sensor_for(civichub_job)],
    resources=build_resources(),
)
