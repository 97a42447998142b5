"""What a 排摸 task does with the app database: create (route every row), re-route, answer, progress,
the export in the list's order. The CLI (`civichub task …`) and the app's pages both call these.

    task = create_task(s, listing, mapping, checklist_yaml, name=…, department=…, due=…, master=…, actor=…)
    answer_row(s, row, checklist, answers, outcome, note, user, version)
    reroute(s, row, community, actor, why)
    export_rows(s, task)            # the contract's export, one dict per list row, in the list's order
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import ROW_OUTCOMES, Task, TaskEvent, TaskRow, utcnow
from normalize.addresses import parse_address
from tasks.checklist import Checklist, parse_checklist
from tasks.listfile import ListFile, check_mapping
from tasks.routing import Decision, MasterIndex, route_row

EXPORT_COLUMNS = ["source_row", "street_code", "community_code", "match_status", "person_id", "household_id",
                  "status", "reason"]  # fmt: skip


class TaskError(ValueError):
    pass


class StaleRow(TaskError):
    """The row changed since the worker opened it (another save came first)."""


def walk_key(address: str | None, room: str | None = None) -> str | None:
    """A sort key that keeps one lane's doors together, then numbers and rooms in order: a worker's walk."""
    if not address:
        return None
    p = parse_address(address)
    if not p.road:
        return address[:200]

    def num(x: str | None) -> str:
        digits = "".join(ch for ch in (x or "") if ch.isdigit())
        return f"{int(digits):06d}{x}" if digits else (x or "")

    return "|".join([p.road, num(p.lane), num(p.number), num(p.building), num(room or p.room)])[:200]


def _apply(row: TaskRow, d: Decision) -> None:
    row.match_status = d.match_status
    row.match_rule = d.rule
    row.reason = d.reason
    row.candidates = d.candidates
    row.suggested_community = d.suggested_community
    row.person_id = d.person_id
    row.household_id = d.household_id
    row.street_code = d.street_code if d.community_code else None
    row.community_code = d.community_code


def create_task(
    s: Session,
    listing: ListFile,
    mapping: dict,
    checklist_yaml: str,
    *,
    name: str,
    department: str,
    due: _dt.date | None,
    master: MasterIndex,
    actor: str,
    kind: str = "screening",
) -> Task:
    """A task from a list: every row routed (matched → its committee; else the district's queue, with why)."""
    name = (name or "").strip()
    if not name:
        raise TaskError("任务名称不能为空")
    parse_checklist(checklist_yaml)  # refuses a bad checklist before anything is written
    mapping = check_mapping(mapping, listing.headers, listing.name)
    task = Task(
        name=name[:200],
        kind=kind,
        department=department,
        checklist_yaml=checklist_yaml,
        due_date=due,
        list_name=listing.name[:256],
        headers=listing.headers,
        mapping=mapping,
        row_count=len(listing.rows),
        created_by=actor,
    )
    s.add(task)
    s.flush()
    rows = []
    for k, data in enumerate(listing.rows, start=1):

        def get(f: str, data: dict = data) -> str | None:
            h = mapping.get(f)
            return ((data.get(h) or "").strip() or None) if h else None

        row = TaskRow(task_id=task.id, source_row=k, data=data, name=(get("name") or "")[:128] or None,
                      status="open", answers={}, version=1)  # fmt: skip
        if not any(data.values()):
            row.match_status, row.match_rule, row.reason, row.candidates = "unmatched", "none", "空行", []
        else:
            d = route_row(master, name=get("name"), id_number=get("id_number"), phone=get("phone"),
                          address=get("address"))  # fmt: skip
            _apply(row, d)
            p = master.persons.get(d.person_id) if d.person_id else None
            shown = (p.address if p is not None and d.community_code else None) or get("address")
            row.address_shown = (shown or "")[:256] or None
            row.walk_key = walk_key(shown, p.room if p is not None and d.community_code else None)
        rows.append(row)
    s.add_all(rows)
    s.flush()
    s.add_all(
        TaskEvent(
            task_id=task.id,
            row_id=r.id,
            actor=actor,
            action="routed" if r.community_code else "queued",
            to_community=r.community_code,
            detail=r.reason,
        )  # fmt: skip
        for r in rows
    )
    s.flush()
    return task


def checklist_of(task: Task) -> Checklist:
    return parse_checklist(task.checklist_yaml, f"task {task.id}")


def answer_row(
    s: Session, row: TaskRow, checklist: Checklist, answers: dict, outcome: str, note: str | None,
    user_name: str, user_id: int, version: int | None,
) -> dict[str, str]:  # fmt: skip
    """Save a worker's answer at once. Returns the problems ({question: 问题}); nothing is saved if any.
    查无此人 / 拒绝配合 / 已搬离 need no answers but a note; a save that read an older version is refused."""
    if outcome not in ROW_OUTCOMES:
        return {"outcome": "请选择核实结果"}
    if version is not None and version != row.version:
        raise StaleRow(f"这一行已被 {row.answered_by or '他人'} 在 {row.answered_at:%H:%M} 更新，请刷新后再填")
    note = (note or "").strip()[:2000] or None
    if outcome == "answered":
        kept, problems = checklist.clean(answers)
        if problems:
            return problems
    else:
        if not note:
            return {"note": f"标记为“{ROW_OUTCOMES[outcome]}”时请写明情况"}
        kept = {}
    row.answers = kept
    row.outcome = outcome
    row.note = note
    row.status = "done"
    row.answered_by = user_name
    row.answered_user_id = user_id
    row.answered_at = utcnow()
    row.version = row.version + 1
    s.add(TaskEvent(task_id=row.task_id, row_id=row.id, actor=user_name, action="answered",
                    from_community=row.community_code, to_community=row.community_code,
                    detail=ROW_OUTCOMES[outcome]))  # fmt: skip
    return {}


def reroute(s: Session, row: TaskRow, community: str | None, actor: str, why: str, street_of) -> None:
    """Move a row to another committee (or back to the district's queue with None), in one action, with why."""
    why = (why or "").strip()[:500]
    if not why:
        raise TaskError("请写明改派原因")
    if row.status == "done":
        raise TaskError("这一行已经核实完成，不能改派")
    before = row.community_code
    row.community_code = community
    row.street_code = street_of(community) if community else None
    row.reason = f"{row.reason}；改派：{why}（{actor}）" if community else f"{row.reason}；退回区里：{why}（{actor}）"
    row.version += 1
    s.add(TaskEvent(task_id=row.task_id, row_id=row.id, actor=actor, action="rerouted" if community else "queued",
                    from_community=before, to_community=community, detail=why))  # fmt: skip


def export_rows(s: Session, task: Task) -> list[dict]:
    """contracts.md's export: one row per list row in the list's order, then one column per question."""
    checklist = checklist_of(task)
    out = []
    for r in s.scalars(select(TaskRow).where(TaskRow.task_id == task.id).order_by(TaskRow.source_row)):
        rec = {
            "source_row": r.source_row,
            "street_code": r.street_code or "",
            "community_code": r.community_code or "",
            "match_status": r.match_status,
            "person_id": r.person_id or "",
            "household_id": r.household_id or "",
            "status": r.status,
            "reason": r.reason
            if r.outcome in (None, "answered")
            else f"{r.reason}；核实结果：{ROW_OUTCOMES[r.outcome]}" + (f"（{r.note}）" if r.note else ""),
        }
        for q in checklist.questions:
            v = (r.answers or {}).get(q.id)
            rec[q.id] = "、".join(v) if isinstance(v, list) else ("" if v is None else str(v))
        out.append(rec)
    return out


def progress(s: Session, task: Task, today: _dt.date | None = None) -> list[dict]:
    """Per street and committee: total, done, left, overdue (left after the due date), and the queue."""
    today = today or _dt.date.today()
    overdue_now = task.due_date is not None and today > task.due_date
    q = (
        select(TaskRow.street_code, TaskRow.community_code, TaskRow.status, func.count())
        .where(TaskRow.task_id == task.id)
        .group_by(TaskRow.street_code, TaskRow.community_code, TaskRow.status)
    )
    per: dict[tuple, Counter] = {}
    for street, community, status, n in s.execute(q):
        key = (street or "", community or "") if community else ("", "")
        per.setdefault(key, Counter())[status] += n
    out = []
    for (street, community), c in sorted(per.items()):
        total = c["open"] + c["done"]
        out.append({
            "street_code": street, "community_code": community, "total": total, "done": c["done"],
            "left": c["open"], "overdue": c["open"] if overdue_now else 0, "queue": not community,
        })  # fmt: skip
    return out
