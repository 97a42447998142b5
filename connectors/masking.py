"""Masking of personal identifiers in anything the connectors say (messages, reasons, errors).

Common practice (see shared/domain.md): an ID number keeps its first 6 and last 4 characters
(310104********1234, hiding the birth date), a mobile number its first 3 and last 4 (138****1234).
Quarantined records themselves are data, kept as read; only the text meant for people is masked.
"""

from __future__ import annotations

import re

# 18-digit resident ID (last may be X), 15-digit old ID; full-width digits are normalised first.
_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{5}(\d{4})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?![0-9])")
# any other long run of digits (account numbers, IDs with typos): keep the ends only
_LONG_DIGITS = re.compile(r"(?<![0-9])(\d{4})\d{6,}(\d{4})(?![0-9])")
_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789xX")


def mask_text(text: object) -> str:
    """Mask ID numbers and phone numbers inside free text."""
    if text is None:
        return ""
    s = str(text)
    if not any(ch.isdigit() for ch in s):
        return s
    s = s.translate(_FULLWIDTH)
    s = _ID18.sub(lambda m: f"{m.group(1)}********{m.group(2)}", s)
    s = _ID15.sub(lambda m: f"{m.group(1)}*****{m.group(2)}", s)
    s = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", s)
    s = _LONG_DIGITS.sub(lambda m: f"{m.group(1)}{'*' * 6}{m.group(2)}", s)
    return s
