"""Excel downloads of the app's lists: the workbooks stay as an export, not as the channel.

One sheet, a title row, Chinese headers, every value written as text (codes keep their leading zeros),
a filter and a frozen header; built in memory with xlsxwriter.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import xlsxwriter
from fastapi.responses import Response

from app.queries import text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(title: str, headers: list[str], rows: list[list[object]], note: str = "") -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    ws = wb.add_worksheet("清单")
    bold = wb.add_format({"bold": True, "font_size": 13})
    head = wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True})
    cell = wb.add_format({"border": 1, "num_format": "@"})
    ws.write_string(0, 0, title, bold)
    if note:
        ws.write_string(1, 0, note)
    for c, h in enumerate(headers):
        ws.write_string(2, c, h, head)
        ws.set_column(c, c, max(8, min(40, len(h) * 3)))
    for r, values in enumerate(rows, start=3):
        for c, v in enumerate(values):
            ws.write_string(r, c, text(v), cell)
    ws.freeze_panes(3, 0)
    ws.autofilter(2, 0, max(3, 2 + len(rows)), max(0, len(headers) - 1))
    wb.close()
    return buf.getvalue()


def download(filename: str, data: bytes) -> Response:
    return Response(
        data,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
