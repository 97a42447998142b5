"""Synthetic citizen reports (百姓拍) for a generated district, with their answer key.

    write_citizen_reports(inbox, persons=..., seed=..., start_month="2026-10", months=1)

1. Gives the standard address library coordinates: adds 经度/纬度 (GCJ-02) to
   `reference/standard_addresses.csv` (contracts.md). Each street is a block of the district, its roads
   run across the block, doors follow their numbers along the road (odd on one side, even on the
   other), the buildings of a lane (弄) go into the block behind the lane's door.
2. Simulates the problems of the street and the citizens who report them, day by day: problems arise
   (six 大类, their 小类), are reported by one or several citizens (minutes to days apart, different
   words, their own photo or a forwarded one, the same or a confusable category, GPS error, sometimes
   no position and only an address), and are fixed after a while: reports stop. Hard cases are made on
   purpose: a second problem of the same kind 20-45 m away (two potholes), the same spot again after
   the first was fixed, professional reporters who report many different problems in their street,
   a citizen who sends the same report twice.
3. Writes `reports/YYYY-MM-DD.csv` for every day of the delivery months, with bad rows (no 编号, a
   大类 outside the six, a time in the future, swapped or far-away coordinates, a broken photo hash, a
   row sent again the next day) and late arrivals (a report of 23:50 in the next day's file).

Answer key: `_truth/reports/YYYY-MM-DD.csv` (source_row, incident_id: contracts.md);
`_truth/reports_incidents.csv` (each problem: category, true street and committee, where, when it
arose and was fixed, kind normal / recurrence / twin); `_truth/reports_planted.csv` (the bad rows).

Rates and shapes come from how such reports behave, written here once; the hub never reads them.
Scale: 3,500 reports a day for a district of a million residents (seed 004: 3,000-4,000 a day, up to
9,000), over 37 km² (静安区), proportionally smaller for a smaller district.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import math
from pathlib import Path

import numpy as np

CST = dt.timezone(dt.timedelta(hours=8))
REPORTS_PER_MILLION = 3500
KM2_PER_MILLION = 37.0
CENTRES = {"310106": (121.4550, 31.2550), "310104": (121.4370, 31.1800)}  # 静安, 徐汇 (GCJ-02)
DEFAULT_CENTRE = (121.4700, 31.2300)

# 大类: share of problems, mean extra reports per problem, median hours until fixed, chance that the
# same spot has the problem again after the fix, median hours until it does (a repaired road holds
# for weeks; a cleared corner is dumped on again in days; a vendor moved on comes back)
MAJORS = {
    "市政设施": (0.20, 0.9, 60.0, 0.06, 21 * 24.0),
    "环境卫生": (0.32, 0.6, 10.0, 0.18, 3 * 24.0),
    "综合执法": (0.22, 0.6, 20.0, 0.18, 3 * 24.0),
    "渣土管理": (0.08, 1.8, 8.0, 0.10, 5 * 24.0),
    "园林绿化": (0.10, 0.7, 48.0, 0.05, 21 * 24.0),
    "工地管理": (0.08, 1.2, 36.0, 0.10, 7 * 24.0),
}
# 小类: words citizens use (core phrases); how far reports spread around the problem (metres);
# what it is confused with (大类/小类 when across 大类)
MINORS: dict[str, dict[str, tuple[list[str], float, list[str]]]] = {
    "市政设施": {
        "道路破损": (
            ["路面有个大坑", "马路坑坑洼洼", "路面塌陷了", "道路破损严重", "路上有坑车子颠得厉害"],
            10,
            ["人行道破损", "井盖缺失破损"],
        ),
        "人行道破损": (
            ["人行道砖松动", "人行道地砖翘起来了", "人行道破了个洞", "步行道砖块缺失"],
            10,
            ["道路破损", "盲道损坏"],
        ),
        "盲道损坏": (["盲道被破坏", "盲道砖坏了", "盲道断了"], 10, ["人行道破损"]),
        "井盖缺失破损": (["井盖没了", "窨井盖破损", "下水道盖子碎了", "井盖松动踩上去会翻"], 6, ["道路破损"]),
        "路灯不亮": (["路灯不亮", "路灯坏了晚上很黑", "这一排路灯都不亮", "路灯一直闪"], 25, []),
        "道路积水": (["路面积水很深", "下雨后积水退不掉", "积水严重行人没法走"], 40, []),
        "护栏损坏": (["护栏被撞坏了", "隔离栏倒了", "栏杆断了"], 20, []),
    },
    "环境卫生": {
        "暴露垃圾": (
            ["垃圾堆在路边没人清", "路边一堆垃圾", "垃圾乱堆发臭", "垃圾袋扔了一地"],
            10,
            ["垃圾满溢", "乱倒垃圾", "道路不洁"],
        ),
        "垃圾满溢": (["垃圾桶满了溢出来", "垃圾箱满溢", "垃圾桶都塞满了没人倒"], 6, ["暴露垃圾"]),
        "乱倒垃圾": (["有人乱倒垃圾", "半夜偷倒生活垃圾", "装修垃圾乱扔"], 12, ["暴露垃圾", "渣土管理/乱倒渣土"]),
        "道路不洁": (["路面很脏", "马路上全是泥", "路面油污没人扫"], 40, ["暴露垃圾", "渣土管理/渣土遗撒"]),
        "公厕脏乱": (["公厕太脏了", "公共厕所臭气熏天", "厕所没人打扫"], 6, []),
        "乱贴小广告": (["墙上贴满小广告", "电线杆上乱贴广告", "到处是牛皮癣广告"], 20, []),
        "动物尸体": (["路边有只死猫", "马路上有动物尸体", "死老鼠没人处理"], 6, ["暴露垃圾"]),
    },
    "综合执法": {
        "占道经营": (["有人占道摆摊", "小贩占用人行道卖东西", "水果摊摆到路上了"], 15, ["乱设摊", "出店经营"]),
        "乱设摊": (["路边乱设摊", "流动摊贩堵路", "早上卖菜的摊子乱摆"], 15, ["占道经营"]),
        "出店经营": (["店家把东西摆到店外", "饭店在门口摆桌子", "商铺出店经营占人行道"], 10, ["占道经营"]),
        "违章搭建": (["有人违章搭建", "楼顶在搭违建", "私自搭棚子"], 10, []),
        "户外广告违规": (["广告牌摇摇欲坠", "店招广告违规设置", "户外广告牌破损"], 10, []),
        "噪声扰民": (["晚上噪音很大", "广场舞声音太响", "商铺音响噪音扰民"], 60, ["工地管理/夜间施工噪声"]),
        "油烟扰民": (["饭店油烟直排", "烧烤油烟呛人", "油烟熏得窗户都黑了"], 40, []),
    },
    "渣土管理": {
        "渣土遗撒": (
            ["渣土车沿路洒了一路", "路上全是掉下来的渣土", "渣土撒落在马路上"],
            120,
            ["车辆带泥上路", "环境卫生/道路不洁"],
        ),
        "渣土车未密闭": (["渣土车没盖篷布", "土方车没有密闭", "渣土车敞着开"], 80, ["渣土遗撒"]),
        "乱倒渣土": (["有人偷倒渣土", "空地上倒了一堆建筑渣土", "晚上有车乱倒土方"], 20, ["环境卫生/乱倒垃圾"]),
        "车辆带泥上路": (
            ["车轮带泥上路", "工程车带泥把路弄脏了", "出土车辆带泥"],
            100,
            ["渣土遗撒", "工地管理/工地出入口不洁"],
        ),
    },
    "园林绿化": {
        "树木倒伏": (["大树倒了挡住路", "树被风刮倒了", "行道树倒伏"], 8, ["树枝遮挡"]),
        "树枝遮挡": (["树枝挡住红绿灯", "树枝太低挡路", "树枝伸到路上"], 8, ["树木倒伏"]),
        "绿地损毁": (["绿化带被踩坏", "草坪被毁", "绿地被车压坏了"], 15, ["毁绿占绿"]),
        "病虫害": (["树上好多虫子", "行道树有病虫害", "树叶被虫吃光了"], 20, []),
        "毁绿占绿": (["有人把绿地改成停车位", "绿化带被占用种菜", "砍树占绿地"], 12, ["绿地损毁"]),
    },
    "工地管理": {
        "工地扬尘": (
            ["工地扬尘很大", "工地灰尘满天飞", "施工不洒水全是灰"],
            50,
            ["工地出入口不洁", "渣土管理/渣土车未密闭"],
        ),
        "夜间施工噪声": (["半夜还在施工", "夜间施工太吵睡不着", "工地晚上打桩"], 70, ["综合执法/噪声扰民"]),
        "围挡破损": (["工地围挡倒了", "施工围挡破损", "围挡缺了一块"], 20, []),
        "工地出入口不洁": (["工地门口全是泥", "工地出口路面脏", "出入口没冲洗"], 30, ["渣土管理/车辆带泥上路"]),
        "无证施工": (["有人无证施工", "这个工地好像没有许可证", "私自开挖路面"], 20, []),
    },
}
PLACES = ["门口", "路口", "公交站旁边", "人行道上", "小区门口", "菜场旁边", "学校门口", "便利店前面", "地铁口", "桥下"]
DETAILS = [
    "已经好几天了",
    "影响行人通行",
    "晚上很危险",
    "老人小孩容易摔",
    "味道很大",
    "车子都绕着走",
    "天天这样",
    "反映过没人管",
]
PLEAS = ["请尽快处理", "希望相关部门管一管", "麻烦处理一下", "谢谢", "请城管来看看", ""]
SHORT = ["如图", "见照片", "看图", "有问题", "这里"]
HOMOPHONES = {
    "坑": "吭",
    "圾": "极",
    "灯": "登",
    "树": "数",
    "脏": "葬",
    "摊": "滩",
    "噪": "燥",
    "倒": "到",
    "渣": "喳",
    "泥": "尼",
}
BAD_MAJORS = ["交通管理", "其他", "市容", "城市管理类"]

# How reports reach the files. "default": today's phones and a careful citizen. "field": what real
# 百姓拍 / 12345 exports show (written apart from the default, not tuned on the hub): old phones whose
# GPS drifts 50-300 m, a position that fell back to the street office's centre (cell-tower fix) or
# to 0,0, longitude and latitude swapped by the client, a category picked wrongly (any 小类, any
# 大类), words typed in pinyin, in Shanghainese or with slips, blank or "如图" more often, the same
# citizen sending again (another category, an hour later), and a forwarded or re-sent photo
# re-compressed, so its hash is off by a few bits.
REPORT_NOISE = {
    "default": {
        "gps_drift": 0.0,  # share of reports from a phone whose fix is 50-300 m off
        "street_centre": 0.0,  # position = the street office's centre (all such reports at one point)
        "zero_position": 0.0,  # 0,0
        "swapped": 0.0,  # 经度 and 纬度 swapped (besides the planted bad rows)
        "wrong_category": 0.0,  # any other 小类 (of any 大类) on a later report (besides 0.5% always)
        "first_wrong_category": 0.0,  # the same on the first report
        "pinyin": 0.0,  # words typed as pinyin
        "dialect": 0.0,  # Shanghainese turns of phrase
        "slips": 0.08,  # homophone slips
        "blank": 0.07,
        "resend": 0.04,  # the same citizen sends it again
        "resend_other_category": 0.0,
        "resend_hours": 0.5,  # at most
        "recompress_bits": (0, 2),  # a re-sent / forwarded photo's hash: bits off
        "forward": 0.08,
        "no_position": 0.03,
    },
    "field": {
        "gps_drift": 0.06,
        "street_centre": 0.02,
        "zero_position": 0.01,
        "swapped": 0.01,
        "wrong_category": 0.04,
        "first_wrong_category": 0.02,
        "pinyin": 0.04,
        "dialect": 0.10,
        "slips": 0.20,
        "blank": 0.12,
        "resend": 0.08,
        "resend_other_category": 0.3,
        "resend_hours": 3.0,
        "recompress_bits": (1, 7),
        "forward": 0.10,
        "no_position": 0.05,
    },
}
# Shanghainese for what the default words say in Mandarin
DIALECT = {
    "有个": "有只",
    "没人": "呒没人",
    "垃圾": "垃圾（辣色）",
    "很": "老",
    "不": "勿",
    "了": "了呀",
    "这": "迭",
    "什么": "啥",
}


# ---- the address library on the map ---------------------------------------------------------------


def _read_library(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _door(row: dict) -> int:
    return int(row["弄"] or row["号"] or 0)


def layout(rows: list[dict], district_code: str, area_km2: float, rng: np.random.Generator):
    """Metres (x east, y north) of every library address, and the roads as segments."""
    streets = list(dict.fromkeys(r["街道代码"] for r in rows))
    n = max(1, len(streets))
    cols = math.ceil(math.sqrt(n))
    side = math.sqrt(area_km2 * 1e6 / n)  # one street's block, metres
    roads: dict[str, tuple[float, float, float, float]] = {}  # road -> x0, y0, x1, y1
    for si, sc in enumerate(streets):
        ox, oy = (si % cols) * side, (si // cols) * side
        names = list(dict.fromkeys(r["路名"] for r in rows if r["街道代码"] == sc))
        horiz, vert = names[0::2], names[1::2]
        for k, name in enumerate(horiz):
            y = oy + side * (k + 1) / (len(horiz) + 1)
            roads[name] = (ox, y, ox + side, y)
        for k, name in enumerate(vert):
            x = ox + side * (k + 1) / (len(vert) + 1)
            roads[name] = (x, oy, x, oy + side)
    spacing = side / (max(1, max(len(roads), 1)) ** 0.5 + 1)
    xy = np.zeros((len(rows), 2))
    by_road: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_road.setdefault(r["路名"], []).append(i)
    for name, idx in by_road.items():
        x0, y0, x1, y1 = roads[name]
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        doors = sorted({_door(rows[i]) for i in idx})
        rank = {d: k for k, d in enumerate(doors)}
        for i in idx:
            d = _door(rows[i])
            t = (rank[d] + 0.5) / len(doors) * length
            side_sign = 1 if d % 2 else -1
            depth = 12.0
            if rows[i]["弄"]:  # lane buildings go into the block behind the door
                depth = min(15.0 + 14.0 * int(rows[i]["号"] or 1), 0.4 * spacing + 15.0)
            jitter = rng.normal(0, 2.0, 2)
            xy[i] = (x0 + ux * t - uy * side_sign * depth + jitter[0], y0 + uy * t + ux * side_sign * depth + jitter[1])
    return xy, roads


class _Map:
    def __init__(self, xy: np.ndarray, rows: list[dict], roads, district_code: str):
        self.xy, self.rows, self.roads = xy, rows, roads
        lon0, lat0 = CENTRES.get(district_code, DEFAULT_CENTRE)
        self.cx, self.cy = xy[:, 0].mean(), xy[:, 1].mean()
        self.kx = math.radians(1) * 6_371_008.8 * math.cos(math.radians(lat0))
        self.ky = math.radians(1) * 6_371_008.8
        self.lon0, self.lat0 = lon0, lat0
        self.cell = 100.0
        self.grid: dict[tuple[int, int], list[int]] = {}
        for i, (x, y) in enumerate(xy):
            self.grid.setdefault((int(x // self.cell), int(y // self.cell)), []).append(i)
        self.road_names = list(roads)
        lengths = np.array([math.hypot(r[2] - r[0], r[3] - r[1]) for r in roads.values()])
        self.road_p = lengths / lengths.sum()

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        return self.lon0 + (x - self.cx) / self.kx, self.lat0 + (y - self.cy) / self.ky

    def nearest(self, x: float, y: float) -> int:
        cx, cy = int(x // self.cell), int(y // self.cell)
        for reach in range(1, 60):
            cand = [
                i
                for a in range(cx - reach, cx + reach + 1)
                for b in range(cy - reach, cy + reach + 1)
                for i in self.grid.get((a, b), ())
            ]
            if cand:
                d = [(self.xy[i, 0] - x) ** 2 + (self.xy[i, 1] - y) ** 2 for i in cand]
                return cand[int(np.argmin(d))]
        return int(np.argmin((self.xy[:, 0] - x) ** 2 + (self.xy[:, 1] - y) ** 2))

    def point_on_road(self, rng, name: str | None = None) -> tuple[float, float, str]:
        name = name or self.road_names[int(rng.choice(len(self.road_names), p=self.road_p))]
        x0, y0, x1, y1 = self.roads[name]
        t = rng.random()
        off = rng.normal(0, 5)
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        return x0 + (x1 - x0) * t - uy * off, y0 + (y1 - y0) * t + ux * off, name

    def cross_road(self, name: str) -> str | None:
        x0, y0, x1, y1 = self.roads[name]
        horizontal = y0 == y1
        for other, (a0, b0, a1, b1) in self.roads.items():
            if other == name or (b0 == b1) == horizontal:
                continue
            if horizontal and min(b0, b1) <= y0 <= max(b0, b1) and min(x0, x1) <= a0 <= max(x0, x1):
                return other
            if not horizontal and min(a0, a1) <= x0 <= max(a0, a1) and min(y0, y1) <= b0 <= max(y0, y1):
                return other
        return None


def add_coordinates(inbox: Path, area_km2: float, seed: int) -> _Map:
    """Append 经度, 纬度 to reference/standard_addresses.csv (idempotent) and return the map."""
    path = Path(inbox) / "reference" / "standard_addresses.csv"
    header, body = _read_library(path)
    if "经度" in header:
        keep = [k for k, h in enumerate(header) if h not in ("经度", "纬度")]
        header = [header[k] for k in keep]
        body = [[r[k] for k in keep] for r in body]
    rows = [dict(zip(header, r)) for r in body]
    if not rows:
        raise ValueError(f"{path}: the address library is empty")
    district_code = rows[0]["街道代码"][:6]
    rng = np.random.default_rng([seed, 4004])
    xy, roads = layout(rows, district_code, area_km2, rng)
    m = _Map(xy, rows, roads, district_code)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*header, "经度", "纬度"])
        for r, (x, y) in zip(body, xy):
            lon, lat = m.lonlat(x, y)
            w.writerow([*r, f"{lon:.6f}", f"{lat:.6f}"])
    return m


# ---- problems and the citizens who report them ----------------------------------------------------


def _hash_flip(rng, h: int, bits: int) -> int:
    for b in rng.choice(64, size=max(0, min(64, bits)), replace=False):
        h ^= 1 << int(b)
    return h


def _category_of_report(rng, major: str, minor: str, first: bool, noise: dict | None = None) -> tuple[str, str]:
    noise = noise or REPORT_NOISE["default"]
    wrong = noise["first_wrong_category" if first else "wrong_category"]
    if wrong and rng.random() < wrong:  # (no draw at a zero rate: the default profile's files stay as they were)
        other_major = list(MAJORS)[int(rng.integers(len(MAJORS)))]
        return other_major, list(MINORS[other_major])[int(rng.integers(len(MINORS[other_major])))]
    u = rng.random()
    same = 0.92 if first else 0.72
    confusable = MINORS[major][minor][2]
    if u < same:
        return major, minor
    if u < same + (0.05 if first else 0.18) and confusable:
        c = confusable[int(rng.integers(len(confusable)))]
        return tuple(c.split("/")) if "/" in c else (major, c)
    if u < 0.99 - (0.0 if first else 0.02):
        return major, minor
    if u < 0.995:
        others = [m for m in MINORS[major] if m != minor]
        return major, others[int(rng.integers(len(others)))]
    other_major = list(MAJORS)[int(rng.integers(len(MAJORS)))]
    return other_major, list(MINORS[other_major])[int(rng.integers(len(MINORS[other_major])))]


def _description(rng, minor_words: list[str], road: str, door: int, landmark: str, noise: dict | None = None) -> str:
    """A citizen's few words: maybe where (the landmark the place is known by, or the door), what,
    a detail, a plea; typed on a phone (homophone slips, pinyin, dialect in the field profile)."""
    noise = noise or REPORT_NOISE["default"]
    u = rng.random()
    if u < noise["blank"]:
        return ""
    if u < noise["blank"] + 0.05:
        return SHORT[int(rng.integers(len(SHORT)))]
    parts = []
    if rng.random() < 0.45:
        place = landmark if rng.random() < 0.75 else PLACES[int(rng.integers(len(PLACES)))]
        parts.append(f"{road}{door}号{place}" if rng.random() < 0.4 else place)
    parts.append(minor_words[int(rng.integers(len(minor_words)))])
    if rng.random() < 0.5:
        parts.append(DETAILS[int(rng.integers(len(DETAILS)))])
    plea = PLEAS[int(rng.integers(len(PLEAS)))]
    if plea and rng.random() < 0.6:
        parts.append(plea)
    text = "，".join(parts)
    if noise["dialect"] and rng.random() < noise["dialect"]:
        for a, b in DIALECT.items():
            text = text.replace(a, b)
    if rng.random() < noise["slips"]:
        text = "".join(HOMOPHONES.get(ch, ch) if rng.random() < 0.5 else ch for ch in text)
    if noise["pinyin"] and rng.random() < noise["pinyin"]:
        from pypinyin import lazy_pinyin

        text = " ".join(lazy_pinyin(text))
    return text


def _address_text(rng, m: _Map, i: int, district: str) -> str:
    r = m.rows[i]
    road, lane, no = r["路名"], r["弄"], r["号"]
    door = int(lane or no)
    if rng.random() < 0.05:
        door += int(rng.integers(1, 9)) * 2  # mistyped door
    u = rng.random()
    if u < 0.35:
        return f"{road}{lane}弄{no}号" if lane and rng.random() < 0.5 else f"{road}{door}{'弄' if lane else '号'}"
    if u < 0.55:
        return f"{district}{road}{door}号附近"
    if u < 0.75:
        other = m.cross_road(road)
        return f"{road}与{other}交叉口" if other else f"{road}{door}号旁"
    return road


def simulate(m: _Map, days: list[dt.date], reports_per_day: float, seed: int, district: str, noise: str = "default"):
    """Problems and reports from 10 days before the first day to the last; returns (incidents, reports)."""
    rng = np.random.default_rng([seed, 404])
    nz = REPORT_NOISE[noise]
    centres = {}  # street -> the street office's centre (where a cell-tower fix falls)
    for k, r in enumerate(m.rows):
        centres.setdefault(r["街道代码"], []).append(m.xy[k])
    centres = {sc: np.mean(v, axis=0) for sc, v in centres.items()}
    start = dt.datetime.combine(days[0], dt.time(0), CST) - dt.timedelta(days=10)
    end = dt.datetime.combine(days[-1], dt.time(0), CST) + dt.timedelta(days=1)
    majors = list(MAJORS)
    p_major = np.array([MAJORS[k][0] for k in majors])
    mean_reports = float(sum(MAJORS[k][0] * (1 + MAJORS[k][1]) for k in majors)) * 1.1
    n_streets = len({r["街道代码"] for r in m.rows})
    pros = {
        s: [f"U{int(rng.integers(1 << 32)):08x}" for _ in range(3)] for s in sorted({r["街道代码"] for r in m.rows})
    }
    casual = [f"U{int(rng.integers(1 << 32)):08x}" for _ in range(max(200, int(reports_per_day * 20)))]
    heavy_days = {days[int(rng.integers(len(days)))]} if len(days) >= 20 else set()
    incidents, reports = [], []

    def new_incident(
        t0: dt.datetime, major: str, minor: str, x: float, y: float, road: str, kind: str, parent=None, scene=None
    ):
        iid = f"T{len(incidents) + 1:07d}"
        extent = MINORS[major][minor][1]
        fix_h = float(rng.lognormal(math.log(MAJORS[major][2]), 0.9))
        near = m.nearest(x, y)
        inc = {
            "incident_id": iid,
            "major": major,
            "minor": minor,
            "x": x,
            "y": y,
            "road": road,
            "kind": kind,
            "parent": parent or "",
            "onset": t0,
            "fixed": t0 + dt.timedelta(hours=fix_h),
            "extent": extent,
            "scene": scene if scene is not None else int(rng.integers(0, 1 << 63)) * 2 + int(rng.integers(2)),
            "street_code": m.rows[near]["街道代码"],
            "community_code": m.rows[near]["居委代码"],
            "near": near,
            "landmark": PLACES[int(rng.integers(len(PLACES)))],
        }
        incidents.append(inc)
        _report_incident(inc)
        return inc

    def _report_incident(inc):
        major = inc["major"]
        extra = rng.negative_binomial(0.6, 0.6 / (0.6 + MAJORS[major][1]))
        if rng.random() < 0.02:
            extra += int(rng.integers(5, 16))  # a problem everyone walks past
        times = [inc["onset"] + dt.timedelta(minutes=float(rng.exponential(20)))]
        for _ in range(extra):
            gap = float(rng.lognormal(math.log(1.5), 1.6))
            times.append(times[-1] + dt.timedelta(hours=gap))
        times = [t for t in times if t < inc["fixed"]] or times[:1]
        street = inc["street_code"]
        photos: list[int] = []
        for k, t in enumerate(times):
            if 0 <= t.hour < 6 and rng.random() < 0.7:
                t = t.replace(hour=int(rng.integers(7, 10)))
            who = pros[street][int(rng.integers(3))] if rng.random() < 0.25 else casual[int(rng.integers(len(casual)))]
            _emit(inc, t, who, k == 0, photos)
            if k == 0 and rng.random() < nz["resend"]:  # sent twice by the same citizen
                later = t + dt.timedelta(minutes=float(rng.uniform(1, 60 * nz["resend_hours"])))
                _emit(inc, later, who, False, photos, resend=True)

    def _emit(inc, t, who, first, photos, resend=False):
        major, minor = (
            (inc["major"], inc["minor"]) if resend else _category_of_report(rng, inc["major"], inc["minor"], first, nz)
        )
        if resend and reports:
            prev = reports[-1]
            major, minor = prev["大类"], prev["小类"]
            if (
                nz["resend_other_category"] and rng.random() < nz["resend_other_category"]
            ):  # "maybe it belongs there": sent again under another
                major, minor = _category_of_report(rng, inc["major"], inc["minor"], False, nz)
        ext = inc["extent"]
        if ext >= 60:  # a long problem (spill along a road, noise heard from the blocks around)
            ang = rng.uniform(0, 2 * math.pi)
            r = ext * math.sqrt(rng.random())
        else:
            ang, r = rng.uniform(0, 2 * math.pi), ext * math.sqrt(rng.random())
        x, y = inc["x"] + r * math.cos(ang), inc["y"] + r * math.sin(ang)
        sigma = [4.0, 10.0, 30.0][int(rng.choice(3, p=[0.7, 0.25, 0.05]))]  # phone GPS in a dense city
        gx, gy = x + rng.normal(0, sigma), y + rng.normal(0, sigma)
        if resend and reports:
            gx, gy = reports[-1]["_x"] + rng.normal(0, 3), reports[-1]["_y"] + rng.normal(0, 3)
        elif nz["gps_drift"] and rng.random() < nz["gps_drift"]:  # an old phone
            ang, r = rng.uniform(0, 2 * math.pi), rng.uniform(50, 300)
            gx, gy = gx + r * math.cos(ang), gy + r * math.sin(ang)
        photo = None
        lo, hi = nz["recompress_bits"]
        if rng.random() < 0.96:  # 百姓拍 is a photo app (拍照取证); blank when an upload failed
            if resend and photos:
                photo = _hash_flip(rng, photos[-1], int(rng.integers(lo, hi)))
            elif photos and rng.random() < nz["forward"]:  # forwarded from a neighbour's chat group
                photo = _hash_flip(rng, photos[int(rng.integers(len(photos)))], int(rng.integers(lo, hi + 1)))
            else:
                photo = _hash_flip(rng, inc["scene"], int(np.clip(rng.normal(8, 4), 2, 24)))
            photos.append(photo)
        near = m.nearest(x, y)
        words = MINORS[major][minor][0]
        door = int(m.rows[near]["弄"] or m.rows[near]["号"])
        if resend and reports:
            desc = reports[-1]["描述"]
        else:
            desc = _description(rng, words, m.rows[near]["路名"], door, inc["landmark"], nz)
        no_position = rng.random() < nz["no_position"]
        address = _address_text(rng, m, near, district) if (no_position or rng.random() < 0.5) else ""
        fix = rng.random() if nz["street_centre"] + nz["zero_position"] + nz["swapped"] else 0.5
        if fix < nz["street_centre"]:
            gx, gy = centres[m.rows[near]["街道代码"]]
        lon, lat = m.lonlat(gx, gy)
        if nz["street_centre"] <= fix < nz["street_centre"] + nz["zero_position"]:
            lon, lat = 0.0, 0.0
        elif nz["swapped"] and fix >= 1 - nz["swapped"]:
            lon, lat = lat, lon
        reports.append(
            {
                "_t": t,
                "_x": gx,
                "_y": gy,
                "_incident": inc["incident_id"],
                "上报时间": t.isoformat(timespec="seconds"),
                "大类": major,
                "小类": minor,
                "描述": desc,
                "经度": "" if no_position else f"{lon:.6f}",
                "纬度": "" if no_position else f"{lat:.6f}",
                "地址": address,
                "照片指纹": "" if photo is None else f"{photo:016x}",
                "上报人": who,
            }
        )

    day = start
    while day < end:
        weekday = 1.0 - 0.15 * (day.weekday() >= 5)
        heavy = day.date() in heavy_days
        rate = reports_per_day / mean_reports * weekday * (2.5 if heavy else 1.0)
        for _ in range(int(rng.poisson(rate))):
            hour = float(np.clip(rng.normal(13, 4.5), 0, 23.99))
            t0 = day + dt.timedelta(hours=hour)
            major = majors[int(rng.choice(len(majors), p=p_major))]
            if heavy and rng.random() < 0.4:  # a storm: water on the roads, trees down
                major, minor = ("市政设施", "道路积水") if rng.random() < 0.5 else ("园林绿化", "树木倒伏")
            else:
                minor = list(MINORS[major])[int(rng.integers(len(MINORS[major])))]
            if rng.random() < 0.5:
                i = int(rng.integers(len(m.rows)))
                x, y, road = m.xy[i, 0] + rng.normal(0, 8), m.xy[i, 1] + rng.normal(0, 8), m.rows[i]["路名"]
            else:
                x, y, road = m.point_on_road(rng)
            inc = new_incident(t0, major, minor, x, y, road, "normal")
            # two potholes 30 m apart: a second problem of the same kind close by (only for problems that
            # sit at a point: two spills or two noises 30 m apart are one to anyone who reports them)
            extent = MINORS[major][minor][1]
            if extent <= 20 and rng.random() < 0.06:
                ang, dist = rng.uniform(0, 2 * math.pi), rng.uniform(20, 45) + extent
                new_incident(
                    t0 + dt.timedelta(hours=float(rng.uniform(-48, 48))),
                    major,
                    minor,
                    x + dist * math.cos(ang),
                    y + dist * math.sin(ang),
                    road,
                    "twin",
                    inc["incident_id"],
                    _hash_flip(rng, inc["scene"], int(np.clip(rng.normal(18, 5), 6, 32))),
                )
            if rng.random() < MAJORS[major][3]:  # fixed, then the same spot again
                again = inc["fixed"] + dt.timedelta(hours=float(rng.lognormal(math.log(MAJORS[major][4]), 0.8)))
                new_incident(
                    again,
                    major,
                    minor,
                    x + rng.normal(0, 3),
                    y + rng.normal(0, 3),
                    road,
                    "recurrence",
                    inc["incident_id"],
                    _hash_flip(rng, inc["scene"], int(np.clip(rng.normal(12, 4), 4, 30))),
                )
        day += dt.timedelta(days=1)
    return incidents, reports, n_streets


# ---- files ------------------------------------------------------------------------------------------

COLUMNS = ["编号", "上报时间", "大类", "小类", "描述", "经度", "纬度", "地址", "照片指纹", "上报人"]
BAD_KINDS = [
    "missing_id",
    "unknown_category",
    "future_time",
    "swapped_coordinates",
    "outside_district",
    "bad_fingerprint",
    "sent_again",
]


def district_area_km2(persons: int) -> float:
    """The district's area for its residents (静安区's density; at least 0.3 km²)."""
    return max(0.3, KM2_PER_MILLION * persons / 1e6)


def write_citizen_reports(
    inbox: Path,
    persons: int,
    seed: int,
    start_month: str = "2026-10",
    months: int = 1,
    reports_per_day: float | None = None,
    area_km2: float | None = None,
    first_day: dt.date | None = None,
    days: int | None = None,
    noise: str = "default",
) -> dict:
    """Coordinates for the library, a month (or `days`) of daily report files, and the answer key;
    `noise`: how the reports reach the files (REPORT_NOISE: "default" or "field")."""
    if noise not in REPORT_NOISE:
        raise ValueError(f"report noise {noise!r}: one of {', '.join(REPORT_NOISE)}")
    inbox = Path(inbox)
    scale = persons / 1e6
    rpd = reports_per_day if reports_per_day is not None else max(10.0, REPORTS_PER_MILLION * scale)
    area = area_km2 if area_km2 is not None else district_area_km2(persons)
    m = add_coordinates(inbox, area, seed)
    district = "静安区" if m.rows[0]["街道代码"].startswith("310106") else ""
    if first_day is None:
        y, mo = (int(v) for v in start_month.split("-"))
        first_day = dt.date(y, mo, 1)
        last = first_day
        for _ in range(months):
            last = dt.date(last.year, last.month, calendar.monthrange(last.year, last.month)[1]) + dt.timedelta(days=1)
        days = (last - first_day).days
    all_days = [first_day + dt.timedelta(days=k) for k in range(days or 1)]
    incidents, reports, _ = simulate(m, all_days, rpd, seed, district, noise)
    rng = np.random.default_rng([seed, 4040])
    by_day: dict[dt.date, list[dict]] = {d: [] for d in all_days}
    for r in sorted(reports, key=lambda r: r["_t"]):
        d = r["_t"].date()
        if r["_t"].hour == 23 and r["_t"].minute >= 45 and rng.random() < 0.3:
            d = d + dt.timedelta(days=1)  # arrives with the next day's file
        if d in by_day:
            by_day[d].append(r)
    rdir, tdir = inbox / "reports", inbox / "_truth" / "reports"
    rdir.mkdir(parents=True, exist_ok=True)
    tdir.mkdir(parents=True, exist_ok=True)
    planted = []
    bad_rate = 0.004
    previous: list[dict] = []
    n_rows = 0
    for d in all_days:
        rows = by_day[d]
        order = rng.permutation(len(rows))
        for k, j in enumerate(order):
            rows[j]["编号"] = f"BXP{d:%Y%m%d}{k + 1:05d}"
        out = []
        for r in rows:
            row = {c: r[c] for c in COLUMNS}
            kind = None
            if rng.random() < bad_rate * len(BAD_KINDS):
                kind = BAD_KINDS[int(rng.integers(len(BAD_KINDS)))]
                if kind == "missing_id":
                    row["编号"] = ""
                elif kind == "unknown_category":
                    row["大类"] = BAD_MAJORS[int(rng.integers(len(BAD_MAJORS)))]
                elif kind == "future_time":
                    row["上报时间"] = (r["_t"] + dt.timedelta(days=int(rng.integers(2, 400)))).isoformat(
                        timespec="seconds"
                    )
                elif kind == "swapped_coordinates" and row["经度"]:
                    row["经度"], row["纬度"] = row["纬度"], row["经度"]
                elif kind == "outside_district" and row["经度"]:
                    row["经度"], row["纬度"] = (
                        f"{float(row['经度']) + rng.choice([-1, 1]) * rng.uniform(0.3, 2):.6f}",
                        row["纬度"],
                    )
                elif kind == "bad_fingerprint":
                    row["照片指纹"] = ["N/A", "0", (row["照片指纹"] or "abcdef0123456789")[:15], "zzzzzzzzzzzzzzzz"][
                        int(rng.integers(4))
                    ]
                elif kind == "sent_again" and previous:
                    again = previous[int(rng.integers(len(previous)))]
                    out.append((dict(again[0]), again[1], "sent_again"))
                    kind = None
                else:
                    kind = None
            out.append((row, r["_incident"], kind))
        out.sort(key=lambda o: o[0]["上报时间"])
        with open(rdir / f"{d.isoformat()}.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COLUMNS)
            for row, _inc, _kind in out:
                w.writerow([row[c] for c in COLUMNS])
        with open(tdir / f"{d.isoformat()}.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["source_row", "incident_id"])
            for k, (_row, inc, kind) in enumerate(out, start=1):
                w.writerow([k, inc])
                if kind:
                    planted.append((f"reports/{d.isoformat()}.csv", k, kind, inc))
        previous = [(row, inc) for row, inc, kind in out if kind is None and row["编号"]]
        n_rows += len(out)
    with open(inbox / "_truth" / "reports_planted.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "source_row", "kind", "incident_id"])
        w.writerows(planted)
    with open(inbox / "_truth" / "reports_incidents.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            [
                "incident_id",
                "major",
                "minor",
                "street_code",
                "community_code",
                "lon",
                "lat",
                "onset",
                "fixed",
                "kind",
                "parent",
            ]
        )
        for inc in incidents:
            lon, lat = m.lonlat(inc["x"], inc["y"])
            w.writerow(
                [
                    inc["incident_id"],
                    inc["major"],
                    inc["minor"],
                    inc["street_code"],
                    inc["community_code"],
                    f"{lon:.6f}",
                    f"{lat:.6f}",
                    inc["onset"].isoformat(timespec="seconds"),
                    inc["fixed"].isoformat(timespec="seconds"),
                    inc["kind"],
                    inc["parent"],
                ]
            )
    return {
        "days": len(all_days),
        "reports": n_rows,
        "incidents": len(incidents),
        "planted": len(planted),
        "area_km2": round(area, 2),
        "reports_per_day": round(rpd, 1),
    }
