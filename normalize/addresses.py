"""Shanghai addresses split into their parts, and a key for exact matching against the standard
address library (标准地址库).

Shanghai order: 上海市 > 区 > 街道/镇 > 居委/村 > 路 > 弄 > 号 > 幢/号楼/栋/座 > 室; suburbs
use 镇 > 村 > 组 > 号. Registries write the same dwelling many ways: with or without the city and
district, full-width digits, Chinese numerals (十四号, 一千一百零二室), 衖 for 弄, 号楼/幢/栋/座 for
the building, 室 left out (14号1102), and short forms typed by clerks (柳营路669-14-1102). The
parser reads left to right, takes off the administrative prefix, then the road, then reads the
numbered tokens after it; anything it does not understand goes to `rest` rather than being lost.

Deliberate limits:
- Chinese numerals are converted only right before a unit (弄/号/室/组/栋/幢/楼/层/座/单元), so road
  names keep theirs (七莘路, 四川北路, 中山北一路).
- Districts are recognised with their 区/县/新区 suffix only: bare 长宁/宝山/金山 are also road and
  town names (长宁路, 宝山路, 金山卫镇).
- The street and committee found here are only what the text says; routing a record to its street
  and committee is the standard address library's job, not a guess from the road name.
It never raises: any input gives a ParsedAddress (fuzz-tested).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from normalize.text import as_text, remove_invisible, to_halfwidth


class ParsedAddress(NamedTuple):
    """Parts of one address. Numbers are ASCII without leading zeros and without their unit
    ('669', '14', '14甲', '14之1', building '5' or 'A', room '1102').

    address_key: road + lane弄 (+ sub_lane支弄) + number号, e.g. 柳营路669弄14号, the door that
      the standard address library lists; a numeric building stands in for a missing number
      (100弄5号楼 = 100弄5号); in villages community (+ 组) + 号 (新义村3组15号). None when the
      address has no road (or village) and door.
    road_key: the road without its type suffix (柳营路 -> 柳营), for blocking candidate pairs
      when the suffix was mistyped; not an identity.
    district: today's name (闸北区 -> 静安区). city: 上海市 or the other city named.
    """

    district: str | None = None
    street: str | None = None
    community: str | None = None
    road: str | None = None
    lane: str | None = None
    number: str | None = None
    building: str | None = None
    room: str | None = None
    rest: str | None = None
    address_key: str | None = None
    road_key: str | None = None
    sub_lane: str | None = None
    village_group: str | None = None
    city: str | None = None


EMPTY = ParsedAddress()

# --- Shanghai districts, with the abolished ones mapped to today's -----------------------------
SH_DISTRICTS = {
    "黄浦": "黄浦区",
    "徐汇": "徐汇区",
    "长宁": "长宁区",
    "静安": "静安区",
    "普陀": "普陀区",
    "虹口": "虹口区",
    "杨浦": "杨浦区",
    "闵行": "闵行区",
    "宝山": "宝山区",
    "嘉定": "嘉定区",
    "浦东": "浦东新区",
    "金山": "金山区",
    "松江": "松江区",
    "青浦": "青浦区",
    "奉贤": "奉贤区",
    "崇明": "崇明区",
    # abolished or merged
    "闸北": "静安区",  # 2015
    "卢湾": "黄浦区",  # 2011
    "南汇": "浦东新区",  # 2009
    "南市": "黄浦区",  # 2000
    "川沙": "浦东新区",  # 1993
    "吴淞": "宝山区",  # 1988
    "上海": "闵行区",  # 上海县, merged into 闵行 1992 (only with the 县 suffix, see _SH_DISTRICT_RE)
}

_SH_DISTRICT_RE = re.compile(
    r"(黄浦|徐汇|长宁|静安|普陀|虹口|杨浦|闵行|宝山|嘉定|浦东|金山|松江|青浦|奉贤|崇明|闸北|卢湾|"
    r"南汇|南市|川沙|吴淞)(新区|区|县)|(上海)县"
)
_CN = r"[^\W\d_A-Za-z]"  # a CJK (non-digit, non-Latin, non-punctuation) character
_CITY_RE = re.compile(
    rf"(?:中华人民共和国|中国)?(?P<prov>{_CN}{{2,8}}?(?:省|自治区))?"
    rf"(?P<city>{_CN}{{2,6}}?(?:市|自治州|地区|盟))(?![场政民])"
)
_GENERIC_DISTRICT_RE = re.compile(rf"{_CN}{{1,6}}?(?:新区|区|县|市|旗)(?![场政民])")
# A district at the very start without a city: not 小区/园区/社区… (those are compound names).
_BARE_DISTRICT_RE = re.compile(rf"{_CN}{{1,3}}(?<![小园社校厂景城片发营矿])(?:新区|区|县)")
_STREET_RE = re.compile(rf"({_CN}{{1,10}}?)(街道办事处|街道|镇|乡)(?![路街巷弄浜]|大道|公路)")
_COMMITTEE_RE = re.compile(rf"{_CN}{{1,12}}?(?:居民委员会|居委会|居委|村民委员会|村委会)")
_VILLAGE_RE = re.compile(rf"{_CN}{{1,8}}?村(?=\d+(?:组|队|号|弄))")
_GROUP_AHEAD_RE = re.compile(r"\d+(?:组|队)")
_ROAD_SUFFIX = r"(?:大道|公路|大街|胡同|路|街|巷|浜|道)"
_ROAD_RE = re.compile(rf"{_CN}{{1,14}}?{_ROAD_SUFFIX}(?![道路])")
_ROAD_SUFFIX_START_RE = re.compile(_ROAD_SUFFIX)
_ROAD_STEM_RE = re.compile(rf"^(.+?){_ROAD_SUFFIX}$")
# A named place (小区, 新村, 大厦…) standing where a road would, directly followed by house numbers.
_PLACE_RE = re.compile(rf"{_CN}{{2,14}}?(?=\d+(?:弄|号|幢|栋|座))")

# --- Chinese numerals, only right before a unit --------------------------------------------------
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_UNIT_AFTER = r"(?=支弄|弄|号|室|组|队|栋|幢|楼|层|座|单元)"
_CN_NUM_RE = re.compile(r"[零〇○一二三四五六七八九十百千]+" + _UNIT_AFTER)


def cn_numeral_to_int(s: str) -> int | None:
    """一千一百零二 -> 1102, 十四 -> 14, 二〇一 -> 201 (digit by digit when there is no 十/百/千)."""
    if not s:
        return None
    if not any(c in _CN_UNITS for c in s):
        try:
            return int("".join(str(_CN_DIGITS[c]) for c in s))
        except KeyError:
            return None
    total, digit = 0, None
    for c in s:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        elif c in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[c]
            digit = None
        else:
            return None
    if digit:
        total += digit
    return total


def _convert_numerals(s: str) -> str:
    def repl(m: re.Match) -> str:
        n = cn_numeral_to_int(m.group(0))
        return m.group(0) if n is None else str(n)

    return _CN_NUM_RE.sub(repl, s)


# --- tokens after the road ---------------------------------------------------------------------
# One alternation, tried in this order at each position (号楼 before 号, 室 before a bare number).
_SUFFIX = r"(?:甲|乙|丙|丁|之[一二三四五六七八九十]|之\d+)"
_SEPARATORS = "-_,，、/\\:：;；。.~"
_SEP_CLASS = re.escape(_SEPARATORS)
_TOKEN_RE = re.compile(
    # a number (optionally with a letter in front: B1102), then what kind of number it is
    r"(?P<d>[A-Za-z]?\d++)(?:"
    r"(?P<lane>弄(?:(?P<sub_n>\d++)支弄)?)"
    r"|(?P<building>[A-Za-z]?(?:号楼|号座|号馆|幢|栋|座))"
    rf"|(?P<number>(?:-(?P<num_to>\d++))?(?P<sfx1>{_SUFFIX})?号(?!线)院?(?P<sfx2>{_SUFFIX})?)"
    r"|(?P<room>[A-Za-z]?(?:室|房))"
    r"|(?P<group>组|队)"
    r"|(?P<other>楼|层|F|f|单元)"
    r"|(?P<bare>[A-Za-z]?)"
    r")"
    r"|(?P<letter_building>[A-Za-z])(?:号楼|幢|栋|座)"
    rf"|(?P<sep>[{_SEP_CLASS}]+)"
    rf"|(?P<text>[^\dA-Za-z{_SEP_CLASS}]+|[A-Za-z]+)"
)
# The common tails, read in one match; the token reader gives the same result, only slower
# (tests compare the two on a generated corpus).
_TAIL_RE = re.compile(
    r"(?:(\d+)弄)?(?:(\d+)号)?(?:(\d+)室)?"  # 669弄14号1102室, 669弄14号, 14号1102室, 669弄
    r"|(\d+)弄(\d+)(?:号|-|号-)(\d+)室?"  # 669弄14号1102, 669弄14-1102
)
_OPEN_BRACKET_RE = re.compile(r"[(\[【〔{<《]")
_CN_NUMERAL_CHAR_RE = re.compile(r"[零〇○一二三四五六七八九十百千]")
_PARENS_RE = re.compile(r"[(\[【〔{<《][^)\]】〕}>》]*[)\]】〕}>》]?")

_TRAD = str.maketrans({"衖": "弄", "號": "号", "樓": "楼", "棟": "栋", "區": "区", "鎮": "镇"})
_TRAD_RE = re.compile("[衖號樓棟區鎮]")
_HASH_RE = re.compile(r"(?<=\d)#")  # 14#1102: '#' written for 号
_WS_RE = re.compile(r"\s+")
_LEADING_ZEROS_RE = re.compile(r"^0+(?=\d)")


def _nz(s: str | None) -> str | None:
    """Leading zeros off ('0669' -> '669') so '0669弄' and '669弄' share a key."""
    if s is None or s[0] != "0" or len(s) == 1:
        return s
    return _LEADING_ZEROS_RE.sub("", s)


class _Parts:
    __slots__ = ("lane", "sub_lane", "number", "building", "room", "group", "rest", "level")

    def __init__(self) -> None:
        self.lane = self.sub_lane = self.number = self.building = self.room = self.group = None
        self.rest: list[str] = []
        self.level = 0  # 0 nothing yet, 1 lane, 2 number, 3 building, 4 room

    def bare(self, values: list[str], raw: str) -> None:
        """Numbers with no unit, e.g. 669-14-1102: assigned by position after what is known."""
        n = len(values)
        slots = _BARE_SLOTS[self.level]
        if self.level == 0:
            slots = slots[min(n, 3)]
        elif self.level == 2:
            slots = slots[min(n, 2)]
        leftover: list[str] = []
        for i, v in enumerate(values):
            slot = slots[i] if i < len(slots) else None
            if slot == "lane" and self.lane is None and v.isdigit():
                self.lane, self.level = v, 1
            elif slot == "number" and self.number is None:
                self.number, self.level = v, 2
            elif slot == "building" and self.building is None:
                self.building, self.level = v, 3
            elif slot == "room" and self.room is None:
                self.room, self.level = v, 4
            else:
                leftover.append(v)
        if leftover:
            self.rest.append("-".join(leftover) if len(leftover) < n else raw)


# Where numbers without a unit go, by what has been read so far (level) and how many there are.
_BARE_SLOTS = {
    0: {1: ("number",), 2: ("lane", "number"), 3: ("lane", "number", "room")},
    1: ("number", "room"),
    2: {1: ("room",), 2: ("building", "room")},
    3: ("room",),
    4: (),
}


def _suffix(x: str) -> str:
    """之一 and 之1 are the same suffix (numerals before 号 were already converted)."""
    if x.startswith("之") and not x[1:].isdigit():
        n = cn_numeral_to_int(x[1:])
        return x if n is None else f"之{n}"
    return x


def _read_tokens(s: str, p: _Parts) -> None:
    i, n = 0, len(s)
    match = _TOKEN_RE.match
    while i < n:
        m = match(s, i)
        if m is None:  # cannot happen (text matches anything else), but never loop forever
            p.rest.append(s[i])
            i += 1
            continue
        kind = m.lastgroup
        text = m.group(0)
        d = m.group("d")
        if kind == "sep":
            pass
        elif kind == "text" or kind == "other":
            p.rest.append(text)
        elif kind == "lane":
            if p.lane is None and p.level < 2 and d.isdigit():
                p.lane, p.sub_lane = d, m.group("sub_n")
                p.level = 1
            else:
                p.rest.append(text)
        elif kind == "number":
            num, to = d, m.group("num_to")
            suffix = _suffix(m.group("sfx1") or m.group("sfx2") or "")
            if p.number is None and p.level < 3:
                if to is not None:
                    if p.lane is None and num.isdigit() and not (0 < int(to) - int(num) <= 20):
                        # 669-14号 is lane 669, number 14; 100-102号 is a range of house numbers.
                        p.lane, num = num, to
                    else:
                        num = f"{num}-{to}"
                p.number = num.upper() + suffix
                p.level = 2
            else:
                p.rest.append(text)
        elif kind == "building" or kind == "letter_building":
            if p.building is None and p.level < 4:
                b = d if kind == "building" else text[0]
                if kind == "building" and text[len(d)].isascii():
                    b += text[len(d)]  # 5A幢
                p.building = b.upper()
                p.level = 3
            else:
                p.rest.append(text)
        elif kind == "room":
            if p.room is None:
                p.room = text[:-1].upper()
                p.level = 4
            else:
                p.rest.append(text)
        elif kind == "group":
            if p.group is None and p.level == 0 and d.isdigit():
                p.group = d
            else:
                p.rest.append(text)
        else:  # bare: gather a run like 669-14-1102 (stopping before a number that has a unit)
            values = [text.upper()]
            j = m.end()
            while j < n - 1 and s[j] == "-":
                nxt = match(s, j + 1)
                if nxt is None or nxt.lastgroup != "bare":
                    break
                values.append(nxt.group(0).upper())
                j = nxt.end()
            p.bare(values, s[i:j])
            i = j
            continue
        i = m.end()


def _prepare(raw: str) -> tuple[str, list[str]]:
    s = remove_invisible(to_halfwidth(raw))
    if _TRAD_RE.search(s):
        s = s.translate(_TRAD)
    if not s.isprintable() or " " in s:
        s = _WS_RE.sub("", s)
    if "#" in s:
        s = _HASH_RE.sub("号", s)
    notes: list[str] = []
    if _OPEN_BRACKET_RE.search(s):
        notes = [m.group(0) for m in _PARENS_RE.finditer(s)]
        s = _PARENS_RE.sub("", s)
    if _CN_NUMERAL_CHAR_RE.search(s):
        s = _convert_numerals(s)
    return s, notes


def _parse(raw: str, fast: bool = True) -> ParsedAddress:
    s, notes = _prepare(raw)
    if not s and not notes:
        return EMPTY
    city = district = street = community = road = None

    # City (and province). 上海 without 市 only when a district follows.
    if s.startswith("上海市"):
        city, s = "上海市", s[3:]
    elif s.startswith("上海") and not s.startswith("上海县") and not _ROAD_SUFFIX_START_RE.match(s, 2):
        city, s = "上海市", s[2:]
    elif "市" in s or "州" in s or "盟" in s or "地区" in s:
        m = _CITY_RE.match(s)
        if m and (m.group("prov") or _GENERIC_DISTRICT_RE.match(s, m.end()) or _SH_DISTRICT_RE.match(s, m.end())):
            city, s = m.group("city"), s[m.end() :]
    if s.startswith("上海市"):  # 上海市上海市… happens
        s = s[3:]

    # District.
    m = _SH_DISTRICT_RE.match(s)
    if m and (city is None or city == "上海市"):
        key = m.group(1) or m.group(3)
        district = SH_DISTRICTS[key]
        city = "上海市"
        s = s[m.end() :]
    elif city is not None and city != "上海市":
        m = _GENERIC_DISTRICT_RE.match(s)
        if m:
            district, s = m.group(0), s[m.end() :]
    elif "区" in s or "县" in s:
        m = _BARE_DISTRICT_RE.match(s)
        if m and not _ROAD_RE.fullmatch(m.group(0)):
            district, s = m.group(0), s[m.end() :]

    # Street (街道) or town (镇/乡).
    m = _STREET_RE.match(s) if ("街道" in s or "镇" in s or "乡" in s) else None
    if m:
        suffix = "街道" if m.group(2) == "街道办事处" else m.group(2)
        street, s = m.group(1) + suffix, s[m.end() :]

    # Residents' committee or village.
    m = _COMMITTEE_RE.match(s) if "委" in s else None
    if m:
        community, s = m.group(0), s[m.end() :]
        for long, short in (("居民委员会", "居委会"), ("村民委员会", "村委会")):
            if community.endswith(long):
                community = community[: -len(long)] + short
    elif "村" in s:
        m = _VILLAGE_RE.match(s)
        # XX村 is a village only in a town or before a 组; in the city, 曹杨新村 is a compound.
        if m and ((street and street[-1] in "镇乡") or _GROUP_AHEAD_RE.match(s, m.end())):
            community, s = m.group(0), s[m.end() :]

    # Road; failing that, a named place directly followed by house numbers.
    m = _ROAD_RE.match(s)
    if m:
        road, s = m.group(0), s[m.end() :]
        # a road suffix typed inside the name (乌路木齐北路 for 乌鲁木齐北路, a homophone): the road runs
        # on to the suffix that the house numbers follow
        m = _ROAD_RE.match(s) if s and not s[0].isdigit() else None
        if m and m.end() < len(s) and s[m.end()].isdigit() and len(road) + m.end() <= 12:
            road, s = road + m.group(0), s[m.end() :]
    else:
        m = _PLACE_RE.match(s)
        if m and not (community and community.endswith("村")):
            road, s = m.group(0), s[m.end() :]

    m = _TAIL_RE.fullmatch(s) if fast else None
    if m:
        lane, number, room = _nz(m.group(1) or m.group(4)), _nz(m.group(2) or m.group(5)), _nz(m.group(3) or m.group(6))
        sub_lane = building = group = None
        rest = "".join(notes) or None
    else:
        p = _Parts()
        _read_tokens(s, p)
        lane, sub_lane, number = _nz(p.lane), _nz(p.sub_lane), _nz(p.number)
        building, room, group = _nz(p.building), _nz(p.room), _nz(p.group)
        rest = "".join(p.rest + notes) or None

    key = None
    key_number = number
    if key_number is None and building is not None and building.isdigit():
        key_number = building  # 100弄5号楼 / 100弄5幢 is the same door as 100弄5号
    if road and (lane or key_number):
        key = road
        if lane:
            key += lane + "弄" + (sub_lane + "支弄" if sub_lane else "")
        if key_number:
            key += key_number + "号"
    elif community and community.endswith("村") and number:
        key = f"{community}{group}组{number}号" if group else f"{community}{number}号"

    road_key = None
    if road:
        m = _ROAD_STEM_RE.match(road)
        road_key = m.group(1) if m and len(m.group(1)) >= 2 else road

    return ParsedAddress(  # positional: this runs once per distinct address
        district,
        street,
        community,
        road,
        lane,
        number,
        building,
        room,
        rest,
        key,
        road_key,
        sub_lane,
        group,
        city,
    )


# Parsed addresses are kept as plain tuples in a dict: the cyclic garbage collector stops tracking
# a tuple of strings, but not a NamedTuple or lru_cache's list nodes, and walking a few hundred
# thousand tracked cache entries on every full collection costs more than the parsing saved.
# ~700 bytes an entry; the cache is emptied when it reaches _CACHE_MAX (about 180 MB).
_CACHE: dict[str, tuple] = {}
_CACHE_MAX = 1 << 18
_EMPTY_TUPLE = tuple(EMPTY)


def address_tuple(raw: object) -> tuple:
    """parse_address as a plain tuple (fields in ParsedAddress order); for bulk callers."""
    s = as_text(raw)
    if not s:
        return _EMPTY_TUPLE
    t = _CACHE.get(s)
    if t is None:
        try:
            t = tuple(_parse(s))
        except Exception:  # never break a pipeline on one odd value: keep it whole as `rest`
            t = tuple(ParsedAddress(rest=s.strip() or None))
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[s] = t
    return t


def parse_address(raw: object) -> ParsedAddress:
    """Split an address into its parts; blank input gives a ParsedAddress of Nones."""
    return tuple.__new__(ParsedAddress, address_tuple(raw))


def address_key(raw: object) -> str | None:
    """road + lane弄 + number号 (e.g. 柳营路669弄14号), or None when the address has no door."""
    return parse_address(raw).address_key


def road_pinyin(road: object) -> str | None:
    """A road name's sound: toneless pinyin, one syllable per character, space-separated
    (闻喜路 -> 'wen xi lu'), so that syllable i is character i. A clerk typing by sound slips by a
    syllable (汾西路 for 闻喜路: 'fen xi lu', one syllable and two characters away). Each character is
    read on its own, as an input method offers it (pypinyin's default reading); a character without
    a reading (a letter, a digit) stands for itself."""
    from normalize.names import char_pinyin

    text = as_text(road)
    if not text:
        return None
    return " ".join("_" if ch.isspace() else char_pinyin(ch) for ch in text)
