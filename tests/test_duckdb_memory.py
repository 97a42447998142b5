"""DuckDB's memory limit and spill folder: one setting, checked up front, on every hub connection.

A delivery run under a small limit still completes (DuckDB spills to the folder beside the
database), and every connection the run opens on the hub's database, dbt's included, carries it: that
run is tests/test_run_resilience.py's worst month.
"""

from __future__ import annotations

import pytest

from pipelines import settings


@pytest.mark.parametrize(
    ("text", "mib"),
    [("4GiB", 4096), ("1.5GiB", 1536), ("512MiB", 512), ("2GB", int(2e9 / 2**20)), ("750 mb", int(750e6 / 2**20))],
)
def test_memory_amounts_are_read_as_duckdb_reads_them(text, mib):
    assert settings.memory_limit_mib(text) == mib


def test_a_share_of_physical_memory_is_resolved_to_mib():
    assert settings.memory_limit_mib("50%") == int(settings.physical_memory_mib() / 2)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("lots", "not a memory amount"),
        ("0%", "between 0 and 100%"),
        ("150%", "between 0 and 100%"),
        ("-1GB", "not a memory amount"),
        ("10MB", "below the 128 MiB"),
    ],
)
def test_an_unusable_limit_is_refused_naming_the_variable(monkeypatch, value, reason):
    monkeypatch.setenv(settings.MEMORY_LIMIT_ENV, value)
    with pytest.raises(settings.ConfigError, match=settings.MEMORY_LIMIT_ENV) as e:
        settings.duckdb_settings("/srv/hub/hub.duckdb")
    assert reason in str(e.value)


def test_the_default_spills_beside_the_database_and_the_variable_moves_it(monkeypatch, tmp_path):
    monkeypatch.delenv(settings.MEMORY_LIMIT_ENV, raising=False)
    monkeypatch.delenv(settings.TEMP_DIR_ENV, raising=False)
    db = tmp_path / "hub.duckdb"
    default = settings.duckdb_settings(db)
    assert default.temp_directory == tmp_path / "hub.duckdb.tmp"
    assert default.memory_limit_mib == min(2 * 1024, int(settings.physical_memory_mib() / 4))
    monkeypatch.setenv(settings.TEMP_DIR_ENV, str(tmp_path / "spill"))
    assert settings.duckdb_settings(db).temp_directory == tmp_path / "spill" / "hub.duckdb.tmp"


def test_civichub_run_stops_before_any_step_on_an_unusable_limit(monkeypatch, tmp_path):
    from pipelines.run import run_hub

    monkeypatch.setenv(settings.MEMORY_LIMIT_ENV, "plenty")
    (tmp_path / "inbox").mkdir()
    with pytest.raises(SystemExit, match=f"{settings.MEMORY_LIMIT_ENV}='plenty'"):
        run_hub(tmp_path / "inbox", tmp_path / "hub.duckdb", progress=False)
    assert not (tmp_path / "hub.duckdb").exists()


@pytest.mark.parametrize("name", ["main", "system", "temp", "Main"])
def test_civichub_run_refuses_a_database_file_named_after_a_duckdb_catalog(tmp_path, name):
    # DuckDB would name the catalog `main`, and every `main.raw.<table>` of the models would look in
    # DuckDB's own catalog: the run would fail in dbt with "schema main.raw does not exist"
    from pipelines.run import run_hub

    (tmp_path / "inbox").mkdir()
    with pytest.raises(SystemExit, match=f"{name}.duckdb.*choose another file name"):
        run_hub(tmp_path / "inbox", tmp_path / f"{name}.duckdb", progress=False)
    assert not (tmp_path / f"{name}.duckdb").exists()
    settings.check_database_name(tmp_path / "hub.duckdb")  # any other name is fine
    settings.check_database_name(tmp_path / "maintenance.duckdb")


# A delivery run under a small limit: tests/test_run_resilience.py (one run with the month's other troubles).
