"""`civichub serve` in a subprocess on a free local port, started and waited for: what the browser
tests and the app benchmarks share."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(
    hub_db: Path, app_db_url: str, log: Path, *, workers: int = 1, timeout: float = 60
) -> tuple[subprocess.Popen, str]:
    """Start `civichub serve` on the hub database with CIVICHUB_APP_DB=app_db_url, its output in `log`;
    return the process and its base URL once /healthz answers (RuntimeError with the log's tail if not)."""
    import httpx

    port = free_port()
    env = {**os.environ, "CIVICHUB_APP_DB": app_db_url}
    with open(log, "w", encoding="utf-8") as out:  # the child keeps its own handle
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "serve", "--db", str(hub_db), "--port", str(port)]
            + (["--workers", str(workers)] if workers != 1 else []),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"civichub serve exited: {Path(log).read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"civichub serve did not answer within {timeout:.0f} s")
