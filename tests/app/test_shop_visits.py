"""最多查一次: a visit to a street shop done in the app fills the three forms at once, pre-filled from the
shop file; written into the next delivery (street_shop_visits_app), `civichub run` ingests it as a
source of its own and the visit is in the shop's inspection history, with its lineage to the app."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from conftest import logged_in

pytestmark = pytest.mark.slow


def _shop_and_worker(world):
    """A shop of the latest delivery with a licence, and a worker account of its committee."""
    from app.db import make_engine, make_session_factory
    from app.users import add_user

    with duckdb.connect(str(world.db), read_only=True) as con:
        shop = con.execute(
            """select shop_code, name, uscc, licence_no, community_code from master.shop
               where in_latest_delivery and community_code is not null and licence_no is not null
               order by visit_count desc, shop_code limit 1"""
        ).fetchone()
    login = f"shopworker_{shop[0][-6:]}".lower()
    if login not in world.passwords:
        published = {p.name for p in (world.db.parent / "out" / "published").iterdir() if not p.name.startswith(".")}
        engine = make_engine(world.url)
        with make_session_factory(engine)() as s:
            _user, password = add_user(s, login, "committee", shop[4], "陆慧贞", "tests", published)
            s.commit()
        engine.dispose()
        world.passwords[login] = password
    return shop, login


def test_one_visit_fills_the_three_forms_prefilled_and_reaches_the_shop_file(app, world, backend, tmp_path):
    from app.db import make_engine, make_session_factory
    from tasks.shop_visits import DELIVERY_FILE, write_delivery_file

    (code, name, uscc, licence, community), login = _shop_and_worker(world)
    w, token = logged_in(app, world, login)
    page = w.get("/c/shops")
    assert page.status_code == 200 and f"/c/shops/{code}/visit" in page.text
    form = w.get(f"/c/shops/{code}/visit")
    assert form.status_code == 200
    for known in (name, uscc, licence):
        if known:
            assert f'value="{known}"' in form.text, f"{known} is pre-filled from the shop file"
    for title in ("餐饮设施基础信息登记", "沿街店铺走访调查", "餐饮行业综合检查"):
        assert title in form.text
    values = {"csrf_token": token, "visited_on": dt.date.today().isoformat(), "sign_name": name,
              "registered_name": "", "uscc": uscc or "", "business_address": "", "licence_no": licence or "",
              "licence_valid_until": "", "business_format": "餐饮", "inspection_result": "",
              "fume_purifier": "有", "gas_safety": "合格", "area_m2": "35"}  # fmt: skip
    r = w.post(f"/c/shops/{code}/visit", data=values)
    assert r.status_code == 422 and "请选择检查结果" in r.text and "请填写经营地址" in r.text
    values.update(inspection_result="责令整改", business_address="上海市静安区某路1号", contact_name="张老板")
    r = w.post(f"/c/shops/{code}/visit", data=values)
    assert r.status_code == 303
    assert "待入库" in w.get("/c/shops").text
    assert w.get("/c/shops/NOSUCHSHOP/visit").status_code == 404

    if backend != "sqlite":
        return  # the delivery and the hub run below are the same on both backends: once is enough
    # the next delivery carries the app's visits (the hub's run of it: tests/test_shop_visit_delivery.py)
    inbox = tmp_path / "inbox"
    engine = make_engine(world.url)
    with make_session_factory(engine)() as s:
        path, n = write_delivery_file(s, inbox, "2026-12")
        s.commit()
        assert n >= 1 and path.name == DELIVERY_FILE
        with pytest.raises(FileExistsError):
            write_delivery_file(s, inbox, "2026-12")
    engine.dispose()
    text = path.read_text(encoding="utf-8")
    assert "责令整改" in text and code in text
