"""quality.xlsx's short path for text cells writes the same file as xlsxwriter, byte for byte."""

from __future__ import annotations

import datetime as dt
import zipfile

import xlsxwriter

from quality.writing import XLSX_OPTIONS
from quality.xlsx import Workbook

CREATED = {"created": dt.datetime(2026, 11, 5, 9, 30)}
ROWS = [
    ["110101199003077777", "张三", "上海市 徐汇区 漕溪北路 1 号", "", "  leading and trailing  "],
    ["a & b < c > d \"quoted\" 'single'", "\x01\x07control\x1f", "_x0041_ escaped escape", "\ufffe", "换行\n第二行"],
    ["x" * 20_000, "y" * 40_000, "重复", "重复", "12"],
    ["tab\tinside", "ends with a newline\n", "\tfirst", "<r>looks rich</r>", "\u3000全角空格"],
]


def _write(path, fast: bool) -> None:
    wb = (Workbook if fast else xlsxwriter.Workbook)(str(path), XLSX_OPTIONS)
    wb.set_properties(CREATED)
    text = wb.add_format({"border": 1, "num_format": "@"})
    blank = wb.add_format({"locked": False, "bg_color": "#FFF2CC"})
    ws = wb.add_worksheet("表")
    ws.write(0, 0, "title, no format")
    ws.write_number(1, 0, 3.5, text)
    for r, values in enumerate(ROWS, start=2):
        if fast:
            ws.write_strings(r, 1, values, text)
        else:
            for c, v in enumerate(values, start=1):
                ws.write_string(r, c, v, text)
        ws.write_blank(r, 7, None, blank)
        ws.write_string(r, 8, "no format")
    ws.autofilter(2, 1, 2 + len(ROWS), 8)
    other = wb.add_worksheet("second")
    if fast:
        other.write_strings(0, 0, ["重复", "张三", "new"], text)
    else:
        for c, v in enumerate(["重复", "张三", "new"]):
            other.write_string(0, c, v, text)
    wb.close()


def _parts(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_text_cells_written_through_the_short_path_make_the_same_file(tmp_path):
    _write(tmp_path / "plain.xlsx", fast=False)
    _write(tmp_path / "fast.xlsx", fast=True)
    plain, fast = _parts(tmp_path / "plain.xlsx"), _parts(tmp_path / "fast.xlsx")
    assert list(plain) == list(fast)
    for name in plain:
        assert plain[name] == fast[name], name


def test_write_strings_reports_what_write_string_reports(tmp_path):
    wb = Workbook(str(tmp_path / "x.xlsx"), XLSX_OPTIONS)
    ws = wb.add_worksheet()
    assert ws.write_strings(0, 0, ["a", "b"]) == 0
    assert ws.write_strings(0, 0, []) == 0
    assert ws.write_strings(0, 16_383, ["last", "past the last column"]) == -1  # out of bounds
    assert ws.write_strings(1, 0, ["ok", "z" * 40_000]) == -2  # truncated to Excel's limit
    wb.close()
