"""One bad value never sinks a delivery: every writer takes any value in any column.

A frame read from DuckDB can hold None, NaN, NaT, pandas' NA (whose truth value raises: it once
stopped the monthly reports, `boolean value of NA is ambiguous`), empty or blank strings, control
characters, infinities, numbers where text was expected and text where numbers were, dates, lists,
bytes, numpy scalars. Hypothesis feeds each writer frames with such values in every column; the
writer must produce a workbook that opens, with one row per input row.
"""

from __future__ import annotations

import datetime as _dt
import tempfile
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from matching.shop_master import page_url, write_qr
from quality import cells
from quality.reports import build_report, licence_status
from quality.worklists import ROSTER_COLUMNS, build_roster, build_worklist, street_summary
from targeting.worklists import HEADERS, _row_cells, build_committee_workbook

ODD = st.one_of(
    st.sampled_from([None, np.nan, pd.NA, pd.NaT, "", " ", "\x00\x07", "正常", "NaN", "1,200", "否", True, False]),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.dates(),
    st.datetimes(min_value=_dt.datetime(1900, 1, 1)),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**6), max_value=10**6),
    st.lists(st.text(max_size=5), max_size=3),
    st.binary(max_size=8),
    st.sampled_from([np.int64(3), np.float64(2.5), np.bool_(True), Decimal("0.10"), pd.Timestamp("2026-11-30")]),
)
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def frame_of(columns: list[str], values: list, rows: int) -> pd.DataFrame:
    """A frame whose every column holds odd values (object columns, as DuckDB hands over mixed data)."""
    data = {c: [values[(i * len(columns) + j) % len(values)] for i in range(rows)] for j, c in enumerate(columns)}
    return pd.DataFrame(data, dtype=object)


AID = [
    "aid_certificate_no",
    "aid_type",
    "head_name",
    "head_id_number",
    "family_size",
    "members_listed",
    "member_names",
    "monthly_amount",
    "family_address",
    "lives_at",
    "aid_since",
    "community_code",
]
ELDERLY = [
    "community_code",
    "person_id",
    "name",
    "sex",
    "birth_date",
    "age",
    "full_address",
    "phone",
    "status",
    "others_in_dwelling",
    "latest_month",
    "latest_kwh",
    "median_kwh",
    "power_drop",
]
SHOP = [
    "shop_code",
    "name",
    "registered_name",
    "uscc",
    "full_address",
    "status",
    "registration_status",
    "licence_no",
    "licence_valid_until",
    "licence_status",
    "visit_count",
    "last_visit_date",
    "last_inspection_result",
    "community_code",
]
FINDING = [
    "finding_id",
    "rule",
    "severity",
    "entity_type",
    "entity_id",
    "entity_name",
    "entity_address",
    "field",
    "observed_value",
    "suggested_value",
    "message",
    "source",
    "source_file",
    "source_row",
    "first_seen",
    "street_code",
    "community_code",
]
ROSTER = [
    "community_code",
    "household_id",
    "full_address",
    "member_count",
    "in_address_library",
    "person_id",
    "name",
    "relation_to_head",
    "sex",
    "birth_date",
    "id_number",
    "phone",
    "status",
    "aid",
    "elderly_alone",
    "graduate",
    "open_findings",
]


def rows_of(path: Path, sheet: str) -> list[tuple]:
    wb = load_workbook(path, read_only=True)
    try:
        return list(wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()


@FAST
@given(values=st.lists(ODD, min_size=1, max_size=30), rows=st.integers(0, 6))
@example(values=[8.98846567431158e307, None], rows=2)  # two such family sizes sum to infinity
def test_monthly_report_takes_any_value(tmp_path, values, rows):
    aid, elderly, shop = (frame_of(c, values, rows) for c in (AID, ELDERLY, SHOP))
    path = tmp_path / "r.xlsx"
    build_report(path, "某街道 某居委", "2026-11", aid, elderly, shop)
    assert len([r for r in rows_of(path, "独居老人花名册")[3:] if any(v is not None for v in r)]) == rows
    assert len([r for r in rows_of(path, "沿街商铺花名册")[3:] if any(v is not None for v in r)]) == rows


@FAST
@given(values=st.lists(ODD, min_size=1, max_size=30), rows=st.integers(0, 6))
def test_worklist_and_street_summary_take_any_value(tmp_path, values, rows):
    findings = frame_of(FINDING, values, rows)
    div = pd.DataFrame(
        {"street_code": ["310106012", "310106012"], "street_name": ["宝山路街道"] * 2, "community_code": ["a", "b"]}
    ).assign(community_name=["甲居委", "乙居委"])
    summary = street_summary(findings, div, "310106012")
    meta = {"delivery": "2026-11", "street_name": "宝山路街道", "committee_name": "甲居委", "committee_code": "a"}
    path = tmp_path / "w.xlsx"
    assert build_worklist(path, meta, findings, summary, "k" * 32) == rows
    assert len(rows_of(path, "核实清单")) == 3 + rows


@FAST
@given(values=st.lists(ODD, min_size=1, max_size=30), rows=st.integers(0, 6))
def test_roster_takes_any_value(tmp_path, values, rows):
    roster = frame_of(ROSTER, values, rows)
    path = tmp_path / "roster.xlsx"
    assert build_roster(path, "花名册", roster) == rows
    header = rows_of(path, "花名册")[3]
    assert list(header) == ROSTER_COLUMNS


@FAST
@given(values=st.lists(ODD, min_size=1, max_size=30), rows=st.integers(0, 6))
def test_scenario_workbook_takes_any_value(tmp_path, values, rows):
    keys = ["match_id", "entity_id", "name", "id_number", "phone", "address", "reason", "first_seen"]
    records = [dict(zip(keys, values[i:] + values[:i])) for i in range(rows)]
    cells_ = [_row_cells(r, "宝山路街道", "甲居委") for r in records]
    path = tmp_path / "s.xlsx"
    meta = ("2026-11", "宝山路街道", "a", "甲居委")
    n = build_committee_workbook(path, meta, [("elderly_power_alert", "独居老人用电")], [cells_])
    assert n == rows
    if rows:
        got = rows_of(path, "独居老人用电")
        assert list(got[0]) == HEADERS and len(got) == rows + 1


@FAST
@given(code=ODD, url=ODD, until=ODD, licence=ODD)
def test_qr_and_licence_status_take_any_value(tmp_path, code, url, until, licence):
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    written = write_qr(code, page_url("https://shops.example/s", code) if cells.text(url) else url, folder)
    files = list(folder.iterdir())
    assert written == bool(files)
    assert all(f.parent == folder for f in files), "a code never writes outside the QR folder"
    assert licence_status(licence, until, _dt.date(2026, 11, 30)) in {
        "无食品经营许可",
        "有效期待核",
        "有效期不详",
        "已过期",
        "即将到期",
        "有效",
    }


@pytest.mark.parametrize(
    "value,text,number,flag",
    [
        (pd.NA, "", None, False),
        (np.nan, "", None, False),
        (pd.NaT, "", None, False),
        (None, "", None, False),
        ("", "", None, False),
        ("1,200", "1,200", 1200.0, True),
        (3.0, "3", 3.0, True),
        (float("inf"), "∞", None, True),
        (np.int64(0), "0", 0.0, False),
        (_dt.date(2026, 11, 5), "2026-11-05", None, True),
        ("否", "否", None, False),
    ],
)
def test_cells_say_what_a_cell_shows(value, text, number, flag):
    assert cells.text(value) == text
    assert cells.number(value) == number
    assert cells.flag(value) is flag


@given(
    days=st.lists(st.one_of(st.none(), st.datetimes(min_value=_dt.datetime(1000, 1, 1))), max_size=12),
    words=st.lists(st.one_of(st.none(), st.text(max_size=6)), max_size=12),
    numbers=st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=12),
)
@FAST
def test_typed_columns_give_the_texts_of_their_values(days, words, numbers):
    # cells.texts / cells.flags read a typed column (as DuckDB hands it over) by its dtype: the same
    # cells as `text` / `flag` of each value
    midnight = [None if d is None else _dt.datetime.combine(d.date(), _dt.time()) for d in days]
    columns = [
        pd.Series(days, dtype="datetime64[us]"),
        pd.Series(midnight, dtype="datetime64[us]"),
        pd.Series(midnight, dtype="datetime64[ms]"),
        pd.Series(words, dtype="string"),
        pd.Series(words, dtype="str"),
        pd.Series(numbers, dtype="int64"),
        pd.Series([n % 2 == 0 for n in numbers], dtype=bool),
        pd.Series([n % 256 for n in numbers], dtype="uint8"),
        pd.Series([None if n % 3 == 0 else n for n in numbers], dtype="Int64"),
    ]
    for column in columns:
        values = column.tolist()
        assert cells.texts(column) == [cells.text(v) for v in values]
        assert cells.texts(column.iloc[1:]) == [cells.text(v) for v in values[1:]]
        assert cells.flags(column) == [cells.flag(v) for v in values]


def test_roster_from_typed_columns(tmp_path):
    roster = pd.DataFrame(
        {
            "community_code": pd.Series(["c1", "c1", None], dtype="string"),
            "household_id": pd.Series(["h1", "h1", None], dtype="string"),
            "full_address": pd.Series(["闻喜路1弄2号101室", None, "x"], dtype="string"),
            "member_count": np.array([2, 2, 0], dtype=np.int32),
            "in_address_library": [True, False, True],
            "person_id": pd.Series(["p1", "p2", "p3"], dtype="string"),
            "name": pd.Series(["张三", None, "李四"], dtype="string"),
            "relation_to_head": pd.Series(["户主", "配偶", None], dtype="string"),
            "sex": pd.Series(["男", "女", None], dtype="string"),
            "birth_date": pd.Series([_dt.datetime(1950, 1, 2), None, _dt.datetime(2001, 3, 4)], dtype="datetime64[us]"),
            "id_number": pd.Series([None, "310101195001020011", "1"], dtype="string"),
            "phone": pd.Series(["13812345678", None, "021-12345678"], dtype="string"),
            "status": pd.Series(["正常", None, "死亡"], dtype="string"),
            "aid": pd.Series([None, "低保", None], dtype="string"),
            "elderly_alone": [True, False, False],
            "graduate": [False, False, True],
            "open_findings": np.array([0, 3, 1], dtype=np.int64),
        }
    )
    path = tmp_path / "roster.xlsx"
    assert build_roster(path, "花名册", roster) == 3
    rows = [list(r) for r in load_workbook(path).active.iter_rows(min_row=5, values_only=True)]
    assert rows[0][:9] == ["h1", "闻喜路1弄2号101室", "2", "是", "张三", "户主", "男", "1950-01-02", ""]
    assert rows[1][7] == "" and rows[1][14] == "3" and rows[2][3] == "是" and rows[2][13] == "是"
