"""Authorisation matrix: every kind of user × every route of the app, on SQLite and PostgreSQL.

Each cell is what the user must get: the page ("ok": reached, whatever the form's own verdict), the
login page (anonymous), 403 (the kind may not enter the area, a department without the grant) or 404
(a record outside the user's street or committee, exactly like an id that does not exist).
A state-changing request is sent with the user's valid CSRF token and a form that fails validation,
so the matrix reaches the route's checks without changing anything.
"""

from __future__ import annotations

import pytest
from conftest import logged_in
from fastapi.testclient import TestClient

USERS = ["anonymous", "admin1", "worker1", "worker2", "street1", "street2", "minzheng1", "chengguan1"]
OK, LOGIN, FORBIDDEN, NOT_FOUND = "ok", "login", 403, 404


def routes(w, rc: dict | None = None) -> dict[str, tuple[str, str, dict | None, dict]]:
    """name → (method, path, form, expected per user; users not listed: FORBIDDEN, anonymous: LOGIN).
    `rc`: the citizen reports' incidents to try (`reports_cells`); without it, their routes' shapes."""
    worker1 = {"worker1": OK}
    street1 = {"street1": OK}
    sharing = {"street1": OK, "street2": OK, "minzheng1": OK, "chengguan1": OK}
    admin = {"admin1": OK}
    out = {
        # committee worker: own committee only; a colleague of the same street gets 404
        "c.findings": ("GET", "/c/findings", None, {**worker1, "worker2": OK}),
        "c.finding": ("GET", f"/c/findings/{w.birth_fids[0]}", None, {**worker1, "worker2": NOT_FOUND}),
        "c.finding.other_committee": (
            "GET",
            f"/c/findings/{w.other_committee_fid}",
            None,
            {"worker1": NOT_FOUND, "worker2": OK},
        ),
        "c.finding.other_street": (
            "GET",
            f"/c/findings/{w.other_street_fid}",
            None,
            {"worker1": NOT_FOUND, "worker2": NOT_FOUND},
        ),
        "c.finding.unknown": ("GET", "/c/findings/FNOSUCHFINDING", None, {"worker1": NOT_FOUND, "worker2": NOT_FOUND}),
        "c.verify": (
            "POST",
            f"/c/findings/{w.birth_fids[0]}/verify",
            {"decision": "?"},
            {**worker1, "worker2": NOT_FOUND},
        ),
        "c.verify.other_committee": (
            "POST",
            f"/c/findings/{w.other_committee_fid}/verify",
            {"decision": "?"},
            {"worker1": NOT_FOUND, "worker2": OK},
        ),
        "c.roster": ("GET", "/c/roster", None, {**worker1, "worker2": OK}),
        "c.household": ("GET", f"/c/households/{w.household}", None, {**worker1, "worker2": NOT_FOUND}),
        "c.household.other_committee": (
            "GET",
            f"/c/households/{w.other_committee_household}",
            None,
            {"worker1": NOT_FOUND, "worker2": OK},
        ),
        # street office: own street only
        "s.progress": ("GET", "/s/progress", None, {**street1, "street2": OK}),
        "s.progress.xlsx": ("GET", "/s/progress.xlsx", None, {**street1, "street2": OK}),
        "s.findings": ("GET", "/s/findings", None, {**street1, "street2": OK}),
        "s.findings.committee": (
            "GET",
            f"/s/findings?community={w.committee}",
            None,
            {**street1, "street2": NOT_FOUND},
        ),
        "s.findings.xlsx": (
            "GET",
            f"/s/findings.xlsx?community={w.committee}",
            None,
            {**street1, "street2": NOT_FOUND},
        ),
        "s.finding": ("GET", f"/s/findings/{w.birth_fids[0]}", None, {**street1, "street2": NOT_FOUND}),
        "s.finding.other_street": (
            "GET",
            f"/s/findings/{w.other_street_fid}",
            None,
            {"street1": NOT_FOUND, "street2": OK},
        ),
        "s.rosters": ("GET", "/s/rosters", None, {**street1, "street2": OK}),
        "s.roster": ("GET", f"/s/rosters/{w.committee}", None, {**street1, "street2": NOT_FOUND}),
        "s.roster.other_street": (
            "GET",
            f"/s/rosters/{w.other_street_committee}",
            None,
            {"street1": NOT_FOUND, "street2": OK},
        ),
        "s.roster.xlsx": ("GET", f"/s/rosters/{w.committee}.xlsx", None, {**street1, "street2": NOT_FOUND}),
        "s.roster.xlsx.other_street": (
            "GET",
            f"/s/rosters/{w.other_street_committee}.xlsx",
            None,
            {"street1": NOT_FOUND, "street2": OK},
        ),
        "s.household": ("GET", f"/s/households/{w.household}", None, {**street1, "street2": NOT_FOUND}),
        "s.household.other_street": (
            "GET",
            f"/s/households/{w.other_street_household}",
            None,
            {"street1": NOT_FOUND, "street2": OK},
        ),
        # sharing roles: catalog and query for every department and street; downloads as granted
        "d.catalog": ("GET", "/d/catalog", None, sharing),
        "d.entry": ("GET", "/d/catalog/master.person", None, sharing),
        "d.entry.unknown": ("GET", "/d/catalog/no.such", None, {k: NOT_FOUND for k in sharing}),
        "d.query.page": ("GET", "/d/query", None, sharing),
        "d.query": ("POST", "/d/query", {"sql": "select 1", "limit": "5"}, sharing),
        "d.parquet.person": (
            "GET",
            "/d/datasets/master.person.parquet",
            None,
            {"street1": OK, "street2": OK, "minzheng1": OK, "chengguan1": FORBIDDEN},
        ),  # fmt: skip
        "d.parquet.finding": (
            "GET",
            "/d/datasets/quality.finding.parquet",
            None,
            {"street1": OK, "street2": OK, "minzheng1": OK, "chengguan1": FORBIDDEN},
        ),  # fmt: skip
        "d.parquet.shop": ("GET", "/d/datasets/master.shop.parquet", None, sharing),
        "d.parquet.not_shared": (
            "GET",
            "/d/datasets/quality.worklist_key.parquet",
            None,
            {k: FORBIDDEN for k in sharing},
        ),
        # scenario lists: a department with the grant, streets, committees; not 城管 (no scenario.match)
        "scenarios": (
            "GET",
            "/scenarios",
            None,
            {"worker1": OK, "worker2": OK, "street1": OK, "street2": OK, "minzheng1": OK},
        ),  # fmt: skip
        # the administrator
        "admin.users": ("GET", "/admin/users", None, admin),
        "admin.add": ("POST", "/admin/users", {"login": "", "role": "committee"}, admin),
        "admin.disable.unknown": ("POST", "/admin/users/999999/disable", {}, {"admin1": NOT_FOUND}),
        "admin.progress": ("GET", "/admin/progress", None, admin),
        # 排摸 tasks: the owning department and the district manage them; another department finds nothing
        **tasks_routes(w),
        # everyone logged in
        "account": ("GET", "/account/password", None, {u: OK for u in USERS if u != "anonymous"}),
        "account.change": (
            "POST",
            "/account/password",
            {"current": "wrong"},
            {u: OK for u in USERS if u != "anonymous"},
        ),
        # the public
        "public.shop": ("GET", f"/shops/{w.shop}", None, {u: OK for u in USERS}),
        "public.login": ("GET", "/login", None, {u: OK for u in USERS}),  # logged in: sent to their home page
    }
    out.update(reports_routes(w, rc or {}))
    if w.scenario:
        scen = {"worker1": OK, "worker2": OK, "street1": OK, "street2": OK, "minzheng1": OK}
        out["scenario"] = ("GET", f"/scenarios/{w.scenario}", None, scen)
        if w.match_in_street:
            out["scenario.follow_up.street"] = (
                "POST",
                f"/scenarios/{w.scenario}/{w.match_in_street}/follow-up",
                {"result": ""},
                {
                    "worker1": NOT_FOUND,
                    "worker2": OK if w.match_in_street_committee == w.other_committee else NOT_FOUND,
                    "street1": OK,
                    "street2": NOT_FOUND,
                    "minzheng1": OK,
                },
            )
        if w.match_in_committee:
            out["scenario.follow_up.committee"] = (
                "POST",
                f"/scenarios/{w.scenario}/{w.match_in_committee}/follow-up",
                {"result": ""},
                {"worker1": OK, "worker2": NOT_FOUND, "street1": OK, "street2": NOT_FOUND, "minzheng1": OK},
            )
    return out


def reports_routes(w, rc: dict) -> dict:
    """Citizen reports: the owning department acts on its incidents everywhere; a street office reads
    its street's (403 on a change); another street gets 404; the administrator reads the district and
    places the district's queue; a department owning no category and committees get 403. Open311 and
    the public status page are open to all."""
    staff = {"admin1": OK, "street1": OK, "street2": OK, "chengguan1": OK}
    inc = rc.get("incident", {"id": "SJ-20000101-0001", "street_code": None, "department": "chengguan"})
    queued = rc.get("queued", {"id": "SJ-20000101-0002", "street_code": None, "department": "district"})

    def reads(i: dict) -> dict:
        return {
            "admin1": OK,
            "chengguan1": OK if i["department"] == "chengguan" else NOT_FOUND,
            "street1": OK if i["street_code"] == w.street else NOT_FOUND,
            "street2": OK if i["street_code"] == w.other_street else NOT_FOUND,
        }

    def changes(i: dict, admin_may: bool = False) -> dict:  # the owner gets the form's verdict (422)
        seen = reads(i)
        return {
            u: (v if v != OK else (OK if (u == "chengguan1" or (u == "admin1" and admin_may)) else FORBIDDEN))
            for u, v in seen.items()
        }

    no = rc.get("report_no", "BXP000000000001")
    everyone = {u: OK for u in USERS}
    return {
        "r.board": ("GET", "/r/board", None, staff),
        "r.board.xlsx": ("GET", "/r/board.xlsx", None, staff),
        "r.incidents": ("GET", "/r/incidents?which=all", None, staff),
        "r.incident": ("GET", f"/r/incidents/{inc['id']}", None, reads(inc)),
        "r.incident.state": ("POST", f"/r/incidents/{inc['id']}/state", {"to": ""}, changes(inc)),
        "r.incident.place": ("POST", f"/r/incidents/{inc['id']}/place", {"reason": ""}, changes(inc)),
        "r.queued": ("GET", f"/r/incidents/{queued['id']}", None, reads(queued)),
        "r.queued.place": (
            "POST",
            f"/r/incidents/{queued['id']}/place",
            {"department": "", "reason": ""},
            {**changes(queued, admin_may=True), "chengguan1": NOT_FOUND},
        ),
        "r.queue": ("GET", "/r/queue", None, {"admin1": OK}),
        "r.review": ("GET", "/r/review", None, {"chengguan1": OK}),
        "r.review.decide.unknown": (
            "POST",
            "/r/review/999999",
            {"same": "1"},
            {"admin1": NOT_FOUND, "street1": NOT_FOUND, "street2": NOT_FOUND, "chengguan1": NOT_FOUND},
        ),
        "public.status.form": ("GET", "/status", None, everyone),
        "public.status": (
            "GET",
            f"/status/{no}",
            None,
            everyone if "report_no" in rc else {u: NOT_FOUND for u in USERS},
        ),
        "open311.services": ("GET", "/open311/v2/services.json", None, everyone),
        "open311.requests": ("GET", "/open311/v2/requests.json", None, everyone),
        "open311.request": (
            "GET",
            f"/open311/v2/requests/{no}.json",
            None,
            everyone if "report_no" in rc else {u: NOT_FOUND for u in USERS},
        ),
        "open311.post": ("POST", "/open311/v2/requests.json", {"service_code": ""}, everyone),  # 400: no service
    }


@pytest.fixture(scope="session")
def reports_cells(app, world, reports_world) -> dict:
    """An incident of 城管 posted in my street, and one the district's queue holds (a position well
    outside the district, no address text: nothing to place it by); their street and owner read back
    from what the hub decided. (Swapped coordinates are no longer queued unplaced: they are swapped
    back, and such a report joins the first incident.)"""
    from citizen_reports.config import load_reports_config
    from citizen_reports.models import Incident
    from citizen_reports.open311 import service_code

    code = service_code(load_reports_config(), "综合执法", "占道经营")
    c = TestClient(app)
    lon, lat = reports_world["mine"]
    out = {}
    for key, (x, y) in {"incident": (lon, lat), "queued": (lon + 0.3, lat + 0.3)}.items():
        r = c.post("/open311/v2/requests.json", data={"service_code": code, "lat": f"{y:.6f}", "long": f"{x:.6f}"})
        assert r.status_code == 200, r.text
        posted = r.json()[0]
        with app.state.session_factory() as s:
            i = s.get(Incident, posted["incident_id"])
            out[key] = {"id": i.id, "street_code": i.street_code, "department": i.department}
        out.setdefault("report_no", posted["service_request_id"])
    assert out["queued"]["department"] == "district"
    return out


def tasks_routes(w) -> dict:
    t = f"/d/tasks/{w.task_id}"
    c = f"/c/tasks/{w.task_id}"
    managers = {"admin1": OK, "minzheng1": OK, "chengguan1": OK}
    owner = {"admin1": OK, "minzheng1": OK, "chengguan1": NOT_FOUND}
    return {
        "tasks.index": ("GET", "/d/tasks", None, managers),
        "tasks.new": ("GET", "/d/tasks/new", None, managers),
        "tasks.mapping": ("POST", "/d/tasks/mapping", {}, managers),
        "tasks.create": ("POST", "/d/tasks/new", {"name": ""}, managers),
        "tasks.task": ("GET", t, None, owner),
        "tasks.task.unknown": ("GET", "/d/tasks/999999", None, {k: NOT_FOUND for k in managers}),
        "tasks.queue": ("GET", f"{t}/queue", None, owner),
        "tasks.route": ("POST", f"{t}/rows/{w.task_row_queue}/route", {"community": "", "why": ""}, owner),
        "tasks.by_address": ("POST", f"{t}/queue/by-address", {}, owner),
        "tasks.report": ("GET", f"{t}/report.xlsx", None, owner),
        "tasks.export": ("GET", f"{t}/export.csv", None, owner),
        "c.tasks": ("GET", "/c/tasks", None, {"worker1": OK, "worker2": OK}),
        "c.task": ("GET", c, None, {"worker1": OK, "worker2": OK}),
        "c.task.unknown": ("GET", "/c/tasks/999999", None, {"worker1": NOT_FOUND, "worker2": NOT_FOUND}),
        "c.task.row": ("GET", f"{c}/rows/{w.task_row}", None, {"worker1": OK, "worker2": NOT_FOUND}),
        "c.task.row.other_committee": (
            "GET", f"{c}/rows/{w.task_row_other_committee}", None, {"worker1": NOT_FOUND, "worker2": OK}),
        "c.task.row.other_street": (
            "GET", f"{c}/rows/{w.task_row_other_street}", None, {"worker1": NOT_FOUND, "worker2": NOT_FOUND}),
        "c.task.row.queue": ("GET", f"{c}/rows/{w.task_row_queue}", None, {"worker1": NOT_FOUND, "worker2": NOT_FOUND}),
        "c.task.answer": ("POST", f"{c}/rows/{w.task_row}", {"outcome": "?"}, {"worker1": OK, "worker2": NOT_FOUND}),
        "c.task.reroute": ("POST", f"{c}/rows/{w.task_row}/reroute", {"why": ""}, {"worker1": OK, "worker2": NOT_FOUND}),
        "s.tasks": ("GET", "/s/tasks", None, {"street1": OK, "street2": OK}),
        # 最多查一次: a committee's street shops; a shop outside the committee is not found
        "c.shops": ("GET", "/c/shops", None, {"worker1": OK, "worker2": OK}),
        "c.shop.visit.unknown": ("GET", "/c/shops/NOSUCHSHOP/visit", None, {"worker1": NOT_FOUND, "worker2": NOT_FOUND}),
        "c.shop.save.unknown": (
            "POST", "/c/shops/NOSUCHSHOP/visit", {"sign_name": ""}, {"worker1": NOT_FOUND, "worker2": NOT_FOUND}),
    }  # fmt: skip


def _expected(user: str, rules: dict) -> object:
    if user in rules:
        return rules[user]
    if user == "anonymous":
        return LOGIN
    return FORBIDDEN


def _outcome(r) -> object:
    if r.status_code in (303, 307) and "/login" in r.headers.get("location", ""):
        return LOGIN
    if r.status_code == 401:
        return LOGIN
    if r.status_code in (403, 404):
        return r.status_code
    if r.status_code >= 500:
        return f"server error {r.status_code}"
    return OK


@pytest.mark.slow
def test_every_user_gets_exactly_what_the_matrix_says_on_every_route(app, world, reports_cells):
    from conftest import csrf_from

    clients = {}
    for user in USERS:
        if user == "anonymous":
            c = TestClient(app, follow_redirects=False)
            token = csrf_from(c.get("/login").text)
        else:
            c, token = logged_in(app, world, user)
        clients[user] = (c, token)
    table = routes(world, reports_cells)
    wrong = []
    cells = 0
    for name, (method, path, form, rules) in table.items():
        for user in USERS:
            c, token = clients[user]
            if method == "GET":
                r = c.get(path)
            else:
                r = c.post(path, data={**(form or {}), "csrf_token": token})
            got, want = _outcome(r), _expected(user, rules)
            cells += 1
            if got != want:
                wrong.append(f"{name} as {user}: {method} {path} → {r.status_code} ({got}), expected {want}")
    assert not wrong, "\n".join(wrong)
    assert cells == len(table) * len(USERS) and cells > 300


def test_every_route_of_the_app_is_in_the_matrix(app, world):
    """A route added later without a row in the matrix fails here."""
    covered = {(m, _template(p)) for m, p, _f, _r in routes(world).values()}
    missing = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith(("/static", "/healthz")) or path in ("/", "/logout"):
            continue
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            if (method, path) not in covered and not any(_matches(path, p) for m, p in covered if m == method):
                missing.append(f"{method} {path}")
    known_elsewhere = {
        "POST /login",  # tests/app/test_security.py: lockout, throttling, cookies
        "POST /admin/users/import",  # test_users.py
        "POST /admin/users/{user_id}/enable",
        "POST /admin/users/{user_id}/reset",
    }
    assert sorted(set(missing) - known_elsewhere) == []


def _template(path: str) -> str:
    return path.split("?")[0]


def _matches(template: str, path: str) -> bool:
    import re

    pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
    return re.match(pattern, path) is not None


@pytest.mark.slow
def test_admin_routes_that_change_accounts_are_admin_only(app, world):
    """enable / reset / disable of a real account: 403 for every other kind, done for the admin."""
    target = world.user_ids["worker2"]
    for user in ("worker1", "street1", "minzheng1"):
        c, token = logged_in(app, world, user)
        for action in ("reset", "disable", "enable"):
            r = c.post(f"/admin/users/{target}/{action}", data={"csrf_token": token})
            assert r.status_code == 403, (user, action, r.status_code)
    c, token = logged_in(app, world, "admin1")
    r = c.post(f"/admin/users/{target}/enable", data={"csrf_token": token})
    assert r.status_code == 200
