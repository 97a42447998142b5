"""What a spreadsheet cell gets from a value read out of DuckDB or pandas, whatever that value is.

A frame from DuckDB can hold None, NaN, NaT, pandas' NA (whose truth value raises), numpy scalars,
Decimals, dates, lists, or text where a number was expected. The writers of workbooks and reports
go through these functions instead of testing values themselves, so one odd cell shows as an
empty or textual cell instead of stopping a delivery's reports.
"""

from __future__ import annotations

import collections
import datetime as _dt
import functools
import math
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd


def is_missing(value: object) -> bool:
    """None, NaN, NaT and pandas' NA (not the empty string, which is a value)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        missing = pd.isna(value)
    except (TypeError, ValueError):
        return False
    return missing is True or (hasattr(missing, "dtype") and getattr(missing, "shape", None) == () and bool(missing))


def text(value: object) -> str:
    """The cell text of a value: '' for a missing one; whole floats without '.0'; dates in ISO."""
    if is_missing(value):
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalar
        value = value.item()
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat(sep=" ")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return "、".join(text(v) for v in value)
    try:
        return str(value)
    except Exception:
        return ""


def number(value: object) -> float | None:
    """A finite number, or None: numeric text ('1,200', ' 3 ') counts; True/False, dates and junk do not."""
    if is_missing(value) or isinstance(value, (bool, _dt.date, _dt.datetime)):
        return None
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
        if isinstance(value, bool):
            return None
    try:
        if isinstance(value, str):
            value = Decimal(value.strip().replace(",", "").replace("，", ""))
        out = float(value)
    except (TypeError, ValueError, InvalidOperation, OverflowError):
        return None
    return out if math.isfinite(out) else None


def flag(value: object) -> bool:
    """A yes/no cell: missing is no; text 'false'/'0'/'否'/'' is no; anything else by its truth."""
    if is_missing(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "f", "no", "n", "否", "无")
    n = number(value)
    if n is not None:
        return n != 0
    try:
        return bool(value)
    except (TypeError, ValueError):
        return False


@functools.lru_cache(maxsize=256)
def _row_type(fields: tuple) -> type:
    return collections.namedtuple("Pandas", fields, rename=True)


def rows(frame: pd.DataFrame):
    """`frame.itertuples(index=False)`: the same named tuples of the same values, with their type
    made once per set of columns (pandas makes a namedtuple class at every call, and reads each
    column with iloc: most of the time of a report's many small sections)."""
    columns = tuple(frame.columns)
    if not columns or len(set(columns)) != len(columns):
        return frame.itertuples(index=False)
    return map(_row_type(columns)._make, zip(*(frame[c] for c in columns), strict=True))


def flags(values) -> list[bool]:
    """`flag` of every value of a column (a Series or any iterable); a numpy boolean column as it is."""
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, np.dtype) and values.dtype.kind == "b":
            return values.tolist()
        values = values.tolist()
    return [flag(v) for v in values]


def texts(values) -> list[str]:
    """`text` of every value of a column (a Series or any iterable), with the common case, a value
    that is already a str, taken as it is: the workbooks' cells are prepared a column at a time."""
    if isinstance(values, pd.Series):
        fast = _column_texts(values)
        if fast is not None:
            return fast
        values = values.tolist()
    return [v if type(v) is str else text(v) for v in values]


_DAY = np.timedelta64(1, "D")


def _column_texts(values: pd.Series) -> list[str] | None:
    """`texts` of a column whose dtype says what every value is (None: ask each value): pandas'
    strings (str or missing), numpy integers and booleans (`text` is `str` of them), and naive
    datetimes at midnight of the years 1000-9999 (`text` is the ISO date)."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype):
        out = values.tolist()
        return [v if type(v) is str else "" for v in out] if values.hasnans else out
    if not isinstance(dtype, np.dtype):
        return None
    if dtype.kind in "iub":
        return [str(v) for v in values.tolist()]
    if dtype.kind == "M":
        stamps = values.to_numpy()
        days = stamps.astype("datetime64[D]")
        present = ~np.isnat(days)
        day = days[present]
        if len(day) and (
            (stamps[present] != day).any()
            or day.min() < np.datetime64("1000-01-01")
            or day.max() >= np.datetime64("10000-01-01")
        ):
            return None
        out = days.astype(str).tolist()
        return out if present.all() else [t if p else "" for t, p in zip(out, present.tolist())]
    return None
