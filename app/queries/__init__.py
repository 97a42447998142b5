"""What the pages read from a role's published DuckDB file (app/published.py gives the cursor).

Every function takes the scope it serves (street code, committee code) and filters on it in SQL:
a record outside the scope is simply not found. Values are shown as the role's publication holds
them (masked there per sharing/roles.yml); findings add the worklist's own display rule.
"""

from __future__ import annotations

import datetime as _dt
import math


def rows(cur, sql: str, params: list | dict | None = None) -> list[dict]:
    """Rows as dicts with plain Python values (NaN/NaT → None)."""
    res = cur.execute(sql, params or [])
    cols = [d[0] for d in res.description]
    out = []
    for r in res.fetchall():
        rec = {}
        for c, v in zip(cols, r):
            if isinstance(v, float) and math.isnan(v):
                v = None
            rec[c] = v
        out.append(rec)
    return out


def text(value: object) -> str:
    """A value as a page shows it."""
    if value is None:
        return ""
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
