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
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import os
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from python_calamine import CalamineWorkbook

from connectors.spec import SourceSpec, header_key
from sharing.masking import mask_text

BATCH_ROWS = 200_000
_BLOCK = 4 << 20  # bytes read and transcoded at a time
_ARROW_BLOCK = 16 << 20  # bytes pyarrow parses at a time (a record batch)
_SAMPLE = 64 << 10  # bytes looked at to diagnose an encoding problem
# A file whose undecodable rows exceed both limits is rejected as a whole (wrong encoding), instead
# of quarantining row by row.
UNDECODABLE_MAX_SHARE = 0.05
UNDECODABLE_MAX_ROWS = 20

ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with BOM)", "gbk": "GBK", "gb18030": "GB18030"}
_FAMILY = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb18030": "gb18030"}
_UTF8_BOM = b"\xef\xbb\xbf"
_GB18030_BOM = b"\x84\x31\x95\x33"

# What "whitespace around a value" means (str.strip's set minus the C0 separators); utf8_trim with an
# explicit set is several times faster than utf8_trim_whitespace.
WHITESPACE = " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

REASON_BLANK = "blank row"
REASON_FIELD_COUNT = "wrong field count"
REASON_REQUIRED = "required fields all blank"
REASON_UNDECODABLE = "undecodable bytes"
REASON_NUL = "embedded NUL character"


class FileRejected(Exception):
    """The file cannot be ingested at all. `str(e)` names the file and the problem (masked)."""

    def __init__(self, source_file: str, problem: str):
        self.source_file = source_file
        self.problem = mask_text(problem)
        super().__init__(f"{source_file}: {self.problem}")


@dataclass
class Quarantined:
    source_row: int
    reason: str
    raw_record: str  # JSON object: file header -> value as read


@dataclass
class Batch:
    # source_row int32, then one string column per canonical field present in the file (spec order),
    # then __x0.. for the extra columns (see FileReader.extra_headers). Values stripped, '' -> null.
    table: pa.Table
    quarantined: list[Quarantined] = field(default_factory=list)


@dataclass
class ReadStats:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: Counter = field(default_factory=Counter)  # reason kind -> rows

    def summary(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.reasons.most_common())


def _short(s: str, n: int = 24) -> str:
    s = str(s).replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


# ------------------------------------------------------------------------------------------ headers


@dataclass
class HeaderMap:
    headers: list[str]  # as in the file, stripped; unique (duplicates suffixed #2)
    field_index: dict[str, int]  # canonical field -> file column
    extras: list[tuple[int, str]]  # (file column, header) not mapped to a field
    missing_optional: list[str]

    @property
    def fields_present(self) -> list[str]:
        return list(self.field_index)


def _clean_header(h: object) -> str:
    return str(h if h is not None else "").replace("\ufeff", "").strip()


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def match_header(raw_headers: list[object], spec: SourceSpec) -> tuple[HeaderMap | None, list[str], list[str]]:
    """Map header cells to fields. Returns (map or None, missing required fields, problems)."""
    lookup = spec.header_lookup()
    headers: list[str] = []
    seen: Counter = Counter()
    for i, h in enumerate(raw_headers):
        h = _clean_header(h) or f"column_{_col_letter(i)}"
        seen[h] += 1
        headers.append(h if seen[h] == 1 else f"{h}#{seen[h]}")
    field_index: dict[str, int] = {}
    extras: list[tuple[int, str]] = []
    problems: list[str] = []
    order = {f: k for k, f in enumerate(spec.columns)}
    for i, raw in enumerate(raw_headers):
        fld = lookup.get(header_key(_clean_header(raw))) if _clean_header(raw) else None
        if fld is None:
            extras.append((i, headers[i]))
        elif fld in field_index:
            j = field_index[fld]
            problems.append(
                f"columns {j + 1} ({_short(headers[j])}) and {i + 1} ({_short(headers[i])}) both map to "
                f"{spec.header(fld)} ({fld})"
            )
        else:
            field_index[fld] = i
    field_index = dict(sorted(field_index.items(), key=lambda kv: order[kv[0]]))
    missing = [f for f in spec.required_columns if f not in field_index]
    missing_optional = [f for f in spec.optional_columns if f not in field_index]
    if missing or problems:
        return None, missing, problems
    return HeaderMap(headers, field_index, extras, missing_optional), [], []


def _missing_message(spec: SourceSpec, raw_headers: list[object], missing: list[str], problems: list[str]) -> str:
    parts = []
    if missing and len(missing) == len(spec.required_columns) and len(missing) > 3:
        names = ", ".join(spec.header(f) for f in missing[:4])
        parts.append(
            f"missing required columns: none of the {len(missing)} expected headers ({names}, …) found; "
            "is the header row missing, or is this another registry's file?"
        )
    elif missing:
        names = ", ".join(f"{spec.header(f)} ({f})" for f in missing)
        parts.append(f"missing required columns: {names}")
    parts.extend(problems)
    found = [_short(_clean_header(h), 20) for h in raw_headers if _clean_header(h)]
    shown = ", ".join(found[:15]) + (f", … ({len(found)} columns)" if len(found) > 15 else "")
    parts.append(f"the header row has: {shown or '(nothing)'}")
    return "; ".join(parts)


# ------------------------------------------------------------------------------------- batch finish


class _Finisher:
    """Turns raw string columns of one batch into the loaded table + quarantined rows."""

    def __init__(self, spec: SourceSpec, hmap: HeaderMap, encoding_name: str | None):
        self.spec = spec
        self.hmap = hmap
        self.encoding_name = encoding_name
        self.n = len(hmap.headers)
        self.required_idx = [hmap.field_index[f] for f in spec.required_any if f in hmap.field_index]
        self.required_names = ", ".join(spec.header(f) for f in spec.required_any)
        self.out_cols = [(hmap.field_index[f], f) for f in hmap.fields_present] + [
            (i, f"__x{k}") for k, (i, _) in enumerate(hmap.extras)
        ]

    def record_json(self, values: list) -> str:
        rec: dict = {}
        for h, v in zip(self.hmap.headers, values):
            rec[h] = v
        if len(values) > self.n:
            rec["_extra_fields"] = list(values[self.n :])
        return json.dumps(rec, ensure_ascii=False)

    def finish(
        self, cols: list[pa.Array], rows: np.ndarray, check_fffd: bool, check_nul: bool
    ) -> tuple[pa.Table, list[Quarantined], Counter]:
        """cols: one string array per file column (no nulls, '' for empty); rows: source_row per row."""
        trimmed = [pc.utf8_trim(c, WHITESPACE) for c in cols]
        empty = [pc.equal(pc.binary_length(t), 0) for t in trimmed]
        all_blank = empty[0]
        for e in empty[1:]:
            all_blank = pc.and_(all_blank, e)
        q = all_blank
        req_blank = None
        if self.spec.required_any:
            if self.required_idx:
                req_blank = empty[self.required_idx[0]]
                for i in self.required_idx[1:]:
                    req_blank = pc.and_(req_blank, empty[i])
            else:  # every required_any column is an absent optional column
                req_blank = pa.array(np.ones(len(rows), dtype=bool))
            q = pc.or_(q, req_blank)
        bad_dec = bad_nul = None
        if check_fffd:
            bad_dec = _any_contains(cols, "\ufffd")
            q = pc.or_(q, bad_dec)
        if check_nul:
            bad_nul = _any_contains(cols, "\x00")
            q = pc.or_(q, bad_nul)
        quarantined: list[Quarantined] = []
        reasons: Counter = Counter()
        if pc.any(q).as_py():
            idx = pc.indices_nonzero(q)
            raw_rows = list(zip(*[c.take(idx).to_pylist() for c in cols]))
            flags = {
                "dec": bad_dec.take(idx).to_pylist() if bad_dec is not None else None,
                "nul": bad_nul.take(idx).to_pylist() if bad_nul is not None else None,
                "blank": all_blank.take(idx).to_pylist(),
            }
            qrows = rows[idx.to_numpy()]
            for k, values in enumerate(raw_rows):
                if flags["dec"] is not None and flags["dec"][k]:
                    kind, reason = REASON_UNDECODABLE, f"{REASON_UNDECODABLE}: not valid {self.encoding_name}"
                elif flags["nul"] is not None and flags["nul"][k]:
                    cols_with = [self.hmap.headers[i] for i, v in enumerate(values) if "\x00" in v]
                    kind, reason = REASON_NUL, f"{REASON_NUL} in {', '.join(cols_with)}"
                elif flags["blank"][k]:
                    kind, reason = REASON_BLANK, REASON_BLANK
                else:
                    kind, reason = REASON_REQUIRED, f"{REASON_REQUIRED}: {self.required_names}"
                reasons[kind] += 1
                quarantined.append(Quarantined(int(qrows[k]), reason, self.record_json(list(values))))
            keep = pc.invert(q)
            rows = rows[keep.to_numpy(zero_copy_only=False)]
            trimmed = [t.filter(keep) for t in trimmed]
            empty = [e.filter(keep) for e in empty]
        arrays = [pa.array(rows.astype(np.int32, copy=False), pa.int32())]
        names = ["source_row"]
        null = pa.scalar(None, pa.string())
        for i, name in self.out_cols:
            arrays.append(pc.if_else(empty[i], null, trimmed[i]))
            names.append(name)
        return pa.Table.from_arrays(arrays, names=names), quarantined, reasons


def _any_contains(cols: list[pa.Array], needle: str) -> pa.Array:
    m = pc.match_substring(cols[0], needle)
    for c in cols[1:]:
        m = pc.or_(m, pc.match_substring(c, needle))
    return m


# ------------------------------------------------------------------------------------------ readers


class FileReader:
    """Iterate over a file's batches. Construct with `open_source_file`; header problems raise there."""

    spec: SourceSpec
    path: Path
    display_name: str
    hmap: HeaderMap
    stats: ReadStats
    notes: list[str]

    @property
    def extra_headers(self) -> list[str]:
        return [h for _, h in self.hmap.extras]

    @property
    def fields_present(self) -> list[str]:
        return self.hmap.fields_present

    def __iter__(self) -> Iterator[Batch]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _reject(self, problem: str) -> FileRejected:
        return FileRejected(self.display_name, problem)

    def _account(self, table: pa.Table, quarantined: list[Quarantined], reasons: Counter) -> None:
        self.stats.rows_loaded += table.num_rows
        self.stats.rows_quarantined += len(quarantined)
        self.stats.rows_read += table.num_rows + len(quarantined)
        self.stats.reasons.update(reasons)

    def _check_end(self) -> None:
        s = self.stats
        if s.rows_read == 0:
            raise self._reject("no data rows: the file has a header row only")
        if s.rows_loaded == 0 and s.reasons.get(REASON_BLANK, 0) == s.rows_read:
            raise self._reject(f"no data rows: the file has a header row and {s.rows_read} blank rows only")

    def describe(self) -> str:
        """One line for the file log: what was read, quarantined and noticed."""
        s = self.stats
        parts = [f"{s.rows_loaded} rows loaded, {s.rows_quarantined} quarantined"]
        if s.reasons:
            parts[-1] += f" ({s.summary()})"
        if self.extra_headers:
            parts.append("extra columns kept in extra_columns: " + ", ".join(_short(h, 20) for h in self.extra_headers))
        if self.hmap.missing_optional:
            parts.append(
                "optional columns absent: " + ", ".join(self.spec.header(f) for f in self.hmap.missing_optional)
            )
        parts.extend(self.notes)
        return mask_text("; ".join(parts))


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


# ---------------------------------------------------------------------------------------------- CSV


class _Transcoder:
    """Decode a file block by block from `codec` and feed it as UTF-8 into a pipe, in a thread.

    pyarrow reads the other end natively (no GIL), so decoding (Python, holds the GIL), parsing and
    the DuckDB insert run on different cores. Undecodable bytes become U+FFFD (their rows are
    quarantined); blocks are cut after a newline byte, which is never part of a multi-byte character
    in UTF-8, GBK or GB18030. `saw_bad`/`saw_nul` are set before the block is written, so they are
    set before pyarrow can return any row of that block.
    """

    def __init__(self, path: Path, codec: str):
        self.path = path
        self.codec = "utf-8" if codec == "utf-8-sig" else codec
        self.saw_bad = False
        self.saw_nul = False
        self.first_bad_offset: int | None = None
        self.error: BaseException | None = None
        self._r, self._w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="civichub-transcode", daemon=True)
        self._files: list = []

    def open(self):
        """Start decoding; returns a pyarrow input stream of UTF-8 bytes."""
        self._thread.start()
        try:
            f = pa.OSFile(f"/dev/fd/{self._r}", "r")  # native reads, GIL released
        except (OSError, pa.ArrowException):
            f = pa.PythonFile(os.fdopen(os.dup(self._r), "rb"), mode="r")
        self._files.append(f)
        return f

    def _run(self) -> None:
        try:
            with open(self.path, "rb") as f:
                rest = b""
                offset = 0
                first = True
                while True:
                    chunk = f.read(_BLOCK)
                    if chunk:
                        chunk = rest + chunk
                        cut = chunk.rfind(b"\n")
                        if cut < 0:
                            cut = chunk.rfind(b"\r")  # old Mac line ends; never inside a character either
                        if cut < 0:
                            rest = chunk
                            continue
                        data, rest = chunk[: cut + 1], chunk[cut + 1 :]
                    else:
                        data, rest = rest, b""
                    start = offset
                    offset += len(data)
                    if first:
                        first = False
                        bom = _UTF8_BOM if self.codec == "utf-8" else _GB18030_BOM
                        if data.startswith(bom):
                            data = data[len(bom) :]
                            start += len(bom)
                    if data:
                        self._write(self._transcode(data, start))
                    if not chunk:
                        break
        except BrokenPipeError:
            pass  # the reader stopped early (a rejected file): nothing to do
        except BaseException as e:  # noqa: BLE001 - reported by the reader
            self.error = e
        finally:
            os.close(self._w)

    def _transcode(self, data: bytes, start: int) -> bytes:
        if b"\x00" in data:
            self.saw_nul = True
        try:
            text = data.decode(self.codec)
            return data if self.codec == "utf-8" else text.encode("utf-8")
        except UnicodeDecodeError as e:
            if self.first_bad_offset is None:
                self.first_bad_offset = start + e.start
            self.saw_bad = True
            return data.decode(self.codec, "replace").encode("utf-8")

    def _write(self, out: bytes) -> None:
        mv = memoryview(out)
        while mv:
            n = os.write(self._w, mv[: 1 << 20])
            mv = mv[n:]

    def close(self, raise_error: bool = True) -> None:
        for f in self._files:
            try:
                f.close()
            except Exception:  # noqa: BLE001
                pass
        try:
            os.close(self._r)  # a writer still blocked gets EPIPE and ends
        except OSError:
            pass
        if self._thread.ident is not None:
            self._thread.join()
        if raise_error and self.error is not None:
            raise self.error


def _decode_header(sample: bytes, codec: str, delimiter: str, strict: bool) -> list[str] | None:
    """The first CSV record of a byte sample decoded with codec (None if strict and it fails)."""
    if codec in ("utf-8", "utf-8-sig"):
        codec = "utf-8"
        if sample.startswith(_UTF8_BOM):
            sample = sample[3:]
    elif sample.startswith(_GB18030_BOM):
        sample = sample[4:]
    cut = sample.rfind(b"\n")
    if 0 <= cut < len(sample) - 1:
        sample = sample[: cut + 1]
    try:
        text = sample.decode(codec, "strict" if strict else "replace")
    except UnicodeDecodeError as e:
        # a sample cut inside a character fails only at its very end: decode what is before it
        if e.start < len(sample) - 4:
            return None
        text = sample[: e.start].decode(codec)
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return None


class CsvReader(FileReader):
    def __init__(self, path: Path, spec: SourceSpec, display: str, batch_rows: int):
        self.path, self.spec, self.display_name = path, spec, display
        self.batch_rows = batch_rows
        self.stats = ReadStats()
        self.notes = []
        self.codec = spec.decode_as or "utf-8-sig"
        self.encoding_name = ENCODING_NAMES.get(spec.encoding or "utf-8-sig", str(spec.encoding))
        with open(path, "rb") as f:
            self.sample = f.read(_SAMPLE)
        self.hmap = self._read_header()

    # -- header and encoding diagnosis
    def _read_header(self) -> HeaderMap:
        spec = self.spec
        stripped = self.sample
        for bom in (_UTF8_BOM, _GB18030_BOM):
            if stripped.startswith(bom):
                stripped = stripped[len(bom) :]
        if not stripped.strip(b" \t\r\n"):
            raise self._reject("empty file: no header row")
        first_line = stripped.split(b"\n", 1)[0]
        if not first_line.strip(b" \t\r") and stripped.strip(b" \t\r\n"):
            raise self._reject("the first line is empty; expected the header row there")
        header = _decode_header(self.sample, self.codec, spec.delimiter, strict=False) or []
        hmap, missing, problems = match_header(header, spec)
        family = _FAMILY.get(spec.encoding or "utf-8-sig", "utf-8")
        alt = "gb18030" if family == "utf-8" else "utf-8"
        alt_name = (
            "GB18030 (or GBK)"
            if alt == "gb18030"
            else ("UTF-8 with BOM" if self.sample.startswith(_UTF8_BOM) else "UTF-8")
        )
        if hmap is None:
            alt_header = _decode_header(self.sample, alt, spec.delimiter, strict=True)
            alt_map, alt_missing, _ = match_header(alt_header, spec) if alt_header else (None, missing + [None], [])
            n_req = len(spec.required_columns)
            if alt_header is not None and (n_req - len(alt_missing)) > (n_req - len(missing)):
                msg = f"wrong encoding: looks like {alt_name}, the spec says {self.encoding_name}"
                if alt_map is None and alt_missing:
                    msg += "; " + _missing_message(spec, alt_header, alt_missing, [])
                raise self._reject(msg)
            bad = self._first_bad_offset(self.sample, self.codec)
            if bad is not None and bad < len(first_line) + 3:
                raise self._reject(
                    f"undecodable: the header row is not valid {self.encoding_name} (invalid bytes at byte "
                    f"offset {bad}); the file may be in another encoding"
                )
            raise self._reject(_missing_message(spec, header, missing, problems))
        if family == "gb18030" and self._looks_utf8(stripped):
            raise self._reject(
                f"wrong encoding: looks like {alt_name}, the spec says {self.encoding_name} (the text decodes as UTF-8)"
            )
        return hmap

    @staticmethod
    def _first_bad_offset(sample: bytes, codec: str) -> int | None:
        codec = "utf-8" if codec == "utf-8-sig" else codec
        cut = sample.rfind(b"\n")
        if cut >= 0:
            sample = sample[: cut + 1]
        try:
            sample.decode(codec)
            return None
        except UnicodeDecodeError as e:
            return e.start

    @staticmethod
    def _looks_utf8(sample: bytes) -> bool:
        """Valid UTF-8 with enough non-ASCII text: GBK/GB18030 Chinese text practically never is."""
        if sum(1 for b in sample[:_SAMPLE] if b >= 0x80) < 48:
            return False
        cut = sample.rfind(b"\n")
        try:
            (sample[: cut + 1] if cut > 0 else sample).decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False

    # -- streaming
    def __iter__(self) -> Iterator[Batch]:
        hm = self.hmap
        n = len(hm.headers)
        names = [f"c{i}" for i in range(n)]
        fin = _Finisher(self.spec, hm, self.encoding_name)
        pending_bad: list[int] = []  # data-row numbers of malformed records not yet placed
        bad_quarantine: list[Quarantined] = []
        bad_reasons: Counter = Counter()
        parse_delim = self.spec.delimiter

        def on_invalid(row) -> str:
            if row.number is None:  # only happens with multi-threaded parsing, which is not used
                raise RuntimeError("pyarrow did not report the record number of a malformed row")
            src = row.number - 1  # pyarrow counts records from 1 = the header row
            text = row.text or ""
            try:
                values = next(csv.reader(io.StringIO(text, newline=""), delimiter=parse_delim), [])
            except csv.Error:
                values = [text]
            if not text.strip(" \t\r\n"):
                kind, reason = REASON_BLANK, REASON_BLANK
            else:
                kind = REASON_FIELD_COUNT
                reason = f"{REASON_FIELD_COUNT}: expected {row.expected_columns}, found {row.actual_columns}"
                if "\n" in text.rstrip("\r\n"):
                    reason += " (an unclosed quote may have merged several lines)"
                if "\ufffd" in text and stream.saw_bad:
                    kind, reason = REASON_UNDECODABLE, f"{REASON_UNDECODABLE}: not valid {self.encoding_name}"
            pending_bad.append(src)
            bad_quarantine.append(Quarantined(src, reason, fin.record_json(values)))
            bad_reasons[kind] += 1
            return "skip"

        stream = _Transcoder(self.path, self.codec)
        try:
            reader = pacsv.open_csv(
                stream.open(),
                read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=_ARROW_BLOCK),
                parse_options=pacsv.ParseOptions(
                    delimiter=parse_delim,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowException as e:
            stream.close(raise_error=False)
            raise self._reject(f"CSV parse error at the start of the file: {_arrow_msg(e)}") from None
        next_row = 0  # the header is data row 0 in pyarrow's eyes; it is dropped below
        header_pending = True
        buf_tables: list[pa.RecordBatch] = []
        buf_rows = 0
        try:
            while True:
                try:
                    rb = reader.read_next_batch()
                except StopIteration:
                    rb = None
                except pa.ArrowException as e:
                    if stream.error is not None:  # the file could not be read: not the file's fault
                        raise stream.error from None
                    hint = " (an unclosed quote?)" if "straddl" in str(e) else ""
                    raise self._reject(
                        f"CSV parse error after data row {max(next_row - 1, 0)}{hint}: {_arrow_msg(e)}"
                    ) from None
                if rb is not None:
                    buf_tables.append(rb)
                    buf_rows += rb.num_rows
                if buf_rows and (buf_rows >= self.batch_rows or rb is None):
                    tbl = pa.Table.from_batches(buf_tables).combine_chunks()
                    buf_tables, buf_rows = [], 0
                    k = tbl.num_rows
                    rows, next_row = _number_rows(next_row, k, pending_bad)
                    cols = [
                        tbl.column(i).chunk(0)
                        if tbl.column(i).num_chunks == 1
                        else pa.concat_arrays(tbl.column(i).chunks)
                        for i in range(n)
                    ]
                    if header_pending:
                        header_pending = False
                        cols = [c.slice(1) for c in cols]
                        rows = rows[1:]
                    quarantined, reasons = bad_quarantine[:], Counter(bad_reasons)
                    bad_quarantine.clear()
                    bad_reasons.clear()
                    if len(rows):
                        table, q2, r2 = fin.finish(cols, rows, stream.saw_bad, stream.saw_nul)
                        quarantined += q2
                        reasons.update(r2)
                    else:
                        table = _empty_table(fin)
                    self._account(table, quarantined, reasons)
                    yield Batch(table, quarantined)
                elif rb is None and bad_quarantine:
                    quarantined, reasons = bad_quarantine[:], Counter(bad_reasons)
                    bad_quarantine.clear()
                    bad_reasons.clear()
                    table = _empty_table(fin)
                    self._account(table, quarantined, reasons)
                    yield Batch(table, quarantined)
                if rb is None:
                    break
        except BaseException:
            stream.close(raise_error=False)
            raise
        stream.close()  # re-raises a read error of the transcoding thread: never a silent short read
        self._check_end()
        bad = self.stats.reasons.get(REASON_UNDECODABLE, 0)
        if bad:
            where = (
                f" (first invalid byte at offset {stream.first_bad_offset})"
                if stream.first_bad_offset is not None
                else ""
            )
            if bad > UNDECODABLE_MAX_ROWS and bad > UNDECODABLE_MAX_SHARE * self.stats.rows_read:
                hint = ""
                alt = "utf-8" if _FAMILY.get(self.spec.encoding or "", "utf-8") == "gb18030" else "gb18030"
                if self._decodes_as(alt):
                    hint = (
                        f"; the rows look like {'UTF-8' if alt == 'utf-8' else 'GB18030 (or GBK)'}, "
                        f"the spec says {self.encoding_name}"
                    )
                raise self._reject(
                    f"undecodable: {bad} of {self.stats.rows_read} data rows are not valid {self.encoding_name}"
                    f"{where}{hint}"
                )
            self.notes.append(f"{bad} rows with bytes that are not {self.encoding_name} quarantined{where}")

    def _decodes_as(self, codec: str) -> bool:
        """Do the data rows (the first 8 MiB after the header line) decode strictly as `codec`?"""
        with open(self.path, "rb") as f:
            data = f.read(8 << 20)
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
        cut = data.rfind(b"\n")
        data = data[: cut + 1] if cut > 0 else data
        if not data.strip():
            return False
        try:
            data.decode(codec)
            return True
        except UnicodeDecodeError:
            return False


def _arrow_msg(e: Exception) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return mask_text(_short(msg, 200))


def _number_rows(next_row: int, k: int, pending_bad: list[int]) -> tuple[np.ndarray, int]:
    """Record numbers of the next k well-formed records, skipping the malformed ones (pending_bad)."""
    if not pending_bad or pending_bad[0] >= next_row + k:
        return np.arange(next_row, next_row + k, dtype=np.int64), next_row + k
    bad = np.array(pending_bad, dtype=np.int64)
    cand = np.arange(next_row, next_row + k + len(bad), dtype=np.int64)
    good = cand[~np.isin(cand, bad)][:k]
    last = int(good[-1]) if len(good) else next_row - 1
    # every malformed record before the last placed row is accounted for
    keep = [b for b in pending_bad if b > last]
    pending_bad[:] = keep
    return good, last + 1


def _empty_table(fin: _Finisher) -> pa.Table:
    arrays = [pa.array([], pa.int32())] + [pa.array([], pa.string()) for _ in fin.out_cols]
    return pa.Table.from_arrays(arrays, names=["source_row"] + [n for _, n in fin.out_cols])


# --------------------------------------------------------------------------------------------- XLSX


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
