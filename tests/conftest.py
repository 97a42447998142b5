"""Shared fixtures: one generated district and one hub run per test session, for every test file.

Generating is deterministic for a seed, so a district is made once per session and copied where a
test needs to change it. The whole job is run on it once (`hub_run`); tests that use it only read
it. Tests that need to change the hub's data take `hub_copy` (a private copy of the database and
its output folder) instead of running the job again.

With `pytest -n 2` (./dev test) every test that uses `hub_run` or `hub_copy` is put in one xdist
group (`--dist loadgroup`): one worker makes the run and runs those tests, the other worker runs the
rest meanwhile, so the session pays for one hub run, not one per worker. A new test file (the web
app, citizen reports) gets this by asking for the fixture; nothing to configure. Likewise the tests
of a module that share a module-scoped fixture (a generated month, a compiled project) form a group.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest

# pyspark (the spark extra) exits the process when pyspark.sql.connect is imported from a __main__
# with neither spec nor file (it takes that for its own doctests); an xdist worker's __main__ is such
# a module, and Great Expectations imports pyspark.sql.connect whenever pyspark is installed.
import __main__  # noqa: E402  isort: skip

if getattr(__main__, "__spec__", None) is None and not hasattr(__main__, "__file__"):
    # a real, empty file: a `spawn` process pool runs the parent's __main__ file in each worker
    __main__.__file__ = str(Path(__file__).with_name("xdist_worker_main.py"))

SMALL_PERSONS = 3_000
HUB_GROUP = "hub_run"
HUB_FIXTURES = {"hub_run", "hub_copy"}  # and every fixture built on them (fixturenames is the closure)


SPARK_TESTS_ENV = "CIVICHUB_SPARK_TESTS"  # .ci/run sets it: the tests that start a JVM run in CI


def _module(item) -> str:
    """The test's file, as its node id names it (`tests/test_pipeline.py`)."""
    return item.nodeid.split("::")[0]


def _module_fixture(item) -> bool:
    """Whether the test uses a fixture built once per module (a generated district, a compiled project)."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info else ()
    return any(d and d[-1].scope == "module" for d in defs)


# tryfirst: xdist's own hook (--dist loadgroup) reads the xdist_group markers into the node ids, so they
# must be on the items before it runs. (pytest 9.2 keeps a node id where pytest-xdist 3.8 does not write
# it, so with it every group is silently ignored: pytest stays at 9.1 in pyproject.toml.)
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    skip_spark = pytest.mark.skip(reason=f"starts a Spark JVM: set {SPARK_TESTS_ENV}=1 (.ci/run does)")
    for item in items:
        if item.get_closest_marker("spark") and os.environ.get(SPARK_TESTS_ENV) != "1":
            item.add_marker(skip_spark)
        if HUB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group(HUB_GROUP))
        elif _module_fixture(item):
            # the tests of a module that share a module fixture run on one worker: it is built once
            item.add_marker(pytest.mark.xdist_group(_module(item)))
    # the modules with long tests first (stable: a module's tests stay together and in order), so that
    # no worker is handed a two-minute test while the other has nothing left (xdist hands out the groups
    # largest first, then the single tests in this order)
    long_modules = {_module(item) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: _module(item) not in long_modules)


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


class HubRun(NamedTuple):
    """The session's hub run: its inbox, its database and the run summary (unpacks as a 3-tuple)."""

    inbox: Path
    db: Path
    summary: object

    @property
    def out(self) -> Path:
        from pipelines.settings import output_dir

        return output_dir(self.db)


@pytest.fixture(scope="session")
def hub_run(small_district, tmp_path_factory) -> HubRun:
    """The small district run through the whole job once: (inbox, db, summary). Tests only read it
    (open the database with `read_only=True`)."""
    from pipelines.run import run_hub

    db = tmp_path_factory.mktemp("hub") / "hub.duckdb"
    summary = run_hub(small_district, db, progress=False)
    return HubRun(small_district, db, summary)


@pytest.fixture()
def hub_copy(hub_run, tmp_path) -> HubRun:
    """A private copy of the session's hub (database and output folder) that a test may change."""
    db = tmp_path / "hub" / "hub.duckdb"
    db.parent.mkdir(parents=True)
    shutil.copy(hub_run.db, db)
    if hub_run.out.is_dir():
        shutil.copytree(hub_run.out, db.parent / "out")
    return HubRun(hub_run.inbox, db, hub_run.summary)


@pytest.fixture
def spark(spark_process_session):
    """The Spark session with an empty metastore: a hub has its session (and its warehouse) to itself,
    while the tests of one process share one session, so each test drops the previous hub's schemas
    (its incremental staging tables would otherwise be read as this hub's earlier deliveries)."""
    for database in spark_process_session.catalog.listDatabases():
        if database.name != "default":
            spark_process_session.sql(f"drop database if exists {database.name} cascade")
    return spark_process_session


@pytest.fixture(scope="session")
def spark_process_session(tmp_path_factory):
    """The hub's local Spark session (pipelines/engines.py: local[2], the cn_* functions registered),
    once per test process; skipped where pyspark or Java is missing (.ci/run installs Java)."""
    pytest.importorskip("pyspark", reason="the spark extra: pip install -e '.[dev,spark]'")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (apt-get install openjdk-17-jre-headless; .ci/run does it)")
    from pipelines.engines import spark_session

    return spark_session(str(tmp_path_factory.mktemp("spark") / "hub.duckdb"))
