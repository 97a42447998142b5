"""What two reports' words, photos and address texts say about being one problem (pure functions).

- Descriptions: simplified, punctuation and filler words (请尽快处理, 麻烦, 这里 …) taken off, then
  compared character by character and by toneless pinyin (rapidfuzz), so 坑洼/坑哇 and 陈旧/沉旧 typed
  on a phone still agree; the better of the two counts.
- Photos: the 64-bit perceptual hash (照片指纹); the Hamming distance between two hashes says how alike
  the pictures are: a handful of bits for the same photo re-sent, ~32 for unrelated pictures.
- Address text: road and door number (normalize/addresses.py), so 南京西路120号 and 南京西路124号
  agree and 南京西路12号 and 南京西路300号 do not.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from normalize.addresses import parse_address
from normalize.names import to_simplified

# Words that say nothing about the problem; longest first so that 请尽快 goes before 请.
FILLER = sorted(
    """请尽快处理 请尽快 尽快处理 麻烦处理 麻烦 希望 相关部门 有关部门 管一管 处理一下 处理 谢谢 感谢 你好 您好
    这里 这边 那里 那边 附近 现在 一下 非常 特别 真的 很 太 了 的 啊 呀 吧 呢 吗 嘛 哦 有 是 在 请""".split(),
    key=len,
    reverse=True,
)
_FILLER_RE = re.compile("|".join(map(re.escape, FILLER)))
_DROP_RE = re.compile(r"[\W_]+", re.UNICODE)
_HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")


@lru_cache(maxsize=1 << 16)
def normalize_description(raw: str | None) -> str:
    if not raw:
        return ""
    s = unicodedata.normalize("NFKC", str(raw)).lower()
    s = to_simplified(s)
    s = _FILLER_RE.sub("", s)
    return _DROP_RE.sub("", s)


@lru_cache(maxsize=1 << 16)
def description_pinyin(text: str) -> str:
    """Toneless pinyin of a normalised description, one syllable per character, no separators."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.NORMAL, errors="default"))


def text_similarity(a: list[str], b: list[str], a_py: list[str], b_py: list[str]) -> np.ndarray:
    """Similarity 0..1 of each pair (a[i], b[i]) of normalised descriptions; NaN where one is blank."""
    if not a:
        return np.zeros(0)
    chars = process.cpdist(a, b, scorer=fuzz.ratio, workers=1)
    sounds = process.cpdist(a_py, b_py, scorer=fuzz.ratio, workers=1)
    out = np.maximum(chars, sounds).astype("float64") / 100.0
    blank = np.array([not x or not y for x, y in zip(a, b)])
    out[blank] = np.nan
    return out


def parse_fingerprint(raw: str | None) -> int | None:
    """The 64-bit photo hash from 16 hex digits; None when blank. Raises ValueError when malformed."""
    s = (raw or "").strip()
    if not s:
        return None
    if s.lower().startswith("0x"):
        s = s[2:]
    if not _HEX16.match(s):
        raise ValueError(f"照片指纹 {raw!r} is not 16 hex digits")
    return int(s, 16)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@lru_cache(maxsize=1 << 16)
def address_evidence(text: str | None) -> tuple[str | None, int | None]:
    """(road, door on the road) said by a free-text address; Nones when it does not say. The door of
    大宁路39弄1号 is the lane, 39: where it opens on the road."""
    if not text:
        return None, None
    p = parse_address(text)
    door = p.lane or p.number
    m = re.match(r"\d+", door or "")
    return p.road, (int(m.group(0)) if m else None)
