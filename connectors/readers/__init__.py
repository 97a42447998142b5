"""Read one delivered file per its source specification, streaming, in pyarrow batches.

    reader = open_source_file(path, spec, display_name="2026-10/police_population.csv")
    for batch in reader:          # Batch(table, quarantined)
        ...                       # batch.table: source_row, one column per canonical field, __x<i> extras

What the readers guarantee:

* The header row is matched to the spec's canonical fields (whitespace, BOM, zero-width characters,
  full-width forms and case ignored; any accepted alias header; any column order). Columns that map
  to no field are kept and end up as JSON in `extra_columns`.
* Every data record of the file gets `source_row` = its 1-based position after the header (blank
  records and broken records included, so numbering matches the file and the answer key), and is
  either in `batch.table` or in `batch.quarantined` with a reason. Nothing is dropped.
* Values are stripped of surrounding whitespace; empty becomes NULL; otherwise the text is kept raw.
* File-level problems raise `FileRejected` naming the file and the problem: empty file, header only,
  missing required columns (named), wrong encoding ("looks like UTF-8, the spec says GB18030"),
  undecodable file, not a workbook / corrupt workbook.

CSV: decoded in Python (GBK-declared files decode as GB18030, its superset; DuckDB cannot read GB
encodings here) in 4 MiB blocks and handed as UTF-8 to pyarrow's streaming CSV parser, which runs in
C++ and tells each malformed record's position, so record numbers stay exact.
XLSX: the first sheet (or `sheet:`) via python-calamine; typed cells are rendered as text (dates
YYYY-MM-DD, integral numbers without '.0').

The package follows the readers' seams: `headers` (matching a header row), `base` (batches,
quarantine, rejection), `csv_reader` (transcoder and CSV), `xlsx_reader` (workbooks).
"""

from __future__ import annotations

from pathlib import Path

from connectors.readers.base import (
    BATCH_ROWS,
    ENCODING_NAMES,
    REASON_BLANK,
    REASON_FIELD_COUNT,
    REASON_NUL,
    REASON_REQUIRED,
    REASON_UNDECODABLE,
    Batch,
    FileReader,
    FileRejected,
    Quarantined,
    ReadStats,
)
from connectors.readers.csv_reader import CsvReader
from connectors.readers.headers import HeaderMap, match_header
from connectors.readers.xlsx_reader import XlsxReader, render_cell
from connectors.spec import SourceSpec

__all__ = [
    "BATCH_ROWS",
    "ENCODING_NAMES",
    "REASON_BLANK",
    "REASON_FIELD_COUNT",
    "REASON_NUL",
    "REASON_REQUIRED",
    "REASON_UNDECODABLE",
    "Batch",
    "CsvReader",
    "FileReader",
    "FileRejected",
    "HeaderMap",
    "Quarantined",
    "ReadStats",
    "XlsxReader",
    "match_header",
    "open_source_file",
    "render_cell",
]


def open_source_file(
    path: Path, spec: SourceSpec, display_name: str | None = None, batch_rows: int = BATCH_ROWS
) -> FileReader:
    """Open a file for reading per its spec; raises FileRejected for file-level problems found up front."""
    path = Path(path)
    display = display_name or path.name
    try:
        size = path.stat().st_size
    except OSError as e:
        raise FileRejected(display, f"cannot read the file: {e.strerror}") from None
    if size == 0:
        raise FileRejected(display, "empty file (0 bytes)")
    if spec.format == "xlsx":
        return XlsxReader(path, spec, display, batch_rows)
    return CsvReader(path, spec, display, batch_rows)
