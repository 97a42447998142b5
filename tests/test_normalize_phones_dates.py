"""Phones and dates in the shapes the registries send them."""

from datetime import date, datetime

import pytest

from normalize.dates import parse_date, parse_year_month
from normalize.phones import normalize_phone, phone_kind


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0086-13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("13812345678.0", "13812345678"),
        (13812345678, "13812345678"),
        ("13812345678（本人）", "13812345678"),
        ("13812345678/13987654321", "13812345678"),
        ("13812345678 13987654321", "13812345678"),
        ("021-62345678", "021-62345678"),
        ("02162345678", "021-62345678"),
        ("(021)6234-5678", "021-62345678"),
        ("（021）62345678", "021-62345678"),
        ("21-62345678", "021-62345678"),
        ("62345678", "021-62345678"),
        ("+86 21 6234 5678", "021-62345678"),
        ("021-62345678转123", "021-62345678"),
    ],
)
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw", ["12345678901", "1381234567", "010-62345678", "12345", "暂无", "138****5678", "6234567"]
)
def test_invalid_phone(raw):
    assert normalize_phone(raw) is None
    assert phone_kind(raw) == "invalid"


def test_phone_kind():
    assert phone_kind("13812345678") == "mobile"
    assert phone_kind("021-62345678") == "landline"
    assert phone_kind(None) == "blank" and phone_kind("") == "blank" and phone_kind(" ") == "blank"
    assert normalize_phone(None) is None


@pytest.mark.parametrize(
    "raw",
    [
        "1990-01-02",
        "1990/1/2",
        "1990/01/02",
        "19900102",
        "1990年1月2日",
        "1990年01月02日",
        "1990.1.2",
        "1990-01-02T00:00:00",
        "1990-01-02 00:00:00",
        "1990-01-02T08:30:00+08:00",
        "1990/1/2 0:00:00",
        "１９９０－０１－０２",
        " 1990-01-02 ",
        "32875",  # Excel serial
        "32875.0",
        "32875.5",
        32875,
        32875.0,
        date(1990, 1, 2),
        datetime(1990, 1, 2, 13, 5),
    ],
)
def test_parse_date_formats(raw):
    assert parse_date(raw) == date(1990, 1, 2)


@pytest.mark.parametrize(
    "raw", [None, "", "abc", "1990-02-30", "19901302", "1990", "2026年10月", "0", "60", "99999999", "100000"]
)
def test_parse_date_rejects(raw):
    assert parse_date(raw) is None


def test_excel_serial_range():
    assert parse_date("61") == date(1900, 3, 1)
    assert parse_date(str((date(2100, 12, 31) - date(1899, 12, 30)).days)) == date(2100, 12, 31)
    assert parse_date(str((date(2101, 1, 1) - date(1899, 12, 30)).days)) is None


@pytest.mark.parametrize(
    "raw",
    ["2026-10", "2026/10", "202610", "2026年10月", "2026.10", "2026-10-15", "2026年10月15日", "20261015", " 2026-10 "],
)
def test_parse_year_month(raw):
    assert parse_year_month(raw) == "2026-10"


def test_parse_year_month_misc():
    assert parse_year_month("2026-1") == "2026-01"
    assert parse_year_month(date(2026, 10, 3)) == "2026-10"
    for bad in (None, "", "2026", "2026-13", "abc"):
        assert parse_year_month(bad) is None
