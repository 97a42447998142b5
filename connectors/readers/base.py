"""What every reader shares: batches, quarantined records and their reasons, file rejections, and
the step that turns parsed columns into a batch (blank rows, required fields, extra columns)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.readers.headers import HeaderMap, _short
from connectors.spec import SourceSpec
from sharing.masking import mask_text

BATCH_ROWS = 200_000
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (with BOM)", "gbk": "GBK", "gb18030": "GB18030"}

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
