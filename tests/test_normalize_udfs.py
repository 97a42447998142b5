"""The cn_* DuckDB functions give what the Python functions give, NULL in -> NULL out."""

import random

import duckdb
import pytest

from normalize.addresses import parse_address, road_pinyin
from normalize.dates import parse_date, parse_year_month
from normalize.duckdb_udfs import ADDRESS_FIELDS, UDF_NAMES, register_udfs
from normalize.id_number import (
    check_char,
    id_birth_date,
    id_check_ok,
    id_sex,
    id_status,
    normalize_id,
)
from normalize.names import name_pinyin, name_pinyin_key, normalize_name, split_surname
from normalize.phones import normalize_phone, phone_kind
from normalize.uscc import normalize_uscc, uscc_check_ok, uscc_status


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    register_udfs(c)
    yield c
    c.close()


def _ids(n=3000, seed=5):
    rng = random.Random(seed)
    out = [
        "11010519491231002X",
        "11010519491231002x",
        "440524188001010014",
        "370802940221002",
        "370802941321002",
        "11010519490230002" + check_char("11010519490230002"),
        "11010521990101002" + check_char("11010521990101002"),
        "１１０１０５１９４９１２３１００２Ｘ",
        "abc",
        "",
        " ",
        None,
        "11010519491231002Y",
        "20000229",
    ]
    for _ in range(n):
        region = rng.choice(["310106", "310108", "810000", "931840", "440524"])
        birth = f"{rng.randint(1840, 2030)}{rng.randint(0, 13):02d}{rng.randint(0, 31):02d}"
        f17 = region + birth + f"{rng.randint(0, 999):03d}"
        c = check_char(f17) if rng.random() < 0.8 else rng.choice("0123456789X")
        out.append(f17 + c)
    return out


def _column(con, fn, values):
    con.execute("create or replace temp table v as select * from unnest(?) with ordinality t(s, i)", [values])
    return [r[0] for r in con.execute(f"select {fn}(s) from v order by i").fetchall()]


def test_registration_is_idempotent():
    c = duckdb.connect()
    register_udfs(c)
    register_udfs(c)
    assert c.execute("select cn_normalize_id('11010519491231002x')").fetchone()[0] == "11010519491231002X"
    names = {
        r[0]
        for r in c.execute("select function_name from duckdb_functions() where function_name like 'cn_%'").fetchall()
    }
    assert set(UDF_NAMES) <= names
    c.close()


@pytest.mark.parametrize(
    "fn,py,null_out",
    [
        ("cn_normalize_id", normalize_id, None),
        ("cn_id_status", id_status, "blank"),
        ("cn_id_birth_date", id_birth_date, None),
        ("cn_id_sex", id_sex, None),
        ("cn_id_check_ok", id_check_ok, None),
    ],
)
def test_id_functions_match_python(con, fn, py, null_out):
    values = _ids()
    got = _column(con, fn, values)
    expected = [null_out if v is None else py(v) for v in values]
    assert got == expected


def test_id_functions_on_normalised_input(con):
    # the staging macros call cn_id_birth_date(cn_normalize_id(x))
    row = con.execute(
        "select cn_id_birth_date(cn_normalize_id('370802940221002')), cn_id_sex(cn_normalize_id('11010519491231002x'))"
    ).fetchone()
    assert row == (id_birth_date("370802199402210029"), "女")


def test_text_functions_match_python(con):
    cases = {
        "cn_normalize_uscc": (normalize_uscc, ["91110000600037341l", "x", None, "91110000600037341K"]),
        "cn_uscc_check_ok": (uscc_check_ok, ["91110000600037341L", "91110000600037341K", "", None]),
        "cn_uscc_status": (uscc_status, ["91110000600037341L", "91110000600037341K", "abc", "", None]),
        "cn_normalize_name": (normalize_name, ["陳 大文", "买买提•艾力", "刘䶮", "", None]),
        "cn_name_pinyin": (name_pinyin, ["单田芳", "李莉", "买买提·艾力", None]),
        "cn_name_pinyin_key": (name_pinyin_key, ["李丽", "李莉", "欧阳娜娜", None]),
        "cn_normalize_phone": (normalize_phone, ["+86 138 1234 5678", "62345678", "123", "", None]),
        "cn_phone_kind": (phone_kind, ["13812345678", "021-62345678", "123", "", None]),
        "cn_parse_date": (parse_date, ["1990年1月2日", "32875", "19900102", "bad", None]),
        "cn_parse_year_month": (parse_year_month, ["2026年10月", "202610", "2026/10", "x", None]),
        "cn_road_pinyin": (road_pinyin, ["闻喜路", "汾西路", "S20公路", "", None]),
    }
    for fn, (py, values) in cases.items():
        got = _column(con, fn, values)
        blank = "blank" if fn in ("cn_uscc_status", "cn_phone_kind") else None
        assert got == [blank if v is None else py(v) for v in values], fn


def test_parse_address_struct(con):
    values = [
        "上海市静安区共和新路街道柳营路669弄14号1102室",
        "柳营路669-14-1102",
        "宝山区顾村镇沈杨村5组12号",
        "不详",
        "",
        None,
    ] + ["柳营路669弄14号1102室"] * 5
    got = _column(con, "cn_parse_address", values)
    for v, g in zip(values, got):
        if v is None:
            assert g is None
        else:
            assert g == parse_address(v)._asdict()
    row = con.execute(
        "select a.road, a.lane, a.number, a.room, a.address_key from (select cn_parse_address('柳营路669-14-1102') a)"
    ).fetchone()
    assert row == ("柳营路", "669", "14", "1102", "柳营路669弄14号")
    cols = con.execute("select unnest(cn_parse_address('柳营路1号'))").description
    assert tuple(c[0] for c in cols) == ADDRESS_FIELDS
    assert ADDRESS_FIELDS[:10] == (
        "district",
        "street",
        "community",
        "road",
        "lane",
        "number",
        "building",
        "room",
        "rest",
        "address_key",
    )
    assert con.execute("select cn_address_key('柳营路669弄14号1102室')").fetchone()[0] == "柳营路669弄14号"


def test_split_surname_and_string_distances(con):
    assert con.execute("select cn_split_surname('欧阳娜娜')").fetchone()[0] == dict(
        zip(("surname", "given"), split_surname("欧阳娜娜"))
    )
    row = con.execute(
        "select cn_levenshtein('李丽', '李莉'), cn_ratio('李丽', '李丽'), "
        "cn_jaro_winkler('abc', 'abc'), cn_levenshtein(NULL, 'a')"
    ).fetchone()
    assert row == (1, 100.0, 1.0, None)


def test_sql_types(con):
    types = dict(
        con.execute(
            "select 'id' k, typeof(cn_normalize_id('x')) union all "
            "select 'birth', typeof(cn_id_birth_date('x')) union all "
            "select 'ok', typeof(cn_uscc_check_ok('x')) union all "
            "select 'date', typeof(cn_parse_date('x'))"
        ).fetchall()
    )
    assert types == {"id": "VARCHAR", "birth": "DATE", "ok": "BOOLEAN", "date": "DATE"}


def test_large_batch(con):
    # several DuckDB vectors, repeated values, NULLs interleaved
    values = ["柳营路669弄14号1102室", None, "11010519491231002x", "李莉"] * 3000
    got = _column(con, "cn_address_key", values)
    assert got == [None if v is None else parse_address(v).address_key for v in values]
    got = _column(con, "cn_normalize_id", values)
    assert got == [None if v is None else normalize_id(v) for v in values]


def test_clean_values_vectorised_match_python(con):
    """Clean IDs, mobiles, YYYY-MM-DD dates and YYYY-MM months are answered for the whole batch at
    once (duckdb_udfs._with_clean_path), the rest by the Python functions: the same answers, in
    batches of only clean values, of none, and of both mixed with NULLs."""
    rng = random.Random(11)
    dates = ["2023-02-29", "2024-02-29", "1900-02-29", "2000-02-29", "0000-01-01", "0001-01-01", "9999-12-31"]
    dates += ["1990-13-01", "1990-00-10", "1990-01-00", "1990-04-31", "1990-01-32", " 1990-01-02", "1990-1-2"]
    dates += [f"{rng.randint(0, 9999):04d}-{rng.randint(0, 13):02d}-{rng.randint(0, 32):02d}" for _ in range(3000)]
    months = ["1799-12", "1800-01", "2200-12", "2201-01", "2026-00", "2026-13", "2026-1", "2026年10月", "0000-01"]
    months += [f"{rng.randint(1700, 2300):04d}-{rng.randint(0, 13):02d}" for _ in range(3000)]
    phones = ["13812345678", "12345678901", "10012345678", " 13812345678", "1381234567", "138123456789"]
    phones += ["+86 138 1234 5678", "62345678", "021-62345678", "１３８１２３４５６７８", "13812345678.0"]
    phones += [f"1{rng.randint(0, 9)}{rng.randint(0, 999_999_999):09d}" for _ in range(3000)]
    cases = {
        "cn_parse_date": (parse_date, dates),
        "cn_parse_year_month": (parse_year_month, months),
        "cn_normalize_phone": (normalize_phone, phones),
        "cn_normalize_id": (normalize_id, _ids()),
    }
    for fn, (py, values) in cases.items():
        mixed = values + [None] * 50
        rng.shuffle(mixed)
        for batch in (mixed, [v for v in values if v is not None], [None, "x"] * 10):
            got = _column(con, fn, batch)
            assert got == [None if v is None else py(v) for v in batch], fn
