"""Shared fixtures: small generated districts with their answer key.

Generating is deterministic for a seed, so a district is made once per test session and copied
where a test needs to change it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

SMALL_PERSONS = 3_000


@pytest.fixture(scope="session", autouse=True)
def _isolated_dagster_home(tmp_path_factory):
    # Tests never touch the user's data/ folder or Dagster storage.
    home = tmp_path_factory.mktemp("dagster_home")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("CIVICHUB_INBOX", str(tmp_path_factory.mktemp("default_inbox")))
    os.environ.setdefault("CIVICHUB_DB", str(tmp_path_factory.mktemp("default_db") / "hub.duckdb"))
    yield


@pytest.fixture(scope="session")
def small_district(tmp_path_factory) -> Path:
    """A 2-month district of a few thousand persons, default noise."""
    from synthetic.generate import generate

    out = tmp_path_factory.mktemp("district") / "inbox"
    generate(out_dir=out, persons=SMALL_PERSONS, months=2, seed=11, noise=1.0)
    return out


@pytest.fixture()
def district_copy(small_district, tmp_path) -> Path:
    dst = tmp_path / "inbox"
    shutil.copytree(small_district, dst)
    return dst


@pytest.fixture(scope="session")
def hub_run(small_district, tmp_path_factory):
    """The small district run through the whole job once: (inbox, db, summary). Tests only read it."""
    from pipelines.run import run_hub

    db = tmp_path_factory.mktemp("hub") / "hub.duckdb"
    summary = run_hub(small_district, db)
    return small_district, db, summary
