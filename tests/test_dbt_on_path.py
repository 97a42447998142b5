"""A run started as `.venv/bin/civichub run` (the venv not activated) still finds the venv's dbt.

dagster-dbt re-parses a stale manifest with a `dbt` subprocess looked up on PATH; without the
interpreter's own bin folder on PATH the run stopped with "The dbt executable 'dbt' was not found".
"""

from __future__ import annotations

import os
import sys

from pipelines import dbt_project


def test_the_interpreters_own_dbt_is_put_on_path_when_none_is_there(tmp_path, monkeypatch):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "dbt").write_text("#!/bin/sh\n")
    (bin_dir / "dbt").chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    dbt_project._dbt_of_this_interpreter_on_path()
    assert os.environ["PATH"].split(os.pathsep)[0] == str(bin_dir)


def test_a_dbt_already_on_path_is_left_as_it_is(tmp_path, monkeypatch):
    on_path = tmp_path / "tools"
    on_path.mkdir()
    (on_path / "dbt").write_text("#!/bin/sh\n")
    (on_path / "dbt").chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(on_path))
    dbt_project._dbt_of_this_interpreter_on_path()
    assert os.environ["PATH"] == str(on_path)
