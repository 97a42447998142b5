"""Resident identity numbers (公民身份号码, GB 11643-1999).

The check is implemented here rather than taken from python-stdnum, which rejects valid numbers
whose region code is younger than the holder (310115 Pudong before 1992) and every 81/82/83/9
prefix (HK/Macau/Taiwan residence permits, the 2023 foreigner permanent residence card). A wrong
check digit is usually a typo, so the normalised string is still returned: matching and the quality
findings decide what to do with it, not this module.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from normalize.text import clean_token, drop_float_suffix

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID18_RE = re.compile(r"[0-9]{17}[0-9X]")
_ID15_RE = re.compile(r"[0-9]{15}")

# Birth dates outside this window are not dates anyone in a district register was born on.
# 440524188001010014 is a published vector, so the lower bound sits before 1880.
_MIN_BIRTH_YEAR = 1850

ID_STATUSES = ("blank", "malformed", "valid", "valid_from_15", "bad_check", "bad_date")


_WEIGHT_SUM_48 = 48 * sum(_WEIGHTS)


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    b = first17.encode("ascii")
    # Unrolled over the ASCII codes: this runs on every row of every person registry.
    s = (
        7 * b[0]
        + 9 * b[1]
        + 10 * b[2]
        + 5 * b[3]
        + 8 * b[4]
        + 4 * b[5]
        + 2 * b[6]
        + b[7]
        + 6 * b[8]
        + 3 * b[9]
        + 7 * b[10]
        + 9 * b[11]
        + 10 * b[12]
        + 5 * b[13]
        + 8 * b[14]
        + 4 * b[15]
        + 2 * b[16]
    ) - _WEIGHT_SUM_48
    return _CHECK_CHARS[s % 11]


def _shape(raw: object) -> tuple[str | None, str]:
    """(normalised 18-char string or None, 'blank' | 'malformed' | '18' | '15')."""
    s = clean_token(raw)
    if s is None:
        return None, "blank"
    s = drop_float_suffix(s)
    n = len(s)
    if n == 18:
        s = s.upper()
        if _ID18_RE.fullmatch(s):
            return s, "18"
    elif n == 15 and _ID15_RE.fullmatch(s):
        first17 = s[:6] + "19" + s[6:]
        return first17 + check_char(first17), "15"
    return None, "malformed"


@lru_cache(maxsize=1 << 17)
def _normalize_cached(raw: str) -> tuple[str | None, str]:
    return _shape(raw)


def normalize_id(raw: object) -> str | None:
    """18-character upper-case ID, converting old 15-digit numbers; None when blank or not ID-shaped.

    The check digit is not enforced here (see id_status)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        # Fast path: already clean and 18 ASCII characters (the common case on real exports).
        if len(raw) == 18 and raw.isascii() and raw[:17].isdigit() and raw[17] in "0123456789X":
            return raw
        return _normalize_cached(raw)[0]
    return _shape(raw)[0]


def id_check_ok(id18: object) -> bool:
    """True when the number (normalised first) is 18 characters with the right check character."""
    s = normalize_id(id18)
    return s is not None and check_char(s[:17]) == s[17]


def _birth(s: str) -> date | None:
    try:
        d = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return None
    if d.year < _MIN_BIRTH_YEAR or d > date.today():
        return None
    return d


def id_birth_date(id18: object) -> date | None:
    """The birth date the number encodes; None if it is not a real, plausible date."""
    s = normalize_id(id18)
    return None if s is None else _birth(s)


def id_sex(id18: object) -> str | None:
    """'男' for an odd 17th digit, '女' for an even one."""
    s = normalize_id(id18)
    if s is None:
        return None
    return "男" if int(s[16]) % 2 else "女"


def id_region(id18: object) -> str | None:
    """The 6-digit region code (GB/T 2260) the number was issued under.

    Codes never change after issue, so abolished districts (闸北 310108, 卢湾 310103, 南汇 310119)
    stay valid; 810000/820000/830000 are HK/Macau/Taiwan, a leading 9 the foreigner card."""
    s = normalize_id(id18)
    return None if s is None else s[:6]


def id_status(raw: object) -> str:
    """'blank' | 'malformed' | 'valid' | 'valid_from_15' | 'bad_check' | 'bad_date'.

    A 15-digit number has no check digit to fail, so it is either valid_from_15 or bad_date.
    An impossible birth date wins over a wrong check digit: the number is not an ID at all."""
    if raw is None:
        return "blank"
    s, kind = _normalize_cached(raw) if isinstance(raw, str) else _shape(raw)
    if s is None:
        return kind
    if _birth(s) is None:
        return "bad_date"
    if kind == "15":
        return "valid_from_15"
    return "valid" if check_char(s[:17]) == s[17] else "bad_check"
