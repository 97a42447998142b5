"""Identity numbers and unified social credit codes: the vectors in shared/domain.md and the traps."""

from datetime import date

import pytest

from normalize.id_number import (
    check_char,
    id_birth_date,
    id_check_ok,
    id_region,
    id_sex,
    id_status,
    normalize_id,
)
from normalize.uscc import normalize_uscc, uscc_check_char, uscc_check_ok, uscc_region, uscc_status


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_domain_vectors_pass(number):
    assert check_char(number[:17]) == number[17]
    assert id_check_ok(number)
    assert id_status(number) == "valid"
    assert normalize_id(number) == number


def test_15_to_18():
    assert normalize_id("370802940221002") == "370802199402210029"
    assert id_status("370802940221002") == "valid_from_15"
    assert id_birth_date("370802940221002") == date(1994, 2, 21)


def test_lowercase_x_fullwidth_spaces_and_excel_marks():
    assert normalize_id("11010519491231002x") == "11010519491231002X"
    assert normalize_id(" 110105 19491231 002X ") == "11010519491231002X"
    assert normalize_id("１１０１０５１９４９１２３１００２Ｘ") == "11010519491231002X"
    assert normalize_id("'440524188001010014") == "440524188001010014"
    assert normalize_id("\u3000440524188001010014\t") == "440524188001010014"
    assert normalize_id(370802940221002) == "370802199402210029"  # an int from a spreadsheet
    assert normalize_id("370802940221002.0") == "370802199402210029"
    assert id_status("11010519491231002x") == "valid"


def test_bad_check_is_kept_not_dropped():
    typo = "11010519491231002" + "1"
    assert normalize_id(typo) == typo
    assert not id_check_ok(typo)
    assert id_status(typo) == "bad_check"
    # what the number says is still readable
    assert id_birth_date(typo) == date(1949, 12, 31)


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_blank(raw):
    assert normalize_id(raw) is None
    assert id_status(raw) == "blank"


@pytest.mark.parametrize("raw", ["abc", "1234567890", "11010519491231002Y", "1101051949123100", "X10105194912310021"])
def test_malformed(raw):
    assert normalize_id(raw) is None
    assert id_status(raw) == "malformed"
    assert not id_check_ok(raw)
    assert id_birth_date(raw) is None and id_sex(raw) is None and id_region(raw) is None


def _with_check(first17):
    return first17 + check_char(first17)


def test_bad_date():
    feb30 = _with_check("11010519490230002")
    assert id_status(feb30) == "bad_date"
    assert id_birth_date(feb30) is None
    future = _with_check("11010521990101002")
    assert id_status(future) == "bad_date"
    assert id_status("370802941321002") == "bad_date"  # 15-digit with month 13


def test_sex_and_region():
    assert id_sex("11010519491231002X") == "女"  # 17th digit 2
    assert id_sex("440524188001010014") == "男"  # 17th digit 1
    assert id_region("11010519491231002X") == "110105"


def test_abolished_and_special_prefixes_are_valid():
    # Region codes never change after issue: 闸北, 卢湾, 南汇; Pudong before it existed.
    for region in ("310108", "310103", "310119", "310115"):
        n = _with_check(region + "19800101123")
        assert id_status(n) == "valid", region
    # HK/Macau/Taiwan residence permits and the 2023 foreigner permanent residence card.
    for prefix in ("810000", "820000", "830000", "931840"):
        n = _with_check(prefix + "19900101123")
        assert id_status(n) == "valid", prefix
        assert id_check_ok(n)


def test_uscc_vector():
    assert uscc_check_char("91110000600037341") == "L"
    assert uscc_check_ok("91110000600037341L")
    assert uscc_status("91110000600037341L") == "valid"
    assert uscc_region("91110000600037341L") == "110000"


def test_uscc_normalisation_and_failures():
    assert normalize_uscc(" 9111 0000 6000 3734 1l ") == "91110000600037341L"
    assert normalize_uscc("９１１１００００６０００３７３４１Ｌ") == "91110000600037341L"
    assert uscc_check_ok("91110000600037341l")
    # a failed check is a warning: the code is still returned
    assert normalize_uscc("91110000600037341K") == "91110000600037341K"
    assert uscc_status("91110000600037341K") == "bad_check"
    # a letter outside the alphabet (O for 0) fails the check but is not dropped
    assert normalize_uscc("9111OOOO600037341L") == "9111OOOO600037341L"
    assert not uscc_check_ok("9111OOOO600037341L")
    assert normalize_uscc("310106000123456") is None  # an old 15-digit registration number
    assert uscc_status("310106000123456") == "malformed"
    assert uscc_status(None) == "blank" and uscc_status(" ") == "blank"
    assert normalize_uscc(None) is None
