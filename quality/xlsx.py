"""xlsxwriter's workbook with a faster path for the many string cells of the streets' workbooks.

A 1M-person delivery writes ~20 million cells (rosters and worklists), nearly all of them text
with a format. xlsxwriter spends most of its time per cell in generic code: the A1-notation check
of every `write_string`, the dimension check, and at `close()` an attribute list, an escape check
(a regex, and a caught TypeError for the format's index) and a dispatch on the cell's class name
for every cell. `Sheet` keeps xlsxwriter's data structures and XML as they are and shortens the
two ends for text cells:

- `write_strings(row, col, values, fmt)`: the cells of a row's values in one call (what
  `write_string` does for each, the bounds and dimensions checked once for the row);
- the `<c>` element of a text or blank cell with a format written from one template.

The file is the same byte for byte as xlsxwriter's own (tests/test_xlsx_fast.py compares them);
anything else (numbers, formulas, constant_memory mode) goes through xlsxwriter unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import CellBlankTuple, CellStringTuple, Worksheet

_COLUMNS = [xl_col_to_name(c) for c in range(256)]


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
        index = self.str_table._get_shared_string_index
        cells = self.table[row]
        new = tuple.__new__  # CellStringTuple(i, f) without the namedtuple's Python-level __new__
        long_text = self.xls_strmax // 2  # xlsxwriter's own shortcut: shorter text is never truncated
        error = 0
        for c, v in enumerate(values, col):
            if len(v) > long_text:
                error = error or self._write_string(row, c, v, cell_format)
            else:
                cells[c] = new(CellStringTuple, (index(v), cell_format))
        return error

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


class Workbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook whose sheets are `Sheet`s."""

    worksheet_class = Sheet
