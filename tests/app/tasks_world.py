"""A 排摸 task in the served district of the app tests: a department's list of persons of my committee,
another committee of my street, another street, and two persons the hub does not know (one whose
address the library places, one without), routed by the hub's own code."""

from __future__ import annotations

import csv
import io

import duckdb

CHECKLIST = """title: 入户排摸
questions:
  - {id: at_home, text: 本人是否在家, type: yes_no, required: true}
  - {id: health, text: 身体状况, type: single, options: [良好, 一般, 较差], required: true,
     show_if: {question: at_home, equals: 是}}
  - {id: needs, text: 需要的帮助, type: multiple, options: [就医, 就业, 照料]}
  - {id: remark, text: 其他情况, type: text}
"""
HEADERS = ["序号", "姓名", "证件号码", "手机号码", "家庭住址", "来源"]


def persons_of(db, committee: str, n: int) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            """select p.name, p.id_number, p.phone, h.full_address from master.person p
               join master.household h using (household_id)
               where p.in_latest_delivery and h.community_code = ? and p.status = '正常' and p.id_number_valid
                 and p.name not like '%<%' and coalesce(h.full_address, '') not like '%<%'
               order by p.person_id limit ?""",
            [committee, n],
        ).fetchall()


def library_address(db, committee: str) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select full_address from staging.stg_standard_addresses where community_code = ? order by address_id limit 1",
            [committee],
        ).fetchone()[0]


def list_rows(world) -> list[list[str]]:
    """The list, in its order; the committee each row should reach is in `expected_committees`."""
    rows = []
    for committee, n in ((world.committee, 3), (world.other_committee, 1), (world.other_street_committee, 1)):
        for name, idn, phone, address in persons_of(world.db, committee, n):
            rows.append([name, idn or "", phone or "", address or ""])
    rows.append(["查无此名", "", "", library_address(world.db, world.other_committee)])
    rows.append(["无名氏甲", "", "", ""])
    return [[str(k), *r, "市里推送"] for k, r in enumerate(rows, start=1)]


def expected_committees(world) -> list[str | None]:
    return [world.committee] * 3 + [world.other_committee, world.other_street_committee, None, None]


def list_csv(rows: list[list[str]], encoding: str = "gbk") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADERS)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def create_world_task(world, department: str = "minzheng") -> int:
    """The task every app test can use (created through the service, as `civichub task create` does)."""
    from app.db import make_engine, make_session_factory
    from tasks.listfile import guess_mapping, read_list_bytes
    from tasks.routing import MasterIndex
    from tasks.service import create_task

    listing = read_list_bytes(list_csv(list_rows(world)), "排摸名单.csv")
    engine = make_engine(world.url)
    try:
        with make_session_factory(engine)() as s:
            task = create_task(s, listing, guess_mapping(listing.headers), CHECKLIST, name="测试排摸",
                               department=department, due=None, master=MasterIndex.from_hub(world.db),
                               actor="tests")  # fmt: skip
            s.commit()
            return task.id
    finally:
        engine.dispose()


def rows_of(world, task_id: int) -> list:
    from sqlalchemy import select

    from app.db import make_engine, make_session_factory
    from app.db.models import TaskRow

    engine = make_engine(world.url)
    try:
        with make_session_factory(engine)() as s:
            return list(s.scalars(select(TaskRow).where(TaskRow.task_id == task_id).order_by(TaskRow.source_row)))
    finally:
        engine.dispose()
