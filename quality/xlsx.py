"""xlsxwriter's workbook with a faster path for the many string cells of the streets' workbooks.

A 1M-person delivery writes ~20 million cells (rosters and worklists), nearly all of them text
with a format. xlsxwriter spends most of its time per cell in generic code: the A1-notation check
of every `write_string`, the dimension check, and at `close()` an attribute list, an escape check
(a regex, and a caught TypeError for the format's index) and a dispatch on the cell's class name
for every cell. `Sheet` keeps xlsxwriter's data structures and XML as they are and shortens the
two ends for text cells:

- `write_strings(row, col, values, fmt)`: the cells of a row's values in one call (what
  `write_string` does for each, the bounds and dimensions checked once for the row), and
  `write_blanks(row, col, formats)` the same for formatted blank cells;
- the rows' spans (`_calculate_spans`) from each row's first and last column;
- the `<c>` element of a text or blank cell with a format written from one template;
- a shared string that needs no escaping (no `&<>`, control characters, `_xHHHH_` or whitespace
  at either end: nearly all) written from one template instead of four regular expressions.

Every part of the file is the same byte for byte as xlsxwriter's own (tests/test_xlsx_fast.py
compares them); anything else (numbers, formulas, constant_memory mode) goes through xlsxwriter
unchanged. The parts are deflated at level 1 (xlsxwriter: zlib's default, 6): a delivery's
worklists of the 20,000-person district, 22.7 MB of XML, 0.28 -> 0.10 s of CPU, 3.15 -> 3.75 MB.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence

import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import CellBlankTuple, CellStringTuple, Worksheet

_COLUMNS = [xl_col_to_name(c) for c in range(256)]
# what makes xlsxwriter write a shared string otherwise than <si><t>text</t></si>: XML's special
# characters, control characters and Excel's _xHHHH_ escapes (sharedstrings.py: _escape_data,
# _escape_control_characters), whitespace at either end (xml:space="preserve"), rich text ("<r>")
_SPECIAL = re.compile(r"^\s|\s$|[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")


def _column(col: int) -> str:
    return _COLUMNS[col] if col < 256 else xl_col_to_name(col)


class Sheet(Worksheet):
    """xlsxwriter's worksheet with `write_strings` and a short path for text and blank cells."""

    def write_strings(self, row: int, col: int, values: Sequence[str], cell_format=None) -> int:
        """`write_string(row, col + i, values[i], cell_format)` for every value (all `str`);
        returns 0, or the first non-zero return of `write_string` (out of bounds, truncated)."""
        n = len(values)
        if not n:
            return 0
        if self.constant_memory or self._check_dimensions(row, col) or self._check_dimensions(row, col + n - 1):
            errors = [self._write_string(row, c, v, cell_format) for c, v in enumerate(values, col)]
            return next((e for e in errors if e), 0)
        strings = self.str_table
        index, known = strings._get_shared_string_index, strings.string_table
        cells = self.table[row]
        new = tuple.__new__  # CellStringTuple(i, f) without the namedtuple's Python-level __new__
        long_text = self.xls_strmax // 2  # xlsxwriter's own shortcut: shorter text is never truncated
        error = 0
        repeated = 0  # strings already in the table: _get_shared_string_index counts them, in one sum here
        for c, v in enumerate(values, col):
            if len(v) > long_text:
                error = error or self._write_string(row, c, v, cell_format)
                continue
            i = known.get(v)
            if i is None:
                i = index(v)
            else:
                repeated += 1
            cells[c] = new(CellStringTuple, (i, cell_format))
        strings.count += repeated
        return error

    def write_blanks(self, row: int, col: int, formats: Sequence) -> None:
        """`write_blank(row, col + i, None, formats[i])` for every format (none of them None)."""
        n = len(formats)
        if not n:
            return
        if self.constant_memory or self._check_dimensions(row, col) or self._check_dimensions(row, col + n - 1):
            for c, f in enumerate(formats, col):
                self._write_blank(row, c, None, f)
            return
        cells = self.table[row]
        new = tuple.__new__
        for c, f in enumerate(formats, col):
            cells[c] = new(CellBlankTuple, (f,))

    def _calculate_spans(self) -> None:
        # xlsxwriter's spans (per block of 16 rows, the first and last column that holds a cell, as
        # "min:max" 1-based) from each row's own columns instead of a test of every column of every row
        if self.comments:
            super()._calculate_spans()
            return
        rowmin, rowmax, colmin, colmax = self.dim_rowmin, self.dim_rowmax, self.dim_colmin, self.dim_colmax
        low: dict[int, int] = {}
        high: dict[int, int] = {}
        for row_num, cells in self.table.items():
            if not cells or row_num < rowmin or row_num > rowmax:
                continue
            a, b = min(cells), max(cells)
            if a < colmin or b > colmax:
                inside = [c for c in cells if colmin <= c <= colmax]
                if not inside:
                    continue
                a, b = min(inside), max(inside)
            block = row_num // 16
            if block in low:
                if a < low[block]:
                    low[block] = a
                if b > high[block]:
                    high[block] = b
            else:
                low[block], high[block] = a, b
        self.row_spans = {block: f"{low[block] + 1}:{high[block] + 1}" for block in sorted(low)}

    def _write_rows(self) -> None:
        # xlsxwriter's `_write_rows` (rows in order, each row's cells in column order), a row's text
        # and blank cells joined and written at once; comments and constant_memory go to xlsxwriter
        if self.comments or self.constant_memory:
            super()._write_rows()
            return
        self._calculate_spans()
        write, table, row_info, spans = self.fh.write, self.table, self.row_info, self.row_spans
        colmin, colmax = self.dim_colmin, self.dim_colmax
        # per column and format, the text around a cell's row number and value: '<c r="B' + row +
        # '" s="3" t="s"><v>' + string index + '</v></c>' (a blank: '<c r="B' + row + '" s="3"/>')
        text_parts: dict[tuple, tuple[str, str]] = {}
        blank_parts: dict[tuple, tuple[str, str]] = {}
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table[row_num] if row_num in table else None
            info = row_info.get(row_num)
            if not cells and row_num not in row_info:
                continue
            span = spans.get(row_num // 16)
            if not cells:
                self._write_empty_row(row_num, span, info)
                continue
            self._write_row(row_num, span, info)
            r1 = str(row_num + 1)
            parts = []
            for col in sorted(cells):
                if col < colmin or col > colmax:
                    continue
                cell = cells[col]
                kind = type(cell)
                if kind is CellStringTuple and cell[1] is not None:
                    key = (col, id(cell[1]))
                    around = text_parts.get(key)
                    if around is None:
                        around = text_parts[key] = (
                            f'<c r="{_column(col)}',
                            f'" s="{cell[1]._get_xf_index()}" t="s"><v>',
                        )
                    parts.append(f"{around[0]}{r1}{around[1]}{cell[0]}</v></c>")
                elif kind is CellBlankTuple and cell[0] is not None:
                    key = (col, id(cell[0]))
                    around = blank_parts.get(key)
                    if around is None:
                        around = blank_parts[key] = (f'<c r="{_column(col)}', f'" s="{cell[0]._get_xf_index()}"/>')
                    parts.append(f"{around[0]}{r1}{around[1]}")
                else:
                    if parts:
                        write("".join(parts))
                        parts = []
                    super()._write_cell(row_num, col, cell)
            if parts:
                write("".join(parts))
            self._xml_end_tag("row")

    def _write_cell(self, row: int, col: int, cell) -> None:
        # xlsxwriter's `_write_cell` for a text cell with a format writes
        # <c r="A1" s="3" t="s"><v>7</v></c> (the reference and the format index need no escaping)
        kind = type(cell)
        if kind is CellStringTuple and cell.format is not None and not self.constant_memory:
            self.fh.write(
                f'<c r="{_column(col)}{row + 1}" s="{cell.format._get_xf_index()}" t="s"><v>{cell.string}</v></c>'
            )
        elif kind is CellBlankTuple and cell.format is not None:
            self.fh.write(f'<c r="{_column(col)}{row + 1}" s="{cell.format._get_xf_index()}"/>')
        else:
            super()._write_cell(row, col, cell)


class _SharedStrings(SharedStrings):
    def _write_sst_strings(self) -> None:
        write, special, escaped = self.fh.write, _SPECIAL.search, self._write_si
        for string in self.string_table.string_array:
            if special(string):
                escaped(string)
            else:
                write(f"<si><t>{string}</t></si>")


class _Packager(Packager):
    def _write_shared_strings_file(self) -> None:  # xlsxwriter's, with _SharedStrings
        sst = _SharedStrings()
        sst.string_table = self.workbook.str_table
        if not self.workbook.str_table.count:
            return
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


ZIP_LEVEL = 1


class _ZipInfo(zipfile.ZipInfo):
    """A part of the file, deflated at ZIP_LEVEL (zipfile takes a part's own level before the archive's)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._compresslevel = ZIP_LEVEL


class Workbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook whose sheets are `Sheet`s, whose shared strings take the short path and
    whose parts are deflated at ZIP_LEVEL."""

    worksheet_class = Sheet

    def _get_packager(self):
        return _Packager()

    def _store_workbook(self) -> None:
        # xlsxwriter makes each in-memory part's ZipInfo itself, at zlib's default level
        module = xlsxwriter.workbook
        module.ZipInfo = _ZipInfo
        try:
            super()._store_workbook()
        finally:
            module.ZipInfo = zipfile.ZipInfo
