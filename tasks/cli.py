"""`civichub task …` (wired into pipelines/cli.py next to serve and users).

civichub task create --db FILE --list LIST --name NAME --checklist CHECKLIST.yml [--due YYYY-MM-DD] [--department D]
civichub task export --db FILE --task ID --out FILE.csv
civichub task report --db FILE --task ID --out FILE.xlsx
civichub task shop-visits --db FILE --inbox DIR --delivery YYYY-MM   # the app's shop visits into a delivery
"""

from __future__ import annotations

import csv
import datetime as _dt
import sys
import time
from pathlib import Path


def _session(db: Path):
    from app.config import app_db_url
    from app.db import make_engine, make_session_factory, upgrade

    url = app_db_url(db)
    upgrade(url)
    engine = make_engine(url)
    return engine, make_session_factory(engine)()


def cmd_task(args) -> int:
    from app.cli import _hub_db
    from tasks.checklist import ChecklistError
    from tasks.listfile import ListFileError
    from tasks.service import TaskError

    db = _hub_db(args)
    try:
        if args.task_command == "create":
            return _create(db, args)
        if args.task_command == "export":
            return _export(db, args)
        if args.task_command == "report":
            return _report(db, args)
        if args.task_command == "shop-visits":
            return _shop_visits(db, args)
    except (ChecklistError, ListFileError, TaskError, LookupError, FileExistsError, ValueError) as e:
        print(f"civichub task {args.task_command}: {e}", file=sys.stderr)
        return 2
    return 2


def _create(db: Path, args) -> int:
    from tasks.checklist import load_checklist
    from tasks.listfile import guess_mapping, read_list
    from tasks.routing import MasterIndex
    from tasks.service import create_task

    due = None
    if args.due:
        try:
            due = _dt.date.fromisoformat(args.due)
        except ValueError:
            print(f"civichub task create: --due must be YYYY-MM-DD (got {args.due!r})", file=sys.stderr)
            return 2
    checklist_path = Path(args.checklist)
    load_checklist(checklist_path)
    listing = read_list(Path(args.list))
    mapping = guess_mapping(listing.headers)
    t0 = time.perf_counter()
    master = MasterIndex.from_hub(db)
    engine, s = _session(db)
    try:
        task = create_task(
            s, listing, mapping, checklist_path.read_text(encoding="utf-8"), name=args.name,
            department=args.department, due=due, master=master, actor="cli",
        )  # fmt: skip
        s.commit()
        from tasks.service import progress

        queue = sum(p["total"] for p in progress(s, task) if p["queue"])
        print(task.id)
        print(
            f"task {task.id}: {task.row_count} row(s) from {listing.name} "
            f"({', '.join(f'{k}={v}' for k, v in mapping.items() if v)}); routed {task.row_count - queue}, "
            f"in the district's queue {queue}; {time.perf_counter() - t0:.1f}s",
            file=sys.stderr,
        )
    finally:
        s.close()
        engine.dispose()
    return 0


def _task(s, task_id: int):
    from app.db.models import Task
    from tasks.service import TaskError

    task = s.get(Task, task_id)
    if task is None:
        raise TaskError(f"no task {task_id}")
    return task


def _export(db: Path, args) -> int:
    from tasks.service import EXPORT_COLUMNS, checklist_of, export_rows

    engine, s = _session(db)
    try:
        task = _task(s, args.task)
        rows = export_rows(s, task)
        cols = EXPORT_COLUMNS + checklist_of(task).ids
        with open(args.out, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=cols)
            w.writeheader()
            w.writerows(rows)
        print(f"{len(rows)} row(s) of task {task.id} written to {args.out}")
    finally:
        s.close()
        engine.dispose()
    return 0


def _report(db: Path, args) -> int:
    from tasks.report import task_report

    engine, s = _session(db)
    try:
        task = _task(s, args.task)
        Path(args.out).write_bytes(task_report(s, task))
        print(f"report of task {task.id} written to {args.out}")
    finally:
        s.close()
        engine.dispose()
    return 0


def _shop_visits(db: Path, args) -> int:
    import duckdb

    from tasks.shop_visits import write_delivery_file

    names: dict[str, str] = {}
    try:
        with duckdb.connect(str(db), read_only=True) as con:
            for s_, sn, c, cn in con.execute(
                "select street_code, street_name, community_code, community_name from staging.stg_divisions"
            ).fetchall():
                names[s_], names[c] = sn, cn
    except duckdb.Error:
        pass  # codes instead of names: the hub routes by address, the names are for people
    engine, s = _session(db)
    try:
        path, n = write_delivery_file(s, Path(args.inbox), args.delivery, names)
        s.commit()
        print(f"{n} shop visit(s) from the street app written to {path}; `civichub run` ingests them")
    finally:
        s.close()
        engine.dispose()
    return 0


def add_parsers(sub) -> None:
    t = sub.add_parser("task", help="排摸 tasks: create from a list and a checklist, export answers, report")
    tsub = t.add_subparsers(dest="task_command", required=True)
    c = tsub.add_parser("create", help="create a task from a list (.xlsx/.csv) and a checklist; prints its id")
    c.add_argument("--list", required=True, help=".xlsx (first sheet) or .csv (UTF-8, BOM, GBK, GB18030)")
    c.add_argument("--name", required=True)
    c.add_argument("--checklist", required=True, help="checklist YAML (tasks/checklist.py)")
    c.add_argument("--due", default=None, help="YYYY-MM-DD")
    c.add_argument("--department", default="district", help="the owning department (default: district)")
    e = tsub.add_parser("export", help="the answers, one CSV row per list row in the list's order")
    e.add_argument("--task", type=int, required=True)
    e.add_argument("--out", required=True)
    r = tsub.add_parser("report", help="the .xlsx report: summary with formulas, rows, chart")
    r.add_argument("--task", type=int, required=True)
    r.add_argument("--out", required=True)
    v = tsub.add_parser(
        "shop-visits", help="the shop visits saved in the app, into a delivery folder (street_shop_visits_app.csv)"
    )
    v.add_argument("--inbox", required=True)
    v.add_argument("--delivery", required=True, help="YYYY-MM: the delivery folder the visits go into")
    for p in (c, e, r, v):
        p.add_argument(
            "--db", default=None, help="hub database (default $CIVICHUB_DB); the app database sits beside it"
        )
    t.set_defaults(func=cmd_task)
