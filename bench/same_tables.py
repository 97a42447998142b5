"""Do two hub databases hold the same tables? `python -m bench.same_tables BEFORE.duckdb AFTER.duckdb`.

For checking that a speed change keeps behaviour: run the hub on the same inbox before and after
the change, then compare every table of every schema as a multiset of rows (`EXCEPT ALL` both
ways). Columns that record when a run happened (timestamps, `*_at`, run and file-hash ids) differ
between any two runs and are left out, and named. Exit status 1 when a table differs.
"""

from __future__ import annotations

import argparse
import sys

import duckdb

# columns whose values depend on when (or in which run) the hub ran, not on the data
_RUN_TYPES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")
_RUN_NAMES = ("_at", "run_id", "_seconds", "duration")
# tables holding a secret drawn for each database (the worklists' sheet-protection key)
_PER_DATABASE = {("quality", "worklist_key")}


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    rows = con.execute(
        """select table_schema, table_name, column_name, data_type from information_schema.columns
           where table_catalog = ? order by table_schema, table_name, ordinal_position""",
        [catalog],
    ).fetchall()
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, dtype in rows:
        out.setdefault((schema, table), []).append((column, dtype))
    return out


def compare(before: str, after: str, schemas: list[str] | None = None) -> int:
    con = duckdb.connect()
    con.execute(f"attach '{before}' as a (read_only)")
    con.execute(f"attach '{after}' as b (read_only)")
    ta, tb = _tables(con, "a"), _tables(con, "b")
    differ = 0
    for key in sorted(set(ta) | set(tb)):
        schema, table = key
        if (schemas and schema not in schemas) or key in _PER_DATABASE:
            continue
        name = f"{schema}.{table}"
        if key not in ta or key not in tb:
            print(f"ONLY IN {'after' if key in tb else 'before'}: {name}")
            differ += 1
            continue
        cols_b = dict(tb[key])
        kept = [
            c
            for c, t in ta[key]
            if c in cols_b and t == cols_b[c] and t not in _RUN_TYPES and not c.endswith(_RUN_NAMES)
        ]
        skipped = [c for c, _ in ta[key] if c not in kept]
        if set(cols_b) - {c for c, _ in ta[key]}:
            skipped += [f"+{c}" for c in cols_b if c not in dict(ta[key])]
        sel = ", ".join(f'"{c}"' for c in kept)
        n_a, n_b = (con.execute(f'select count(*) from {db}."{schema}"."{table}"').fetchall()[0][0] for db in "ab")
        only_a = con.execute(
            f'select count(*) from (select {sel} from a."{schema}"."{table}" except all '
            f'select {sel} from b."{schema}"."{table}")'
        ).fetchall()[0][0]
        only_b = con.execute(
            f'select count(*) from (select {sel} from b."{schema}"."{table}" except all '
            f'select {sel} from a."{schema}"."{table}")'
        ).fetchall()[0][0]
        same = only_a == 0 and only_b == 0
        differ += not same
        note = f" (left out: {', '.join(skipped)})" if skipped else ""
        state = "same" if same else f"DIFFERENT: {only_a} rows only before, {only_b} only after"
        print(f"{name:<55} {n_a:>9,} / {n_b:>9,} rows  {state}{note}")
    print(f"{differ} table(s) differ" if differ else "all tables the same")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.same_tables", description=__doc__.split("\n\n")[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--schema", nargs="*", help="only these schemas")
    args = ap.parse_args(argv)
    return compare(args.before, args.after, args.schema)


if __name__ == "__main__":
    sys.exit(main())
