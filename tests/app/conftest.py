"""Fixtures of the street app tests.

- `app_hub_template`: a copy of the session's hub run (tests/conftest.py `hub_run`, never run again)
  with hand-made findings and two hostile values (a name and an address carrying XSS payloads),
  published; every app test serves a clone of it.
- `backend` (session, parametrized): every test that uses `world` runs on SQLite and on a real
  PostgreSQL server started here (Debian's `postgresql`: initdb + pg_ctl under a temporary folder).
- `world`: the served district for one backend: the hub clone, the app database, the accounts with
  their passwords and the records each scope owns (my committee, another committee of the street,
  another street); `app` / `client` talk to it in-process, `live_server` is `civichub serve` in a
  subprocess (one per backend and session) for the browser tests.

Session fixtures are per xdist worker: each worker that runs app tests starts its own PostgreSQL
cluster (own folder, own free port) and servers; nothing is shared between workers but the read-only
session district.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from app.live_server import start_serve

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pg  # noqa: E402

APP_TESTS = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
XSS_NAME = "<script>alert('name')</script>"
XSS_ADDRESS = '"><img src=x onerror=alert(1)>路1号'


# --------------------------------------------------------------------------------------- hub copies
@pytest.fixture(scope="session")
def app_hub_template(hub_run, tmp_path_factory) -> Path:
    from handmade_findings import add_handmade_findings

    from catalog.spec import load_catalog
    from sharing.publish import default_out_root, publish_role
    from sharing.roles import load_roles, streets_from

    _inbox, db, summary = hub_run
    assert summary.ok
    dst = tmp_path_factory.mktemp("app_hub") / "hub.duckdb"
    shutil.copy(db, dst)
    shutil.copytree(default_out_root(db), default_out_root(dst), symlinks=True)
    with duckdb.connect(str(dst)) as con:
        add_handmade_findings(con, "2026-11")
        # hostile values in a name and an address that the pages show (they must come out escaped)
        victim = con.execute(
            """select p.person_id, p.household_id from quality.finding f join master.person p on p.person_id = f.entity_id
               where f.finding_id like 'FT%' and f.rule = 'id_number_invalid' order by f.finding_id limit 1"""
        ).fetchone()
        con.execute("update master.person set name = ? where person_id = ?", [XSS_NAME, victim[0]])
        con.execute("update master.household set full_address = ? where household_id = ?", [XSS_ADDRESS, victim[1]])
        # publish again the roles whose data changed: the streets with hand-made findings, the departments
        # that receive quality.finding or master.person (the rest are the session run's, unchanged)
        catalog = load_catalog()
        roles = load_roles(catalog).expand(streets_from(con))
        streets = {
            f"street_{r[0]}"
            for r in con.execute(
                "select distinct street_code from quality.finding where finding_id like 'FT%'"
            ).fetchall()
        }
        changed = [
            r for rid, r in roles.items() if rid in streets or {"quality.finding", "master.person"} & set(r.grants)
        ]
        for role in changed:
            publish_role(con, catalog, role, default_out_root(dst))
    return dst


def clone_hub(template: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, folder / "hub.duckdb")
    shutil.copytree(template.parent / "out" / "published", folder / "out" / "published", symlinks=True)
    return folder / "hub.duckdb"


# --------------------------------------------------------------------------------------- backends
@pytest.fixture(scope="session")
def pg_cluster():
    if pg.bin_dir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing on CI (.ci/run installs the postgresql package)")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed here: apt-get install postgresql")
    cluster = pg.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


def new_app_database(backend: str, request, folder: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'app.sqlite'}"
    return request.getfixturevalue("pg_cluster").new_database()


# --------------------------------------------------------------------------------------- the world
@dataclass
class World:
    db: Path
    url: str
    settings: object
    passwords: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    street: str = ""
    committee: str = ""
    other_committee: str = ""
    other_street: str = ""
    other_street_committee: str = ""
    birth_fids: list[str] = field(default_factory=list)  # my committee's hand-made birth-date findings
    id_fids: list[str] = field(default_factory=list)  # my committee's hand-made ID-number findings
    other_committee_fid: str = ""
    other_street_fid: str = ""
    household: str = ""
    other_committee_household: str = ""
    other_street_household: str = ""
    xss_fid: str = ""
    xss_household: str = ""
    shop: str = ""
    scenario: str | None = None
    match_in_street: str | None = None  # a scenario row of my street outside my committee
    match_in_committee: str | None = None
    match_in_street_committee: str | None = None  # the committee of match_in_street
    task_id: int = 0  # a 排摸 task of minzheng (tests/app/tasks_world.py)
    task_row: int = 0  # its first row in my committee
    task_row_other_committee: int = 0
    task_row_other_street: int = 0
    task_row_queue: int = 0

    def role_db(self, role: str) -> Path:
        return self.db.parent / "out" / "published" / role / f"{role}.duckdb"


ACCOUNTS = {
    # login: (role, committee key or None, display name)
    "admin1": ("admin", None, "管理员"),
    "worker1": ("committee", "committee", "王芳"),
    "worker2": ("committee", "other_committee", "李丽"),
    "street1": ("street", None, "街道甲"),
    "street2": ("street_other", None, "街道乙"),
    "minzheng1": ("minzheng", None, "民政分析员"),
    "chengguan1": ("chengguan", None, "城管队员"),
}


def _pick(world: World) -> None:
    """Choose the scopes from the published data: a committee with hand-made findings, another committee
    of its street, another street."""
    with duckdb.connect(str(world.db), read_only=True) as con:
        world.committee, world.street = con.execute(
            """select community_code, street_code from quality.finding
               where finding_id like 'FT%' and rule = 'id_birth_date_mismatch' and status = 'open'
               group by all having count(*) >= 2 order by 1 limit 1"""
        ).fetchone()
        world.birth_fids = [
            r[0]
            for r in con.execute(
                """select finding_id from quality.finding where community_code = ? and finding_id like 'FT%'
                   and rule = 'id_birth_date_mismatch' order by finding_id""",
                [world.committee],
            ).fetchall()
        ]
        world.id_fids = [
            r[0]
            for r in con.execute(
                """select finding_id from quality.finding where community_code = ? and finding_id like 'FT%'
                   and rule = 'id_number_invalid' order by finding_id""",
                [world.committee],
            ).fetchall()
        ]
        lived_in = "community_code in (select community_code from master.household where in_latest_delivery)"
        world.other_committee, world.other_committee_fid = con.execute(
            f"""select community_code, min(finding_id) from quality.finding
                where street_code = ? and community_code <> ? and status = 'open' and {lived_in}
                group by 1 order by 1 limit 1""",
            [world.street, world.committee],
        ).fetchone()
        world.other_street, world.other_street_committee, world.other_street_fid = con.execute(
            f"""select street_code, community_code, min(finding_id) from quality.finding
                where street_code <> ? and community_code is not null and status = 'open' and {lived_in}
                group by 1, 2 order by 1, 2 limit 1""",
            [world.street],
        ).fetchone()

        def household(committee: str) -> str:
            return con.execute(
                """select household_id from master.household where community_code = ? and in_latest_delivery
                   and coalesce(full_address, '') not like '%<%' order by household_id limit 1""",
                [committee],
            ).fetchone()[0]

        world.household = household(world.committee)
        world.other_committee_household = household(world.other_committee)
        world.other_street_household = household(world.other_street_committee)
        world.xss_fid, world.xss_household, xss_committee = con.execute(
            """select f.finding_id, p.household_id, f.community_code from quality.finding f
               join master.person p on p.person_id = f.entity_id where p.name = ?""",
            [XSS_NAME],
        ).fetchone()
        assert xss_committee == world.committee, "the hostile name sits in the first committee with hand-made findings"
        world.shop = con.execute(
            "select shop_code from master.shop where in_latest_delivery order by visit_count desc, shop_code limit 1"
        ).fetchone()[0]
        scen = con.execute(
            """select scenario, min(match_id) filter (where community_code = ?),
                      min(match_id) filter (where community_code <> ?)
               from scenario.match where street_code = ? group by 1 order by 1 limit 1""",
            [world.committee, world.committee, world.street],
        ).fetchone()
        if scen:
            world.scenario, world.match_in_committee, world.match_in_street = scen
            if world.match_in_street:
                world.match_in_street_committee = con.execute(
                    "select any_value(community_code) from scenario.match where match_id = ?", [world.match_in_street]
                ).fetchone()[0]


def build_world(template: Path, folder: Path, url: str) -> World:
    from app.config import AppSettings
    from app.db import make_engine, make_session_factory, upgrade
    from app.users import add_user

    db = clone_hub(template, folder)
    upgrade(url)
    settings = AppSettings.from_hub_db(db, database_url=url)
    world = World(db=db, url=url, settings=settings)
    _pick(world)
    published = {p.name for p in (db.parent / "out" / "published").iterdir() if not p.name.startswith(".")}
    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        for login, (role, committee_key, name) in ACCOUNTS.items():
            community = getattr(world, committee_key) if committee_key else None
            if role == "street":
                role = f"street_{world.street}"
            elif role == "street_other":
                role = f"street_{world.other_street}"
            user, password = add_user(s, login, role, community, name, "tests", published)
            s.flush()
            world.passwords[login] = password
            world.user_ids[login] = user.id
        s.commit()
    engine.dispose()
    from tasks_world import create_world_task, rows_of

    world.task_id = create_world_task(world)
    by_committee: dict = {}
    for r in rows_of(world, world.task_id):
        by_committee.setdefault(r.community_code, r.id)
    world.task_row = by_committee[world.committee]
    world.task_row_other_committee = by_committee[world.other_committee]
    world.task_row_other_street = by_committee[world.other_street_committee]
    world.task_row_queue = by_committee[None]
    return world


@pytest.fixture(scope="session")
def world(backend, app_hub_template, tmp_path_factory, request) -> World:
    folder = tmp_path_factory.mktemp(f"world_{backend}")
    return build_world(app_hub_template, folder, new_app_database(backend, request, folder))


@pytest.fixture(scope="session")
def app(world):
    from app.main import create_app

    return create_app(world.settings)


@pytest.fixture()
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as c:
        yield c


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "the page has a form with a CSRF token"
    return m.group(1)


def login(client, world: World, who: str, password: str | None = None):
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "login": who,
            "password": world.passwords[who] if password is None else password,
            "csrf_token": csrf_from(page.text),
            "next": "",
        },
    )
    return r


def logged_in(app, world: World, who: str, **kwargs):
    """A new TestClient logged in as `who`, and its CSRF token."""
    from fastapi.testclient import TestClient

    c = TestClient(app, follow_redirects=False, **kwargs)
    r = login(c, world, who)
    assert r.status_code == 303, (who, r.status_code, r.text[:500])
    token = csrf_from(c.get("/account/password").text)
    return c, token


# --------------------------------------------------------------------------------------- citizen reports
@pytest.fixture(scope="session")
def reports_world(world, hub_run):
    """The district's report files taken into the world's app database; a library address in my street."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from citizen_reports.config import load_reports_config
    from citizen_reports.models import AddressPoint
    from citizen_reports.repository import SqlRepository, app_engine, sync_library
    from citizen_reports.routing import AddressLibrary
    from citizen_reports.service import import_file

    files = sorted((hub_run.inbox / "reports").glob("*.csv"))
    assert files, "the session district has its month of citizen reports"
    cfg = load_reports_config()
    lib = AddressLibrary.from_inbox(hub_run.inbox)
    engine = app_engine(world.url)
    with Session(engine, expire_on_commit=False) as s:
        if sync_library(s, lib):  # first time on this backend
            repo = SqlRepository(s)
            for f in files:
                out = import_file(f, repo, cfg, lib, name=f"reports/{f.name}")
                assert out.status == "loaded", out.message
        points = s.execute(
            select(AddressPoint.lon, AddressPoint.lat, AddressPoint.street_code == world.street)
            .where(AddressPoint.lon.is_not(None))
            .order_by(AddressPoint.address_id)
        ).all()
    engine.dispose()
    # a small district is small (about 700 m across): places beyond `reach` of each other (1.5 x the
    # 60 m radius of 综合执法: nearer, another 小类 of the 大类 is compared too) are few; one of them in
    # my street (for the street's scope), the rest anywhere. They are within `far_m` of each other all
    # the same: test_reports.py closes what each test opened
    rule = cfg.rule("综合执法", "占道经营")
    apart = rule.radius_m * cfg.duplicates.reach + 10
    mine = next((float(a), float(b)) for a, b, in_mine in points if in_mine)
    spots = _apart([mine] + [(float(a), float(b)) for a, b, _ in points], apart)
    return {"mine": mine, "spots": spots[1:], "next": 0}


def _apart(points: list[tuple[float, float]], metres: float) -> list[tuple[float, float]]:
    """Library positions at least `metres` from each other (many doors share a building's position)."""
    import math

    kept: list[tuple[float, float]] = []
    for lon, lat in points:
        k = math.cos(math.radians(lat)) * 111_320
        if all(math.hypot((lon - a) * k, (lat - b) * 110_574) >= metres for a, b in kept):
            kept.append((lon, lat))
    assert len(kept) >= 9, "the district has room for the tests' separate places"
    return kept


# --------------------------------------------------------------------------------------- live servers
@dataclass
class LiveServer:
    url: str
    log: Path
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(world: World, log: Path) -> LiveServer:
    """`civichub serve` in a subprocess on a free port; waits until it answers."""
    proc, url = start_serve(world.db, world.url, log)
    return LiveServer(url, log, proc)


@pytest.fixture(scope="session")
def live_server(world, tmp_path_factory):
    server = start_server(world, tmp_path_factory.mktemp("server") / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing on CI (.ci/run installs the chromium package)")
        pytest.skip(f"{CHROMIUM} is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def browser_login(page, server: LiveServer, world: World, who: str) -> None:
    page.goto(server.url + "/login")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", world.passwords[who])
    page.click("button[type=submit]")
    page.wait_for_load_state()
