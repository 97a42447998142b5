"""排摸 tasks on the app (seed 000): the department uploads a list once, the hub routes every row to the
committee where the person lives (or to the district's queue, saying why), the worker answers the
checklist at the door, the street watches progress, the report and the export build themselves.

    /d/tasks…      department (its own tasks) and district administrator (all): upload with header
                   mapping, the queue (route by hand or by the address), progress, report .xlsx, export .csv
    /c/tasks…      committee worker: my rows by building and room, the checklist, 查无此人/拒绝配合/已搬离,
                   re-route a row that belongs to another committee
    /s/tasks…      street office: progress per committee of its rows

Scope: a row outside the caller's task, street or committee is "not found"; every page showing rows
is audited; ID numbers and phones are masked by sharing/masking.py.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import threading
from urllib.parse import quote

import duckdb
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app import excel
from app.audit import audit
from app.auth.deps import Forbidden, NotFound, get_db, require
from app.auth.principal import Principal, street_of
from app.db.models import ROW_OUTCOMES, Task, TaskRow, utcnow
from app.pages import render
from sharing.masking import mask_id_number, mask_phone
from tasks import service
from tasks.checklist import ChecklistError, parse_checklist
from tasks.listfile import FIELD_LABELS, FIELDS, SYNONYMS, ListFileError, check_mapping, guess_mapping, read_list_bytes
from tasks.report import task_report
from tasks.routing import MasterIndex

router = APIRouter()
manage = require("tasks")
committee = require("committee")
street = require("street")
MAX_LIST_BYTES = 20 * 1024 * 1024
PAGE_SIZE = 100
EXAMPLE_CHECKLIST = """title: 入户排摸
questions:
  - id: at_home
    text: 本人是否在家
    type: yes_no
    required: true
  - id: contact_date
    text: 核实日期
    type: date
    required: true
  - id: health
    text: 身体状况
    type: single
    options: [良好, 一般, 较差]
    required: true
    show_if: {question: at_home, equals: 是}
  - id: needs
    text: 需要的帮助
    type: multiple
    options: [生活照料, 就医, 就业, 其他]
  - id: remark
    text: 其他情况
    type: text
"""

_master_lock = threading.Lock()


# ------------------------------------------------------------------------------------------ helpers
def master_index(request: Request) -> MasterIndex:
    """The master data and address library, read from the hub database once per hub version."""
    db = request.app.state.settings.paths.db
    try:
        stamp = db.stat().st_mtime_ns
    except OSError:
        raise NotFound("数据中心尚未建立主数据（请先运行 civichub run）") from None
    with _master_lock:
        cached = getattr(request.app.state, "task_master", None)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            index = MasterIndex.from_hub(db)
        except duckdb.IOException:
            raise TaskUnavailable() from None
        except LookupError as e:
            raise NotFound(str(e)) from None
        request.app.state.task_master = (stamp, index)
        return index


class TaskUnavailable(Forbidden):
    def __init__(self):
        super().__init__("数据中心正在更新主数据，暂时无法匹配名单，请几分钟后再试")


def divisions(request: Request) -> dict[str, str]:
    """Street and committee names by code (from the master index once loaded, else a small read)."""
    cached = getattr(request.app.state, "task_master", None)
    if cached is not None:
        return {**cached[1].street_names, **cached[1].community_names}
    names = getattr(request.app.state, "task_divisions", None)
    if names is not None:
        return names
    names = {}
    try:
        with duckdb.connect(str(request.app.state.settings.paths.db), read_only=True) as con:
            for s, sn, c, cn in con.execute(
                "select street_code, street_name, community_code, community_name from staging.stg_divisions"
            ).fetchall():
                names[s], names[c] = sn, cn
    except duckdb.Error:
        return {}
    request.app.state.task_divisions = names
    return names


def _task_for_manager(db: Session, p: Principal, task_id: int) -> Task:
    task = db.get(Task, task_id)
    if task is None or (p.kind == "department" and task.department != p.hub_role):
        raise NotFound("没有找到这个任务（不存在，或不是本部门的任务）")
    return task


def _owner(p: Principal) -> str:
    return p.hub_role if p.kind == "department" and p.hub_role else "district"


def _row_view(r: TaskRow, task: Task, names: dict[str, str]) -> dict:
    """A row as pages show it: ID number and phone masked, the list's other columns as they came."""
    m = task.mapping or {}
    data = r.data or {}
    masked = {m.get("id_number"): mask_id_number, m.get("phone"): mask_phone}
    other = [(h, (masked[h](v) if h in masked and masked[h] else v) or "")
             for h, v in data.items() if h not in (m.get("name"), m.get("address")) and v]  # fmt: skip
    return {
        "id": r.id,
        "source_row": r.source_row,
        "name": r.name or "（无姓名）",
        "address": r.address_shown or data.get(m.get("address") or "", "") or "",
        "other": other,
        "match_status": r.match_status,
        "reason": r.reason,
        "status": r.status,
        "outcome": ROW_OUTCOMES.get(r.outcome or "", ""),
        "community_code": r.community_code,
        "community": names.get(r.community_code or "", r.community_code or ""),
        "suggested": r.suggested_community,
        "suggested_name": names.get(r.suggested_community or "", r.suggested_community or ""),
        "candidates": r.candidates or [],
        "version": r.version,
        "walk": (r.walk_key or "").split("|")[0],
        "answered_by": r.answered_by,
    }


# ------------------------------------------------------------------------------------------ department / district
@router.get("/d/tasks")
def tasks_index(request: Request, p: Principal = Depends(manage), db: Session = Depends(get_db)):
    q = select(Task).order_by(Task.id.desc())
    if p.kind == "department":
        q = q.where(Task.department == p.hub_role)
    tasks = db.scalars(q).all()
    counts = _counts(db, [t.id for t in tasks])
    return render(request, "tasks/index.html", p, tasks=tasks, counts=counts, today=_dt.date.today())


def _counts(db: Session, task_ids: list[int], community: str | None = None, street_code: str | None = None):
    if not task_ids:
        return {}
    q = select(
        TaskRow.task_id,
        func.count(),
        func.count().filter(TaskRow.status == "done"),
        func.count().filter(TaskRow.community_code.is_(None)),
    ).where(TaskRow.task_id.in_(task_ids))
    if community:
        q = q.where(TaskRow.community_code == community)
    if street_code:
        q = q.where(TaskRow.street_code == street_code)
    return {
        t: {"total": n, "done": d, "left": n - d, "queue": qn}
        for t, n, d, qn in db.execute(q.group_by(TaskRow.task_id))
    }


def _new_page(request, p, status_code=200, **extra):
    values = {"error": None, "form": {"name": "", "due": "", "checklist": EXAMPLE_CHECKLIST}, "mapping": None,
              "headers": [], "preview": [], "fields": FIELDS, "labels": FIELD_LABELS, "synonyms": SYNONYMS,
              "list_name": ""}  # fmt: skip
    values.update(extra)
    return render(request, "tasks/new.html", p, status_code=status_code, **values)


@router.get("/d/tasks/new")
def new_task(request: Request, p: Principal = Depends(manage)):
    return _new_page(request, p)


async def _read_upload(upload: UploadFile | None) -> tuple[bytes, str]:
    if upload is None or not upload.filename:
        raise ListFileError("请选择名单文件（.xlsx 或 .csv）")
    data = await upload.read(MAX_LIST_BYTES + 1)
    if len(data) > MAX_LIST_BYTES:
        raise ListFileError(f"{upload.filename}: 文件超过 {MAX_LIST_BYTES // 1024 // 1024} MB")
    return data, upload.filename


@router.post("/d/tasks/mapping")
async def mapping_preview(request: Request, list_file: UploadFile | None = File(None), p: Principal = Depends(manage)):
    """The header mapping the hub recognised, for the user to confirm or change (htmx fragment)."""
    try:
        data, name = await _read_upload(list_file)
        listing = read_list_bytes(data, name)
    except ListFileError as e:
        return render(request, "tasks/_mapping.html", p, error=str(e), mapping=None, headers=[], preview=[],
                      fields=FIELDS, labels=FIELD_LABELS, list_name="")  # fmt: skip
    mapping = guess_mapping(listing.headers)
    audit(request, p, "view", f"task-upload/{name[:80]}", "ok", f"{len(listing.rows)} rows (header preview)")
    return render(request, "tasks/_mapping.html", p, error=None, mapping=mapping, headers=listing.headers,
                  preview=_preview(listing, mapping), fields=FIELDS, labels=FIELD_LABELS,
                  list_name=f"{name}：{len(listing.rows)} 行，编码 {listing.encoding or 'xlsx'}")  # fmt: skip


def _preview(listing, mapping) -> list[list[str]]:
    masked = {mapping.get("id_number"): mask_id_number, mapping.get("phone"): mask_phone}
    return [[(masked[h](r.get(h)) if h in masked and masked[h] else r.get(h)) or "" for h in listing.headers]
            for r in listing.rows[:3]]  # fmt: skip


@router.post("/d/tasks/new")
async def create(
    request: Request,
    name: str = Form(""),
    due: str = Form(""),
    checklist: str = Form(""),
    list_file: UploadFile | None = File(None),
    p: Principal = Depends(manage),
    db: Session = Depends(get_db),
):
    form = await request.form()
    values = {"name": name, "due": due, "checklist": checklist}
    try:
        data, filename = await _read_upload(list_file)
        listing = read_list_bytes(data, filename)
        guessed = guess_mapping(listing.headers)
        chosen = {f: (form.get(f"map_{f}") if f"map_{f}" in form else guessed.get(f)) for f in FIELDS}
        mapping = check_mapping({f: (v if isinstance(v, str) else None) for f, v in chosen.items()},
                                listing.headers, filename)  # fmt: skip
        parse_checklist(checklist, "清单（检查项）")
        due_date = _dt.date.fromisoformat(due) if due.strip() else None
    except (ListFileError, ChecklistError) as e:
        return _new_page(request, p, 422, error=str(e), form=values)
    except ValueError:
        return _new_page(request, p, 422, error=f"截止日期格式应为 YYYY-MM-DD（收到 {due!r}）", form=values)
    master = await run_in_threadpool(master_index, request)

    def work():
        task = service.create_task(db, listing, mapping, checklist, name=name, department=_owner(p), due=due_date,
                                   master=master, actor=p.login)  # fmt: skip
        db.commit()
        return task

    try:
        task = await run_in_threadpool(work)
    except service.TaskError as e:
        db.rollback()
        return _new_page(request, p, 422, error=str(e), form=values)
    audit(request, p, "submit", f"task/{task.id}", "ok", f"created from {filename[:80]}: {task.row_count} rows")
    return RedirectResponse(f"/d/tasks/{task.id}", status_code=303)


@router.get("/d/tasks/{task_id}")
def task_page(request: Request, task_id: int, p: Principal = Depends(manage), db: Session = Depends(get_db)):
    task = _task_for_manager(db, p, task_id)
    names = divisions(request)
    per = service.progress(db, task)
    for c in per:
        c["name"] = names.get(c["community_code"], "")
        c["street_name"] = names.get(c["street_code"], "")
    streets: dict[str, dict] = {}
    for c in per:
        if c["queue"]:
            continue
        s = streets.setdefault(c["street_code"], {"street_code": c["street_code"], "name": c["street_name"],
                                                  "total": 0, "done": 0, "left": 0, "overdue": 0})  # fmt: skip
        for k in ("total", "done", "left", "overdue"):
            s[k] += c[k]
    queue = sum(c["total"] for c in per if c["queue"])
    return render(request, "tasks/task.html", p, task=task, per=[c for c in per if not c["queue"]],
                  streets=list(streets.values()), queue=queue, checklist=service.checklist_of(task))  # fmt: skip


@router.get("/d/tasks/{task_id}/queue")
def queue(request: Request, task_id: int, page: int = 1, p: Principal = Depends(manage), db: Session = Depends(get_db)):
    task = _task_for_manager(db, p, task_id)
    names = divisions(request)
    base = select(TaskRow).where(TaskRow.task_id == task.id, TaskRow.community_code.is_(None))
    total = db.scalar(select(func.count()).select_from(base.subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = db.scalars(base.order_by(TaskRow.source_row).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    audit(request, p, "view", f"task/{task.id}/queue?page={page}")
    committees = sorted((c, n) for c, n in names.items() if not c.endswith("000"))
    suggested = db.scalar(
        select(func.count()).select_from(base.where(TaskRow.suggested_community.is_not(None)).subquery())
    )
    return render(request, "tasks/queue.html", p, task=task, rows=[_row_view(r, task, names) for r in rows],
                  total=total, page=page, pages=pages, committees=committees, suggested=suggested)  # fmt: skip


def _valid_committee(request: Request, code: str) -> str:
    code = (code or "").strip()
    names = divisions(request)
    if len(code) != 12 or not code.isdigit() or (names and code not in names):
        raise NotFound("没有这个居委代码")
    return code


@router.post("/d/tasks/{task_id}/rows/{row_id}/route")
def route_by_hand(
    request: Request, task_id: int, row_id: int, community: str = Form(""), why: str = Form(""),
    p: Principal = Depends(manage), db: Session = Depends(get_db),
):  # fmt: skip
    task = _task_for_manager(db, p, task_id)
    row = db.get(TaskRow, row_id)
    if row is None or row.task_id != task.id:
        raise NotFound()
    target = _valid_committee(request, community) if community else None
    try:
        service.reroute(db, row, target, p.login, why or ("人工分派" if target else ""), street_of)
    except service.TaskError as e:
        db.rollback()
        return render(request, "error.html", p, status_code=422, status=422, message=str(e))
    db.commit()
    audit(request, p, "submit", f"task/{task.id}/row/{row.id}", "ok", f"routed to {target or 'queue'}")
    return RedirectResponse(f"/d/tasks/{task.id}/queue", status_code=303)


@router.post("/d/tasks/{task_id}/queue/by-address")
def route_by_address(request: Request, task_id: int, confirm: str = Form(""), p: Principal = Depends(manage),
                     db: Session = Depends(get_db)):  # fmt: skip
    """Every queued row whose address the standard address library places: to that committee, in one action."""
    task = _task_for_manager(db, p, task_id)
    if confirm != "yes":
        return render(request, "error.html", p, status_code=422, status=422, message="请在待分派页面确认后再分派")
    rows = db.scalars(
        select(TaskRow).where(
            TaskRow.task_id == task.id,
            TaskRow.community_code.is_(None),
            TaskRow.suggested_community.is_not(None),
            TaskRow.status == "open",
        )  # fmt: skip
    ).all()
    for r in rows:
        service.reroute(db, r, r.suggested_community, p.login, "按标准地址库的地址归属分派", street_of)
    db.commit()
    audit(request, p, "submit", f"task/{task.id}/queue", "ok", f"{len(rows)} rows routed by address")
    return RedirectResponse(f"/d/tasks/{task.id}/queue", status_code=303)


@router.get("/d/tasks/{task_id}/report.xlsx")
def report(request: Request, task_id: int, p: Principal = Depends(manage), db: Session = Depends(get_db)):
    task = _task_for_manager(db, p, task_id)
    data = task_report(db, task, divisions(request))

    task.report_at = utcnow()
    db.commit()
    audit(request, p, "download", f"task/{task.id}/report.xlsx")
    return excel.download(f"{task.name}_排摸报表.xlsx", data)


@router.get("/d/tasks/{task_id}/export.csv")
def export(request: Request, task_id: int, p: Principal = Depends(manage), db: Session = Depends(get_db)):
    task = _task_for_manager(db, p, task_id)
    rows = service.export_rows(db, task)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=service.EXPORT_COLUMNS + service.checklist_of(task).ids)
    w.writeheader()
    w.writerows(rows)
    audit(request, p, "download", f"task/{task.id}/export.csv")
    return Response(buf.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(task.name + '_结果.csv')}"})  # fmt: skip


# ------------------------------------------------------------------------------------------ committee worker
@router.get("/c/tasks")
def my_tasks(request: Request, p: Principal = Depends(committee), db: Session = Depends(get_db)):
    ids = list(db.scalars(select(TaskRow.task_id).where(TaskRow.community_code == p.community_code).distinct()))
    tasks = db.scalars(select(Task).where(Task.id.in_(ids)).order_by(Task.id.desc())).all() if ids else []
    return render(request, "tasks/mine.html", p, tasks=tasks, counts=_counts(db, ids, community=p.community_code),
                  today=_dt.date.today())  # fmt: skip


def _my_task(db: Session, p: Principal, task_id: int) -> Task:
    task = db.get(Task, task_id)
    if task is None or not db.scalar(
        select(func.count()).where(TaskRow.task_id == task_id, TaskRow.community_code == p.community_code)
    ):
        raise NotFound("没有找到这个任务（不存在，或本居委没有这项任务的名单）")
    return task


@router.get("/c/tasks/{task_id}")
def my_rows(request: Request, task_id: int, show: str = "todo", p: Principal = Depends(committee),
            db: Session = Depends(get_db)):  # fmt: skip
    task = _my_task(db, p, task_id)
    names = divisions(request)
    q = select(TaskRow).where(TaskRow.task_id == task.id, TaskRow.community_code == p.community_code)
    rows = db.scalars(q.order_by(TaskRow.walk_key.is_(None), TaskRow.walk_key, TaskRow.source_row)).all()
    done = sum(1 for r in rows if r.status == "done")
    shown = [r for r in rows if show == "all" or (r.status == "open") == (show != "done")]
    audit(request, p, "view", f"task/{task.id}/rows?community={p.community_code}&show={show}")
    views = [_row_view(r, task, names) for r in shown]
    return render(request, "tasks/rows.html", p, task=task, rows=views, total=len(rows), done=done,
                  left=len(rows) - done, show=show, today=_dt.date.today())  # fmt: skip


def _my_row(db: Session, p: Principal, task_id: int, row_id: int) -> tuple[Task, TaskRow]:
    row = db.get(TaskRow, row_id)
    if row is None or row.task_id != task_id or row.community_code != p.community_code:
        raise NotFound("没有找到这一行（不存在，或不在本居委）")
    return db.get(Task, task_id), row


def _next_row(db: Session, p: Principal, row: TaskRow) -> int | None:
    q = select(TaskRow.id, TaskRow.walk_key, TaskRow.source_row).where(
        TaskRow.task_id == row.task_id, TaskRow.community_code == p.community_code, TaskRow.status == "open",
        TaskRow.id != row.id,
    )  # fmt: skip
    rest = sorted(db.execute(q).all(), key=lambda t: (t[1] is None, t[1] or "", t[2]))
    here = (row.walk_key is None, row.walk_key or "", row.source_row)
    after = [t for t in rest if (t[1] is None, t[1] or "", t[2]) > here]
    return (after or rest or [(None,)])[0][0]


def _row_page(request, p, db, task, row, status_code=200, problems=None, form=None, saved=False, error=None):
    names = divisions(request)
    checklist = service.checklist_of(task)
    answers = form["answers"] if form else dict(row.answers or {})
    visible = {q.id for q in checklist.visible(answers)}
    committees = sorted((c, n) for c, n in names.items() if not c.endswith("000") and c != p.community_code)
    return render(request, "tasks/row.html", p, status_code=status_code, task=task, r=_row_view(row, task, names),
                  checklist=checklist, answers=answers, visible=visible, problems=problems or {},
                  form=form or {"outcome": row.outcome or "answered", "note": row.note or ""}, saved=saved,
                  error=error, outcomes=ROW_OUTCOMES, next_id=_next_row(db, p, row), committees=committees)  # fmt: skip


@router.get("/c/tasks/{task_id}/rows/{row_id}")
def row_page(request: Request, task_id: int, row_id: int, saved: int = 0, p: Principal = Depends(committee),
             db: Session = Depends(get_db)):  # fmt: skip
    task, row = _my_row(db, p, task_id, row_id)
    audit(request, p, "view", f"task/{task.id}/row/{row.id}")
    return _row_page(request, p, db, task, row, saved=bool(saved))


@router.post("/c/tasks/{task_id}/rows/{row_id}")
async def answer(request: Request, task_id: int, row_id: int, p: Principal = Depends(committee),
                 db: Session = Depends(get_db)):  # fmt: skip
    task, row = _my_row(db, p, task_id, row_id)
    form = await request.form()
    checklist = service.checklist_of(task)
    answers: dict = {}
    for q in checklist.questions:
        if q.type == "multiple":
            answers[q.id] = [v for v in form.getlist(f"q_{q.id}") if isinstance(v, str)]
        else:
            v = form.get(f"q_{q.id}")
            answers[q.id] = v if isinstance(v, str) else None
    outcome = str(form.get("outcome") or "answered")
    note = str(form.get("note") or "")
    try:
        version = int(str(form.get("version") or "0")) or None
    except ValueError:
        version = None
    values = {"answers": answers, "outcome": outcome, "note": note}
    try:
        problems = service.answer_row(db, row, checklist, answers, outcome, note, p.display_name, p.user_id, version)
    except service.StaleRow as e:
        db.rollback()
        audit(request, p, "submit", f"task/{task.id}/row/{row.id}", "refused", "stale version")
        return _row_page(request, p, db, task, row, 409, form=values, error=str(e))
    if problems:
        db.rollback()
        audit(request, p, "submit", f"task/{task.id}/row/{row.id}", "refused", f"{len(problems)} problem(s)")
        return _row_page(request, p, db, task, row, 422, problems=problems, form=values,
                         error=f"还有 {len(problems)} 处需要填写或更正")  # fmt: skip
    db.commit()
    audit(request, p, "submit", f"task/{task.id}/row/{row.id}", "ok", ROW_OUTCOMES[outcome])
    nxt = _next_row(db, p, row)
    return RedirectResponse(f"/c/tasks/{task.id}/rows/{nxt}?saved=1" if nxt else f"/c/tasks/{task.id}?show=done",
                            status_code=303)  # fmt: skip


@router.post("/c/tasks/{task_id}/rows/{row_id}/reroute")
def reroute(request: Request, task_id: int, row_id: int, community: str = Form(""), why: str = Form(""),
            p: Principal = Depends(committee), db: Session = Depends(get_db)):  # fmt: skip
    """Not ours: to the committee the worker names, or back to the district's queue — one action, with why."""
    task, row = _my_row(db, p, task_id, row_id)
    target = _valid_committee(request, community) if community else None
    try:
        service.reroute(db, row, target, p.display_name, why, street_of)
    except service.TaskError as e:
        db.rollback()
        return _row_page(request, p, db, task, row, 422, error=str(e))
    db.commit()
    audit(request, p, "submit", f"task/{task.id}/row/{row.id}", "ok", f"rerouted to {target or 'queue'}")
    return RedirectResponse(f"/c/tasks/{task.id}", status_code=303)


# ------------------------------------------------------------------------------------------ street office
@router.get("/s/tasks")
def street_tasks(request: Request, p: Principal = Depends(street), db: Session = Depends(get_db)):
    ids = list(db.scalars(select(TaskRow.task_id).where(TaskRow.street_code == p.street_code).distinct()))
    tasks = db.scalars(select(Task).where(Task.id.in_(ids)).order_by(Task.id.desc())).all() if ids else []
    names = divisions(request)
    per = {}
    for t in tasks:
        per[t.id] = [
            {**c, "name": names.get(c["community_code"], "")}
            for c in service.progress(db, t)
            if c["street_code"] == p.street_code and not c["queue"]
        ]
    return render(request, "tasks/street.html", p, tasks=tasks, per=per, today=_dt.date.today())
