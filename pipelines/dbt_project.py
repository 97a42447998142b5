"""The dbt project as Dagster sees it, built once per process when the definitions are built.

`prepare_if_dev()` only acts under `dagster dev`; the CLI, tests and CI build the definitions
without it, so the manifest is rebuilt here (`dbt parse`) when absent or older than any model,
macro or project file: a stale manifest would hide new models from the asset graph. Nothing runs at
import: `civichub_dbt()` does the work on its first call.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.settings import DBT_PROJECT_DIR


def manifest_is_stale(manifest: Path, project_dir: Path = DBT_PROJECT_DIR) -> bool:
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [project_dir / "dbt_project.yml", project_dir / "profiles.yml"]
    for folder in ("models", "macros", "tests", "seeds", "snapshots"):
        sources.extend(p for p in (project_dir / folder).rglob("*") if p.is_file())
    return any(p.exists() and p.stat().st_mtime > built for p in sources)


def _dbt_of_this_interpreter_on_path() -> None:
    """dagster-dbt parses with a `dbt` subprocess found on PATH: a run started as
    `.venv/bin/civichub run` without the venv activated would not find the venv's own `dbt`."""
    here = Path(sys.executable).parent
    if shutil.which("dbt") is None and (here / "dbt").exists():
        os.environ["PATH"] = f"{here}{os.pathsep}{os.environ.get('PATH', '')}"


@functools.cache
def civichub_dbt() -> DbtProject:
    """The dbt project with a current manifest (parsed now when missing or stale)."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    if manifest_is_stale(Path(project.manifest_path)):
        _dbt_of_this_interpreter_on_path()
        project.preparer.prepare(project)
    return project
