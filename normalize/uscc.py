"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

Some early pilot codes are legal but fail the check, so a failed check is a warning: the
normalised code is returned whenever the value is 18 code-shaped characters, and uscc_check_ok /
uscc_status report the rest.
"""

from __future__ import annotations

import re
from functools import lru_cache

from normalize.text import clean_token

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE_RE = re.compile(r"[0-9A-Z]{18}")

USCC_STATUSES = ("blank", "malformed", "valid", "bad_check")


def uscc_check_char(first17: str) -> str | None:
    """Check character for the first 17 characters; None if one of them is outside the alphabet."""
    try:
        s = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS))
    except KeyError:
        return None
    return ALPHABET[(31 - s % 31) % 31]


@lru_cache(maxsize=1 << 16)
def _normalize(raw: str) -> str | None:
    s = clean_token(raw)
    if s is None:
        return None
    s = s.upper()
    return s if _SHAPE_RE.fullmatch(s) else None


def normalize_uscc(raw: object) -> str | None:
    """18 upper-case alphanumerics, or None (blank, an old 15-digit registration number, junk).

    Letters outside the code alphabet (a typed O for 0) are kept so the check can flag them."""
    if raw is None:
        return None
    return _normalize(raw if isinstance(raw, str) else str(raw))


def uscc_check_ok(code: object) -> bool:
    s = normalize_uscc(code)
    return s is not None and uscc_check_char(s[:17]) == s[17]


def uscc_status(raw: object) -> str:
    """'blank' | 'malformed' | 'valid' | 'bad_check'."""
    if raw is None or clean_token(raw) is None:
        return "blank"
    s = normalize_uscc(raw)
    if s is None:
        return "malformed"
    return "valid" if uscc_check_char(s[:17]) == s[17] else "bad_check"


def uscc_region(code: object) -> str | None:
    """Characters 3-8: the registering authority's region code."""
    s = normalize_uscc(code)
    return None if s is None else s[2:8]
