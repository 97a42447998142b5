"""Demo accounts for `civichub demo`: one of each kind, placed where the demo district has work to do.

Passwords are random and printed once by the demo; nothing here is a fixed credential.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from app import users as um
from app.config import app_db_url, hub_paths
from app.db import make_engine, make_session_factory, upgrade


def busiest_committee(published_root: Path) -> tuple[str, str, str] | None:
    """(street code, committee code, committee name) with the most open findings of the district."""
    best = None
    for link in sorted(published_root.glob("street_*")):
        role = link.name
        db_file = link / f"{role}.duckdb"
        if not db_file.exists():
            continue
        with duckdb.connect(str(db_file), read_only=True) as con:
            try:
                row = con.execute(
                    """select f.community_code, count(*) as n,
                              any_value((select any_value(d.community_name) from staging.stg_divisions d
                                         where d.community_code = f.community_code)) as name
                       from quality.finding f where f.status = 'open' and f.community_code is not null
                       group by 1 order by 2 desc, 1 limit 1"""
                ).fetchone()
            except duckdb.Error:
                continue
        if row and (best is None or row[1] > best[1]):
            best = (role.removeprefix("street_"), row[1], row[0], row[2] or row[0])
    return None if best is None else (best[0], best[2], best[3])


def create_demo_users(db: Path) -> list[tuple[str, str, str, str]]:
    """(login, name, what they can do, password) for each demo account."""
    url = app_db_url(db)
    upgrade(url)
    paths = hub_paths(db)
    published = {p.name for p in paths.published_root.iterdir() if not p.name.startswith(".")}
    place = busiest_committee(paths.published_root)
    wanted = [("admin", "区管理员", "admin", None, "用户管理、全区进度")]
    if place:
        street, committee, name = place
        wanted += [
            ("juwei", "王芳", "committee", committee, f"居委工作人员（{name}）：核实问题、花名册"),
            ("jiedao", "李明", f"street_{street}", None, "街道：进度、问题、花名册、Excel 下载"),
        ]
    wanted += [
        ("minzheng", "张华", "minzheng", None, "民政（分析）：目录、查询、救助与预警名单"),
        ("shijian", "赵强", "shichangjianguan", None, "市场监管：目录、查询、Parquet 下载"),
    ]
    if "chengguan" in published:  # owns 综合执法 in citizen_reports/categories.yml
        wanted.append(("chengguan", "孙伟", "chengguan", None, "城管执法：百姓拍看板、事件办理、重复复核（/r/board）"))
    engine = make_engine(url)
    out = []
    try:
        with make_session_factory(engine)() as s:
            for login, name, role, community, what in wanted:
                try:
                    _u, password = um.add_user(s, login, role, community, name, "demo", published)
                except um.UserError:
                    _u, password = um.reset_password(s, login)
                out.append((login, name, what, password))
            s.commit()
    finally:
        engine.dispose()
    return out
