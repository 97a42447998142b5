"""The simulated district: address library, dwellings, persons, aid and elderly rosters,
electricity accounts, shops and registrations, evolving month by month.

Time is an integer month index t: t = 0 is twelve months before the first delivery (so that the
first delivery already carries twelve months of electricity readings and a year of history); the
deliveries are t = 12 .. 12 + months - 1. Dates are integer days since 1970-01-01.
"""

from __future__ import annotations

import datetime as _dt
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from . import names as N
from .codes import USCC_ALPHABET, id_check_chars, uscc_check_char

HERE = Path(__file__).parent
EPOCH = _dt.date(1970, 1, 1)

REL = ["户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "儿媳", "女婿", "兄弟姐妹", "其他"]
R_HEAD, R_SPOUSE, R_SON, R_DAU, R_FATHER, R_MOTHER, R_GSON, R_GDAU, R_DIL, R_SIL, R_SIB, R_OTHER = range(12)
EDU = ["", "学龄前", "小学", "初中", "高中", "中专", "大学专科", "大学本科", "研究生", "文盲或半文盲"]
ST_OK, ST_DEAD, ST_OUT = 0, 1, 2
STATUS = ["正常", "死亡", "迁出"]
ETH_NAMES = N.ETHNICITIES
AID_TYPES = ["低保", "低收入", "特困"]
AID_STANDARD = 1550  # 元/人/月 (assumed 2026 Shanghai 低保 standard)
SEASON = {1: 1.35, 2: 1.3, 3: 1.0, 4: 0.85, 5: 0.85, 6: 1.0, 7: 1.45, 8: 1.55, 9: 1.15, 10: 0.9, 11: 0.9, 12: 1.15}


def day(y: int, m: int, d: int) -> int:
    return (_dt.date(y, m, d) - EPOCH).days


def ymd(days: int) -> _dt.date:
    return EPOCH + _dt.timedelta(days=int(days))


def load_yaml(p: Path) -> dict:
    with open(p, encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass
class Cfg:
    noise_mult: float
    noise: dict
    sc: dict

    @classmethod
    def load(cls, noise_mult: float) -> Cfg:
        d = load_yaml(HERE / "noise.yml")
        return cls(noise_mult, d["noise"], d["scenarios"])

    def rate(self, source: str, key: str) -> float:
        base = self.noise.get(source, {}).get(key, self.noise["default"].get(key, 0.0))
        return min(1.0, float(base) * self.noise_mult)


def _road_stem(road: str) -> str:
    for suf in ("中路", "北路", "南路", "西路", "东路", "支路", "新路", "路"):
        if road.endswith(suf) and len(road) > len(suf) + 1:
            return road[: -len(suf)]
    return road[:2]


COMMUNITY_POOL = [
    "景华",
    "春光",
    "和平",
    "文化",
    "光明",
    "幸福",
    "安康",
    "晋元",
    "蕃瓜弄",
    "洪南",
    "三兴",
    "中华",
    "保德",
    "阳城",
    "汾西",
    "岭南",
    "宝华",
    "昌平",
    "新康",
    "锦华",
    "明园",
    "裕华",
    "康乐",
    "馨苑",
    "永乐",
    "鼎邦",
    "华康",
    "南梅",
    "泰和",
    "嘉和",
    "怡景",
    "静德",
    "华侨",
    "延平",
    "万航",
    "美丽园",
    "静园",
    "威海",
    "三和",
    "久安",
    "民晏",
    "桃源",
    "金茂",
    "新福康里",
]
COMMUNITY_SUFFIX = ["", "第一", "第二", "一村", "二村", "三村", "新村", "苑", "坊", "里", "花园", "公寓"]


@dataclass
class District:
    key: str
    name: str
    short: str
    code: str
    city: str
    former_district: str | None
    streets: list  # dicts: code9, name, roads, former, communities [(code12, name)]

    @classmethod
    def load(cls, key: str) -> District:
        p = HERE / "districts" / f"{key}.yml"
        if not p.exists():
            raise ValueError(f"unknown district {key!r}: no {p}")
        d = load_yaml(p)
        streets = []
        used: set[str] = set()
        rr = random.Random(int(d["code"]))  # community names depend on the district only
        for s in d["streets"]:
            stems = [_road_stem(r) for r in s["roads"]]
            comms = []
            i = 0
            while len(comms) < s["n_communities"]:
                if i < len(stems) * 3:
                    stem = stems[i % len(stems)]
                    suf = COMMUNITY_SUFFIX[(i // len(stems)) % len(COMMUNITY_SUFFIX)]
                else:
                    stem = rr.choice(COMMUNITY_POOL + stems)
                    suf = rr.choice(COMMUNITY_SUFFIX)
                i += 1
                nm = f"{stem}{suf}居委会"
                if nm in used:
                    continue
                used.add(nm)
                comms.append((f"{s['code']}{len(comms) + 1:03d}", nm))
            streets.append(
                dict(
                    code9=s["code"],
                    name=s["name"],
                    roads=list(s["roads"]),
                    former=bool(s.get("former", False)),
                    communities=comms,
                )
            )
        return cls(d["key"], d["name"], d["short"], d["code"], d["city"], d.get("former_district"), streets)


# -------------------------------------------------------------------------------------------------
# Address library
# -------------------------------------------------------------------------------------------------

A_LANE, A_HOUSE, A_SHOP, A_MALL, A_OFFICE = range(5)
MALL_NAMES = ["广场", "商厦", "生活广场", "购物中心", "商城"]


class Library:
    """Addresses (buildings / premises) and the dwellings (rooms) inside residential ones."""

    def __init__(
        self, district: District, n_dwellings: int, n_shops: int, n_offices: int, rng: np.random.Generator, cfg: Cfg
    ):
        self.d = district
        road_list = []  # (street idx, road)
        for si, s in enumerate(district.streets):
            for r in s["roads"]:
                road_list.append((si, r))
        self.roads = road_list
        n_roads = len(road_list)
        next_no = rng.integers(1, 40, size=n_roads).tolist()
        r_street = np.array([si for si, _ in road_list])
        street_w = np.array([len(s["communities"]) for s in district.streets], dtype=float)
        road_w = street_w[r_street] / np.bincount(r_street)[r_street]
        road_w = road_w / road_w.sum()

        a_road, a_lane, a_no, a_kind, a_mall = [], [], [], [], []

        def take_no(ri: int) -> int:
            n = next_no[ri]
            next_no[ri] = n + int(rng.integers(2, 9))
            return n

        # residential buildings
        mean_size = float(np.clip(n_dwellings / 300.0, 6.0, 30.0))
        dw_addr, dw_room = [], []
        total = 0
        while total < n_dwellings:
            ri = int(rng.choice(n_roads, p=road_w))
            if rng.random() < 0.12:  # 路+号 house: few dwellings
                lane_no, nb = 0, 1
            else:
                lane_no, nb = take_no(ri), int(rng.integers(2, 16))
            house_no = None if lane_no else take_no(ri)
            for b in range(nb):
                size = int(max(1, round(rng.gamma(2.0, mean_size / 2.0)))) if lane_no else int(rng.integers(1, 5))
                ai = len(a_road)
                a_road.append(ri)
                a_lane.append(lane_no)
                a_no.append(b + 1 if lane_no else house_no)
                a_kind.append(A_LANE if lane_no else A_HOUSE)
                a_mall.append("")
                per_floor = 1 if size <= 2 else (2 if size <= 12 else (4 if size <= 40 else int(rng.integers(4, 9))))
                for k in range(size):
                    fl, j = divmod(k, per_floor)
                    dw_addr.append(ai)
                    dw_room.append(f"{fl + 1}{j + 1:02d}")
                total += size
                if total >= n_dwellings:
                    break
        self.n_res = len(a_road)
        # shop premises (street front 路+号), a few malls, offices
        self.shop_premises: list[tuple[int, str]] = []  # (address idx, unit)
        n_prem = int(n_shops * 1.12) + 4
        n_mall = max(1, n_prem // 250)
        mall_units = []
        for m in range(n_mall):
            ri = int(rng.choice(n_roads, p=road_w))
            ai = len(a_road)
            a_road.append(ri)
            a_lane.append(0)
            a_no.append(take_no(ri))
            a_kind.append(A_MALL)
            a_mall.append(_road_stem(road_list[ri][1]) + MALL_NAMES[m % len(MALL_NAMES)])
            for u in range(int(rng.integers(8, 21))):
                unit = (
                    f"{u // 6 + 1}层{'ABC'[u % 3]}{u + 1:02d}铺"
                    if rng.random() < 0.6
                    else f"{u // 6 + 1}{u % 6 + 1:02d}室"
                )
                mall_units.append((ai, unit))
        n_front = max(0, n_prem - len(mall_units))
        for _ in range(n_front):
            ri = int(rng.choice(n_roads, p=road_w))
            ai = len(a_road)
            a_road.append(ri)
            a_lane.append(0)
            a_no.append(take_no(ri))
            a_kind.append(A_SHOP)
            a_mall.append("")
            self.shop_premises.append((ai, ""))
        self.shop_premises += mall_units
        self.office_premises: list[tuple[int, str]] = []
        n_off_bld = max(1, n_offices // 15)
        off_blds = []
        for _ in range(n_off_bld):
            ri = int(rng.choice(n_roads, p=road_w))
            ai = len(a_road)
            a_road.append(ri)
            a_lane.append(0)
            a_no.append(take_no(ri))
            a_kind.append(A_OFFICE)
            a_mall.append("")
            off_blds.append(ai)
        for k in range(n_offices):
            ai = off_blds[int(rng.integers(0, len(off_blds)))]
            fl = int(rng.integers(2, 31))
            self.office_premises.append((ai, f"{fl}楼{fl}{int(rng.integers(1, 20)):02d}室"))

        self.a_road = np.array(a_road)
        self.a_lane = np.array(a_lane)
        self.a_no = np.array(a_no)
        self.a_kind = np.array(a_kind)
        self.a_mall = a_mall
        n = len(a_road)
        self.a_street = r_street[self.a_road]
        # committee: contiguous runs along (street, road, number)
        self.a_comm = np.zeros(n, dtype=np.int64)
        for si, s in enumerate(district.streets):
            idx = np.nonzero(self.a_street == si)[0]
            if len(idx) == 0:
                continue
            order = idx[np.lexsort((self.a_no[idx], self.a_lane[idx], self.a_road[idx]))]
            # group lanes: all buildings of one lane share the committee
            keys = [(int(self.a_road[i]), int(self.a_lane[i]) if self.a_lane[i] else -int(i)) for i in order]
            groups, last = [], None
            for i, k in zip(order, keys):
                if k != last:
                    groups.append([])
                    last = k
                groups[-1].append(i)
            nc = len(s["communities"])
            for gi, g in enumerate(groups):
                c = min(nc - 1, gi * nc // len(groups))
                self.a_comm[g] = c
        # not in library: a few residential buildings (new builds) and shop fronts
        u = rng.random(n)
        rate = cfg.sc["not_in_library"]
        self.a_inlib = ~(
            ((self.a_kind == A_LANE) | (self.a_kind == A_HOUSE)) & (u < rate) | (self.a_kind == A_SHOP) & (u < rate * 2)
        )
        if self.n_res > 20 and not (~self.a_inlib[: self.n_res]).any():
            self.a_inlib[int(rng.integers(0, self.n_res))] = False
        self.a_id = [f"{district.code}{i + 1:08d}" for i in range(n)]
        ds = district.name
        self.a_road_name = [road_list[r][1] for r in a_road]
        self.a_std = [self._std(i, ds) for i in range(n)]
        self.dw_addr = np.array(dw_addr, dtype=np.int64)
        self.dw_room = dw_room
        # codes
        self.street_code = [s["code9"] + "000" for s in district.streets]
        self.street_name = [s["name"] for s in district.streets]
        self.comm_code = [[c for c, _ in s["communities"]] for s in district.streets]
        self.comm_name = [[nm for _, nm in s["communities"]] for s in district.streets]
        self.street_former = np.array([s["former"] for s in district.streets])

    def _std(self, i: int, ds: str) -> str:
        road = self.a_road_name[i]
        if self.a_lane[i]:
            return f"上海市{ds}{road}{self.a_lane[i]}弄{self.a_no[i]}号"
        return f"上海市{ds}{road}{self.a_no[i]}号"

    def comm_code_of(self, ai: int) -> str:
        return self.comm_code[self.a_street[ai]][self.a_comm[ai]]

    def comm_name_of(self, ai: int) -> str:
        return self.comm_name[self.a_street[ai]][self.a_comm[ai]]


# -------------------------------------------------------------------------------------------------
# The world
# -------------------------------------------------------------------------------------------------


class World:
    def __init__(self, district: District, persons: int, months: int, seed: int, cfg: Cfg, start_month: str):
        self.d = district
        self.cfg = cfg
        self.sc = cfg.sc
        self.seed = seed
        self.rng = np.random.default_rng([seed, 7919])
        self.rr = random.Random(seed * 1_000_003 + 17)
        y, m = (int(x) for x in start_month.split("-"))
        first = y * 12 + (m - 1) - 12
        self.n_months = 12 + months
        self.month_ym = [((first + t) // 12, (first + t) % 12 + 1) for t in range(self.n_months)]
        self.month_start = [day(yy, mm, 1) for yy, mm in self.month_ym]
        self.month_end = [day(yy + (mm == 12), mm % 12 + 1, 1) - 1 for yy, mm in self.month_ym]
        self.grad_year = self.month_ym[12][0]
        ext = load_yaml(HERE / "districts" / "_elsewhere.yml")
        self.ext = ext
        self.sh_other = [x for x in ext["shanghai"] if x["code"] != district.code]
        rc = ext["region_codes"]
        self.reg_sh = ([c for c, _ in rc["shanghai"]], np.array([w for _, w in rc["shanghai"]], dtype=float))
        self.reg_pr = ([c for c, _ in rc["province"]], np.array([w for _, w in rc["province"]], dtype=float))
        for arr in (self.reg_sh, self.reg_pr):
            arr[1][:] = arr[1] / arr[1].sum()

        n_households_est = int(persons / 2.5) + 1
        n_dw = int(n_households_est / (1 - self.sc["household_vacancy"])) + 1
        n_shops = max(40, int(persons * self.sc["shops_per_1000_persons"] / 1000))
        n_off = max(10, int(n_shops * self.sc["offices_per_shop"]))
        self.lib = Library(district, n_dw, n_shops, n_off, self.rng, cfg)
        self.n_dw = len(self.lib.dw_addr)
        self._surnames = [s for s, _ in N.SURNAMES]
        w = np.array([w for _, w in N.SURNAMES])
        self._surname_p = w / w.sum()
        self._st_sur = Stream(self.rng, self._surname_p)
        self._st_sh = Stream(self.rng, self.reg_sh[1])
        self._st_pr = Stream(self.rng, self.reg_pr[1])
        self._st_eth = Stream(self.rng, np.array(N.ETH_WEIGHTS) / sum(N.ETH_WEIGHTS))
        self._init_population(persons)
        self._init_accounts()
        self._init_shops(n_shops, n_off)
        self.visits: list[tuple] = []  # (shop idx, day, visitor idx, result)
        self.kwh: list[np.ndarray] = []  # per month: readings of accounts existing then (-1 = none)
        self.drop_sets: dict[int, set[int]] = {}
        self.month_events: dict[int, dict] = {}
        self.t = 0
        self._init_rosters()
        self._month_close(0)

    # ---- helpers --------------------------------------------------------------------------------

    def _name(self, surname: str, sex: int, birth_year: int, rare: bool = False) -> str:
        rr = self.rr
        gen = "old" if birth_year < 1960 else ("mid" if birth_year < 1990 else "new")
        pool = N.GIVEN[(gen, sex)]
        two = rr.random() < {"old": 0.6, "mid": 0.5, "new": 0.75}[gen]
        g = rr.choice(pool)
        if two:
            c2 = rr.choice(pool)
            g += c2 if c2 != g else rr.choice(pool)
        if rare:
            g = g[:-1] + rr.choice(N.RARE_CHARS if rr.random() < 0.5 else N.GBK_RARE_OK)
        return surname + g

    def _pick_surname(self) -> str:
        return self._surnames[self._st_sur.next()]

    def mobile(self) -> str:
        rr = self.rr
        return f"1{'3456789'[rr.randrange(7)]}{rr.randrange(1000000000):09d}"

    # ---- population -----------------------------------------------------------------------------

    def _new_family(self, kind: int, base_age_day: int):
        """Return list of (rel, age_years, sex) for a household of the given kind."""
        rr = self.rr
        ages = []
        if kind == 0:  # single young/middle
            ages.append((R_HEAD, rr.randint(20, 59), rr.random() < 0.55))
        elif kind == 1:  # single elderly
            ages.append((R_HEAD, min(100, 60 + int(rr.expovariate(1 / 14))), rr.random() < 0.35))
        elif kind in (2, 3):  # couple young / elderly
            a = rr.randint(24, 59) if kind == 2 else rr.randint(60, 92)
            ages += [(R_HEAD, a, True), (R_SPOUSE, max(20, a + rr.randint(-5, 2)), False)]
        elif kind in (4, 5):  # couple + 1 or 2 children
            a = rr.randint(27, 62)
            ages += [(R_HEAD, a, True), (R_SPOUSE, max(22, a + rr.randint(-5, 2)), False)]
            for _ in range(1 if kind == 4 else 2):
                c = rr.randint(0, max(0, min(34, a - 23)))
                s = rr.random() < 0.51
                ages.append((R_SON if s else R_DAU, c, s))
        elif kind == 6:  # single parent
            a = rr.randint(28, 60)
            s = rr.random() < 0.3
            ages.append((R_HEAD, a, s))
            c = rr.randint(0, max(0, min(30, a - 22)))
            cs = rr.random() < 0.5
            ages.append((R_SON if cs else R_DAU, c, cs))
        elif kind == 7:  # three generations
            a = rr.randint(30, 56)
            ages += [(R_HEAD, a, True), (R_SPOUSE, max(24, a + rr.randint(-4, 2)), False)]
            c = rr.randint(0, max(0, min(28, a - 23)))
            cs = rr.random() < 0.51
            ages.append((R_SON if cs else R_DAU, c, cs))
            pa = a + rr.randint(24, 34)
            if rr.random() < 0.6:
                ages.append((R_FATHER, pa, True))
            ages.append((R_MOTHER, pa - rr.randint(0, 4), False))
        else:  # roommates
            for k in range(rr.randint(2, 3)):
                ages.append((R_HEAD if k == 0 else R_OTHER, rr.randint(20, 40), rr.random() < 0.5))
        return ages

    def _init_population(self, n_persons: int):
        rng, rr, sc = self.rng, self.rr, self.sc
        t0 = self.month_start[0]
        # single, single elderly, couple, elderly couple, +1 child, +2 children, single parent, 3 generations, roommates
        kinds_p = np.array([0.10, 0.12, 0.08, 0.17, 0.23, 0.06, 0.05, 0.12, 0.07])
        P = dict(
            sex=[],
            birth=[],
            name=[],
            eth=[],
            dw=[],
            rel=[],
            regk=[],
            regdw=[],
            regaddr=[],
            hukou=[],
            rare=[],
            fam=[],
            region=[],
        )
        dw_perm = rng.permutation(self.n_dw)
        st_kind = Stream(rng, kinds_p)
        h = 0
        count = 0
        self.fam_reg: list = []
        while count < n_persons and h < self.n_dw:
            kind = st_kind.next()
            members = self._new_family(kind, t0)
            members = members[: n_persons - count]
            dw = int(dw_perm[h])
            self._add_family(P, members, dw, t0, kind)
            h += 1
            count += len(members)
        self.P = {
            k: np.array(v, dtype=object if k in ("name", "regaddr", "hukou", "region") else np.int64)
            for k, v in P.items()
        }
        n = len(self.P["sex"])
        self.P["status"] = np.zeros(n, dtype=np.int64)
        self.P["status_t"] = np.zeros(n, dtype=np.int64)
        self.P["last_dw"] = self.P["dw"].copy()
        self.P["police_dw"] = self.P["dw"].copy()
        self.P["created_t"] = np.zeros(n, dtype=np.int64)
        self.P["updated"] = np.maximum(t0 - rng.integers(0, 3000, size=n), self.P["birth"] + 20)
        self._finish_new_persons(0, n)

    def _add_family(self, P: dict, members, dw: int, t_day: int, kind: int = 0, regk: int | None = None):
        """Append one household's persons to the column lists in P."""
        rng, rr, sc = self.rng, self.rr, self.sc
        fam = len(self.fam_reg)
        if regk is None:
            u = rr.random()
            f = sc["from_other_province"]
            rf = sc["renhu_fenli"]
            regk = 3 if u < f else (1 if u < f + rf * 0.5 else (2 if u < f + rf else 0))
        if regk == 1:
            regdw = int(rng.integers(0, self.n_dw))
            regaddr = ""
        elif regk == 2:
            o = self.sh_other[rr.randrange(len(self.sh_other))]
            regdw = -1
            regaddr = (
                f"上海市{o['name']}{rr.choice(o['roads'])}{rr.randint(1, 1500)}弄"
                f"{rr.randint(1, 60)}号{rr.randint(1, 6)}{rr.randint(1, 4):02d}室"
            )
        else:
            regdw = dw if regk == 0 else -1
            regaddr = ""
        if regk == 3:
            region = self.reg_pr[0][self._st_pr.next()]
            prov = self.ext["provinces"].get(region[:2], ["江苏省南通市如皋市如城街道"])
            regaddr = f"{rr.choice(prov)}{rr.choice(['建设路', '人民路', '解放路', '新华村', '友谊路'])}{rr.randint(1, 300)}号"
            hukou = ""
        else:
            region = None
            hukou = None  # filled from registered dwelling below
        eth = self._st_eth.next()
        head_surname = self._pick_surname() if eth != 4 else rr.choice(N.KOREAN_SURNAMES)
        uy_father = rr.choice(N.UYGHUR_GIVEN_M)
        self.fam_reg.append((regk, regdw))
        for rel, age, male in members:
            sex = 1 if male else 0
            birth = t_day - age * 365 - rr.randint(0, 364)
            by = _year_of(birth)
            if rel in (R_HEAD, R_SON, R_DAU, R_FATHER, R_GSON, R_GDAU, R_SIB):
                surname = head_surname
            else:
                surname = self._pick_surname() if eth != 4 else rr.choice(N.KOREAN_SURNAMES)
            rare = rr.random() < 0.0008
            if eth == 5:
                g = uy_father if (rel == R_HEAD and male) else rr.choice(N.UYGHUR_GIVEN_M if male else N.UYGHUR_GIVEN_F)
                nm = f"{g}·{uy_father if rel in (R_SON, R_DAU) else rr.choice(N.UYGHUR_GIVEN_M)}"
            elif eth == 6:
                nm = rr.choice(N.TIBETAN)
            else:
                nm = self._name(surname, sex, by, rare)
            if region is None:
                rs = self.reg_sh[0][self._st_sh.next()]
                reg = rs
            else:
                reg = region
            if eth == 5:
                reg = "650102"
            reg = _region_for_year(reg, by)
            P["sex"].append(sex)
            P["birth"].append(birth)
            P["name"].append(nm)
            P["eth"].append(eth)
            P["dw"].append(dw)
            P["rel"].append(rel)
            P["regk"].append(regk)
            P["regdw"].append(regdw)
            P["regaddr"].append(regaddr)
            P["hukou"].append(hukou if hukou is not None else "")
            P["rare"].append(1 if rare else 0)
            P["fam"].append(fam)
            P["region"].append(reg)

    def _finish_new_persons(self, lo: int, hi: int):
        """Compute ID numbers, hukou numbers, education, phones, graduate flags for persons lo..hi."""
        rng, P = self.rng, self.P
        n = hi - lo
        if n <= 0:
            return
        births = P["birth"][lo:hi]
        dates = [x.replace("-", "") for x in np.datetime_as_string(births.astype("datetime64[D]")).tolist()]
        sex = P["sex"][lo:hi]
        if not hasattr(self, "_used_ids"):
            self._used_ids = set()
        ids = np.empty(n, dtype=object)
        todo = np.arange(n)
        while len(todo):
            seq = rng.integers(0, 500, size=len(todo)) * 2 + sex[todo]
            body = [f"{P['region'][lo + i]}{dates[i]}{s:03d}" for i, s in zip(todo, seq)]
            digits = (
                np.frombuffer("".join(body).encode("ascii"), dtype=np.uint8).reshape(len(todo), 17).astype(np.int64)
                - 48
            )
            chk = id_check_chars(digits)
            again = []
            for k, i in enumerate(todo):
                idn = body[k] + chk[k]
                if idn in self._used_ids:
                    again.append(i)
                else:
                    self._used_ids.add(idn)
                    ids[i] = idn
            todo = np.array(again, dtype=np.int64)
        if "idn" in P:
            P["idn"] = np.concatenate([P["idn"], ids])
        else:
            P["idn"] = ids
        # hukou numbers: per registered dwelling / external family
        if not hasattr(self, "hukou_of"):
            self.hukou_of = {}
        rr = self.rr
        for i in range(lo, hi):
            k = P["regk"][i]
            if k == 3:
                continue
            key = ("dw", int(P["regdw"][i])) if k in (0, 1) else ("fam", int(P["fam"][i]))
            hk = self.hukou_of.get(key)
            if hk is None:
                hk = f"{rr.randint(10000000, 99999999)}{len(self.hukou_of) % 10}"
                self.hukou_of[key] = hk
            P["hukou"][i] = hk
        # education, phone, graduates
        ages = (self.month_start[max(self.t, 0) if hasattr(self, "t") else 0] - births) / 365.25
        edu = np.zeros(n, dtype=np.int64)
        u = rng.random(n)
        edu[ages < 6] = 1
        edu[(ages >= 6) & (ages < 12)] = 2
        edu[(ages >= 12) & (ages < 15)] = 3
        edu[(ages >= 15) & (ages < 18)] = 4
        adult = ages >= 18
        lvl = np.searchsorted(np.cumsum([0.06, 0.2, 0.22, 0.1, 0.14, 0.22, 0.06]), u)
        lvl = np.minimum(lvl, 6)
        cand = np.array([9, 2, 3, 4, 5, 6, 7, 8])
        adult_edu = np.array([2, 3, 4, 5, 6, 7, 8])[lvl]
        old = ages >= 70
        adult_edu = np.where(old & (u < 0.15), 9, np.where(old & (adult_edu > 6), 4, adult_edu))
        edu[adult] = adult_edu[adult]
        phones = np.empty(n, dtype=object)
        has = (ages >= 16) & (rng.random(n) < np.where(ages > 80, 0.45, 0.9))
        for k in range(n):
            phones[k] = self.mobile() if has[k] else ""
        birth_year = births.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        cohort = (birth_year >= self.grad_year - 25) & (birth_year <= self.grad_year - 21)
        grad = cohort & (rng.random(n) < self.sc["graduate_share"])
        employ = rng.choice(3, size=n, p=[0.65, 0.23, 0.12])  # 已就业 未就业 灵活就业
        school = rng.integers(0, len(N.SCHOOLS), size=n)
        degree = rng.choice(4, size=n, p=N.DEGREE_WEIGHTS)
        for key, val in (
            ("edu", edu),
            ("phone", phones),
            ("grad", grad.astype(np.int64)),
            ("employ", employ),
            ("school", school),
            ("degree", degree),
        ):
            P[key] = np.concatenate([P[key], val]) if key in P and len(P[key]) == lo else val

    def _append_persons(self, P_new: dict, t: int, dw_for_police: bool = True):
        P = self.P
        lo = len(P["sex"])
        m = len(P_new["sex"])
        for k, v in P_new.items():
            P[k] = np.concatenate([P[k], np.array(v, dtype=P[k].dtype)])
        P["status"] = np.concatenate([P["status"], np.zeros(m, dtype=np.int64)])
        P["status_t"] = np.concatenate([P["status_t"], np.full(m, t, dtype=np.int64)])
        P["last_dw"] = np.concatenate([P["last_dw"], np.array(P_new["dw"], dtype=np.int64)])
        P["police_dw"] = np.concatenate([P["police_dw"], np.array(P_new["dw"], dtype=np.int64)])
        P["created_t"] = np.concatenate([P["created_t"], np.full(m, t, dtype=np.int64)])
        days = self.month_start[t] + self.rng.integers(0, 28, size=m)
        P["updated"] = np.concatenate([P["updated"], days])
        self._finish_new_persons(lo, lo + m)
        return lo, lo + m

    @property
    def n_persons(self) -> int:
        return len(self.P["sex"])

    def living(self) -> np.ndarray:
        return self.P["status"] == ST_OK

    def occupancy(self) -> np.ndarray:
        P = self.P
        live = P["status"] == ST_OK
        return np.bincount(P["dw"][live], minlength=self.n_dw)

    def age_at(self, t_day: int) -> np.ndarray:
        return (t_day - self.P["birth"]) / 365.25

    # ---- electricity accounts -------------------------------------------------------------------

    def _init_accounts(self):
        rng, sc = self.rng, self.sc
        occ = self.occupancy()
        n = self.n_dw
        has = rng.random(n) >= sc["account_missing"]
        dws = np.nonzero(has)[0]
        A = dict(kind=[], target=[], holder=[], hname=[], phone=[], opened=[], factor=[], vac=[])
        P = self.P
        live_idx = np.nonzero(self.living())[0]
        by_dw: dict[int, list[int]] = {}
        for i in live_idx.tolist():
            by_dw.setdefault(int(P["dw"][i]), []).append(i)
        self.by_dw_init = by_dw
        adults = live_idx[self.age_at(self.month_start[0])[live_idx] >= 30]
        for d in dws.tolist():
            mem = by_dw.get(d, [])
            u = self.rr.random()
            holder, hname = -1, ""
            if mem and u < 1 - sc["account_former_owner"] - sc["account_relative_elsewhere"]:
                holder = mem[0] if self.rr.random() < 0.85 else self.rr.choice(mem)
            elif (u < 1 - sc["account_former_owner"] if mem else u < 0.2) and len(adults):
                holder = int(adults[int(rng.integers(0, len(adults)))])
            if holder < 0:
                hname = self._name(self._pick_surname(), self.rr.random() < 0.5, 1950 + self.rr.randint(0, 40))
            A["kind"].append(0)
            A["target"].append(d)
            A["holder"].append(holder)
            A["hname"].append(hname)
            A["phone"].append(self.mobile() if self.rr.random() < 0.5 else "")
            A["opened"].append(int(rng.integers(1, 12)) if rng.random() < sc["account_new"] else 0)
            A["factor"].append(float(np.exp(rng.normal(0, 0.25))))
            A["vac"].append(float(rng.uniform(3, 15)))
        self.A = A
        self.acc_of_dw = {d: k for k, d in enumerate(A["target"])}

    def _new_account(self, kind: int, target: int, holder: int, hname: str, t: int, base_factor: float = 1.0):
        A = self.A
        A["kind"].append(kind)
        A["target"].append(target)
        A["holder"].append(holder)
        A["hname"].append(hname)
        A["phone"].append(self.mobile() if self.rr.random() < 0.6 else "")
        A["opened"].append(t)
        A["factor"].append(float(np.exp(self.rng.normal(0, 0.25))) * base_factor)
        A["vac"].append(float(self.rng.uniform(3, 15)))
        return len(A["kind"]) - 1

    # ---- shops ----------------------------------------------------------------------------------

    def _uscc(self, kind: str) -> str:
        rr = self.rr
        head = "92" if kind == "individual" else "91"
        org = "".join(rr.choice(USCC_ALPHABET) for _ in range(9))
        body = head + self.d.code + org
        return body + uscc_check_char(body)

    def _init_shops(self, n_shops: int, n_off: int):
        rng, rr, sc = self.rng, self.rr, self.sc
        self.shops: list[dict] = []
        self.entities: list[dict] = []
        self.licences: list[dict] = []
        prem = list(self.lib.shop_premises)
        order = rng.permutation(len(prem))
        self.free_premises = [prem[i] for i in order[n_shops:].tolist()]
        chain_counts: dict[int, int] = {}
        for i in order[:n_shops].tolist():
            self._new_shop(
                prem[i],
                t=0,
                opened_day=self.month_start[0] - int(rng.integers(30, 4000)),
                chain_counts=chain_counts,
                init=True,
            )
        # office entities (not street shops)
        for k in range(n_off):
            ai, unit = self.lib.office_premises[k]
            est = self.month_start[0] - int(rng.integers(60, 6000))
            e = dict(
                shop=-1,
                uscc=self._uscc("company"),
                name=f"上海{rr.choice(N.COMPANY_WORDS)}{rr.choice(N.OFFICE_INDUSTRY)}有限公司",
                etype=rr.choice(["有限责任公司", "有限责任公司", "股份有限公司", "有限责任公司分公司"]),
                rep=self._name(self._pick_surname(), rr.random() < 0.6, 1960 + rr.randint(0, 30)),
                addr=ai,
                unit=unit,
                scope="技术服务；信息咨询服务；企业管理",
                est=est,
                status="存续" if rng.random() < 0.93 else rr.choice(["注销", "吊销"]),
                approved=min(est + int(rng.integers(0, 2000)), self.month_start[0]),
            )
            self.entities.append(e)
            if rng.random() < 0.04 or k == 0:  # a staff canteen holds a food licence
                self._new_licence(len(self.entities) - 1, -1, 3, est + 100)
        # forced scenario minimums: at least one protected (never closing) case of each
        op = list(self.shops)
        unreg = [s for s in op if not s["registered"]]
        s = unreg[0] if unreg else op[int(rng.integers(0, len(op)))]
        self._unregister(s)
        s["keep"] = True
        dereg = [s for s in op if s["entity"] >= 0 and self.entities[s["entity"]]["status"] in ("注销", "吊销")]
        if dereg:
            dereg[0]["keep"] = True
        else:
            cands = [s for s in op if s["entity"] >= 0]
            s = cands[int(rng.integers(0, len(cands)))]
            s["keep"] = True
            e = self.entities[s["entity"]]
            e["status"] = "吊销"
            e["approved"] = self.month_start[0] - int(rng.integers(30, 700))
        food = [s for s in op if s["licence"] >= 0]
        expired = [s for s in food if self.licences[s["licence"]]["no_renew"]]
        if expired:
            expired[0]["keep"] = True
        elif food:
            s = food[int(rng.integers(0, len(food)))]
            s["keep"] = True
            self._expire_licence(s["licence"])

    def _unregister(self, s: dict):
        if s["entity"] >= 0:
            self.entities[s["entity"]]["shop"] = -2  # orphaned: drop from the registry
            self.entities[s["entity"]]["dropped"] = True
        if s["licence"] >= 0:
            self.licences[s["licence"]]["dropped"] = True
        s["entity"], s["licence"], s["registered"] = -1, -1, False

    def _expire_licence(self, li: int):
        lic = self.licences[li]
        lic["no_renew"] = True
        vu = self.month_start[0] + int(self.rng.integers(20, 330))
        lic["valid_until"] = _safe_day(vu)
        lic["issued"] = _safe_day(lic["valid_until"] - 5 * 365 + 1)

    def _new_shop(
        self, premises, t: int, opened_day: int, chain_counts: dict, init: bool = False, successor_of: int = -1
    ):
        rng, rr, sc = self.rng, self.rr, self.sc
        ai, unit = premises
        sid = len(self.shops)
        chain = -1
        if rng.random() < 0.15:
            chain = int(rng.integers(0, len(N.CHAINS)))
            sign, cat, reg_stem = N.CHAINS[chain]
        else:
            cat = int(rng.choice(len(N.SHOP_CATEGORIES), p=np.array(N.CATEGORY_WEIGHTS) / sum(N.CATEGORY_WEIGHTS)))
            item = rr.choice(N.SHOP_CATEGORIES[cat][3])
            sur = self._pick_surname()
            style = rr.random()
            if style < 0.35:
                sign = f"{rr.choice(['老', '阿', '小'])}{sur[0]}{item}"
            elif style < 0.5:
                sign = f"{sur[0]}记{item}"
            else:
                sign = f"{rr.choice(N.SHOP_WORDS)}{item}"
            reg_stem = None
        owner = self._name(self._pick_surname(), rr.random() < 0.6, 1960 + rr.randint(0, 35))
        s = dict(
            id=sid,
            addr=ai,
            unit=unit,
            sign=sign,
            cat=cat,
            chain=chain,
            owner=owner,
            phone=self.mobile(),
            opened=opened_day,
            opened_t=t,
            closed_t=-1,
            status="营业",
            successor_of=successor_of,
            entity=-1,
            licence=-1,
            registered=True,
            base=float(np.exp(rng.normal(np.log(900 if N.SHOP_CATEGORIES[cat][1] else 450), 0.5))),
            account=-1,
        )
        self.shops.append(s)
        # registration
        unreg = rng.random() < sc["shop_unregistered"]
        if not unreg:
            if chain >= 0 and reg_stem:
                chain_counts[chain] = chain_counts.get(chain, 0) + 1
                name = f"{reg_stem}{self.d.short}第{_cn_ordinal(chain_counts[chain])}分店"
                etype = "有限责任公司分公司"
                kind = "company"
            elif rng.random() < 0.6:
                word = rr.choice(N.SHOP_WORDS + N.COMPANY_WORDS)
                item = rr.choice(N.SHOP_CATEGORIES[cat][3])
                name = f"上海市{self.d.name}{word}{item}" if rr.random() < 0.5 else f"{self.d.name}{word}{item}"
                etype = "个体工商户"
                kind = "individual"
            else:
                name = f"上海{rr.choice(N.COMPANY_WORDS)}{N.INDUSTRY[cat]}有限公司"
                etype = "有限责任公司"
                kind = "company"
            est = opened_day - int(rng.integers(0, 60))
            dereg = init and rng.random() < sc["shop_deregistered"]
            changed = est + int(rng.integers(0, max(1, self.month_start[0] - est))) if rng.random() < 0.4 else est
            e = dict(
                shop=sid,
                uscc=self._uscc(kind),
                name=name,
                etype=etype,
                rep=owner,
                addr=ai,
                unit=unit,
                scope=N.SHOP_CATEGORIES[cat][4],
                est=est,
                status=(rr.choice(["注销", "吊销"]) if dereg else rr.choice(["存续", "存续", "存续", "在业"])),
                approved=min(changed, self.month_start[t])
                if not dereg
                else self.month_start[0] - int(rng.integers(30, 700)),
            )
            self.entities.append(e)
            s["entity"] = len(self.entities) - 1
            if N.SHOP_CATEGORIES[cat][1]:
                li = self._new_licence(
                    s["entity"],
                    sid,
                    2 if N.SHOP_CATEGORIES[cat][2].startswith("餐饮") else 1,
                    est + int(rng.integers(10, 60)),
                    init=init,
                )
                s["licence"] = li
        else:
            s["registered"] = False
        return s

    def _new_licence(self, ent: int, sid: int, kind_digit: int, issued: int, init: bool = False) -> int:
        rng = self.rng
        seq = len(self.licences) + 1
        body = f"{kind_digit}{self.d.code}{seq:06d}"
        chk = sum(int(c) * (i + 1) for i, c in enumerate(body)) % 10
        if init:
            # issued (or last renewed) any time in the last five years, not before the business existed
            issued = max(issued, self.month_start[0] - int(rng.integers(30, 5 * 365 - 30)))
        lic = dict(
            no=f"JY{body}{chk}",
            entity=ent,
            shop=sid,
            kind=kind_digit,
            issued=_safe_day(issued),
            valid_until=_safe_day(issued + 5 * 365 - 1),
            no_renew=False,
            dropped=False,
        )
        self.licences.append(lic)
        li = len(self.licences) - 1
        if init and rng.random() < self.sc["licence_expired"]:
            self._expire_licence(li)
        return li

    # ---- rosters --------------------------------------------------------------------------------

    def _init_rosters(self):
        rng, rr, sc, P = self.rng, self.rr, self.sc, self.P
        t_day = self.month_start[0]
        occ = self.occupancy()
        live = self.living()
        ages = self.age_at(t_day)
        # aid families
        self.aid: dict[int, dict] = {}
        self.aid_seq = 0
        occupied = np.nonzero(occ > 0)[0]
        n_aid = max(3, int(len(occupied) * sc["aid_households"]))
        by_dw = self.by_dw_init
        # prefer households with a graduating-cohort member, some 人户分离 ones
        w = np.ones(len(occupied))
        grad_dw = set(P["dw"][(P["grad"] == 1) & live].tolist())
        for k, d in enumerate(occupied.tolist()):
            mem = by_dw.get(d, [])
            if d in grad_dw:
                w[k] = 2.0
            if mem and P["regk"][mem[0]] == 1:
                w[k] *= 2.0
        chosen = rng.choice(occupied, size=min(n_aid, len(occupied)), replace=False, p=w / w.sum())
        for d in sorted(chosen.tolist()):
            self._aid_enrol(int(d), by_dw.get(int(d), []), 0)
        # guarantee a family whose declared size is off (and stays off)
        fams = sorted(self.aid.values(), key=lambda f: f["cert"])
        off = [f for f in fams if f["declared"] != len(f["members"])]
        f = off[0] if off else (fams[len(fams) // 2] if fams else None)
        if f is not None:
            f["size_off"] = True
            f["keep"] = True
            if not off:
                f["declared"] = len(f["members"]) + 1
                self._aid_amount(next(d for d, g in self.aid.items() if g is f))
        # guarantee a family whose 家庭地址 is the registered (not the actual) dwelling
        have = [f for d, f in sorted(self.aid.items()) if f["addr_dw"] != d and f["addr_dw"] == P["regdw"][f["head"]]]
        if have:
            have[0]["keep"] = True
        else:
            rf = [d for d, f in sorted(self.aid.items()) if P["regk"][f["head"]] == 1]
            if not rf:
                cands = [
                    d for d in occupied.tolist() if d not in self.aid and by_dw.get(d) and P["regk"][by_dw[d][0]] == 1
                ]
                if cands:
                    d = cands[len(cands) // 2]
                    self._aid_enrol(d, by_dw[d], 0)
                    rf = [d]
            if rf:
                f = self.aid[rf[0]]
                f["addr_dw"] = int(P["regdw"][f["head"]])
                f["keep"] = True
        # guarantee aid graduates, unemployed
        aided_grads = [i for d in self.aid for i in self.aid[d]["members"] if P["grad"][i]]
        if not aided_grads:
            cands = sorted(d for d in grad_dw if d not in self.aid)
            if cands:
                d = cands[len(cands) // 2]
                self._aid_enrol(d, by_dw.get(d, []), 0)
                aided_grads = [i for i in self.aid[d]["members"] if P["grad"][i]]
        for i in aided_grads[: max(2, len(aided_grads) // 2)]:
            P["employ"][i] = 1
        self.sticky_unemployed = np.array(aided_grads[:1], dtype=np.int64)
        for d, f in self.aid.items():
            if aided_grads and aided_grads[0] in f["members"]:
                f["keep"] = True
        # elderly alone
        self.elderly: dict[int, dict] = {}
        alone = np.nonzero(live & (ages >= 60) & (occ[P["dw"]] == 1))[0]
        for i in alone.tolist():
            if rng.random() < sc["elderly_coverage"]:
                self._elderly_add(i, 0)
        not_alone = np.nonzero(live & (ages >= 60) & (occ[P["dw"]] >= 2))[0]
        k = max(2, int(len(self.elderly) * sc["elderly_not_alone"]))
        if len(not_alone):
            for i in rng.choice(not_alone, size=min(k, len(not_alone)), replace=False).tolist():
                self._elderly_add(int(i), 0)

    def _aid_enrol(self, d: int, members: list[int], t: int):
        rr, rng, P = self.rr, self.rng, self.P
        if not members:
            return
        age0 = (self.month_start[t] - P["birth"][members[0]]) / 365.25
        if len(members) == 1 and age0 >= 60 and rr.random() < 0.4:
            typ = 2
        else:
            typ = 0 if rr.random() < 0.78 else 1
        self.aid_seq += 1
        year = ymd(self.month_start[t]).year - (rr.randint(0, 6) if t == 0 else 0)
        cert = f"{self.d.code}{'DBX'[typ]}{year}{self.aid_seq:05d}"
        size = len(members)
        declared = size
        if rng.random() < self.sc["aid_size_mismatch"]:
            declared = size + (1 if rr.random() < 0.6 or size == 1 else -1)
        regk = P["regk"][members[0]]
        addr_dw = d
        if regk == 1 and rng.random() < self.sc["aid_registered_address"]:
            addr_dw = int(P["regdw"][members[0]])
        since_t = t
        since = (
            ymd(self.month_start[t]).year - (rr.randint(0, 6) if t == 0 else 0),
            rr.randint(1, 12) if t == 0 else self.month_ym[t][1],
        )
        self.aid[d] = dict(
            cert=cert,
            type=typ,
            members=list(members),
            declared=declared,
            addr_dw=addr_dw,
            since=since,
            since_t=since_t,
            stuck=set(),
            head=members[0],
            income=int(rr.randint(0, 8) * 100 * max(0, size - 1)),
        )
        self._aid_amount(d)

    def _aid_amount(self, d: int):
        f = self.aid[d]
        n = f["declared"]
        if f["type"] == 2:
            amt = int(AID_STANDARD * 1.5) * n
        elif f["type"] == 0:
            amt = max(150, AID_STANDARD * n - f["income"])
        else:
            amt = 310 * n
        f["amount"] = amt

    def _elderly_add(self, i: int, t: int):
        rr, P = self.rr, self.P
        contact = self._name(
            P["name"][i][0] if "·" not in P["name"][i] else "王",
            rr.random() < 0.5,
            ymd(P["birth"][i]).year + rr.randint(22, 35),
        )
        self.elderly[i] = dict(
            addr_dw=int(P["dw"][i]),
            contact=contact,
            cphone=self.mobile(),
            phone=("021-" + str(rr.randint(50000000, 69999999))) if rr.random() < 0.5 else (P["phone"][i] or ""),
            stuck=False,
            added_t=t,
        )

    # ---- monthly dynamics -----------------------------------------------------------------------

    def step(self, t: int):
        """Advance to month t (>= 1): events of the month, then readings and visits."""
        self.t = t
        rng, rr, sc, P = self.rng, self.rr, self.sc, self.P
        ms, me = self.month_start[t], self.month_end[t]
        ev = dict(deaths=0, moved_out=0, moved_in=0, moved_within=0, births=0)
        live = self.living()
        ages = self.age_at(ms)
        # deaths
        q = np.clip(0.008 * np.exp(0.1 * (ages - 60)), 0.0005, 0.5) * sc["death_scale"] / 12.0
        dead = live & (rng.random(self.n_persons) < q)
        force_d = set()
        if t == 10:  # make sure listed people die and stay listed (dead_but_aided, dead_elderly_alone)
            cand = [i for f in self.aid.values() for i in f["members"] if P["status"][i] == ST_OK and ages[i] >= 55]
            if not cand:
                cand = [i for f in self.aid.values() for i in f["members"] if P["status"][i] == ST_OK and ages[i] >= 30]
            for i in rr.sample(cand, min(len(cand), max(1, len(cand) // 60))):
                force_d.add(i)
                self.aid[int(P["dw"][i])]["keep"] = True
            cand = [i for i in self.elderly if P["status"][i] == ST_OK]
            for i in rr.sample(sorted(cand), min(len(cand), max(1, len(cand) // 80))):
                force_d.add(i)
            for i in force_d:
                dead[i] = True
        di = np.nonzero(dead)[0]
        P["status"][di] = ST_DEAD
        P["status_t"][di] = t
        P["last_dw"][di] = P["dw"][di]
        P["updated"][di] = ms + rng.integers(0, 28, size=len(di))
        ev["deaths"] = len(di)
        for i in di.tolist():
            if i in self.elderly and (i in force_d or rng.random() < sc["elderly_dead_stuck"]):
                self.elderly[i]["stuck"] = True
            d = int(P["dw"][i])
            if d in self.aid and i in self.aid[d]["members"] and (i in force_d or rng.random() < sc["aid_dead_stuck"]):
                self.aid[d]["stuck"].add(i)
        # whole households moving out
        occ = self.occupancy()
        occupied = np.nonzero(occ > 0)[0]
        n_out = rng.binomial(len(occupied), sc["move_out_households"])
        out_dw = rng.choice(occupied, size=n_out, replace=False) if n_out else np.array([], dtype=np.int64)
        out_dw = np.array(
            [d for d in out_dw.tolist() if not (d in self.aid and self.aid[d].get("keep"))], dtype=np.int64
        )
        live = self.living()
        mv = live & np.isin(P["dw"], out_dw)
        # single young adults leaving
        mv |= live & (ages >= 20) & (ages < 35) & (rng.random(self.n_persons) < sc["move_out_persons"])
        mi = np.nonzero(mv)[0]
        P["status"][mi] = ST_OUT
        P["status_t"][mi] = t
        P["last_dw"][mi] = P["dw"][mi]
        P["updated"][mi] = ms + rng.integers(0, 28, size=len(mi))
        ev["moved_out"] = len(mi)
        for d in out_dw.tolist():
            if d in self.aid and rng.random() < 0.8:
                del self.aid[d]
        # moves within the district (whole households to an empty dwelling)
        occ = self.occupancy()
        vacant = np.nonzero(occ == 0)[0]
        vacant = vacant[
            ~np.isin(vacant, np.array(sorted(self.aid), dtype=np.int64))
        ]  # a dead aided person's home stays theirs
        occupied = np.nonzero(occ > 0)[0]
        n_w = min(rng.binomial(len(occupied), sc["move_within_households"]), len(vacant) // 3)
        if n_w:
            src = rng.choice(occupied, size=n_w, replace=False)
            dst = rng.choice(vacant, size=n_w, replace=False)
            mp = np.full(self.n_dw, -1, dtype=np.int64)
            mp[src] = dst
            live = self.living()
            movers = np.nonzero(live & (mp[P["dw"]] >= 0))[0]
            P["dw"][movers] = mp[P["dw"][movers]]
            P["last_dw"][movers] = P["dw"][movers]
            P["updated"][movers] = ms + rng.integers(0, 28, size=len(movers))
            ev["moved_within"] = len(movers)
            for s, d in zip(src.tolist(), dst.tolist()):
                if s in self.aid:
                    self.aid[d] = self.aid.pop(s)
            self._transfer_accounts(dst.tolist(), t)
        # police catch up with moves (stale addresses otherwise)
        live = self.living()
        stale = live & (P["police_dw"] != P["dw"])
        upd = stale & (rng.random(self.n_persons) >= self.cfg.rate("police_population", "address_stale"))
        P["police_dw"][upd] = P["dw"][upd]
        # move-ins: new households into empty dwellings
        occ = self.occupancy()
        vacant = np.nonzero(occ == 0)[0]
        vacant = vacant[
            ~np.isin(vacant, np.array(sorted(self.aid), dtype=np.int64))
        ]  # a dead aided person's home stays theirs
        n_in = min(len(vacant), max(0, int(n_out + rng.binomial(max(1, len(occupied)), 0.0003))))
        newP = dict(
            sex=[],
            birth=[],
            name=[],
            eth=[],
            dw=[],
            rel=[],
            regk=[],
            regdw=[],
            regaddr=[],
            hukou=[],
            rare=[],
            fam=[],
            region=[],
        )
        kinds_p = np.array([0.2, 0.03, 0.15, 0.02, 0.3, 0.08, 0.05, 0.07, 0.1])
        new_dws = rng.choice(vacant, size=n_in, replace=False).tolist() if n_in else []
        for d in new_dws:
            members = self._new_family(int(rng.choice(9, p=kinds_p)), ms)
            self._add_family(newP, members, int(d), ms)
        # births
        mothers = np.nonzero(
            self.living() & (P["sex"] == 0) & (ages >= 22) & (ages < 42) & np.isin(P["rel"], [R_HEAD, R_SPOUSE])
        )[0]
        n_b = min(len(mothers), rng.binomial(self.n_persons, sc["births"]))
        chosen_m = rng.choice(mothers, size=n_b, replace=False).tolist() if n_b else []
        fathers = (
            np.nonzero(
                self.living()
                & np.isin(P["dw"], P["dw"][chosen_m])
                & (P["sex"] == 1)
                & np.isin(P["rel"], [R_HEAD, R_SPOUSE])
            )[0]
            if n_b
            else []
        )
        father_of = {}
        for i in list(fathers)[::-1]:
            father_of[int(P["dw"][i])] = int(i)
        for mo in chosen_m:
            d = int(P["dw"][mo])
            fa = father_of.get(d)
            surname_src = P["name"][fa] if fa is not None else P["name"][mo]
            sur = surname_src[:2] if surname_src[:2] in {s for s, _ in N.SURNAMES if len(s) == 2} else surname_src[0]
            sex = 1 if rr.random() < 0.52 else 0
            birth = ms + rr.randint(0, 27)
            newP["sex"].append(sex)
            newP["birth"].append(birth)
            newP["name"].append(self._name(sur, sex, ymd(birth).year))
            newP["eth"].append(int(P["eth"][mo]))
            newP["dw"].append(d)
            newP["rel"].append(R_SON if sex else R_DAU)
            newP["regk"].append(int(P["regk"][mo]))
            newP["regdw"].append(int(P["regdw"][mo]))
            newP["regaddr"].append(P["regaddr"][mo])
            newP["hukou"].append("")
            newP["rare"].append(0)
            newP["fam"].append(int(P["fam"][mo]))
            newP["region"].append(self.d.code if P["regk"][mo] != 3 else P["region"][mo])
            ev["births"] += 1
        lo = self.n_persons
        if newP["sex"]:
            self._append_persons(newP, t)
            ev["moved_in"] = sum(1 for r in newP["rel"]) - ev["births"]
            self._transfer_accounts([int(d) for d in new_dws], t)
        # graduates find jobs
        g = np.nonzero((P["grad"] == 1) & (P["employ"] == 1))[0]
        P["employ"][g[rng.random(len(g)) < 0.04]] = 0
        P["employ"][self.sticky_unemployed] = 1
        self._update_aid(t)
        self._update_elderly(t)
        self._update_shops(t)
        self.month_events[t] = ev
        self._month_close(t)

    def _transfer_accounts(self, dws: list[int], t: int):
        """After a household moved into dwellings dws: open an account or transfer the name (or not)."""
        P = self.P
        if not dws:
            return
        mem = np.nonzero((P["status"] == ST_OK) & np.isin(P["dw"], dws))[0]
        first = {}
        for i in mem[::-1].tolist():
            first[int(P["dw"][i])] = i
        for d in dws:
            if d not in first:
                continue
            k = self.acc_of_dw.get(d)
            if k is None:
                if self.rr.random() < 0.3:
                    self.acc_of_dw[d] = self._new_account(0, d, first[d], "", t)
                continue
            if self.rr.random() < 0.4:
                self.A["holder"][k] = first[d]
                self.A["hname"][k] = ""

    def _update_aid(self, t: int):
        rng, rr, sc, P = self.rng, self.rr, self.sc, self.P
        for d in list(self.aid.keys()):
            f = self.aid[d]
            keep = []
            for i in f["members"]:
                st = P["status"][i]
                if st == ST_OK or i in f["stuck"]:
                    keep.append(i)
                elif st == ST_DEAD and rng.random() < sc["aid_dead_lag"]:
                    keep.append(i)
                elif st == ST_OUT and rng.random() < 0.3:
                    keep.append(i)
            if len(keep) != len(f["members"]):
                f["members"] = keep
                if rng.random() < 0.6 and not f.get("size_off"):  # declared size updated with the roster (or not)
                    f["declared"] = len(keep)
                    self._aid_amount(d)
            if (
                rng.random() >= self.cfg.rate("civil_affairs_assistance", "address_stale")
                and f["addr_dw"] != d
                and f["addr_dw"] != P["regdw"][f["head"]]
            ):
                f["addr_dw"] = d  # the family's move reaches the aid file (or not yet: stale)
            if not keep or not any(P["status"][i] == ST_OK for i in keep) and not f["stuck"]:
                del self.aid[d]
                continue
            if rng.random() < sc["aid_leave"] and not f["stuck"] and not f.get("keep"):
                del self.aid[d]
        # new families
        occ = self.occupancy()
        cand = np.nonzero(occ > 0)[0]
        n_new = rng.binomial(max(1, len(self.aid)), sc["aid_join"])
        if n_new and len(cand):
            live = np.nonzero(self.living())[0]
            for d in rng.choice(cand, size=min(n_new, len(cand)), replace=False).tolist():
                if d in self.aid:
                    continue
                mem = live[P["dw"][live] == d].tolist()
                self._aid_enrol(int(d), mem, t)

    def _update_elderly(self, t: int):
        rng, sc, P = self.rng, self.sc, self.P
        for i in list(self.elderly.keys()):
            e = self.elderly[i]
            st = P["status"][i]
            if st == ST_DEAD and not e["stuck"] and rng.random() >= sc["elderly_dead_lag"]:
                del self.elderly[i]
            elif st == ST_OUT and rng.random() < 0.8:
                del self.elderly[i]
            elif (
                st == ST_OK
                and e["addr_dw"] != P["dw"][i]
                and rng.random() >= self.cfg.rate("civil_affairs_elderly_alone", "address_stale")
            ):
                e["addr_dw"] = int(P["dw"][i])
        occ = self.occupancy()
        live = self.living()
        ages = self.age_at(self.month_start[t])
        alone = np.nonzero(live & (ages >= 60) & (occ[P["dw"]] == 1))[0]
        new = [i for i in alone.tolist() if i not in self.elderly]
        for i in new:
            if rng.random() < 0.3 * sc["elderly_coverage"]:
                self._elderly_add(i, t)

    def _update_shops(self, t: int):
        rng, rr, sc = self.rng, self.rr, self.sc
        ms = self.month_start[t]
        chain_counts: dict[int, int] = {}
        for s in self.shops:
            if s["chain"] >= 0:
                chain_counts[s["chain"]] = chain_counts.get(s["chain"], 0) + 1
        open_shops = [s for s in self.shops if s["status"] == "营业"]
        for s in open_shops:
            if rng.random() < sc["shop_close"] and not s.get("keep"):
                s["status"] = "已关闭"
                s["closed_t"] = t
                s["closed_day"] = ms + int(rng.integers(0, 28))
                if s["entity"] >= 0 and rng.random() < 0.5:
                    e = self.entities[s["entity"]]
                    e["status"] = "注销"
                    e["approved"] = s["closed_day"] + int(rng.integers(0, 3))
                if rng.random() < sc["shop_successor"]:
                    self._new_shop(
                        (s["addr"], s["unit"]), t, ms + int(rng.integers(0, 28)), chain_counts, successor_of=s["id"]
                    )
                else:
                    self.free_premises.append((s["addr"], s["unit"]))
        # late deregistration of closed shops
        for s in self.shops:
            if s["status"] == "已关闭" and s["entity"] >= 0:
                e = self.entities[s["entity"]]
                if e["status"] in ("存续", "在业") and rng.random() < 0.08:
                    e["status"] = "注销"
                    e["approved"] = ms + int(rng.integers(0, 28))
        n_open = rng.binomial(len(open_shops), sc["shop_open"])
        for _ in range(min(n_open, len(self.free_premises))):
            p = self.free_premises.pop(int(rng.integers(0, len(self.free_premises))))
            self._new_shop(p, t, ms + int(rng.integers(0, 28)), chain_counts)
        # licence renewals
        for li, lic in enumerate(self.licences):
            if lic["dropped"] or lic["no_renew"]:
                continue
            if lic["valid_until"] < self.month_end[t] + 20:
                lic["issued"] = _safe_day(min(lic["valid_until"] - int(rng.integers(5, 25)), ms))
                lic["valid_until"] = _safe_day(lic["issued"] + 5 * 365 - 1)

    # ---- per-month bookkeeping: readings, visits, power drops ----------------------------------

    def _month_close(self, t: int):
        rng, P, A = self.rng, self.P, self.A
        yy, mm = self.month_ym[t]
        n_acc = len(A["kind"])
        # shop accounts for shops without one
        for s in self.shops:
            if s["account"] < 0 and s["status"] == "营业" and (s["id"] * 7919 + self.seed) % 100 < 95:
                holder_name = self.entities[s["entity"]]["name"] if s["entity"] >= 0 else s["owner"]
                s["account"] = self._new_account(1, s["id"], -1, holder_name, s["opened_t"] if t == 0 else t)
        n_acc = len(A["kind"])
        occ = self.occupancy()
        kind = np.array(A["kind"])
        target = np.array(A["target"])
        factor = np.array(A["factor"])
        vac = np.array(A["vac"])
        opened = np.array(A["opened"])
        n_occ = np.where(kind == 0, occ[np.where(kind == 0, target, 0)], 0)
        base = np.where(n_occ > 0, (60 + 55 * n_occ) * factor, vac)
        shop_base = np.zeros(n_acc)
        for s in self.shops:
            if s["account"] >= 0:
                shop_base[s["account"]] = s["base"] if s["status"] == "营业" else 2.0
        base = np.where(kind == 1, shop_base, base)
        # elderly power drops (hospital stays etc.) this month
        drops: set[int] = set()
        live = self.living()
        listed = [i for i in self.elderly if live[i]]
        if listed and t >= 1:
            k = max(1, int(round(len(listed) * self.sc["elderly_power_drop"])))
            for i in self.rr.sample(sorted(listed), min(k, len(listed))):
                a = self.acc_of_dw.get(int(P["dw"][i]))
                if a is not None:
                    drops.add(a)
                    base[a] = base[a] * self.rr.uniform(0.0, 0.12)
        self.drop_sets[t] = drops
        from .codes import hash_u, salt_of

        z = hash_u(np.arange(n_acc), salt_of(self.seed, "kwh", t))
        z2 = hash_u(np.arange(n_acc), salt_of(self.seed, "kwh2", t))
        gauss = np.sqrt(-2 * np.log(np.maximum(z, 1e-12))) * np.cos(2 * np.pi * z2)
        season = SEASON[mm] if True else 1.0
        val = np.where(kind == 1, base * (0.9 + 0.1 * season), base * season) * np.exp(0.12 * gauss)
        k = np.round(val).astype(np.int64)
        k[opened > t] = -1
        for s in self.shops:
            if s["account"] >= 0 and s["status"] == "已关闭" and s["closed_t"] < t - 1:
                k[s["account"]] = -1
        self.kwh.append(k)
        # visits
        vr = self.sc["visit_rate"]
        ms, me = self.month_start[t], self.month_end[t]
        for s in self.shops:
            if s["status"] == "营业" and s["opened"] <= me:
                if rng.random() < (vr if s["registered"] else max(vr, 0.6)):
                    dday = max(ms, s["opened"]) + int(rng.integers(0, 28))
                    res = self.rr.choices(["合格", "基本合格", "责令整改", "不合格"], [0.7, 0.18, 0.09, 0.03])[0]
                    self.visits.append((s["id"], min(dday, me), int(rng.integers(0, 6)), res, t))
            elif s["status"] == "已关闭" and s["closed_t"] == t and rng.random() < 0.5:
                self.visits.append((s["id"], min(s["closed_day"] + 2, me), int(rng.integers(0, 6)), "已停业", t))


def _safe_day(d: int) -> int:
    """Keep validity dates away from month ends (avoids ambiguity of 'as of' day)."""
    dt = ymd(d)
    if dt.day >= 28:
        return d - (dt.day - 26)
    return d


def _cn_ordinal(n: int) -> str:
    from .codes import cn_number

    return cn_number(n, 1)


# codes of districts/counties that were abolished or created: a person's region code is the one
# in force when the number was assigned (approximated by the birth year)
_SUCCESSOR = {
    "310108": (2016, "310106"),
    "310103": (2012, "310101"),
    "310119": (2010, "310115"),
    "310102": (2001, "310101"),
    "310230": (2017, "310151"),
    "310227": (1999, "310117"),
}


def _region_for_year(code: str, birth_year: int) -> str:
    s = _SUCCESSOR.get(code)
    if s and birth_year >= s[0]:
        return s[1]
    return code


class Stream:
    """Categorical draws in batches (numpy's per-call overhead is large)."""

    def __init__(self, rng: np.random.Generator, p: np.ndarray, batch: int = 65536):
        self.rng, self.p, self.batch = rng, np.asarray(p, dtype=float), batch
        self.buf: list[int] = []
        self.i = 0

    def next(self) -> int:
        if self.i >= len(self.buf):
            self.buf = self.rng.choice(len(self.p), size=self.batch, p=self.p).tolist()
            self.i = 0
        v = self.buf[self.i]
        self.i += 1
        return v


def _year_of(d: int) -> int:
    return (EPOCH + _dt.timedelta(days=int(d))).year
