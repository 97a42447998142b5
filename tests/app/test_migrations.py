"""The app database's migrations: they build exactly the tables the models describe, on SQLite and
PostgreSQL, and go down and up again (a later issue's revision will be added to this chain)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.db import alembic_config, current_revision, make_engine, target_metadata, upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.sqlite'}"
    return request.getfixturevalue("pg_cluster").new_database("migrations")


def test_migrations_build_the_models_and_go_down_and_up(url):
    from alembic import command

    script = ScriptDirectory.from_config(alembic_config(url))
    assert len(script.get_heads()) == 1, "one chain of revisions (merge heads when two issues add theirs)"
    upgrade(url)
    assert current_revision(url) == script.get_current_head()
    engine = make_engine(url)
    with engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), target_metadata())
    assert diff == [], f"the models and the migrations disagree: {diff}"
    assert {"users", "login_sessions", "login_attempts", "verifications", "follow_ups", "report", "incident"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    assert current_revision(url) == script.get_current_head()
