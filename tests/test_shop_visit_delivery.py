"""最多查一次 end to end on the hub: shop visits saved in the street app are written into the next
delivery (street_shop_visits_app.csv), `civichub run` ingests them as a source of their own, and each
visit is in its shop's inspection history (master.shop_inspection) with its lineage to the app."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest

pytestmark = pytest.mark.slow


def test_a_visit_saved_in_the_app_is_in_the_next_delivery_and_the_shops_history(hub_copy, tmp_path):
    from app.db import make_engine, make_session_factory, upgrade
    from app.db.models import User
    from pipelines.run import run_hub
    from tasks.shop_visits import prefilled, save_visit, write_delivery_file

    db = hub_copy.db
    with duckdb.connect(str(db), read_only=True) as con:
        cols = "shop_code, name, registered_name, uscc, full_address, street_code, community_code, licence_no, licence_valid_until"
        shop = con.execute(
            f"""select {cols} from master.shop where in_latest_delivery and community_code is not null
                and name is not null and full_address is not null order by visit_count desc, shop_code limit 1"""
        ).fetchone()
        shop = dict(zip([c.strip() for c in cols.split(",")], shop))
        before = con.execute(
            "select count(*) from master.shop_inspection where shop_code = ?", [shop["shop_code"]]
        ).fetchone()[0]
        months = [
            r[0]
            for r in con.execute(
                "select distinct delivery from ingest.file_log where regexp_full_match(delivery, '\\d{4}-\\d{2}') order by 1"
            ).fetchall()
        ]
    # the next delivery: last month's registry files again (a full snapshot) plus the app's visits
    inbox = tmp_path / "inbox"
    shutil.copytree(hub_copy.inbox, inbox, ignore=shutil.ignore_patterns("_truth"))
    nxt = "2026-12"
    assert months[-1] < nxt
    shutil.copytree(inbox / months[-1], inbox / nxt)

    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    visited = dt.date(2026, 12, 2)
    with make_session_factory(engine)() as s:
        s.add(User(id=1, login="w", display_name="陆慧贞", kind="committee", password_hash="x", failed_logins=0))
        s.flush()
        values = {**prefilled(shop), "visited_on": visited.isoformat(), "business_format": "餐饮",
                  "inspection_result": "责令整改", "fume_duct_cleaned": "否"}  # fmt: skip
        visit, problems = save_visit(s, shop, values, "陆慧贞", 1)
        assert problems == {}
        path, n = write_delivery_file(s, inbox, nxt)
        s.commit()
        uid = visit.uid
    engine.dispose()
    assert n == 1

    summary = run_hub(inbox, db, progress=False)
    assert summary.ok, summary
    with duckdb.connect(str(db), read_only=True) as con:
        log = con.execute(
            "select status, rows_loaded from ingest.file_log where source_file = ?",
            [f"{nxt}/street_shop_visits_app.csv"],
        ).fetchone()
        assert log == ("loaded", 1)
        staged = con.execute(
            "select source, app_visit_id, sign_name from staging.stg_street_shop_visits where app_visit_id = ?", [uid]
        ).fetchone()
        assert staged[:2] == ("street_shop_visits_app", uid)
        history = con.execute(
            """select visited_on, inspection_result, source_file from master.shop_inspection
               where shop_code = ? order by visited_on""",
            [shop["shop_code"]],
        ).fetchall()
    assert len(history) > before
    assert (visited, "责令整改", f"{nxt}/street_shop_visits_app.csv") in [(h[0], h[1], h[2]) for h in history], history
