"""Load benchmark of the street app: many committee workers at once, with a pipeline run in the middle.

    ./dev generate --out data/b100k/inbox --persons 100000 --months 2 --seed 5
    ./dev run --inbox data/b100k/inbox --db data/b100k/hub.duckdb
    .venv/bin/python -m bench.app_load --db data/b100k/hub.duckdb --inbox data/b100k/inbox --users 50 --seconds 180

What it does:
1. creates `--users` committee-worker accounts, one per committee with the most open findings (a fresh
   SQLite app database in the work folder, or CIVICHUB_APP_DB);
2. starts `civichub serve` (`--workers` processes) on a free port of 127.0.0.1;
3. each simulated worker logs in, then loops: findings list → a finding → saves a verdict (each open
   finding once) → now and then the roster and a household file, with a think time between pages;
4. at a third of the run, `civichub run` takes the submissions in and publishes again while the load
   goes on; after the load, a second run takes in the rest;
5. reports p50 / p95 / p99 per page, requests and submissions per second, every failed request, and
   checks that every acknowledged submission is in the app database and was taken in by the hub.
Results: bench/results/app_load.json. Traffic goes to 127.0.0.1 only and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from app.live_server import start_serve

ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FINDING = re.compile(r'href="/c/findings/(F[0-9A-Z]+)"')
HOUSEHOLD = re.compile(r'href="/c/households/([A-Z0-9]+)"')
WORKER_PAGES = ("findings", "finding", "roster", "household")


def pick_committees(db: Path, n: int) -> list[tuple[str, int]]:
    """The n committees with the most open findings (from the street publications the app reads)."""
    import duckdb

    from app.config import hub_paths

    counts = []
    for link in sorted(hub_paths(db).published_root.glob("street_*")):
        with duckdb.connect(str(link / f"{link.name}.duckdb"), read_only=True) as con:
            counts += con.execute(
                "select community_code, count(*) from quality.finding where status = 'open' "
                "and community_code is not null group by 1"
            ).fetchall()
    counts.sort(key=lambda r: (-r[1], r[0]))
    return counts[:n]


def create_users(db: Path, url: str, committees: list[tuple[str, int]]) -> dict[str, str]:
    from app import users as um
    from app.db import make_engine, make_session_factory, upgrade

    upgrade(url)
    engine = make_engine(url)
    out = {}
    with make_session_factory(engine)() as s:
        for i, (community, _n) in enumerate(committees):
            login = f"load{i:03d}"
            try:
                _u, pw = um.add_user(s, login, "committee", community, f"压测{i}")
            except um.UserError:
                _u, pw = um.reset_password(s, login)
            out[login] = pw
        s.commit()
    engine.dispose()
    return out


class Stats:
    def __init__(self):
        self.times: dict[str, list[float]] = defaultdict(list)
        self.samples: list[tuple[float, str, float]] = []  # (monotonic end time, page, seconds)
        self.pipeline_window: tuple[float, float] | None = None
        self.ramp_end: float = 0.0
        self.failures: list[str] = []
        self.submitted: list[tuple[str, str]] = []  # (login, finding) acknowledged by the server
        self.requests = 0

    @staticmethod
    def _figures(ts: list[float]) -> dict:
        ts = sorted(ts)
        if not ts:
            return {"requests": 0}
        return {
            "requests": len(ts),
            "p50_ms": round(1000 * statistics.median(ts), 1),
            "p95_ms": round(1000 * ts[int(0.95 * (len(ts) - 1))], 1),
            "p99_ms": round(1000 * ts[int(0.99 * (len(ts) - 1))], 1),
            "max_ms": round(1000 * ts[-1], 1),
        }

    def summary(self, seconds: float) -> dict:
        out = {page: self._figures(ts) for page, ts in sorted(self.times.items())}
        worker = [(t, d) for t, page, d in self.samples if page in WORKER_PAGES]
        a, b = self.pipeline_window or (float("inf"), float("inf"))
        windows = {
            "all": self._figures([d for _t, d in worker]),
            "while_logging_in (ramp-up)": self._figures([d for t, d in worker if t < self.ramp_end]),
            "steady (after the ramp-up, no pipeline)": self._figures(
                [d for t, d in worker if t >= self.ramp_end and not a <= t <= b]
            ),
        }
        if self.pipeline_window:
            windows["while the pipeline runs and publishes"] = self._figures([d for t, d in worker if a <= t <= b])
        return {
            "pages": out,
            "worker_pages": windows,
            "requests_per_second": round(self.requests / seconds, 1),
            "submissions": len(self.submitted),
            "submissions_per_second": round(len(self.submitted) / seconds, 2),
            "failed_requests": len(self.failures),
            "failures": self.failures[:50],
        }


async def worker(
    base: str, login: str, password: str, stats: Stats, until: float, think: tuple[float, float], seed: int, ramp: float
):
    import httpx

    rnd = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False) as c:

        async def timed(page: str, method: str, url: str, **kw):
            t0 = time.perf_counter()
            try:
                r = await c.request(method, url, **kw)
            except httpx.HTTPError as e:
                stats.failures.append(f"{page} {url}: {type(e).__name__}")
                return None
            dt = time.perf_counter() - t0
            stats.requests += 1
            if r.status_code >= 500 or (r.status_code >= 400 and page != "verify"):
                stats.failures.append(f"{page} {url}: HTTP {r.status_code}")
                return None
            stats.times[page].append(dt)
            stats.samples.append((time.monotonic(), page, dt))
            return r

        # workers arrive over the ramp-up, as a morning shift does, not in the same second
        await asyncio.sleep(ramp)

        r = await timed("login_page", "GET", "/login")
        if r is None:
            return
        r = await timed("login", "POST", "/login",
                        data={"login": login, "password": password, "csrf_token": CSRF.search(r.text).group(1)})  # fmt: skip
        if r is None or r.status_code != 303:
            stats.failures.append(f"login {login}: {r.status_code if r is not None else 'failed'}")
            return
        done: set[str] = set()
        while time.monotonic() < until:
            r = await timed("findings", "GET", "/c/findings")
            if r is None:
                await asyncio.sleep(1)
                continue
            todo = [f for f in FINDING.findall(r.text) if f not in done]
            await asyncio.sleep(rnd.uniform(*think))
            if todo and time.monotonic() < until:
                fid = todo[0]
                r = await timed("finding", "GET", f"/c/findings/{fid}")
                if r is None:
                    continue
                token = CSRF.search(r.text)
                await asyncio.sleep(rnd.uniform(*think))
                if token and 'name="decision"' in r.text:
                    decision = "确认" if rnd.random() < 0.3 else "不属实"
                    r = await timed("verify", "POST", f"/c/findings/{fid}/verify",
                                    data={"decision": decision, "value": "", "note": "压测", "csrf_token": token.group(1)})  # fmt: skip
                    if r is not None and r.status_code == 303:
                        stats.submitted.append((login, fid))
                    elif r is not None and r.status_code != 422:
                        stats.failures.append(f"verify {fid}: HTTP {r.status_code}")
                done.add(fid)
                await asyncio.sleep(rnd.uniform(*think))
            if rnd.random() < 0.25 or not todo:
                r = await timed("roster", "GET", "/c/roster")
                households = HOUSEHOLD.findall(r.text) if r is not None else []
                await asyncio.sleep(rnd.uniform(*think))
                if households:
                    await timed("household", "GET", f"/c/households/{rnd.choice(households)}")
                    await asyncio.sleep(rnd.uniform(*think))


def civichub_run(inbox: Path, db: Path, env: dict, nice: int = 0) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    cmd = [str(Path(sys.executable).parent / "civichub"), "run", "--inbox", str(inbox), "--db", str(db)]
    if nice:
        cmd = ["nice", "-n", str(nice), *cmd]
    p = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env,
    )
    return time.perf_counter() - t0, p.returncode, (p.stdout + p.stderr)[-2000:]


async def load(args, base: str, passwords: dict[str, str], env: dict) -> tuple[Stats, dict, float]:
    stats = Stats()
    start = time.monotonic()
    until = start + args.seconds
    stats.ramp_end = start + args.ramp + 5
    tasks = [
        asyncio.create_task(
            worker(base, login, pw, stats, until, (args.think_min, args.think_max), i, args.ramp * i / len(passwords))
        )
        for i, (login, pw) in enumerate(sorted(passwords.items()))
    ]
    pipeline = {}
    if args.inbox:
        await asyncio.sleep(args.seconds / 3)
        before = len(stats.submitted)
        t0 = time.monotonic()
        seconds, code, tail = await asyncio.to_thread(civichub_run, Path(args.inbox), Path(args.db), env, args.nice)
        stats.pipeline_window = (t0, time.monotonic())
        pipeline = {
            "during_load": True,
            "seconds": round(seconds, 1),
            "exit_code": code,
            "submissions_before_start": before,
            "output_tail": tail[-800:],
        }
    await asyncio.gather(*tasks)
    return stats, pipeline, time.monotonic() - start


def check_nothing_lost(url: str, db: Path, stats: Stats) -> dict:
    import duckdb
    from sqlalchemy import select

    from app.db import make_engine, make_session_factory
    from app.db.models import User, Verification

    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        rows = s.execute(
            select(User.login, Verification.finding_id, Verification.intake_status, Verification.uid).join(
                User, User.id == Verification.user_id
            )
        ).all()
    engine.dispose()
    stored = {(r[0], r[1]) for r in rows if r[0].startswith("load")}
    acknowledged = set(stats.submitted)
    uids = {r[3] for r in rows if r[0].startswith("load")}
    with duckdb.connect(str(db), read_only=True) as con:
        in_hub = {
            s.removeprefix("app:")
            for (s,) in con.execute(
                "select distinct source_file from quality.correction_audit where source_file like 'app:%'"
            ).fetchall()
        }
    return {
        "acknowledged": len(acknowledged),
        "stored": len(stored),
        "acknowledged_but_missing": len(acknowledged - stored),
        "still_pending_after_final_run": sum(1 for r in rows if r[2] == "pending"),
        "taken_in_by_the_hub": len(uids & in_hub),
        "not_in_the_hub": len(uids - in_hub),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.app_load", description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True, help="a hub database already run (its published files are served)")
    p.add_argument("--inbox", default=None, help="its inbox: run `civichub run` during and after the load")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--seconds", type=float, default=180)
    p.add_argument("--workers", type=int, default=1, help="server processes")
    p.add_argument("--think-min", type=float, default=1.0, help="seconds a worker pauses between pages (min)")
    p.add_argument("--think-max", type=float, default=3.0)
    p.add_argument("--ramp", type=float, default=20.0, help="seconds over which the workers log in")
    p.add_argument(
        "--nice", type=int, default=0, help="run the pipeline under `nice -n N` (batch below the interactive app)"
    )
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "app_load.json"))
    args = p.parse_args(argv)
    db = Path(args.db).resolve()
    work = db.parent / "app_load"
    work.mkdir(exist_ok=True)
    url = os.environ.get("CIVICHUB_APP_DB") or f"sqlite:///{work / 'app.sqlite'}"
    if url.startswith("sqlite"):
        Path(url.split(":///", 1)[1]).unlink(missing_ok=True)
    env = {**os.environ, "CIVICHUB_APP_DB": url}
    committees = pick_committees(db, args.users)
    passwords = create_users(db, url, committees)
    print(f"{len(passwords)} committee workers over committees with {sum(n for _, n in committees):,} open findings")
    server, base = start_serve(db, url, work / "server.log", workers=args.workers)
    try:
        stats, pipeline, seconds = asyncio.run(load(args, base, passwords, env))
    finally:
        server.terminate()
        server.wait(timeout=30)
    final = {}
    if args.inbox:
        s, code, tail = civichub_run(Path(args.inbox), db, env)
        final = {"seconds": round(s, 1), "exit_code": code}
    result = {
        "db": str(db),
        "users": len(passwords),
        "seconds": round(seconds, 1),
        "server_workers": args.workers,
        "think_seconds": [args.think_min, args.think_max],
        "ramp_seconds": args.ramp,
        "pipeline_nice": args.nice,
        "app_database": url.split(":", 1)[0],
        **stats.summary(seconds),
        "pipeline_run_during_load": pipeline,
        "final_run": final,
    }
    if args.inbox:
        result["nothing_lost"] = check_nothing_lost(url, db, stats)
    worker_p95 = result["worker_pages"]["all"].get("p95_ms")
    result["worker_pages_p95_ms"] = worker_p95
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "failures"}, ensure_ascii=False, indent=1))
    ok = not stats.failures and worker_p95 is not None and worker_p95 < 300
    if args.inbox:
        lost = result["nothing_lost"]
        ok = ok and lost["acknowledged_but_missing"] == 0 and lost["not_in_the_hub"] == 0
    print(f"\n{'PASS' if ok else 'FAIL'}: worker pages p95 {worker_p95} ms (target < 300), "
          f"{len(stats.failures)} failed request(s), {result['submissions_per_second']} submissions/s")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
