"""Each department's and each street's day (“每个区域的职能部门每天每月的工作进展一目了然”, seed 004):
received today, duplicates merged, open, overdue by category, closed this month, and the last 30
days as a chart; the same figures as an .xlsx.

    b = board(session, now, department="chengguan")      # or street="310106012000", or neither: the district
    xlsx_bytes = board_workbook(b)
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select

from citizen_reports.models import CLOSED, CST, OPEN_STATES, RESOLVED, Incident, Report, as_cst, utc


@dataclass
class Board:
    title: str
    now: dt.datetime
    received_today: int = 0
    merged_today: int = 0  # of today's reports, how many joined an incident already reported
    new_incidents_today: int = 0
    open: int = 0
    overdue: int = 0
    overdue_by_category: list[tuple[str, str, int]] = field(default_factory=list)  # 大类, 小类, n
    open_by_state: dict[str, int] = field(default_factory=dict)
    closed_this_month: int = 0
    resolved_on_time_this_month: int = 0
    received_this_month: int = 0
    merged_this_month: int = 0
    days: list[tuple[dt.date, int, int]] = field(default_factory=list)  # day, reports received, incidents closed
    oldest_open: list[Incident] = field(default_factory=list)
    newest: list[Incident] = field(default_factory=list)  # the latest incidents opened today


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), CST)
    return utc(start), utc(start + dt.timedelta(days=1))


def board(
    session, now: dt.datetime, *, department: str | None = None, street: str | None = None, title: str = "全区"
) -> Board:
    now = now.astimezone(CST)
    today = now.date()
    month_start = utc(dt.datetime.combine(today.replace(day=1), dt.time(0), CST))
    t0, t1 = _day_bounds(today)
    scope = [Incident.merged_into.is_(None)]
    if department:
        scope.append(Incident.department == department)
    if street:
        scope.append(Incident.street_code == street)
    inc_scope = and_(*scope)  # a merged incident's reports have moved to the incident it joined
    b = Board(title, now)

    def reports_between(lo, hi, dup_only=False):
        q = select(func.count()).select_from(Report).join(Incident, Report.incident_id == Incident.id)
        q = q.where(Report.reported_at >= lo, Report.reported_at < hi, inc_scope)
        if dup_only:
            q = q.where(Report.duplicate_of.is_not(None))
        return session.scalar(q) or 0

    b.received_today = reports_between(t0, t1)
    b.merged_today = reports_between(t0, t1, dup_only=True)
    b.received_this_month = reports_between(month_start, t1)
    b.merged_this_month = reports_between(month_start, t1, dup_only=True)
    b.new_incidents_today = (
        session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(inc_scope, Incident.opened_at >= t0, Incident.opened_at < t1)
        )
        or 0
    )
    open_rows = session.execute(
        select(Incident.status, func.count())
        .where(inc_scope, Incident.status.in_(OPEN_STATES))
        .group_by(Incident.status)
    ).all()
    b.open_by_state = {s: n for s, n in open_rows}
    b.open = sum(b.open_by_state.values())
    overdue = session.execute(
        select(Incident.major, Incident.minor, func.count())
        .where(inc_scope, Incident.status.in_(OPEN_STATES), Incident.due_at < utc(now))
        .group_by(Incident.major, Incident.minor)
        .order_by(func.count().desc())
    ).all()
    b.overdue_by_category = [(a, c, n) for a, c, n in overdue]
    b.overdue = sum(n for *_, n in overdue)
    done = and_(inc_scope, Incident.status.in_((RESOLVED, CLOSED)))
    finished = func.coalesce(Incident.resolved_at, Incident.closed_at)
    b.closed_this_month = (
        session.scalar(select(func.count()).select_from(Incident).where(done, finished >= month_start)) or 0
    )
    b.resolved_on_time_this_month = (
        session.scalar(
            select(func.count()).select_from(Incident).where(done, finished >= month_start, finished <= Incident.due_at)
        )
        or 0
    )
    start30 = today - dt.timedelta(days=29)
    lo, _ = _day_bounds(start30)
    received = Counter()
    q = (
        select(Report.reported_at)
        .join(Incident, Report.incident_id == Incident.id)
        .where(Report.reported_at >= lo, Report.reported_at < t1, inc_scope)
    )
    for (t,) in session.execute(q):
        received[as_cst(t).date()] += 1
    closed = Counter()
    for (t,) in session.execute(select(finished).where(done, finished >= lo, finished < t1)):
        closed[as_cst(t).date()] += 1
    b.days = [
        (
            start30 + dt.timedelta(days=k),
            received[start30 + dt.timedelta(days=k)],
            closed[start30 + dt.timedelta(days=k)],
        )
        for k in range(30)
    ]
    b.oldest_open = list(
        session.scalars(
            select(Incident).where(inc_scope, Incident.status.in_(OPEN_STATES)).order_by(Incident.due_at).limit(20)
        )
    )
    b.newest = list(
        session.scalars(
            select(Incident)
            .where(inc_scope, Incident.opened_at >= t0, Incident.opened_at < t1)
            .order_by(Incident.opened_at.desc())
            .limit(20)
        )
    )
    return b


def chart_geometry(b: Board, width: int = 600, height: int = 160) -> dict:
    """The last 30 days drawn: reports received (bars), incidents closed (line), day labels. Plain
    numbers, so that a template draws the SVG (no script, no markup built in code)."""
    top = max([1] + [r for _, r, _ in b.days] + [c for _, _, c in b.days])
    n = len(b.days) or 1
    bw = width / n
    bars, points, labels = [], [], []
    for k, (day, r, c) in enumerate(b.days):
        h = (height - 20) * r / top
        bars.append(
            {
                "x": round(k * bw + 1, 1),
                "y": round(height - 15 - h, 1),
                "w": round(bw - 2, 1),
                "h": round(h, 1),
                "title": f"{day:%m-%d} 收到 {r} 条，办结 {c} 件",
            }
        )
        points.append(f"{k * bw + bw / 2:.1f},{height - 15 - (height - 20) * c / top:.1f}")
        if k % 5 == 0:
            labels.append({"x": round(k * bw + bw / 2, 1), "y": height - 2, "text": f"{day:%d}"})
    return {"width": width, "height": height, "bars": bars, "points": " ".join(points), "labels": labels, "top": top}


def chart_svg(b: Board) -> str:
    """The same chart as a standalone SVG document (for files and tests)."""
    from xml.sax.saxutils import escape, quoteattr

    g = chart_geometry(b)
    bars = "".join(
        f'<rect x="{r["x"]}" y="{r["y"]}" width="{r["w"]}" height="{r["h"]}" class="bar"><title>{escape(r["title"])}</title></rect>'
        for r in g["bars"]
    )
    labels = "".join(f'<text x="{t["x"]}" y="{t["y"]}" class="tick">{escape(t["text"])}</text>' for t in g["labels"])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {g["width"]} {g["height"]}" class="chart" role="img" '
        f"aria-label={quoteattr('近30天收到的上报（柱）与办结的事件（线）')}>{bars}"
        f'<polyline points="{g["points"]}" class="line" fill="none"/>{labels}</svg>'
    )


def board_workbook(b: Board) -> bytes:
    """The board's figures as an .xlsx: 概况, 超期（按类别）, 近30天, 最早到期的未办结事件."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("概况")
    ws.write_row(0, 0, [f"{b.title} 百姓拍工作进展", f"截至 {b.now:%Y-%m-%d %H:%M}"], bold)
    figures = [
        ("今日收到上报", b.received_today),
        ("其中并入已有事件（重复上报）", b.merged_today),
        ("今日新增事件", b.new_incidents_today),
        ("未办结事件", b.open),
        ("其中超期", b.overdue),
        ("本月收到上报", b.received_this_month),
        ("本月并入已有事件", b.merged_this_month),
        ("本月办结或关闭", b.closed_this_month),
        ("其中按时办结", b.resolved_on_time_this_month),
    ]
    for k, (label, value) in enumerate(figures, start=2):
        ws.write(k, 0, label)
        ws.write_number(k, 1, value)
    ws.set_column(0, 0, 30)
    ws2 = wb.add_worksheet("超期（按类别）")
    ws2.write_row(0, 0, ["大类", "小类", "超期事件数"], bold)
    for k, row in enumerate(b.overdue_by_category, start=1):
        ws2.write_row(k, 0, row)
    ws3 = wb.add_worksheet("近30天")
    ws3.write_row(0, 0, ["日期", "收到上报", "办结或关闭"], bold)
    for k, (day, r, c) in enumerate(b.days, start=1):
        ws3.write_row(k, 0, [day.isoformat(), r, c])
    if b.days:
        chart = wb.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": "收到上报",
                "categories": ["近30天", 1, 0, len(b.days), 0],
                "values": ["近30天", 1, 1, len(b.days), 1],
            }
        )
        line = wb.add_chart({"type": "line"})
        line.add_series(
            {
                "name": "办结或关闭",
                "categories": ["近30天", 1, 0, len(b.days), 0],
                "values": ["近30天", 1, 2, len(b.days), 2],
            }
        )
        chart.combine(line)
        chart.set_title({"name": "近30天"})
        ws3.insert_chart("E2", chart)
    ws4 = wb.add_worksheet("最早到期的未办结事件")
    ws4.write_row(
        0, 0, ["事件编号", "大类", "小类", "街道", "居委", "状态", "首次上报", "应答复时间", "上报次数"], bold
    )
    for k, i in enumerate(b.oldest_open, start=1):
        ws4.write_row(
            k,
            0,
            [
                i.id,
                i.major,
                i.minor,
                i.street_code or "",
                i.community_code or "",
                i.status,
                f"{as_cst(i.opened_at):%Y-%m-%d %H:%M}",
                f"{as_cst(i.due_at):%Y-%m-%d %H:%M}",
                i.report_count,
            ],
        )
    wb.close()
    return buf.getvalue()
