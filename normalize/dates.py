"""Dates as the registries send them: 1990-01-02, 1990/1/2, 19900102, 1990年1月2日, 1990.1.2,
ISO timestamps, and Excel serial numbers that lost their cell format on export.

A bare four-digit number is read as a year, never as an Excel serial (1990 would otherwise be
1905-06-12); serials are accepted only when they land between 1900-03-01 and 2100-12-31.
Anything unparseable is None: the raw text stays in the staging model for the quality finding.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

import duckdb

from normalize.text import as_text, to_halfwidth

_YMD_RE = re.compile(
    r"(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*日?"
    r"(?:(?:[T\s]|\s*)\d{1,2}(?::\d{1,2}){1,2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:\s*\d{1,2}(?::\d{1,2}){1,2}|\d{6})?")
_SERIAL_RE = re.compile(r"(\d{1,5})(?:\.\d+)?")
_YM_RE = re.compile(r"(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*月?(?:\s*(?:[-/.月])\s*\d{1,2}\s*日?.*)?")
_YM_COMPACT_RE = re.compile(r"(\d{4})(\d{2})(?:\d{2})?")

_EXCEL_EPOCH = date(1899, 12, 30)  # serial 61 = 1900-03-01 (Excel's 1900 leap-year bug before it)
_SERIAL_MIN = 61
_SERIAL_MAX = (date(2100, 12, 31) - _EXCEL_EPOCH).days


def _mk(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


@lru_cache(maxsize=1 << 16)
def _parse(s: str) -> date | None:
    s = to_halfwidth(s).strip()
    if not s:
        return None
    m = _YMD_RE.fullmatch(s)
    if m:
        return _mk(*m.groups())
    m = _COMPACT_RE.fullmatch(s)
    if m:
        return _mk(*m.groups())
    m = _SERIAL_RE.fullmatch(s)
    if m:
        digits = m.group(1)
        if len(digits) == 4 and 1800 <= int(digits) <= 2100:
            return None  # a year, not a serial
        n = int(digits)
        if _SERIAL_MIN <= n <= _SERIAL_MAX:
            return _EXCEL_EPOCH + timedelta(days=n)
    return None


def parse_date(raw: object) -> date | None:
    """A date, or None. Accepts date/datetime objects and numbers from spreadsheet readers too."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    s = as_text(raw)
    if not s:
        return None
    return _parse(s)


@lru_cache(maxsize=1 << 12)
def _parse_ym(s: str) -> str | None:
    s = to_halfwidth(s).strip()
    m = _YM_RE.fullmatch(s) or _YM_COMPACT_RE.fullmatch(s)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12 and 1800 <= y <= 2200:
            return f"{y:04d}-{mo:02d}"
        return None
    d = _parse(s)
    return None if d is None else f"{d.year:04d}-{d.month:02d}"


def parse_year_month(raw: object) -> str | None:
    """'YYYY-MM' from 2026-10, 2026/10, 202610, 2026年10月, 2026.10, a full date or an Excel serial."""
    if raw is None:
        return None
    if isinstance(raw, (date, datetime)):
        return f"{raw.year:04d}-{raw.month:02d}"
    s = as_text(raw)
    if not s:
        return None
    return _parse_ym(s)


def month_end(delivery: str) -> date:
    """The last day of a delivery month 'YYYY-MM' (the day the delivery describes the district on)."""
    y, m = (int(x) for x in delivery.split("-"))
    return date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)


def age_at(birth: date | None, as_of: date) -> int | None:
    """Age in whole years on `as_of` (one less before that year's birthday; born on 29 February, a
    year older on 1 March of a common year). The rule of the dbt macro `age_at`
    (dbt_project/macros/cross_engine.sql); tests/test_domain_rules.py checks that the two agree."""
    if birth is None or (isinstance(birth, float) and birth != birth):  # None, NaT/NaN from pandas
        return None
    if isinstance(birth, datetime):
        birth = birth.date()
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    return as_of.year - birth.year - ((birth.month, birth.day) > (as_of.month, as_of.day))


def register_age_at(con) -> None:
    """`age_at(birth, as_of)` on a DuckDB connection (the Python rule above, for queries outside dbt)."""
    try:
        con.remove_function("age_at")
    except (duckdb.InvalidInputException, duckdb.CatalogException):
        pass
    con.create_function("age_at", age_at, ["DATE", "DATE"], "INTEGER", side_effects=False)
