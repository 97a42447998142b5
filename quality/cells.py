"""What a spreadsheet cell gets from a value read out of DuckDB or pandas, whatever that value is.

A frame from DuckDB can hold None, NaN, NaT, pandas' NA (whose truth value raises), numpy scalars,
Decimals, dates, lists, or text where a number was expected. The writers of workbooks and reports
go through these functions instead of testing values themselves, so one odd cell shows as an
empty or textual cell instead of stopping a delivery's reports.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import Decimal, InvalidOperation

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


def texts(values) -> list[str]:
    """`text` of every value of a column (a Series or any iterable), with the common case, a value
    that is already a str, taken as it is: the workbooks' cells are prepared a column at a time."""
    if isinstance(values, pd.Series):
        values = values.tolist()
    return [v if type(v) is str else text(v) for v in values]
