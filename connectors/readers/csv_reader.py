"""CSV files: decoded in Python (GBK as GB18030) in blocks by a transcoder thread, parsed as UTF-8
by pyarrow's streaming CSV reader, so malformed records keep their exact positions."""

from __future__ import annotations

import csv
import io
import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from connectors.readers.base import (
    ENCODING_NAMES,
    REASON_BLANK,
    REASON_FIELD_COUNT,
    REASON_UNDECODABLE,
    Batch,
    FileReader,
    Quarantined,
    ReadStats,
    _Finisher,
)
from connectors.readers.headers import HeaderMap, _missing_message, _short, match_header
from connectors.spec import SourceSpec
from sharing.masking import mask_text

_BLOCK = 4 << 20  # bytes read and transcoded at a time
_ARROW_BLOCK = 16 << 20  # bytes pyarrow parses at a time (a record batch)
_SAMPLE = 64 << 10  # bytes looked at to diagnose an encoding problem
_FAMILY = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030", "gb18030": "gb18030"}
_UTF8_BOM = b"\xef\xbb\xbf"
_GB18030_BOM = b"\x84\x31\x95\x33"
# A file whose undecodable rows exceed both limits is rejected as a whole (wrong encoding), instead
# of quarantining row by row.
UNDECODABLE_MAX_SHARE = 0.05
UNDECODABLE_MAX_ROWS = 20


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
