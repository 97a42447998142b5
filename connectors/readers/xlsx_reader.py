"""XLSX workbooks: the first sheet (or `sheet:`) through python-calamine, typed cells rendered as
text (dates YYYY-MM-DD, integral numbers without '.0')."""

from __future__ import annotations

import datetime as _dt
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineWorkbook

from connectors.readers.base import Batch, FileReader, FileRejected, ReadStats, _Finisher
from connectors.readers.headers import HeaderMap, _missing_message, _short, match_header
from connectors.spec import SourceSpec


def render_cell(v: object) -> str:
    """An xlsx cell as text: dates YYYY-MM-DD, integral numbers without '.0', empty ''."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            return str(v)
        if v.is_integer():
            return str(int(v))
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, _dt.datetime):
        if v.hour == v.minute == v.second == v.microsecond == 0:
            return v.date().isoformat()
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, _dt.time):
        return v.strftime("%H:%M:%S")
    return str(v)


class XlsxReader(FileReader):
    HEADER_SEARCH_ROWS = 20

    def __init__(self, path: Path, spec: SourceSpec, display: str, batch_rows: int):
        self.path, self.spec, self.display_name = path, spec, display
        self.batch_rows = batch_rows
        self.stats = ReadStats()
        self.notes = []
        with open(path, "rb") as f:
            head = f.read(8)
        if not zipfile.is_zipfile(path):
            if head.startswith(b"\xd0\xcf\x11\xe0"):
                raise self._reject(
                    "not an xlsx workbook: an old Excel 97-2003 (.xls) or encrypted file; save it as .xlsx"
                )
            if head.startswith(b"PK"):
                raise self._reject("corrupt xlsx: the zip archive is truncated or damaged (bad zip file)")
            raise self._reject(
                "not an xlsx workbook: the file is not a zip archive (truncated, or not an Excel 2007+ file)"
            )
        try:
            with zipfile.ZipFile(path) as z:
                if not any(n.startswith("xl/") for n in z.namelist()):
                    raise self._reject("not an xlsx workbook: the zip archive holds no xl/ workbook part")
        except zipfile.BadZipFile as e:
            raise self._reject(f"corrupt xlsx: bad zip file ({e})") from None
        try:
            self._wb = CalamineWorkbook.from_path(str(path))
            names = self._wb.sheet_names
            if not names:
                raise self._reject("empty workbook: no sheets")
            if spec.sheet is None:
                sheet = self._wb.get_sheet_by_index(0)
            elif isinstance(spec.sheet, int):
                if spec.sheet >= len(names):
                    raise self._reject(f"the spec asks for sheet {spec.sheet}, the workbook has {len(names)}")
                sheet = self._wb.get_sheet_by_index(spec.sheet)
            else:
                if spec.sheet not in names:
                    raise self._reject(f"no sheet named {spec.sheet!r} (sheets: {', '.join(names)})")
                sheet = self._wb.get_sheet_by_name(spec.sheet)
            self.sheet_name = sheet.name
            self._rows = sheet.iter_rows()
        except FileRejected:
            raise
        except Exception as e:  # calamine's errors: XmlError, ZipError, CalamineError...
            raise self._reject(
                f"corrupt xlsx: cannot read the workbook ({type(e).__name__}: {_short(str(e), 160)})"
            ) from None
        self._first_rows: list[tuple[int, list]] = []
        self.hmap = self._read_header()

    def _read_header(self) -> HeaderMap:
        candidates: list[tuple[int, list]] = []
        idx = -1
        try:
            for idx, row in enumerate(self._rows):
                self._first_rows.append((idx, row))
                if any(c != "" and c is not None for c in row):
                    candidates.append((idx, row))
                    if len(candidates) >= self.HEADER_SEARCH_ROWS:
                        break
                    hm, missing, problems = match_header([render_cell(c) for c in row], self.spec)
                    if hm is not None:
                        self.header_index = idx
                        self._first_rows = [(i, r) for i, r in self._first_rows if i > idx]
                        if candidates[0][0] != idx:
                            self.notes.append(f"header found in sheet row {idx + 1}; rows above it ignored")
                        return hm
        except Exception as e:
            raise self._reject(
                f"corrupt xlsx: cannot read sheet rows ({type(e).__name__}: {_short(str(e), 160)})"
            ) from None
        if not candidates:
            raise self._reject(f"empty workbook: sheet {self.sheet_name!r} has no cells")
        # report against the row that looks most like the header (the first non-empty one on a tie)
        best = None
        for i, row in candidates:
            cells = [render_cell(c) for c in row]
            _, missing, problems = match_header(cells, self.spec)
            if best is None or len(missing) < len(best[1]):
                best = (cells, missing, problems, i)
        cells, missing, problems, i = best
        where = f" (sheet row {i + 1})" if i != candidates[0][0] else ""
        raise self._reject(_missing_message(self.spec, cells, missing, problems) + where)

    def __iter__(self) -> Iterator[Batch]:
        hm = self.hmap
        fin = _Finisher(self.spec, hm, None)
        n = len(hm.headers)
        h = self.header_index
        buf: list[list[str]] = []
        nums: list[int] = []
        truncated = 0

        def rows_iter():
            last = h
            for i, r in self._first_rows:
                last = i
                yield i, r
            self._first_rows = []
            i = last
            try:
                for r in self._rows:
                    i += 1
                    yield i, r
            except Exception as e:
                raise self._reject(
                    f"corrupt xlsx: cannot read sheet row {i + 2} ({type(e).__name__}: {_short(str(e), 160)})"
                ) from None

        def flush():
            cols = [pa.array(c, pa.string()) for c in zip(*buf)]
            rows = np.array(nums, dtype=np.int64)
            nul = any(pc.any(pc.match_substring(c, "\x00")).as_py() for c in cols)
            table, q, reasons = fin.finish(cols, rows, False, nul)
            self._account(table, q, reasons)
            buf.clear()
            nums.clear()
            return Batch(table, q)

        for i, row in rows_iter():
            vals = [c if c.__class__ is str else render_cell(c) for c in row]
            if len(vals) != n:  # calamine ranges are rectangular; be safe anyway
                if len(vals) < n:
                    vals += [""] * (n - len(vals))
                else:
                    truncated += any(v.strip() for v in vals[n:])
                    vals = vals[:n]
            buf.append(vals)
            nums.append(i - h)  # sheet row - header row: blank rows keep their place
            if len(buf) >= self.batch_rows:
                yield flush()
        if buf:
            yield flush()
        if truncated:
            self.notes.append(f"{truncated} rows had cells beyond the header width, ignored")
        self._check_end()
