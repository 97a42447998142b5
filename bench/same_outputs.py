"""Did two runs write the same files? `python -m bench.same_outputs BEFORE_OUT AFTER_OUT`.

For checking that a speed change keeps behaviour, beside `bench.same_tables` (the hub's tables):
compare the `<db dir>/out/` folders of two runs on the same inbox, file by file.

- `.xlsx`: every part of the zip the same, except `docProps/core.xml` (the creation time), and in
  the worklists the sheet protection and each row's signature, made with a secret drawn for each
  database (`quality.worklist_key`);
- `.json`: the same values, leaving out the run-time keys (`built_at`, …);
- `.parquet` and the published `.duckdb` files: the same rows (a multiset, `EXCEPT ALL` both ways),
  leaving out the run-time columns `bench.same_tables` leaves out;
- other files: the same bytes, except the kinds that record when they were made (the Data Docs,
  the catalog's pages, Great Expectations' stores), which are only counted.

Exit status 1 when a compared file differs or is missing on one side.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import zipfile
from pathlib import Path

import duckdb

from bench.same_tables import _RUN_NAMES, _RUN_TYPES, compare

_PROTECTION = re.compile(rb"<sheetProtection[^>]*/>")
# a worklist row's signature (an HMAC with the database's key: quality/worklist_format.py) and the
# time the worklist was generated
_SIGNATURE = re.compile(rb"<t>([0-9a-f]{20}|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)</t>")
_VERSION = re.compile(r"^\.[^/]+\.v\d+$")
# folders whose files say when they were written (HTML with run times, GX's stores): counted only
_TIMESTAMPED = ("data_docs/", "catalog/", "gx/", ".ge_store")
_PER_DATABASE = ("worklists/",)  # .fingerprints.json of the worklists: hashes made with the database's key


def _xlsx_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {
            n: _SIGNATURE.sub(b"<t>signature</t>", _PROTECTION.sub(b"", z.read(n)))
            for n in sorted(z.namelist())
            if n != "docProps/core.xml"
        }


def _sheet_rows(path: Path) -> dict[str, list]:
    """Each sheet's rows as sorted tuples of cell texts (signatures and times masked, running
    numbers left out)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    out = {}
    for ws in wb.worksheets:
        rows = [  # a row's running number (序号) left out: it follows the order
            tuple(_SIGNATURE.sub(b"<t>signature</t>", f"<t>{v}</t>".encode()) for v in row[str(row[0]).isdigit() :])
            for row in ws.iter_rows(values_only=True)
            if row
        ]
        out[ws.title] = sorted(rows)
    return out


def _without_times(value):
    if isinstance(value, dict):
        # a published role's fingerprint hashes its rows with the run-time columns
        return {k: _without_times(v) for k, v in value.items() if not k.endswith((*_RUN_NAMES, "fingerprint"))}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def _same_parquet(a: Path, b: Path) -> bool:
    con = duckdb.connect()
    cols = con.execute(f"describe select * from read_parquet('{a}')").fetchall()
    cols_b = {c[0]: c[1] for c in con.execute(f"describe select * from read_parquet('{b}')").fetchall()}
    kept = [c for c, t, *_ in cols if cols_b.get(c) == t and t not in _RUN_TYPES and not c.endswith(_RUN_NAMES)]
    if len(cols) != len(cols_b):
        return False
    sel = ", ".join(f'"{c}"' for c in kept) or "1"
    for x, y in ((a, b), (b, a)):
        n = con.execute(
            f"select count(*) from (select {sel} from read_parquet('{x}') except all select {sel} from read_parquet('{y}'))"
        ).fetchall()[0][0]
        if n:
            return False
    return True


def _files(root: Path) -> set[str]:
    """Files under `root`; a published role's files through its link to the current version (the
    version folders themselves, `.<role>.v<time>`, are named after when they were written)."""
    out = set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if not _VERSION.match(d)]
        out.update(str((Path(folder) / n).relative_to(root)) for n in names)
    return out


def compare_outputs(before: Path, after: Path, verbose: bool = False) -> int:
    files_a, files_b = _files(before), _files(after)
    differ: list[str] = []
    reordered: list[str] = []  # workbooks with the same rows in another order (ties in a sort)
    counts = {"xlsx": 0, "parquet": 0, "duckdb": 0, "bytes": 0, "timestamped": 0}
    for rel in sorted(files_a | files_b):
        if any(t in rel for t in _TIMESTAMPED) or (rel.startswith(_PER_DATABASE) and rel.endswith(".json")):
            counts["timestamped"] += 1
            continue
        if rel not in files_a or rel not in files_b:
            differ.append(f"only in {'after' if rel in files_b else 'before'}: {rel}")
            continue
        a, b = before / rel, after / rel
        if rel.endswith(".xlsx"):
            counts["xlsx"] += 1
            same = _xlsx_parts(a) == _xlsx_parts(b)
            if not same and _sheet_rows(a) == _sheet_rows(b):
                reordered.append(rel)
                same = True
        elif rel.endswith(".parquet"):
            counts["parquet"] += 1
            same = a.read_bytes() == b.read_bytes() or _same_parquet(a, b)
        elif rel.endswith(".duckdb"):
            counts["duckdb"] += 1
            import contextlib
            import io

            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                same = compare(str(a), str(b)) == 0
            if verbose and not same:
                print(out.getvalue())
        elif rel.endswith(".json"):  # a published role's manifest says when it was built
            counts["bytes"] += 1
            same = _without_times(json.loads(a.read_bytes())) == _without_times(json.loads(b.read_bytes()))
        else:
            counts["bytes"] += 1
            same = a.read_bytes() == b.read_bytes()
        if not same:
            differ.append(f"DIFFERENT: {rel}")
    for line in differ[:50]:
        print(line)
    for rel in reordered[:10]:
        print(f"same rows, another order: {rel}")
    print(
        f"compared {counts['xlsx']} workbooks, {counts['parquet']} Parquet files, {counts['duckdb']} DuckDB files, "
        f"{counts['bytes']} other files ({counts['timestamped']} timestamped or per-database ones left out): "
        + (f"{len(differ)} differ" if differ else "all the same")
        + (f" ({len(reordered)} workbooks with their rows in another order)" if reordered else "")
    )
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.same_outputs", description=__doc__.split("\n\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    return compare_outputs(args.before, args.after, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
