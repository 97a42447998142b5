"""The hub's one set of masking rules (sharing/masking.py): each rule pinned by cases, the Python
functions and the DuckDB SQL equal on every case, the dbt macros generated from the same rules, and
no second implementation anywhere in the code."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sharing.masking import (
    DBT_MACROS_PATH,
    MASKS,
    dbt_macros,
    mask_address,
    mask_birth_year,
    mask_id_number,
    mask_id_numbers,
    mask_name,
    mask_phone,
    mask_text,
    mask_value,
    mask_values_sql,
)
from targeting.masking import mask_row

ROOT = Path(__file__).resolve().parents[1]

NAMES = {
    "李": "李*",
    "张三": "张*",
    "张三丰": "张**",
    "欧阳娜": "欧阳*",  # compound surname, three characters: the surname is kept whole
    "欧阳娜娜": "欧阳**",
    "司马光": "司马*",
    "诸葛亮": "诸葛*",
    "欧阳": "欧*",  # two characters: a surname and a given name, not a compound surname alone
    "买买提·艾力": "买*****",
    "": "",
}
ID_NUMBERS = {
    "310104199001011234": "310104********1234",
    "11010519491231002X": "110105********002X",
    "370802940221002": "370802*****1002",  # old 15-digit number: first 6 + last 4 as well
    "31010419900101123": "310104*******1123",  # 17 characters (a digit lost): still 6 + 4
    "3101041990": "**********",  # too short to be an ID number: masked whole
    "": "",
}
PHONES = {
    "13812345678": "138****5678",
    "19912345678": "199****5678",
    "021-12345678": "021-****5678",  # landline: area code and last 4
    "0571-8765432": "0571-***5432",
    "12345678": "****5678",  # a bare local number: last 4 only
    "+8613812345678": "**********5678",  # not normalised: last 4 only
    "1234567": "*******",
}
ADDRESSES = {
    "上海市静安区柳营路669弄14号1102室": "上海市静安区柳营路****",
    "南京西路1号": "南京西路****",
    "静安区某小区5号楼": "静安区某小区****",
}
TEXTS = {
    "身份证 11010519491231002X 手机 13912345678 旧号 370802940221002": (
        "身份证 110105********002X 手机 139****5678 旧号 370802*****1002"
    ),
    "号码310104199001011234，电话13812341234": "号码310104********1234，电话138****1234",
    "两个手机13912345678,13812345678": "两个手机139****5678,138****5678",
    "座机021-12345678或02187654321": "座机021-****5678或021****4321",
    "+86 138-1234-5678": "+86 138****5678",
    "账号6222020200112233445": "账号6222******3445",
    "全角３１０１０４１９９００１０１１２３４": "全角310104********1234",
    "第12行: 出生日期 1990-01-02, 家庭人口数 3": "第12行: 出生日期 1990-01-02, 家庭人口数 3",
}


@pytest.mark.parametrize("name, shown", NAMES.items())
def test_a_name_keeps_its_surname(name, shown):
    assert mask_name(name) == shown


@pytest.mark.parametrize("value, shown", ID_NUMBERS.items())
def test_an_id_number_keeps_its_first_6_and_last_4(value, shown):
    assert mask_id_number(value) == shown


@pytest.mark.parametrize("value, shown", PHONES.items())
def test_a_phone_keeps_its_last_4_and_a_mobile_its_first_3(value, shown):
    assert mask_phone(value) == shown


@pytest.mark.parametrize("value, shown", ADDRESSES.items())
def test_an_address_is_kept_up_to_the_road(value, shown):
    assert mask_address(value) == shown


@pytest.mark.parametrize("text, shown", TEXTS.items())
def test_identifiers_inside_text_are_masked(text, shown):
    assert mask_text(text) == shown


def test_nothing_is_masked_into_something():
    for f in (mask_name, mask_id_number, mask_phone, mask_address, mask_birth_year):
        assert f(None) is None
    assert mask_text(None) == ""
    assert mask_birth_year("1988-10-29") == "1988-**-**"
    assert mask_value("hide", "13812345678") is None
    with pytest.raises(ValueError):
        mask_value("initials", "张三")


CASES = {
    "name": [*NAMES, None],
    "id_number": [*ID_NUMBERS, None],
    "phone": [*PHONES, None],
    "address": [*ADDRESSES, None],
    "birth_year": ["1988-10-29", "2001-01-01", None],
    "text": list(TEXTS),
}


@pytest.mark.parametrize("mask", [m for m in MASKS if m != "hide"])
def test_the_sql_masks_exactly_as_the_python(mask):
    values = CASES[mask] + [v for other in CASES.values() for v in other if v is not None and mask != "text"]
    assert mask_values_sql(mask, values) == [mask_value(mask, v) for v in values]


def test_the_dbt_macros_are_generated_from_the_rules():
    assert DBT_MACROS_PATH.read_text(encoding="utf-8") == dbt_macros(), (
        "dbt_project/macros/masking.sql is out of date: run `python -m sharing.masking`"
    )


def test_committee_workbooks_and_find_show_a_compound_surname_as_published():
    # the disagreement this module ended: 欧阳娜 was published as 欧阳* and shown as 欧** elsewhere
    row = {"name": "欧阳娜", "id_number": "370802940221002", "phone": "021-12345678"}
    masked = mask_row(row, "masked")
    assert masked == {"name": "欧阳*", "id_number": "370802*****1002", "phone": "021-****5678"}
    assert [masked["name"], masked["id_number"], masked["phone"]] == [
        *mask_values_sql("name", ["欧阳娜"]),
        *mask_values_sql("id_number", ["370802940221002"]),
        *mask_values_sql("phone", ["021-12345678"]),
    ]


# ID numbers as they come: clean, with a lower-case x, old 15-digit, a digit lost or doubled, full-width,
# spaced, short, empty, any text (CJK included)
_DIGITS = st.text("0123456789", min_size=17, max_size=17)
ID_LIKE = st.one_of(
    st.none(),
    st.builds(lambda d, c: d + c, _DIGITS, st.sampled_from("0123456789Xx")),
    st.text("0123456789", min_size=15, max_size=15),
    st.text("0123456789Xx", min_size=0, max_size=20),
    st.text("０１２３４５６７８９ｘＸ0123456789 ", min_size=0, max_size=20),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=24),
)


@given(st.lists(ID_LIKE, max_size=40))
@example(
    list(ID_NUMBERS) + [None, "310104199001011234x", "３１０１０４１９９００１０１１２３４", "31010419900101123X "]
)
@example(["\x000", "31010\x004199001011234"])  # a NUL inside a value (found by hypothesis in CI)
def test_mask_id_numbers_masks_every_value_as_mask_id_number(values):
    expected = [mask_id_number(v) for v in values]
    assert mask_id_numbers(values).to_pylist() == expected
    arrow = pa.array(values, pa.string())
    assert mask_id_numbers(arrow).to_pylist() == expected
    assert mask_id_numbers(arrow.slice(len(values) // 2)).to_pylist() == expected[len(values) // 2 :]
    chunked = pa.chunked_array([arrow[: len(values) // 3], arrow[len(values) // 3 :]], pa.string())
    assert mask_id_numbers(chunked).to_pylist() == expected
    assert mask_id_numbers(arrow.cast(pa.large_string())).to_pylist() == expected
    if None not in values and not any(v.endswith("\x00") for v in values):  # numpy drops trailing NULs
        assert mask_id_numbers(np.array(values, dtype=str)).to_pylist() == expected


def test_mask_id_numbers_takes_what_mask_id_number_takes():
    assert mask_id_numbers([310104199001011234, None, 12345]).to_pylist() == [
        mask_id_number(310104199001011234),
        None,
        "*****",
    ]
    assert mask_id_numbers([]).to_pylist() == []


# A masking rule written anywhere else: 6 + 4 of an ID, 3 + 4 of a mobile, a row of stars, stars
# written into bytes.
SECOND_IMPLEMENTATION = re.compile(
    r"""repeat\('\*'|["']\*["']\s*\*|\*\*\*\*["']|\[:\d\]\s*\+\s*f?["']\*|left\([^)]*,\s*[36]\)\s*\|\|"""
    r"""|ord\(["']\*["']\)"""
)
ALLOWED = {"sharing/masking.py", "dbt_project/macros/masking.sql"}


def test_no_other_module_masks_by_itself():
    offenders = []
    for path in [*ROOT.glob("*/**/*.py"), *ROOT.glob("dbt_project/**/*.sql")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel in ALLOWED or rel.startswith((".venv/", "tests/", "synthetic/", "dbt_project/target/")):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SECOND_IMPLEMENTATION.search(line) and not line.lstrip().startswith(("#", "--")):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "mask through sharing/masking.py instead:\n" + "\n".join(offenders)


def test_an_aid_certificate_number_in_a_diagnostic_line_is_masked_with_the_other_identifiers():
    from sharing.masking import mask_text_and_certificates

    line = mask_text_and_certificates("证号 310106D202400004, 户主 310106197708191120, 电话 13812345678")
    assert line == "证号 310106*******004, 户主 310106********1120, 电话 138****5678"
    assert mask_text_and_certificates(None) == ""
