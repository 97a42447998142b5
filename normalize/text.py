"""Character-level clean-up shared by every normaliser.

Registry exports mix full-width and half-width forms (an ID typed with an IME arrives as
`３１０１…`), carry Excel artefacts (a leading apostrophe that forced text, a trailing `.0` from a
number cell) and invisible characters pasted from web forms. Doing this with one `str.translate`
table keeps it fast enough to run on every cell.
"""

from __future__ import annotations

import re

# Full-width ASCII block U+FF01..U+FF5E maps to U+0021..U+007E; U+3000 is the ideographic space.
_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20
# Dashes people type between the parts of a phone number or a short address (669-14-1102).
for _dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u30fc":
    _HALFWIDTH[ord(_dash)] = ord("-")
_HALFWIDTH_TABLE = str.maketrans(_HALFWIDTH)
# str.translate with a large table costs microseconds even when nothing changes; a regex search
# that finds nothing is much cheaper, and most values need no translation.
_NEEDS_HALFWIDTH_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_HALFWIDTH)) + "]")

# Zero-width and BOM characters are not whitespace for str.split() but break equality all the same.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE_TABLE = str.maketrans({c: None for c in _INVISIBLE})
_INVISIBLE_RE = re.compile("[" + _INVISIBLE + "]")

_WS_RE = re.compile(r"\s+")


def to_halfwidth(s: str) -> str:
    """Full-width ASCII and ideographic space to ASCII; the many Unicode dashes to '-'."""
    if s.isascii() or not _NEEDS_HALFWIDTH_RE.search(s):
        return s
    return s.translate(_HALFWIDTH_TABLE)


def remove_invisible(s: str) -> str:
    if s.isascii() or not _INVISIBLE_RE.search(s):
        return s
    return s.translate(_INVISIBLE_TABLE)


def strip_all_ws(s: str) -> str:
    """Remove every whitespace character (including U+3000 and NBSP) and zero-width characters."""
    return _WS_RE.sub("", remove_invisible(s))


def as_text(raw: object) -> str | None:
    """Whatever a reader handed us (str, int, float from an Excel cell, None) as text, or None.

    Floats that hold an integer lose their `.0`: an xlsx reader gives 13812345678.0 for a phone
    typed into a number cell. A leading apostrophe (Excel's "treat as text" marker) is dropped.
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        s = raw
    elif isinstance(raw, bool):
        return None
    elif isinstance(raw, int):
        s = str(raw)
    elif isinstance(raw, float):
        if raw != raw:  # NaN from pandas
            return None
        s = str(int(raw)) if raw.is_integer() and abs(raw) < 1e16 else repr(raw)
    else:
        s = str(raw)
    s = s.strip()
    if s.startswith("'"):
        s = s[1:]
    return s


def clean_token(raw: object) -> str | None:
    """For code-like fields (IDs, USCC, phones): half-width, no whitespace at all, or None if blank."""
    s = as_text(raw)
    if s is None:
        return None
    s = strip_all_ws(to_halfwidth(s))
    if s.startswith("'"):
        s = s[1:]
    return s or None


_TRAILING_ZERO_DECIMAL = re.compile(r"^(\d+)\.0+$")


def drop_float_suffix(s: str) -> str:
    """'13812345678.0' -> '13812345678': number cells exported through a float."""
    m = _TRAILING_ZERO_DECIMAL.match(s)
    return m.group(1) if m else s
