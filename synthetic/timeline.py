"""Month indices and day numbers of the simulation.

Time is an integer month index t: t = 0 is twelve months before the first delivery. Dates are
integer days since 1970-01-01.
"""

from __future__ import annotations

import datetime as _dt

EPOCH = _dt.date(1970, 1, 1)


def day(y: int, m: int, d: int) -> int:
    return (_dt.date(y, m, d) - EPOCH).days


def ymd(days: int) -> _dt.date:
    return EPOCH + _dt.timedelta(days=int(days))


def year_of(d: int) -> int:
    return (EPOCH + _dt.timedelta(days=int(d))).year


def safe_day(d: int) -> int:
    """Keep validity dates away from month ends (avoids ambiguity of 'as of' day)."""
    dt = ymd(d)
    if dt.day >= 28:
        return d - (dt.day - 26)
    return d
