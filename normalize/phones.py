"""Phone numbers: mobile as 11 digits, Shanghai landline as '021-' + 8 digits.

Contact fields are free text in every registry: spaces and dashes inside the number, +86/0086
prefixes, brackets round the area code, an extension (转123), a note (本人), two numbers in one
cell, and number cells exported as floats (13812345678.0). The first usable number wins; a
landline of another city is not something the hub can call, so it is treated as invalid.
"""

from __future__ import annotations

import re
from functools import lru_cache

from normalize.text import as_text, drop_float_suffix, remove_invisible, to_halfwidth

_MULTI_SPLIT_RE = re.compile(r"[/,;，；、|\\]|或|及")
_EXTENSION_RE = re.compile(r"(?:转|分机|ext\.?|EXT\.?|Ext\.?|#|x|X)\s*\d{1,6}\s*$")
_NON_DIGIT_RE = re.compile(r"\D+")
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")

PHONE_KINDS = ("mobile", "landline", "invalid", "blank")


def _from_digits(d: str) -> str | None:
    if len(d) > 10:
        if d.startswith("0086"):
            d = d[4:]
        elif d.startswith("86"):
            d = d[2:]
    n = len(d)
    if n == 11:
        if _MOBILE_RE.fullmatch(d):
            return d
        if d.startswith("021") and d[3] in "23456789":
            return "021-" + d[3:]
        return None
    if n == 12 and d[0] == "0" and _MOBILE_RE.fullmatch(d[1:]):
        return d[1:]  # long-distance 0 dialled in front of a mobile
    if n == 10 and d.startswith("21") and d[2] in "23456789":
        return "021-" + d[2:]
    if n == 8 and d[0] in "23456789":
        return "021-" + d
    return None


def _one(part: str) -> str | None:
    part = drop_float_suffix(part.strip())
    part = _EXTENSION_RE.sub("", part)
    d = _NON_DIGIT_RE.sub("", part)
    if not d:
        return None
    found = _from_digits(d)
    if found is None and " " in part.strip():
        # Two numbers separated only by a space.
        for piece in part.split():
            found = _from_digits(_NON_DIGIT_RE.sub("", piece))
            if found:
                break
    return found


@lru_cache(maxsize=1 << 17)
def _normalize(s: str) -> str | None:
    s = remove_invisible(to_halfwidth(s))
    found = _one(s)
    if found is None and _MULTI_SPLIT_RE.search(s):
        for part in _MULTI_SPLIT_RE.split(s):
            found = _one(part)
            if found:
                break
    return found


def normalize_phone(raw: object) -> str | None:
    """'13812345678' or '021-12345678', or None when blank or not a usable number."""
    s = as_text(raw)
    if not s:
        return None
    if len(s) == 11 and s.isascii() and _MOBILE_RE.fullmatch(s):
        return s
    return _normalize(s)


def phone_kind(raw: object) -> str:
    """'mobile' | 'landline' | 'invalid' | 'blank'."""
    s = as_text(raw)
    if not s or not remove_invisible(s).strip():
        return "blank"
    p = normalize_phone(s)
    if p is None:
        return "invalid"
    return "landline" if p.startswith("021-") else "mobile"
