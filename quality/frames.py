"""A query's rows as the pandas DataFrame DuckDB's `.df()` gives, built faster.

DuckDB's pandas conversion makes every text value a Python string and pandas then builds its
Arrow-backed text column from those strings again (~0.3 s for 100,000 rows of a dozen text columns;
at a million persons a roster or a GX sample costs seconds on the run's one busy core). Here the
query is fetched as Arrow once: text columns go to pandas as Arrow buffers, the other columns
through DuckDB's own `.df()` of the same Arrow data (so they convert exactly as before). The frame is
the same, column for column and dtype for dtype (tests/test_gx_frames.py): an all-null text column is
what `.df()` makes of it (object dtype, None); an empty result, or a column whose type does not come
back from Arrow as itself (HUGEINT, …), goes through `.df()` itself.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def _text_series(column: pa.ChunkedArray, n: int) -> pd.Series:
    if column.null_count == n:
        return pd.Series([None] * n, dtype=object)
    return column.to_pandas()


def read_frame(con, sql: str, params: list | dict | None = None) -> pd.DataFrame:
    """`con.execute(sql, params).df()`, the same frame (see the module's docstring)."""
    relation = con.sql(sql, params=params or None)
    table = relation.to_arrow_table()
    n = table.num_rows
    if n == 0:
        return con.execute(sql, params or []).df()
    text = [pa.types.is_string(t) or pa.types.is_large_string(t) for t in table.schema.types]
    others = [i for i, is_text in enumerate(text) if not is_text]
    other_frame = None
    if others:
        other = con.from_arrow(table.select(others))
        if list(other.types) != [relation.types[i] for i in others]:
            return con.execute(sql, params or []).df()
        other_frame = other.df()
    columns = [
        _text_series(table.column(i), n) if is_text else other_frame.iloc[:, others.index(i)]
        for i, is_text in enumerate(text)
    ]
    df = pd.concat(columns, axis=1, ignore_index=True)
    df.columns = table.column_names
    return df
