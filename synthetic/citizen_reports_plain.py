"""A second, plainer month of citizen reports (百姓拍), written from issue 16's words alone.

    write_plain_reports(inbox, seed, start="2026-11-01", days=30, noise="plain")   # or "plain-field", "plain-days"

The hub is judged on deliveries made by other generators. This one shares nothing with
synthetic/citizen_reports.py but the contract (contracts.md) and the address library's coordinates
it reads from `<inbox>/reference/standard_addresses.csv` (written by that generator's first step):
problems arise at library addresses, one to a dozen citizens report each (minutes to a day or two
apart, the same, a sibling or another 小类 of its 大类), with few words from a short list per 小类 (as
people type them: many reports of one 小类 say the same thing), phone GPS off by 5, 15 or 40 m, a
photo whose 64-bit hash is a few bits from its scene or the very photo another citizen sent, and the
hard non-duplicates of the issue: a second problem of the kind 25-40 m away at about the same time,
the same spot again after the fix.

Writes `reports/YYYY-MM-DD.csv` and `_truth/reports/YYYY-MM-DD.csv` (source_row, incident_id). No
bad rows: bench/reports_errors.py measures those. Scale: 3,500 reports a day for every 25,000
library addresses (seed 004's 3,000-4,000 a day for a district of a million).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path

CST = dt.timezone(dt.timedelta(hours=8))
COLUMNS = ["编号", "上报时间", "大类", "小类", "描述", "经度", "纬度", "地址", "照片指纹", "上报人"]
# 大类 -> 小类 -> (what citizens write, whether the problem runs along a road), with how often it arises
KINDS = {
    "市政设施": {
        "道路破损": (["路面有坑", "马路破了一个洞", "道路坑洼不平"], False, 3),
        "井盖缺失破损": (["井盖坏了", "井盖不见了"], False, 2),
        "路灯不亮": (["路灯不亮了", "晚上路灯坏了"], False, 2),
        "人行道破损": (["人行道砖坏了", "人行道不平"], False, 1),
    },
    "环境卫生": {
        "暴露垃圾": (["路边有垃圾", "垃圾没人清理", "一堆垃圾"], False, 4),
        "垃圾满溢": (["垃圾桶满了", "垃圾箱溢出"], False, 3),
        "道路不洁": (["路面脏", "马路很脏"], True, 2),
    },
    "综合执法": {
        "占道经营": (["占道经营", "摊贩占道"], False, 3),
        "乱设摊": (["乱摆摊", "流动摊贩"], False, 2),
        "违章搭建": (["违章建筑", "私搭乱建"], False, 1),
    },
    "渣土管理": {
        "渣土遗撒": (["渣土撒了一路", "路上有渣土"], True, 1),
        "车辆带泥上路": (["车辆带泥", "泥土带到路上"], True, 1),
    },
    "园林绿化": {"树木倒伏": (["树倒了", "大树倒伏"], False, 1), "树枝遮挡": (["树枝挡路", "树枝太长"], False, 1)},
    "工地管理": {
        "工地扬尘": (["工地灰尘大", "扬尘严重"], False, 1),
        "夜间施工噪声": (["半夜施工很吵", "夜间施工"], False, 1),
    },
}
SIBLINGS = {
    "道路破损": ["人行道破损", "井盖缺失破损"],
    "人行道破损": ["道路破损"],
    "暴露垃圾": ["垃圾满溢"],
    "垃圾满溢": ["暴露垃圾"],
    "占道经营": ["乱设摊"],
    "乱设摊": ["占道经营"],
    "渣土遗撒": ["车辆带泥上路"],
    "车辆带泥上路": ["渣土遗撒"],
}
ENDINGS = ["，请尽快处理", "，很危险", "", "", "，影响出行", "，好几天了"]
MAJOR_OF = {minor: major for major, minors in KINDS.items() for minor in minors}
# How the reports reach the files. plain-field as a street's export looks on a bad week: older
# phones and fixes indoors (GPS error doubled), photo uploads failing on the mobile network, later
# reports of a problem spread over a day or two, more filed under another 小类, more without a fix.
# plain-days: the "minutes to days apart" taken at its word: problems that stand for days
# before the fix (median 72 h, not 30 h) and later reports two days apart on average, as a fence
# or a broken facility is reported again and again until it is repaired.
_PLAIN = {"gps": 1.0, "gap_hours": 8.0, "sibling": 0.10, "other_minor": 0.05, "no_position": 0.03, "photo": 0.92}
PLAIN_NOISE = {
    "plain": _PLAIN,
    "plain-days": {**_PLAIN, "gap_hours": 48.0, "fixed_hours": 72.0},
    "plain-field": {
        "gps": 2.0,
        "gap_hours": 16.0,
        "sibling": 0.15,
        "other_minor": 0.08,
        "no_position": 0.08,
        "photo": 0.80,
    },
}


def write_plain_reports(inbox: Path, seed: int, start: str = "2026-11-01", days: int = 30, noise: str = "plain") -> int:
    """The month's daily files and answer key under `inbox`; returns the number of reports."""
    if noise not in PLAIN_NOISE:
        raise ValueError(f"plain report noise {noise!r}: one of {', '.join(PLAIN_NOISE)}")
    nz = PLAIN_NOISE[noise]
    inbox = Path(inbox)
    rng = random.Random(seed)
    with open(inbox / "reference" / "standard_addresses.csv", encoding="utf-8-sig", newline="") as f:
        places = [r for r in csv.DictReader(f) if r.get("经度") and r.get("纬度")]
    if not places:
        raise ValueError(f"{inbox / 'reference' / 'standard_addresses.csv'}: no 经度/纬度 to place problems at")
    lat0 = float(places[0]["纬度"])
    mx, my = 111_320 * math.cos(math.radians(lat0)), 110_540  # metres per degree
    first = dt.datetime.combine(dt.date.fromisoformat(start), dt.time(0), CST)
    end = first + dt.timedelta(days=days)
    per_day = 3500 * len(places) / 25_000
    citizens = [f"C{rng.getrandbits(40):010x}" for _ in range(int(per_day * 15))]
    minors = list(MAJOR_OF)
    often = [KINDS[MAJOR_OF[m]][m][2] for m in minors]
    reports: list[dict] = []
    count = 0

    def problem(onset: dt.datetime, minor: str, x: float, y: float, place: dict) -> dt.datetime:
        nonlocal count
        count += 1
        pid = f"P{count:06d}"
        words, along_road, _ = KINDS[MAJOR_OF[minor]][minor]
        fixed = onset + dt.timedelta(hours=rng.lognormvariate(math.log(nz.get("fixed_hours", 30.0)), 0.8))
        scene, heading = rng.getrandbits(64), rng.uniform(0, math.pi)
        many = rng.random() < 0.03
        n = 1 + (rng.randint(4, 10) if many else min(8, int(rng.expovariate(1 / 0.8))))
        photos: list[int] = []
        for k in range(n):
            at = onset + dt.timedelta(
                minutes=rng.expovariate(1 / 30) if k == 0 else 60 * rng.expovariate(1 / nz["gap_hours"])
            )
            if k and at >= fixed:
                continue
            u = rng.random()
            filed = minor
            if k and u >= 1 - nz["other_minor"]:
                filed = rng.choice(list(KINDS[MAJOR_OF[minor]]))
            elif k and u >= 1 - nz["other_minor"] - nz["sibling"]:
                filed = rng.choice(SIBLINGS.get(minor, [minor]))
            along = rng.uniform(-100, 100) if along_road else 0.0
            gps = rng.choices([5, 15, 40], [0.6, 0.3, 0.1])[0] * nz["gps"]
            rx = x + along * math.cos(heading) + rng.gauss(0, gps)
            ry = y + along * math.sin(heading) + rng.gauss(0, gps)
            photo = None
            if rng.random() < nz["photo"]:  # an upload failed otherwise
                if photos and rng.random() < 0.25:  # the photo another citizen sent
                    photo = rng.choice(photos)
                else:
                    photo = scene
                    for bit in rng.sample(range(64), rng.randint(3, 14)):
                        photo ^= 1 << bit
                photos.append(photo)
            text = rng.choice(KINDS[MAJOR_OF[filed]][filed][0]) + rng.choice(ENDINGS)
            placed = rng.random() > nz["no_position"]  # else no fix: the address the citizen typed
            reports.append(
                {
                    "at": at,
                    "minor": filed,
                    "text": "" if rng.random() < 0.1 else text,
                    "lon": f"{rx / mx:.6f}" if placed else "",
                    "lat": f"{ry / my:.6f}" if placed else "",
                    "address": "" if placed else place["标准地址"],
                    "photo": "" if photo is None else f"{photo:016x}",
                    "who": rng.choice(citizens),
                    "problem": pid,
                }
            )
        return fixed

    t = first
    while True:
        t += dt.timedelta(minutes=rng.expovariate(per_day / 1.8 / 1440))
        if t >= end:
            break
        place = rng.choice(places)
        x = float(place["经度"]) * mx + rng.uniform(-15, 15)
        y = float(place["纬度"]) * my + rng.uniform(-15, 15)
        minor = rng.choices(minors, often)[0]
        fixed = problem(t, minor, x, y, place)
        if not KINDS[MAJOR_OF[minor]][minor][1] and rng.random() < 0.08:  # another one 25-40 m away
            ang, d = rng.uniform(0, 2 * math.pi), rng.uniform(25, 40)
            problem(
                t + dt.timedelta(hours=rng.uniform(-6, 6)), minor, x + d * math.cos(ang), y + d * math.sin(ang), place
            )
        if rng.random() < 0.10:  # the same spot again after the fix
            again = fixed + dt.timedelta(days=rng.uniform(1, 7))
            problem(again, minor, x + rng.gauss(0, 3), y + rng.gauss(0, 3), place)

    by_day: dict[dt.date, list[dict]] = {}
    for r in sorted(reports, key=lambda r: r["at"]):
        if first <= r["at"] < end:
            by_day.setdefault(r["at"].date(), []).append(r)
    (inbox / "reports").mkdir(parents=True, exist_ok=True)
    (inbox / "_truth" / "reports").mkdir(parents=True, exist_ok=True)
    total = 0
    for day, rows in sorted(by_day.items()):
        name = f"{day.isoformat()}.csv"
        with (
            open(inbox / "reports" / name, "w", encoding="utf-8", newline="") as f,
            open(inbox / "_truth" / "reports" / name, "w", encoding="utf-8", newline="") as g,
        ):
            out, key = csv.writer(f), csv.writer(g)
            out.writerow(COLUMNS)
            key.writerow(["source_row", "incident_id"])
            for k, r in enumerate(rows, 1):
                out.writerow(
                    [
                        f"PL{day:%Y%m%d}{k:05d}",
                        r["at"].isoformat(timespec="seconds"),
                        MAJOR_OF[r["minor"]],
                        r["minor"],
                        r["text"],
                        r["lon"],
                        r["lat"],
                        r["address"],
                        r["photo"],
                        r["who"],
                    ]
                )
                key.writerow([k, r["problem"]])
        total += len(rows)
    return total
