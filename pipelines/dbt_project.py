"""The dbt project as Dagster sees it, with its manifest prepared when missing.

`prepare_if_dev()` only acts under `dagster dev`; the CLI, tests and CI load these definitions
without it, so a missing manifest is built here with `dbt parse`.
"""

from __future__ import annotations

from dagster_dbt import DbtProject

from pipelines import settings

settings.configure()

civichub_dbt = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)
civichub_dbt.prepare_if_dev()
if not civichub_dbt.manifest_path.exists():
    civichub_dbt.preparer.prepare(civichub_dbt)
