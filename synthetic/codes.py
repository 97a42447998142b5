"""Identifier arithmetic (GB 11643 resident ID, GB 32100 USCC), counter-based hashing for stable
per-record noise, and small formatting helpers."""

from __future__ import annotations

import zlib

import numpy as np

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def id_check_char(body17: str) -> str:
    s = sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS.tolist()))
    return ID_CHECK[s % 11]


def id_valid(idn: str) -> bool:
    if len(idn) != 18 or not idn[:17].isdigit():
        return False
    return id_check_char(idn[:17]) == idn[17].upper()


def id_check_chars(body: np.ndarray) -> np.ndarray:
    """body: (n, 17) int digits -> array of check characters."""
    s = (body.astype(np.int64) @ ID_WEIGHTS) % 11
    return np.array(list(ID_CHECK))[s]


def id15_to_18(id15: str) -> str:
    body = id15[:6] + "19" + id15[6:]
    return body + id_check_char(body)


def uscc_check_char(body17: str) -> str:
    s = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - s % 31) % 31]


def uscc_valid(code: str) -> bool:
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


# ---- counter-based hashing ----------------------------------------------------------------------

M64 = (1 << 64) - 1
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def _mix_int(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def salt_of(*parts) -> int:
    h = 0x1234567
    for p in parts:
        v = zlib.crc32(p.encode("utf-8")) if isinstance(p, str) else int(p) & M64
        h = _mix_int(h ^ v)
    return h


def hash64(keys, salt: int) -> np.ndarray:
    """Vectorised splitmix64 of (keys, salt): a stable pseudo-random 64-bit value per key."""
    with np.errstate(over="ignore"):
        x = np.asarray(keys).astype(np.uint64) * _GOLD ^ np.uint64(salt)
        x = x + _GOLD
        x = (x ^ (x >> np.uint64(30))) * _C1
        x = (x ^ (x >> np.uint64(27))) * _C2
        x = x ^ (x >> np.uint64(31))
    return x


def hash_u(keys, salt: int) -> np.ndarray:
    """Uniform [0, 1) per key."""
    return (hash64(keys, salt) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


# ---- formatting ---------------------------------------------------------------------------------

FULLWIDTH = str.maketrans("0123456789Xx-", "０１２３４５６７８９ＸｘＭ".replace("Ｍ", "－"))
CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int, style: int = 0) -> str:
    """Chinese numeral for an address number: 14 -> 十四, 669 -> 六六九 (or 六百六十九)."""
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return CN_DIGITS[n // 10] + "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    if style == 1 and n < 1000:
        h, r = divmod(n, 100)
        t, u = divmod(r, 10)
        s = CN_DIGITS[h] + "百"
        if t == 0 and u == 0:
            return s
        if t == 0:
            return s + "零" + CN_DIGITS[u]
        return s + CN_DIGITS[t] + "十" + (CN_DIGITS[u] if u else "")
    return "".join(CN_DIGITS[int(c)] for c in str(n))


def excel_serial(ordinal_day_1970: int) -> int:
    """Days since 1970-01-01 -> Excel 1900-system serial."""
    return int(ordinal_day_1970) + 25569
