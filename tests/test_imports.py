"""Importing the project does nothing: no file written, no process started.

Every module of every project package is imported in a fresh interpreter whose HOME and working
directory are a read-only temporary folder, with an audit hook (PEP 578) recording each file opened
for writing, each folder made, each file removed or renamed and each process started by the import
of a project module (what a library does while importing itself, e.g. Dagster's vendored croniter
asking `file` about the interpreter, is the library's business). The
definitions, the dbt manifest and Dagster's home are built when a run starts, never at import.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_PACKAGES = {"tests", "dbt_project", "data"}
# Alembic's revision scripts are run by Alembic (env.py migrates the database when it is run), not imported
NOT_MODULES = ("app.migrations",)

PROBE = r"""
import importlib, json, os, sys

events = []
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def by_project_import():
    # the innermost module-level frame (the import doing the work) is one of the project's files
    f = sys._getframe(2)
    while f is not None:
        if f.f_code.co_name == "<module>":
            name = f.f_code.co_filename
            return name.startswith(root) and "site-packages" not in name
        f = f.f_back
    return False


def hook(event, args):
    if not event.startswith(("open", "os.", "shutil.", "subprocess.")) or not by_project_import():
        return
    if event == "open":
        path, mode, flags = args
        if isinstance(path, int):
            return
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (flags or 0) & WRITE_FLAGS:
            events.append(["open for writing", str(path)])
    elif event in ("os.mkdir", "os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "os.symlink", "os.link"):
        events.append([event, str(args[0])])
    elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"):
        events.append([event, str(args[0])[:200]])


root, packages, not_modules = sys.argv[1], json.loads(sys.argv[2]), tuple(json.loads(sys.argv[3]))
sys.addaudithook(hook)
sys.path.insert(0, root)
imported, failed = [], []
for package in packages:
    # every .py file below the package, folders without an __init__.py (app/routes …) included:
    # pkgutil.walk_packages would pass those over
    names = []
    for folder, dirs, files in os.walk(os.path.join(root, package)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        dotted = os.path.relpath(folder, root).replace(os.sep, ".")
        names += [dotted if f == "__init__.py" else f"{dotted}.{f[:-3]}" for f in sorted(files) if f.endswith(".py")]
    for name in names:
        if name.startswith(not_modules):
            continue
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception as e:  # noqa: BLE001 - reported by the test
            failed.append([name, f"{type(e).__name__}: {e}"])
print(json.dumps({"imported": imported, "failed": failed, "events": events}))
"""


def project_packages() -> list[str]:
    return sorted(
        p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name not in NOT_PACKAGES
    )


def test_importing_any_module_writes_no_file_and_starts_no_process(tmp_path):
    home = tmp_path / "readonly"
    home.mkdir()
    home.chmod(stat.S_IRUSR | stat.S_IXUSR)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        # what a shell would have: the hub's own variables are deliberately absent
        "LANG": "C.UTF-8",
    }
    try:
        out = subprocess.run(
            [sys.executable, "-c", PROBE, str(ROOT), json.dumps(project_packages()), json.dumps(NOT_MODULES)],
            cwd=home,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        home.chmod(stat.S_IRWXU)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    modules = report["imported"]
    assert "pipelines.definitions" in modules and "sharing.masking" in modules
    # every module file of every package was imported itself, not only what its package pulls in
    files = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for package in project_packages()
        for p in (ROOT / package).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert {f for f in files if not f.startswith(NOT_MODULES)} == set(modules)
    assert {"app.routes.admin", "app.auth.sessions", "bench.run_once", "tasks.service"} <= set(modules)
    assert not report["failed"], report["failed"]
    assert not report["events"], "importing the project did work:\n" + "\n".join(
        f"  {what}: {arg}" for what, arg in report["events"]
    )
