"""The dbt project as Dagster sees it, with its manifest prepared when missing or stale.

`prepare_if_dev()` only acts under `dagster dev`; the CLI, tests and CI load these definitions
without it, so the manifest is rebuilt here (`dbt parse`) when absent or older than any model,
macro or project file: a stale manifest would hide new models from the asset graph.
"""

from dagster_dbt import DbtProject

from pipelines import settings

settings.configure()

civichub_dbt = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)


def _manifest_is_stale() -> bool:
    manifest = civichub_dbt.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    project = settings.DBT_PROJECT_DIR
    sources = [project / "dbt_project.yml", project / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        sources.extend(p for p in (project / folder).rglob("*") if p.is_file())
    return any(p.exists() and p.stat().st_mtime > built for p in sources)


civichub_dbt.prepare_if_dev()
if _manifest_is_stale():
    civichub_dbt.preparer.prepare(civichub_dbt)
