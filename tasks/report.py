"""The 排摸 report (.xlsx): a summary with formulas, the per-row answers, and a chart (seed 000: 报表自动生成).

Sheets:
  汇总   per street and committee: rows, done, left (COUNTIFS over 明细, so a district that edits a
         row in 明细 sees the totals follow); per question and answer: counts (COUNTIFS); totals (SUM)
  明细   one row per list row in the list's order: routing (status, committee, reason) and the answers;
         ID numbers and phones masked (sharing/masking.py)
  图表   done / left per committee (a stacked bar chart)
Each formula carries its computed value too, so a reader that does not recalculate sees the numbers.
"""

from __future__ import annotations

import io
from collections import Counter

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.orm import Session
from xlsxwriter.utility import xl_col_to_name

from app.db.models import ROW_OUTCOMES, Task, TaskRow, utcnow
from sharing.masking import mask_id_number, mask_phone
from tasks.service import checklist_of

MATCH_LABELS = {"matched": "已匹配", "ambiguous": "多人疑似", "unmatched": "未找到"}
STATUS_LABELS = {"open": "待核实", "done": "已完成"}


def task_report(s: Session, task: Task, names: dict[str, str] | None = None) -> bytes:
    names = names or {}
    checklist = checklist_of(task)
    rows = list(s.scalars(select(TaskRow).where(TaskRow.task_id == task.id).order_by(TaskRow.source_row)))
    mapping = task.mapping or {}
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    bold = wb.add_format({"bold": True, "font_size": 13})
    head = wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True})
    cell = wb.add_format({"border": 1, "num_format": "@"})
    num = wb.add_format({"border": 1})
    summary = wb.add_worksheet("汇总")
    detail = wb.add_worksheet("明细")
    charts = wb.add_worksheet("图表")

    # ---- 明细
    fixed = ["序号", "街道代码", "街道", "居委代码", "居委", "匹配结果", "状态", "核实结果", "姓名", "身份证号", "联系电话",
             "地址", "说明", "核实人", "核实时间", "备注"]  # fmt: skip
    qcols = [q.text for q in checklist.questions]
    headers = fixed + qcols
    detail.write_string(0, 0, f"{task.name} 明细（按原名单顺序）", bold)
    for c, h in enumerate(headers):
        detail.write_string(1, c, h, head)
        detail.set_column(c, c, 12 if c < len(fixed) else 16)
    first = 2
    for i, r in enumerate(rows):
        data = r.data or {}

        def col(f: str, data: dict = data) -> str:
            h = mapping.get(f)
            return str(data.get(h) or "") if h else ""

        values = [
            str(r.source_row), r.street_code or "", names.get(r.street_code or "", ""), r.community_code or "",
            names.get(r.community_code or "", ""), MATCH_LABELS.get(r.match_status, r.match_status),
            STATUS_LABELS.get(r.status, r.status), ROW_OUTCOMES.get(r.outcome or "", ""), col("name"),
            mask_id_number(col("id_number")) or "", mask_phone(col("phone")) or "", col("address"), r.reason or "",
            r.answered_by or "", f"{r.answered_at:%Y-%m-%d %H:%M}" if r.answered_at else "", r.note or "",
        ]  # fmt: skip
        for q in checklist.questions:
            v = (r.answers or {}).get(q.id)
            values.append("、".join(v) if isinstance(v, list) else ("" if v is None else str(v)))
        for c, v in enumerate(values):
            detail.write_string(first + i, c, v, cell)
    last = first + max(len(rows), 1)  # 1-based last data row is `last`
    detail.freeze_panes(2, 1)
    detail.autofilter(1, 0, max(2, last - 1), len(headers) - 1)

    def rng(col_index: int) -> str:
        letter = xl_col_to_name(col_index)
        return f"明细!${letter}${first + 1}:${letter}${last}"

    street_rng, community_rng, status_rng = rng(1), rng(3), rng(6)

    # ---- 汇总: per street and committee
    summary.write_string(0, 0, f"{task.name} 汇总", bold)
    due = f"，截止 {task.due_date:%Y-%m-%d}" if task.due_date else ""
    summary.write_string(1, 0, f"牵头部门 {task.department}{due}；生成于 {utcnow():%Y-%m-%d %H:%M} UTC")
    heads = ["街道代码", "街道", "居委代码", "居委", "名单行数", "已完成", "待核实", "完成率"]
    for c, h in enumerate(heads):
        summary.write_string(3, c, h, head)
    summary.set_column(0, 7, 14)
    groups = Counter((r.street_code or "", r.community_code or "") for r in rows)
    done = Counter((r.street_code or "", r.community_code or "") for r in rows if r.status == "done")
    line = 4
    first_group = line
    for (street, community), n in sorted(groups.items()):
        summary.write_string(line, 0, street or "（区里待分派）", cell)
        summary.write_string(line, 1, names.get(street, ""), cell)
        summary.write_string(line, 2, community, cell)
        summary.write_string(line, 3, names.get(community, ""), cell)
        crit = f'{street_rng},"{street}",{community_rng},"{community}"'
        summary.write_formula(line, 4, f"=COUNTIFS({crit})", num, n)
        summary.write_formula(line, 5, f'=COUNTIFS({crit},{status_rng},"{STATUS_LABELS["done"]}")', num,
                              done[(street, community)])  # fmt: skip
        summary.write_formula(line, 6, f"=E{line + 1}-F{line + 1}", num, n - done[(street, community)])
        summary.write_formula(line, 7, f'=IF(E{line + 1}=0,"",F{line + 1}/E{line + 1})', num,
                              round(done[(street, community)] / n, 4) if n else "")  # fmt: skip
        line += 1
    last_group = line - 1
    summary.write_string(line, 0, "合计", head)
    for c, letter, value in (
        (4, "E", len(rows)),
        (5, "F", sum(done.values())),
        (6, "G", len(rows) - sum(done.values())),
    ):
        summary.write_formula(line, c, f"=SUM({letter}{first_group + 1}:{letter}{last_group + 1})", head, value)
    line += 2

    # ---- 汇总: per question and answer
    summary.write_string(line, 0, "各题答案统计", bold)
    line += 1
    for c, h in enumerate(["题目", "答案", "人数"]):
        summary.write_string(line, c, h, head)
    line += 1
    for k, q in enumerate(checklist.questions):
        qrng = rng(len(fixed) + k)
        if q.choices:
            counts = Counter()
            for r in rows:
                v = (r.answers or {}).get(q.id)
                for x in v if isinstance(v, list) else ([v] if v is not None else []):
                    counts[str(x)] += 1
            for choice in q.choices:
                summary.write_string(line, 0, q.text, cell)
                summary.write_string(line, 1, choice, cell)
                pattern = f'"*{choice}*"' if q.type == "multiple" else f'"{choice}"'
                summary.write_formula(line, 2, f"=COUNTIF({qrng},{pattern})", num, counts[choice])
                line += 1
        else:
            answered = sum(1 for r in rows if (r.answers or {}).get(q.id) not in (None, "", []))
            summary.write_string(line, 0, q.text, cell)
            summary.write_string(line, 1, "（已填写）", cell)
            summary.write_formula(line, 2, f'=COUNTIF({qrng},"?*")', num, answered)
            line += 1
    line += 1
    summary.write_string(line, 0, "核实结果", bold)
    line += 1
    outcomes = Counter(r.outcome for r in rows if r.outcome)
    orng = rng(7)
    for key, label in ROW_OUTCOMES.items():
        summary.write_string(line, 0, label, cell)
        summary.write_formula(line, 2, f'=COUNTIF({orng},"{label}")', num, outcomes[key])
        line += 1

    # ---- 图表
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    if last_group >= first_group:
        cats = f"=汇总!$D${first_group + 1}:$D${last_group + 1}"
        codes = f"=汇总!$C${first_group + 1}:$C${last_group + 1}"
        chart.add_series({"name": "已完成", "categories": cats if names else codes,
                          "values": f"=汇总!$F${first_group + 1}:$F${last_group + 1}"})  # fmt: skip
        chart.add_series({"name": "待核实", "categories": cats if names else codes,
                          "values": f"=汇总!$G${first_group + 1}:$G${last_group + 1}"})  # fmt: skip
    chart.set_title({"name": f"{task.name}：各居委进度"})
    chart.set_size({"width": 720, "height": max(320, 24 * len(groups) + 120)})
    charts.insert_chart("A1", chart)
    wb.close()
    return buf.getvalue()
