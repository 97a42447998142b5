"""Personal names: one spelling per person across registries, and a pinyin key for homophones.

Why each step:
- NFKC folds full-width letters and compatibility forms, but it does not unify the dots between
  the parts of a minority name (· • ・ . ．), so those are mapped to U+00B7 explicitly.
- Nothing is filtered by the [\\u4e00-\\u9fa5] range: real names use extension-A and later
  characters (䶮 U+4DAE), and dropping them silently merges different people.
- Traditional characters (陳/陈) are folded with OpenCC t2s character by character: a name is not
  a phrase, and phrase-level conversion buys nothing here. A few characters that t2s would turn
  into a different name character (乾 -> 干, 於 -> 于 are real surnames/name characters in the
  2013 standard table) are left alone.
- Homophones (李丽/李莉) are the most common transcription error, so matching compares a toneless
  pinyin key too. pypinyin reads surnames with their everyday reading (单 dan, 曾 ceng, 解 jie),
  hence the surname table.
Everything is cached: the same names recur across millions of rows and several registries.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from normalize.text import as_text, remove_invisible

# Dots seen between the parts of minority names; NFKC already maps U+FF0E to '.', U+FF65 to U+30FB.
_SEPARATORS = "\u00b7\u2022\u30fb\u2027\u2219\u22c5\u02d1\u0387\u2e31\u318d\u16eb\ua78f\u00b8."
_SEP = "\u00b7"
_SEP_TABLE = str.maketrans({c: _SEP for c in _SEPARATORS})
_SEP_RUN_RE = re.compile(_SEP + "{2,}")
# Annotations exports append to a name: 张三(户主), 李四（已故）, 王五[曾用名].
_ANNOTATION_RE = re.compile(r"[(\[【〔].*?[)\]】〕]")
_WS_RE = re.compile(r"\s+")
_LATIN_GAP_RE = re.compile(r"(?<=[A-Za-z])\s+(?=[A-Za-z])")

# t2s conversions that would change a legitimate name character.
_T2S_KEEP = frozenset("乾於锺")


def _opencc():
    import opencc  # opencc-python-reimplemented; imported lazily, it loads dictionaries

    return opencc.OpenCC("t2s")


_CONVERTER = None


@cache
def _t2s_char(ch: str) -> str:
    global _CONVERTER
    if ch.isascii() or ch in _T2S_KEEP:
        return ch
    if _CONVERTER is None:
        _CONVERTER = _opencc()
    out = _CONVERTER.convert(ch)
    return out if len(out) == 1 else ch


def to_simplified(s: str) -> str:
    """Traditional to simplified, one character at a time (see module docstring)."""
    return "".join(_t2s_char(c) for c in s)


@lru_cache(maxsize=1 << 18)
def _normalize_name(s: str) -> str | None:
    s = unicodedata.normalize("NFKC", s)
    s = remove_invisible(s)
    s = _ANNOTATION_RE.sub("", s)
    # Latin names keep one space between words; every other whitespace goes.
    s = _LATIN_GAP_RE.sub("\x00", s.strip())
    s = _WS_RE.sub("", s).replace("\x00", " ")
    if not s.isascii():
        s = s.translate(_SEP_TABLE).replace("-", _SEP)
        if _SEP in s:
            s = _SEP_RUN_RE.sub(_SEP, s).strip(_SEP)
        s = to_simplified(s)
    s = s.upper() if any("a" <= c <= "z" for c in s) else s
    return s or None


def normalize_name(raw: object) -> str | None:
    """One spelling of a personal name, or None when blank."""
    s = as_text(raw)
    if not s:
        return None
    return _normalize_name(s)


# Two-character surnames, checked before single ones (only for names of three or more characters:
# 司马 alone is more likely surname 司 + given name 马).
COMPOUND_SURNAMES: dict[str, str] = {
    "欧阳": "ou yang",
    "司马": "si ma",
    "诸葛": "zhu ge",
    "上官": "shang guan",
    "尉迟": "yu chi",
    "万俟": "mo qi",
    "皇甫": "huang fu",
    "东方": "dong fang",
    "独孤": "du gu",
    "南宫": "nan gong",
    "令狐": "ling hu",
    "长孙": "zhang sun",
    "宇文": "yu wen",
    "慕容": "mu rong",
    "公孙": "gong sun",
    "夏侯": "xia hou",
    "澹台": "tan tai",
    "端木": "duan mu",
    "西门": "xi men",
    "呼延": "hu yan",
    "轩辕": "xuan yuan",
    "拓跋": "tuo ba",
    "申屠": "shen tu",
    "闻人": "wen ren",
    "濮阳": "pu yang",
    "太史": "tai shi",
    "司徒": "si tu",
    "司空": "si kong",
    "钟离": "zhong li",
    "宗政": "zong zheng",
    "赫连": "he lian",
    "鲜于": "xian yu",
    "公冶": "gong ye",
    "仲孙": "zhong sun",
    "叔孙": "shu sun",
    "漆雕": "qi diao",
    "巫马": "wu ma",
    "公羊": "gong yang",
    "谷梁": "gu liang",
    "左丘": "zuo qiu",
    "羊舌": "yang she",
    "亓官": "qi guan",
    "司寇": "si kou",
    "颛孙": "zhuan sun",
    "公西": "gong xi",
}

# Single surnames whose surname reading differs from the one pypinyin picks on its own.
SURNAME_READINGS: dict[str, str] = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "盖": "ge",
    "覃": "qin",
    "尉": "wei",
    "缪": "miao",
    "翟": "zhai",
    "都": "du",
    "藏": "zang",
    "秘": "bi",
    "繁": "po",
    "员": "yun",
    "召": "shao",
    "黑": "he",
    "句": "gou",
    "隗": "wei",
    "薄": "bo",
    "郇": "xun",
    "阚": "kan",
    "卜": "bu",
    "乜": "nie",
    "粘": "nian",
    "佴": "nai",
    "折": "she",
    "种": "chong",
    "重": "chong",
    "长": "chang",
    "柏": "bai",
    "莘": "shen",
    "冼": "xian",
    "谌": "chen",
    "宿": "su",
    "能": "nai",
    "逄": "pang",
    "厍": "she",
}


@lru_cache(maxsize=1 << 18)
def _split(name: str) -> tuple[str, str]:
    if _SEP in name or name[:1].isascii():
        return "", name
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def split_surname(name: object) -> tuple[str, str]:
    """(surname, given name). Minority names joined by '·' and Latin names have no surname part
    in this sense: ('', whole name)."""
    n = normalize_name(name)
    if n is None:
        return "", ""
    return _split(n)


_ASCII_WORD_RE = re.compile(r"[A-Za-z0-9]+")


@cache
def char_pinyin(ch: str) -> str:
    """One character's toneless pinyin (pypinyin's default reading, lower case); a character
    pypinyin does not know stands for itself."""
    from pypinyin import Style, lazy_pinyin

    py = lazy_pinyin(ch, style=Style.NORMAL, errors="default")
    out = py[0] if py else ch
    # Characters pypinyin does not know come back unchanged: keep them, so that two names that
    # differ only in such a character do not share a key.
    return out.lower() if out.isascii() else ch


def _syllables(text: str) -> list[str]:
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isascii():
            m = _ASCII_WORD_RE.match(text, i)
            if m:
                out.append(m.group(0).lower())
                i = m.end()
            else:
                i += 1  # spaces, punctuation
            continue
        if ch == _SEP or unicodedata.category(ch)[0] in "PSZ":
            i += 1
            continue
        out.append(char_pinyin(ch))
        i += 1
    return out


@lru_cache(maxsize=1 << 18)
def _name_pinyin(name: str) -> str:
    surname, given = _split(name)
    parts: list[str] = []
    if surname:
        reading = COMPOUND_SURNAMES.get(surname) or SURNAME_READINGS.get(surname)
        parts.extend(reading.split() if reading else _syllables(surname))
    parts.extend(_syllables(given))
    return " ".join(parts)


def name_pinyin(name: object) -> str | None:
    """Toneless pinyin, one syllable per character, space-separated ('ü' written 'v').
    Surnames use their surname reading: 单田芳 -> 'shan tian fang'."""
    n = normalize_name(name)
    if n is None:
        return None
    return _name_pinyin(n) or None


@lru_cache(maxsize=1 << 18)
def _pinyin_key(name: str) -> str:
    return _name_pinyin(name).replace(" ", "")


def name_pinyin_key(name: object) -> str | None:
    """Compact pinyin for blocking and homophone matching: 李丽 and 李莉 are both 'lili'."""
    n = normalize_name(name)
    if n is None:
        return None
    return _pinyin_key(n) or None
