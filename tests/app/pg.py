"""A throwaway PostgreSQL server for the app tests (Debian's `postgresql` package, no system service).

initdb into a fresh temporary folder, pg_ctl start on a free port of 127.0.0.1 with trust
authentication, one database per test server, pg_ctl stop and the folder removed at the end. As root
(CI), the cluster runs as the `postgres` user the package creates; otherwise as the current user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.live_server import free_port


def bin_dir() -> Path | None:
    """The folder of initdb and pg_ctl (newest installed version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


@dataclass
class Cluster:
    bindir: Path
    root: Path
    port: int
    as_user: str | None
    databases: int = 0

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *cmd: str) -> subprocess.CompletedProcess:
        full = [str(c) for c in cmd]
        if self.as_user:
            full = ["runuser", "-u", self.as_user, "--", *full]
        return subprocess.run(full, check=True, capture_output=True, text=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "app") -> str:
        import psycopg

        self.databases += 1
        name = f"{prefix}_{os.getpid()}_{self.databases}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'create database "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Cluster:
    bindir = bin_dir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    as_user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="civichub-pg-"))
    if as_user:
        shutil.chown(root, as_user, as_user)
    cluster = Cluster(bindir, root, free_port(), as_user)
    try:
        cluster._run(bindir / "initdb", "-D", cluster.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        sockets = root / "sock"
        cluster._run("mkdir", "-p", sockets)
        opts = f"-p {cluster.port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        cluster._run(bindir / "pg_ctl", "-D", cluster.data, "-o", opts, "-l", root / "server.log", "-w", "start")
    except Exception:
        log = root / "server.log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start a PostgreSQL cluster: {detail}") from None
    return cluster
