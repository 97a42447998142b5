"""The "field" noise profile: the exports as a clerk makes them from an old system.

Written apart from the default profile (sources.Renderer), from what real registry exports do. The
world (who lives where, which shop trades) is the same; what differs is how it reaches the files:

- noise is drawn afresh every month (the month is in every salt): a blank residence, a
  building-only address, a re-rendered address or a misspelt road falls on other records next
  month. Errors that sit in a registry's stored value (a mistyped ID number, a homophone in a
  name, a blank credit code on a licence, the name a shop's meter is under, who a visit recorded as
  联系人) stay from month to month;
- 居住地址 blank for some people and building-only (阳曲路15弄12号, no room) for others; 用电地址 of
  a dwelling without the room; aid and elderly addresses now and then building-only;
- every address re-rendered each month: another prefix (none / 上海市 / 上海 / the district, with or
  without the street), short forms (柳营路669-14-1102), Chinese numerals before units, 号楼 / 幢 /
  栋, 衖, 室 or 房 or nothing, a hyphen before the room, spaces between parts, full-width digits,
  the former district's name (闸北区);
- road names misspelt by one homophone character (玫园路 for 梅园路, 化山路 for 华山路);
- the utility export lags the delivery: its latest 抄表月份 is the month before;
- street visits whose 联系人 is a shop assistant (with the assistant's mobile), whose 店招 is the
  sign or the registered name's core copied from the licence on the wall;
- a shop's meter under the registered name, the legal representative or the sign;
- food licences with a blank credit code; 经营者名称 without 上海市 and the district;
- dates in every format and the odd typo (a day or month off, day and month swapped); IDs with
  Excel's text marker or stray spaces; names with stray spaces.

The planted-problem list (`planted.csv`) is found the same way as in the default profile, by
scanning what was written against the truth, plus `address_room_missing` (informational: the
police 居住地址 is blank or names the building only).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np

from . import names as vocabulary
from .codes import FULLWIDTH, USCC_ALPHABET, cn_number, excel_serial, hash64, hash_u, salt_of, uscc_valid
from .sources import Renderer
from .timeline import ymd

# ---- road names misspelt by a homophone -----------------------------------------------------------

_ROAD_SUFFIXES = ("中路", "北路", "南路", "西路", "东路", "支路", "新路", "大道", "公路", "路", "街")
# characters a clerk may type for a road character of the same sound (with the roads' own)
_COMMON_CHARS = (
    "安昌长成城春大德东定丰福富复港高光广贵国海汉和河恒红宏洪华化花欢黄惠吉嘉佳建江金锦京景静"
    "久康乐里利林临灵岭龙隆陆鲁罗茂美梅玫民明南宁凝平浦齐启庆秋泉仁荣瑞三山陕上胜石时寿顺泰天田通"
    "同万威文武西夕溪祥新兴星杏延阳杨洋仰宜怡逸永友余愚玉园元源远岳云运泽长肇浙振镇正中忠洲州竹"
    "祝梓紫宗百柏北宝保滨昌常场潮朝川淳丹登迪甸典东洞都渡恩芳汾凤奉甘公共古关冠广桂国韩汉杭浩"
    "合河衡虹沪淮环黄徽会惠济佳江胶金津锦晋京泾井静九巨钧凯康柯兰岚蓝朗乐黎丽莲良林凌柳六龙陇"
    "路罗洛马满茂眉梅门蒙民闽铭茗南宁农盘彭平普浦齐祁其旗启前钱乔桥青清庆曲泉仁瑞三桑沙山善尚"
    "绍申沈升圣石世寿书曙舒顺斯松嵩苏肃泰唐陶天田通潼万皖王威维卫渭温文汶闻吴武西溪喜夏仙香湘"
    "祥襄小晓新星兴秀徐许宣学延岩盐阳杨姚耀叶宜义艺易益银英营永渝余玉御元园源远悦云运张漳昭肇"
    "浙镇振郑芷中钟周洲朱珠竹庄卓紫宗"
)


@lru_cache(maxsize=1)
def _homophones() -> dict[str, list[str]]:
    """character -> other characters with the same toneless pinyin, from a pool of common ones."""
    from pypinyin import Style, lazy_pinyin

    by_sound: dict[str, list[str]] = {}
    for c in dict.fromkeys(_COMMON_CHARS + "".join(vocabulary.HOMOPHONES)):
        by_sound.setdefault(lazy_pinyin(c, style=Style.NORMAL)[0], []).append(c)
    out: dict[str, list[str]] = {}
    for chars in by_sound.values():
        for c in chars:
            others = [o for o in chars if o != c]
            if others:
                out[c] = others
    return out


def misspelt_road(road: str, bits: int, all_roads: frozenset[str]) -> str | None:
    """The road with one character of its name (not the 路/北路 suffix) written as a homophone, or
    None when no character has one (or every result is another real road)."""
    suffix = next((s for s in _ROAD_SUFFIXES if road.endswith(s) and len(road) > len(s)), "")
    stem = road[: len(road) - len(suffix)]
    table = _homophones()
    spots = [i for i, c in enumerate(stem) if c in table]
    for k in range(len(spots)):
        i = spots[(bits + k) % len(spots)]
        options = table[stem[i]]
        new = stem[:i] + options[(bits >> 8) % len(options)] + stem[i + 1 :] + suffix
        if new not in all_roads:
            return new
    return None


# ---- the renderer -------------------------------------------------------------------------------

PREFIX_OF_STYLE = {0: 1, 1: 2, 2: 0}  # the source's usual prefix: 上海市静安区 / 静安区 / none
_CN_ROOM = "零一二三四五六七八九"


class FieldRenderer(Renderer):
    """One monthly delivery rendered with the field profile's noise (see the module docstring)."""

    def __init__(self, w, t: int):
        super().__init__(w, t)
        self.lag = int(self.config.setting("utility_lag_months", 1))
        self.all_roads = frozenset(self.library.address_road_name)
        self.date_typos: dict[tuple[str, str], dict[int, int]] = {}
        self.address_gaps: dict[tuple[str, str], dict[int, str]] = {}  # record -> "blank" | "building"

    # ---- noise plumbing: fresh each month, or stored with the record ----------------------------

    def uniform(self, keys, *salt) -> np.ndarray:
        return hash_u(np.asarray(keys, dtype=np.int64), salt_of(self.seed, "field", self.t, *salt))

    def hashes(self, keys, *salt) -> np.ndarray:
        return hash64(np.asarray(keys, dtype=np.int64), salt_of(self.seed, "field", self.t, *salt))

    def stored_uniform(self, keys, *salt) -> np.ndarray:
        return hash_u(np.asarray(keys, dtype=np.int64), salt_of(self.seed, "field-stored", *salt))

    def stored_hashes(self, keys, *salt) -> np.ndarray:
        return hash64(np.asarray(keys, dtype=np.int64), salt_of(self.seed, "field-stored", *salt))

    # ---- addresses ------------------------------------------------------------------------------

    def _prefix(self, kind: int, ai: int, former: bool) -> str:
        library = self.library
        dname = self.former if (former and self.former) else self.dname
        street = library.street_name[library.address_street[ai]]
        return ["", "上海市" + dname, dname, "上海" + dname, "上海市" + dname + street, dname + street, "上海市"][kind]

    def _door(self, ai: int, room: str, form: int, road: str) -> str:
        """Road, lane, number and room in one of the forms clerks write."""
        library = self.library
        lane = int(library.address_lane[ai])
        no = int(library.address_number[ai])
        dwelling_room = room.isdigit()
        if form == 1:  # short form
            if lane:
                return f"{road}{lane}-{no}" + (f"-{room}" if room and dwelling_room else room)
            return f"{road}{no}号" + (f"-{room}" if room and dwelling_room else room)
        if form == 2:  # Chinese numerals before the units
            style = (ai + self.t) % 2
            lane_s = f"{cn_number(lane, style)}弄" if lane else ""
            room_s = ("".join(_CN_ROOM[int(c)] for c in room) + "室") if dwelling_room else room
            return f"{road}{lane_s}{cn_number(no, style)}号{room_s}"
        lane_word = "衖" if form == 4 else "弄"
        no_word = ["号楼", "幢", "栋"][(ai + self.t) % 3] if form == 3 and lane else "号"
        room_s = room
        if dwelling_room and room:
            room_s = {5: room, 6: room + "房", 8: "-" + room}.get(form, room + "室")
        lane_s = f"{lane}{lane_word}" if lane else ""
        if form == 7:  # spaces between the parts
            return " ".join(x for x in (road, lane_s, f"{no}{no_word}", room_s) if x)
        return f"{road}{lane_s}{no}{no_word}{room_s}"

    def addr_col(self, source: str, keys, ais, rooms, style: int, salt: str = "addr"):
        """Addresses re-rendered every month. The residence and supply addresses (not the 户籍地址)
        may lose their room, or (per source) be left blank."""
        n = len(keys)
        if n == 0:
            return []
        library = self.library
        draws = {
            k: self.uniform(keys, source, salt, k) for k in ("pre", "form", "road", "room", "fw", "sp", "fd", "bl")
        }
        bits = self.hashes(keys, source, salt, "bits")
        r_pre, r_form, r_road = (self.rate(source, k) for k in ("address_prefix", "address_form", "address_road_typo"))
        r_fw, r_fd = self.rate(source, "address_fullwidth"), self.rate(source, "address_former_district")
        incomplete = salt != "reg"
        r_blank = self.rate(source, "address_blank") if incomplete else 0.0
        r_building = self.rate(source, "address_building_only") if incomplete else 0.0
        r_unit = self.rate(source, "unit_missing")
        gaps = self.address_gaps.setdefault((source, salt), {})
        out = []
        for j in range(n):
            if draws["bl"][j] < r_blank:
                out.append("")
                gaps[j] = "blank"
                continue
            ai = int(ais[j])
            room = rooms[j]
            b = int(bits[j])
            if room and (
                (room.isdigit() and draws["room"][j] < r_building) or (not room.isdigit() and draws["room"][j] < r_unit)
            ):
                if room.isdigit():
                    gaps[j] = "building"
                room = ""
            road = library.address_road_name[ai]
            if draws["road"][j] < r_road:
                road = misspelt_road(road, b >> 16, self.all_roads) or road
            kind = b % 7 if draws["pre"][j] < r_pre else PREFIX_OF_STYLE[style]
            former = bool(library.street_is_former_district[library.address_street[ai]]) and draws["fd"][j] < r_fd
            form = 1 + (b >> 4) % 8 if draws["form"][j] < r_form else 0
            s = self._prefix(kind, ai, former) + self._door(ai, room, form, road)
            if draws["fw"][j] < r_fw:
                s = s.translate(FULLWIDTH)
            if draws["sp"][j] < 0.02:
                s = " " + s if b & 1 else s + " "
            out.append(s)
        return out

    # ---- identifiers and names ------------------------------------------------------------------

    def id_col(self, source: str, keys, ids, births, planted, field_name: str, salt: str = "id"):
        stored = self.stored_uniform(keys, source, salt, "stored")
        stored_bits = self.stored_hashes(keys, source, salt, "bits")
        fresh = {k: self.uniform(keys, source, salt, k) for k in ("x", "fw", "sp", "q")}
        rates = [self.rate(source, k) for k in ("stored_id_typo", "stored_id_transposed", "stored_id_15digit")]
        c_typo, c_swap, c_15, c_blank = np.cumsum(rates + [self.rate(source, "stored_id_blank")])
        r_x, r_fw, r_sp, r_q = (
            self.rate(source, k) for k in ("id_lowercase_x", "id_fullwidth", "id_spaces", "id_quote")
        )
        out = []
        for j, idn in enumerate(ids):
            x, b = stored[j], int(stored_bits[j])
            s = idn
            if x < c_typo:
                p = b % 17
                s = idn[:p] + str((int(idn[p]) + 1 + (b >> 8) % 9) % 10) + idn[p + 1 :]
                planted.append(("id_bad_check", j, field_name, f"true={idn}"))
            elif x < c_swap:
                spots = [p for p in range(6, 16) if idn[p] != idn[p + 1]]
                if spots:
                    p = spots[b % len(spots)]
                    s = idn[:p] + idn[p + 1] + idn[p] + idn[p + 2 :]
                    planted.append(("id_transposed", j, field_name, f"true={idn}"))
            elif x < c_15:
                if ymd(int(births[j])).year < 1985 and idn[0] in "123456":
                    s = idn[:6] + idn[8:17]
                    planted.append(("id_15digit", j, field_name, f"true={idn}"))
            elif x < c_blank:
                out.append("")
                planted.append(("field_blank", j, field_name, f"true={idn}"))
                continue
            if s.endswith("X") and fresh["x"][j] < r_x:
                s = s[:-1] + "x"
            if fresh["fw"][j] < r_fw:
                s = s.translate(FULLWIDTH)
            if fresh["sp"][j] < r_sp:
                s = f"{s[:6]} {s[6:14]} {s[14:]}" if len(s) == 18 and b & 1 else s + " "
            if fresh["q"][j] < r_q:
                s = "'" + s
            out.append(s)
        return out

    def name_col(self, source: str, keys, nms, planted, field_name: str, salt: str = "name", surname_len=None):
        stored = self.stored_uniform(keys, source, salt, "stored")
        stored_bits = self.stored_hashes(keys, source, salt, "bits")
        fresh = {k: self.uniform(keys, source, salt, k) for k in ("blank", "sp", "sep")}
        r_h, r_t = self.rate(source, "stored_name_homophone"), self.rate(source, "stored_name_traditional")
        r_b, r_sp, r_sep = (self.rate(source, k) for k in ("name_blank", "name_spaces", "name_separator"))
        out = []
        for j, nm in enumerate(nms):
            b = int(stored_bits[j])
            if not nm:
                out.append(nm)
                continue
            if fresh["blank"][j] < r_b:
                out.append("")
                planted.append(("field_blank", j, field_name, f"true={nm}"))
                continue
            s = nm
            if stored[j] < r_h:
                new = vocabulary.homophone(nm, b, 2 if nm[:2] in _COMPOUND else 1)
                if new:
                    s = new
                    planted.append(("name_homophone", j, field_name, f"true={nm}"))
            elif stored[j] < r_h + r_t:
                new = vocabulary.traditional(nm)
                if new:
                    s = new
                    planted.append(("name_traditional", j, field_name, f"true={nm}"))
            if "·" in s and fresh["sep"][j] < r_sep:
                s = vocabulary.with_separator(s, 1 + (b >> 20) % 4)
            if fresh["sp"][j] < r_sp and "·" not in s and len(s) >= 2:
                s = f"{s[0]} {s[1:]}" if b & 2 else s + " "
            out.append(s)
        return out

    # ---- dates, phones, codes, vocabularies ---------------------------------------------------

    def _date_text(self, dayn: int, k: int, xlsx: bool):
        dt = ymd(dayn)
        forms = [
            dt.strftime("%Y-%m-%d"),
            f"{dt.year}/{dt.month}/{dt.day}",
            dt.strftime("%Y%m%d"),
            f"{dt.year}年{dt.month}月{dt.day}日",
            dt.strftime("%Y.%m.%d"),
            f"{dt.year}-{dt.month}-{dt.day}",
        ]
        if xlsx and k == len(forms):
            return excel_serial(dayn)
        return forms[k % len(forms)]

    def date_col(self, source: str, keys, days, salt: str, xlsx: bool = False, base: int = 0):
        """Dates in mixed formats; a few with a typo (a day or a month off, day and month swapped).
        Typos are remembered in self.date_typos[(source, salt)] = {record: written day}."""
        days = np.asarray(days, dtype=np.int64)
        u_form = self.uniform(keys, source, salt, "form")
        u_typo = self.uniform(keys, source, salt, "typo")
        bits = self.hashes(keys, source, salt, "bits")
        r_form, r_typo = self.rate(source, "date_variant"), self.rate(source, "date_typo")
        typos = self.date_typos.setdefault((source, salt), {})
        n_forms = 7 if xlsx else 6
        out = []
        for j in range(len(days)):
            d = int(days[j])
            b = int(bits[j])
            if u_typo[j] < r_typo:
                dt = ymd(d)
                kind = b % 3
                if kind == 0 and dt.day <= 12 and dt.day != dt.month:
                    d = d + (dt.replace(month=dt.day, day=dt.month) - dt).days
                elif kind == 1 and dt.month < 12 and dt.day <= 28:
                    d = d + (dt.replace(month=dt.month + 1) - dt).days
                else:
                    d = d + (1 if dt.day < 28 else -1)
                typos[j] = d
            k = 1 + (b >> 8) % (n_forms - 1) if u_form[j] < r_form else 0
            out.append(self._date_text(d, k, xlsx))
        return out

    def phone_col(self, source: str, keys, phones, salt: str, planted, rows_of=None, field_name="联系电话"):
        stored = self.stored_uniform(keys, source, salt, "invalid")
        fresh = self.uniform(keys, source, salt, "form")
        blank = self.uniform(keys, source, salt, "blank")
        bits = self.hashes(keys, source, salt, "bits")
        r_inv, r_var, r_blank = (self.rate(source, k) for k in ("stored_phone_invalid", "phone_variant", "blank_field"))
        out = []
        for j, p in enumerate(phones):
            b = int(bits[j])
            if not p or blank[j] < r_blank:
                out.append("")
                continue
            if p.startswith("021-"):
                if fresh[j] < r_var:
                    p = [p[4:], "021" + p[4:], f"(021){p[4:]}", f"021 {p[4:]}"][b % 4]
                out.append(p)
                continue
            if stored[j] < r_inv:
                k = b % 10
                out.append(p[: k + 1] + p[k + 2 :])
                planted.append(("phone_invalid", j, field_name, f"true={p}"))
                continue
            if fresh[j] < r_var:
                p = [
                    f"+86 {p[:3]} {p[3:7]} {p[7:]}",
                    f"{p[:3]}-{p[3:7]}-{p[7:]}",
                    f"86{p}",
                    f"{p[:3]} {p[3:7]} {p[7:]}",
                ][b % 4]
            out.append(p)
        return out

    def uscc_col(self, source, keys, codes, planted, field_name):
        stored = self.stored_uniform(keys, source, "uscc")
        bits = self.stored_hashes(keys, source, "uscc_bits")
        fresh = self.uniform(keys, source, "uscc_form")
        r_typo, r_blank = self.rate(source, "stored_uscc_typo"), self.rate(source, "stored_uscc_blank")
        out = []
        for j, c in enumerate(codes):
            b = int(bits[j])
            if stored[j] < r_blank:
                out.append("")
                continue
            if stored[j] < r_blank + r_typo:
                p = b % 17
                c2 = c[:p] + USCC_ALPHABET[(USCC_ALPHABET.index(c[p]) + 1 + (b >> 8) % 30) % 31] + c[p + 1 :]
                if not uscc_valid(c2):
                    planted.append(("uscc_bad_check", j, field_name, f"true={c}"))
                c = c2
            if fresh[j] < 0.02:
                c = c.lower() if b & 1 else f" {c}"
            out.append(c)
        return out

    # ---- per-source hooks ------------------------------------------------------------------------

    def reading_months(self) -> list[int]:
        last = self.t - self.lag
        return list(range(max(0, last - 11), last + 1))

    def account_holder_names(self, account_ids) -> list[str]:
        """A shop's meter stays under the name it was opened with: the registered name, the legal
        representative, or the sign."""
        w = self.w
        names = super().account_holder_names(account_ids)
        kind, target = w.accounts["kind"], w.accounts["target"]
        u = self.stored_uniform(account_ids, "utility_electricity", "meter_name")
        r_rep = self.rate("utility_electricity", "stored_meter_legal_rep")
        r_sign = self.rate("utility_electricity", "stored_meter_sign")
        for j, a in enumerate(account_ids.tolist()):
            if kind[a] != 1:
                continue
            s = w.shops[target[a]]
            if u[j] < r_rep:
                names[j] = w.entities[s["entity"]]["legal_rep"] if s["entity"] >= 0 else s["owner"]
            elif u[j] < r_rep + r_sign:
                names[j] = s["sign"]
        return names

    def visit_signs(self, keys, shops: list[dict]) -> list[str]:
        """The sign as the visitor saw it, or the registered name's core copied from the licence."""
        signs = super().visit_signs(keys, shops)
        u = self.stored_uniform(keys, "street_shop_visits", "sign_source")
        r = self.rate("street_shop_visits", "stored_sign_is_registered_core")
        for j, s in enumerate(shops):
            if s["entity"] >= 0 and u[j] < r:
                core = registered_name_core(self.w.entities[s["entity"]]["name"], self.dname)
                if core:
                    signs[j] = core
        return signs

    def visit_contacts(self, keys, shops: list[dict]) -> tuple[list[str], list[str]]:
        """The 联系人 is whoever was at the counter: the owner, or a shop assistant (with the
        assistant's mobile). Recorded once with the visit."""
        contacts, phones = super().visit_contacts(keys, shops)
        src = "street_shop_visits"
        u = self.stored_uniform(keys, src, "contact")
        bits = self.stored_hashes(keys, src, "contact_bits")
        r = self.rate(src, "stored_contact_is_staff")
        for j in range(len(shops)):
            if u[j] < r:
                b = int(bits[j])
                surname = vocabulary.SURNAMES[b % len(vocabulary.SURNAMES)][0]
                given = vocabulary.GIVEN[("new", (b >> 8) & 1)]
                contacts[j] = surname + given[(b >> 10) % len(given)] + given[(b >> 20) % len(given)]
                phones[j] = f"1{'3456789'[(b >> 30) % 7]}{(b >> 33) % 1_000_000_000:09d}"
        return contacts, phones

    def operator_names(self, keys, entities: list[dict]) -> list[str]:
        names = super().operator_names(keys, entities)
        u = self.uniform(keys, "market_food_licence", "operator_short")
        r = self.rate("market_food_licence", "operator_short_name")
        for j, nm in enumerate(names):
            if u[j] < r:
                names[j] = re.sub(rf"^(上海市)?({self.dname})?", "", nm) or nm
        return names

    def extra_police_plants(self, source: str, ids: list[str], births) -> list[tuple]:
        """A typo in 出生日期 makes the row disagree with its own ID number; a blank or building-only
        居住地址 is noted (address_room_missing, informational)."""
        out = []
        for j, written_day in self.date_typos.get((source, "birth"), {}).items():
            norm = re.sub(r"[\s']", "", unicodedata.normalize("NFKC", ids[j] or "")).upper()
            if len(norm) == 15:
                digits = "19" + norm[6:12]
            elif len(norm) == 18:
                digits = norm[6:14]
            else:
                continue
            if digits != ymd(written_day).strftime("%Y%m%d"):
                out.append(("id_birthdate_mismatch", j, "公民身份号码", f"出生日期 written {ymd(written_day)}"))
        for j, gap in sorted(self.address_gaps.get((source, "res"), {}).items()):
            out.append(("address_room_missing", j, "居住地址", gap))
        return out


def registered_name_core(name: str, district: str) -> str:
    """静安区明珠花店 -> 明珠花店; 上海明珠花艺有限公司 -> 明珠花艺: what a sign painter keeps."""
    s = re.sub(rf"^(上海市|上海)?({district})?", "", name)
    s = re.sub(r"(有限责任公司|股份有限公司|有限公司|分公司|个体工商户)$", "", s)
    return s


_COMPOUND = {s for s, _ in vocabulary.SURNAMES if len(s) == 2}
