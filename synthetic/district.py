"""The district: its streets and committees (districts/*.yml) and the address library (buildings,
shop premises, offices, and the dwellings inside residential buildings)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from .config import HERE, GeneratorConfig, load_yaml


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
        py_rng = random.Random(int(d["code"]))  # community names depend on the district only
        for s in d["streets"]:
            stems = [_road_stem(r) for r in s["roads"]]
            comms = []
            i = 0
            while len(comms) < s["n_communities"]:
                if i < len(stems) * 3:
                    stem = stems[i % len(stems)]
                    suf = COMMUNITY_SUFFIX[(i // len(stems)) % len(COMMUNITY_SUFFIX)]
                else:
                    stem = py_rng.choice(COMMUNITY_POOL + stems)
                    suf = py_rng.choice(COMMUNITY_SUFFIX)
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
        self,
        district: District,
        n_dwellings: int,
        n_shops: int,
        n_offices: int,
        rng: np.random.Generator,
        config: GeneratorConfig,
    ):
        self.district = district
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

        address_road, address_lane, address_number, address_kind, address_mall_name = [], [], [], [], []

        def take_no(ri: int) -> int:
            n = next_no[ri]
            next_no[ri] = n + int(rng.integers(2, 9))
            return n

        # residential buildings
        mean_size = float(np.clip(n_dwellings / 300.0, 6.0, 30.0))
        dwelling_address, dwelling_room = [], []
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
                ai = len(address_road)
                address_road.append(ri)
                address_lane.append(lane_no)
                address_number.append(b + 1 if lane_no else house_no)
                address_kind.append(A_LANE if lane_no else A_HOUSE)
                address_mall_name.append("")
                per_floor = 1 if size <= 2 else (2 if size <= 12 else (4 if size <= 40 else int(rng.integers(4, 9))))
                for k in range(size):
                    fl, j = divmod(k, per_floor)
                    dwelling_address.append(ai)
                    dwelling_room.append(f"{fl + 1}{j + 1:02d}")
                total += size
                if total >= n_dwellings:
                    break
        self.n_residential = len(address_road)
        # shop premises (street front 路+号), a few malls, offices
        self.shop_premises: list[tuple[int, str]] = []  # (address idx, unit)
        n_prem = int(n_shops * 1.12) + 4
        n_mall = max(1, n_prem // 250)
        mall_units = []
        for m in range(n_mall):
            ri = int(rng.choice(n_roads, p=road_w))
            ai = len(address_road)
            address_road.append(ri)
            address_lane.append(0)
            address_number.append(take_no(ri))
            address_kind.append(A_MALL)
            address_mall_name.append(_road_stem(road_list[ri][1]) + MALL_NAMES[m % len(MALL_NAMES)])
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
            ai = len(address_road)
            address_road.append(ri)
            address_lane.append(0)
            address_number.append(take_no(ri))
            address_kind.append(A_SHOP)
            address_mall_name.append("")
            self.shop_premises.append((ai, ""))
        self.shop_premises += mall_units
        self.office_premises: list[tuple[int, str]] = []
        n_off_bld = max(1, n_offices // 15)
        off_blds = []
        for _ in range(n_off_bld):
            ri = int(rng.choice(n_roads, p=road_w))
            ai = len(address_road)
            address_road.append(ri)
            address_lane.append(0)
            address_number.append(take_no(ri))
            address_kind.append(A_OFFICE)
            address_mall_name.append("")
            off_blds.append(ai)
        for _k in range(n_offices):
            ai = off_blds[int(rng.integers(0, len(off_blds)))]
            fl = int(rng.integers(2, 31))
            self.office_premises.append((ai, f"{fl}楼{fl}{int(rng.integers(1, 20)):02d}室"))

        self.address_road = np.array(address_road)
        self.address_lane = np.array(address_lane)
        self.address_number = np.array(address_number)
        self.address_kind = np.array(address_kind)
        self.address_mall_name = address_mall_name
        n = len(address_road)
        self.address_street = r_street[self.address_road]
        # committee: contiguous runs along (street, road, number)
        self.address_committee = np.zeros(n, dtype=np.int64)
        for si, s in enumerate(district.streets):
            idx = np.nonzero(self.address_street == si)[0]
            if len(idx) == 0:
                continue
            order = idx[np.lexsort((self.address_number[idx], self.address_lane[idx], self.address_road[idx]))]
            # group lanes: all buildings of one lane share the committee
            keys = [
                (int(self.address_road[i]), int(self.address_lane[i]) if self.address_lane[i] else -int(i))
                for i in order
            ]
            groups, last = [], None
            for i, k in zip(order, keys):
                if k != last:
                    groups.append([])
                    last = k
                groups[-1].append(i)
            nc = len(s["communities"])
            for gi, g in enumerate(groups):
                c = min(nc - 1, gi * nc // len(groups))
                self.address_committee[g] = c
        # not in library: a few residential buildings (new builds) and shop fronts
        u = rng.random(n)
        rate = config.rates["not_in_library"]
        self.address_in_library = ~(
            ((self.address_kind == A_LANE) | (self.address_kind == A_HOUSE)) & (u < rate)
            | (self.address_kind == A_SHOP) & (u < rate * 2)
        )
        if self.n_residential > 20 and not (~self.address_in_library[: self.n_residential]).any():
            self.address_in_library[int(rng.integers(0, self.n_residential))] = False
        self.address_code = [f"{district.code}{i + 1:08d}" for i in range(n)]
        ds = district.name
        self.address_road_name = [road_list[r][1] for r in address_road]
        self.address_text = [self._std(i, ds) for i in range(n)]
        self.dwelling_address = np.array(dwelling_address, dtype=np.int64)
        self.dwelling_room = dwelling_room
        # codes
        self.street_code = [s["code9"] + "000" for s in district.streets]
        self.street_name = [s["name"] for s in district.streets]
        self.committee_codes = [[c for c, _ in s["communities"]] for s in district.streets]
        self.committee_names = [[nm for _, nm in s["communities"]] for s in district.streets]
        self.street_is_former_district = np.array([s["former"] for s in district.streets])

    def _std(self, i: int, ds: str) -> str:
        road = self.address_road_name[i]
        if self.address_lane[i]:
            return f"上海市{ds}{road}{self.address_lane[i]}弄{self.address_number[i]}号"
        return f"上海市{ds}{road}{self.address_number[i]}号"

    def committee_code_of(self, ai: int) -> str:
        return self.committee_codes[self.address_street[ai]][self.address_committee[ai]]

    def committee_name_of(self, ai: int) -> str:
        return self.committee_names[self.address_street[ai]][self.address_committee[ai]]
