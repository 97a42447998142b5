"""Where a report is, and so which street and committee it belongs to, from the standard address library.

The position (GCJ-02) goes to the nearest library address that has 经度/纬度 (contracts.md); a report
without a usable position goes by its address text through the project's address parser: the exact
door, else the nearest door on the same road, else the road when all of it lies in one street. What
cannot be placed, or lies outside the district, or has its coordinates swapped, goes to the district's
queue with the reason, placed as far as the evidence goes (swapped back, or by its address text).
The hub does not guess a street from a road name the library does not hold.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from citizen_reports.config import ReportsConfig
from citizen_reports.evidence import address_evidence
from citizen_reports.geo import LocalProjection, NearestPoints
from citizen_reports.intake import IncomingReport
from normalize.addresses import parse_address

_CROSSING = re.compile(r"^(?:与|和|跟|同|近|靠近|临近|/|、)\s*(.+?(?:路|街|弄|道|巷))")


class AddressLibraryError(ValueError):
    pass


@dataclass
class Placement:
    street_code: str | None
    community_code: str | None
    address_id: str | None
    method: str  # position | address | address_near | crossing | road | none
    distance_m: float | None  # position → nearest library address
    x: float | None  # metres in the library's projection: where the report is taken to be (dedupe)
    y: float | None
    queue_reason: str | None  # why it goes to the district's queue (None: routed)
    note: str | None = None


@dataclass
class AddressLibrary:
    address_id: list[str]
    street_code: list[str]
    community_code: list[str]
    full_address: list[str]
    lon: np.ndarray  # NaN where the library has no coordinates
    lat: np.ndarray
    street_names: dict[str, str]
    community_names: dict[str, str]
    source: str

    def __post_init__(self):
        has = ~np.isnan(self.lon) & ~np.isnan(self.lat)
        self.with_xy = np.nonzero(has)[0]
        if len(self.with_xy):
            self.projection = LocalProjection(float(np.median(self.lon[has])), float(np.median(self.lat[has])))
        else:
            self.projection = LocalProjection(121.47, 31.23)  # any origin: only used for reports' own positions
        self.x, self.y = self.projection.xy(np.nan_to_num(self.lon), np.nan_to_num(self.lat))
        self.nearest_index = NearestPoints(self.x[self.with_xy], self.y[self.with_xy])
        self.by_key: dict[str, int] = {}
        self.by_road: dict[str, list[tuple[int, int]]] = {}
        self.road_of: dict[str, str] = {}  # address id -> its road
        for i, full in enumerate(self.full_address):
            p = parse_address(full)
            if p.address_key:
                self.by_key.setdefault(p.address_key, i)
            road, door = address_evidence(full)
            if road:
                self.road_of[self.address_id[i]] = road
            if road and door is not None:
                self.by_road.setdefault(road, []).append((door, i))

    def __len__(self) -> int:
        return len(self.address_id)

    @property
    def has_coordinates(self) -> bool:
        return len(self.with_xy) > 0

    @classmethod
    def from_inbox(cls, inbox: Path) -> AddressLibrary:
        ref = Path(inbox) / "reference"
        path = ref / "standard_addresses.csv"
        if not path.exists():
            raise AddressLibraryError(f"{path}: not found (the standard address library routes reports)")
        rows = _read_csv(path)
        need = ("地址编码", "街道代码", "居委代码", "标准地址")
        missing = [c for c in need if rows and c not in rows[0]]
        if missing:
            raise AddressLibraryError(f"{path}: header lacks {', '.join(missing)}")

        def num(v: str | None) -> float:
            try:
                return float(v) if v not in (None, "") else math.nan
            except ValueError:
                return math.nan

        streets, communities = {}, {}
        div = ref / "divisions.csv"
        if div.exists():
            for r in _read_csv(div):
                streets[r.get("街道代码", "")] = r.get("街道名称", "")
                communities[r.get("居委代码", "")] = r.get("居委名称", "")
        return cls(
            [r["地址编码"] for r in rows],
            [r["街道代码"] for r in rows],
            [r["居委代码"] for r in rows],
            [r["标准地址"] for r in rows],
            np.array([num(r.get("经度")) for r in rows], dtype="float64"),
            np.array([num(r.get("纬度")) for r in rows], dtype="float64"),
            streets,
            communities,
            str(path),
        )

    def outside_m(self, configured: float) -> float:
        """How far from every library address a position is outside the district: the configured
        distance, or more where the library itself is sparse (three times the largest gap between
        an address and its nearest neighbour, 99th percentile), so that a district with wide
        stretches between addresses does not lose its own reports."""
        cached = getattr(self, "_outside", None)
        if cached is not None and cached[0] == configured:
            return cached[1]
        gap = 0.0
        n = len(self.with_xy)
        if n >= 20:
            rng = np.random.default_rng(0)
            sample = rng.choice(n, size=min(n, 2000), replace=False)
            xs, ys = self.x[self.with_xy], self.y[self.with_xy]
            nn = []
            for i in sample:
                d = np.hypot(xs - xs[i], ys - ys[i])
                d[i] = np.inf
                nn.append(d.min())
            gap = float(np.percentile(nn, 99))
        value = max(configured, 3 * gap)
        self._outside = (configured, value)
        return value

    def fingerprint(self) -> str:
        import hashlib

        h = hashlib.sha256()
        for row in zip(self.address_id, self.street_code, self.community_code, self.full_address, self.lon, self.lat):
            h.update(repr(row).encode())
        for code in sorted(self.community_names):
            h.update(f"{code}{self.community_names[code]}".encode())
        return h.hexdigest()

    def nearest(self, lon: float, lat: float, max_m: float) -> tuple[int, float] | None:
        x, y = self.projection.xy(lon, lat)
        hit = self.nearest_index.nearest(float(x), float(y), max_m)
        if hit is None:
            return None
        return int(self.with_xy[hit[0]]), hit[1]

    def _point(self, i: int) -> tuple[float | None, float | None]:
        if math.isnan(self.lon[i]) or math.isnan(self.lat[i]):
            return None, None
        return float(self.x[i]), float(self.y[i])

    def by_text(self, text: str) -> tuple[int | None, str, str | None]:
        """(library index, method, note) for a free-text address; (None, 'none', why) when it says too little."""
        if not text:
            return None, "none", "无位置、无地址"
        p = parse_address(text)
        if p.address_key and p.address_key in self.by_key:
            return self.by_key[p.address_key], "address", None
        road, door = address_evidence(text)
        doors = self.by_road.get(road or "")
        if doors and door is not None:
            gap, i = min((abs(d - door), i) for d, i in doors)
            if gap == 0:  # the lane (弄) or door itself, without the building
                return i, "address", None
            if gap <= 20:
                return i, "address_near", f"地址“{text}”不在标准地址库，按同路最近门牌定位"
        crossing = self._crossing(road, p.rest or "")
        if crossing is not None:
            return crossing, "crossing", f"地址“{text}”按两条路的交叉口定位"
        if doors:
            streets = {self.street_code[i] for _, i in doors}
            if len(streets) == 1:
                return doors[0][1], "road", f"地址“{text}”只能定位到道路{road}（整条路在一个街道）"
            return None, "none", f"地址“{text}”只说到道路{road}，该路跨{len(streets)}个街道"
        return None, "none", f"地址“{text}”不在标准地址库"

    def _crossing(self, road: str | None, rest: str) -> int | None:
        """A路与B路交叉口 / A路近B路: of the library doors on the two roads (with coordinates), the
        one of road A nearest to road B: where the roads meet, as far as the library shows."""
        m = _CROSSING.match(rest)
        if not road or not m:
            return None
        other = parse_address(m.group(1)).road
        a = [i for _, i in self.by_road.get(road, []) if not math.isnan(self.lon[i])]
        b = [i for _, i in self.by_road.get(other or "", []) if not math.isnan(self.lon[i])]
        if not a or not b or other == road:
            return None
        ax, ay = self.x[a], self.y[a]
        bx, by = self.x[b], self.y[b]
        d = np.hypot(ax[:, None] - bx[None, :], ay[:, None] - by[None, :])
        return a[int(np.unravel_index(np.argmin(d), d.shape)[0])]

    def _at(self, i: int, method: str, distance_m, x, y, queue_reason=None, note=None) -> Placement:
        """A placement at library address `i` (street, committee and address from the library)."""
        return Placement(
            self.street_code[i],
            self.community_code[i],
            self.address_id[i],
            method,
            distance_m,
            x,
            y,
            queue_reason,
            note,
        )

    def place(self, r: IncomingReport, cfg: ReportsConfig) -> Placement:
        """Where a report is: its position, or its address text; as far as the evidence goes. A
        position that needed help (swapped back, or outside the district and placed by the address
        text instead) places the report for duplicates and suggests its street, and the incident it
        opens waits in the district's queue with the reason until someone has looked."""
        rc = cfg.routing
        if r.position_problem == "swapped":
            back = replace(r, lon=r.lat, lat=r.lon, position_problem=None)
            p = self.place(back, cfg) if back.lon is not None else None
            if p is None or p.x is None or p.street_code is None or p.method != "position":
                return Placement(None, None, None, "none", None, None, None, "经纬度颠倒，请核实位置后分拨")
            p.queue_reason = "经纬度颠倒，按对调后的位置定位，请核实位置后分拨"
            return p
        if r.position_problem == "not_a_position":
            # 0,0 or unreadable: a phone without a fix; as if no position was given, the address text
            # places the report (for duplicates too) when it can
            p = self.place(replace(r, lon=None, lat=None, position_problem=None), cfg)
            if p.queue_reason:
                p.queue_reason = f"经纬度无效，{p.queue_reason}"
            else:
                p.note = "经纬度无效，按地址文字定位" + (f"；{p.note}" if p.note else "")
            return p
        if r.lon is not None and self.has_coordinates:
            x, y = (float(v) for v in self.projection.xy(r.lon, r.lat))
            outside = self.outside_m(rc.outside_district_m)
            hit = self.nearest(r.lon, r.lat, outside)
            if hit is None:
                j, method, _ = self.by_text(r.address_text)
                if j is not None and method in ("address", "address_near", "crossing"):
                    px, py = self._point(j)
                    return self._at(
                        j,
                        method,
                        None,
                        px,
                        py,
                        f"位置在辖区外（{outside:.0f}米内没有标准地址），按地址文字定位，请核实后分拨",
                    )
                return Placement(
                    None,
                    None,
                    None,
                    "none",
                    None,
                    None,
                    None,
                    f"位置在辖区外（{outside:.0f}米内没有标准地址），请核实",
                )
            i, d = hit
            if d <= rc.max_distance_m:
                return self._at(i, "position", d, x, y)
            j, method, note = self.by_text(r.address_text)
            if j is not None and method != "road":
                return self._at(j, method, d, x, y, note=f"位置离最近标准地址{d:.0f}米，按地址文字定位")
            return self._at(i, "position", d, x, y, note=f"位置离最近标准地址{d:.0f}米")
        if r.lon is not None:  # a library without coordinates: the position still serves duplicates
            x, y = (float(v) for v in self.projection.xy(r.lon, r.lat))
        else:
            x = y = None
        j, method, note = self.by_text(r.address_text)
        if j is None:
            return Placement(None, None, None, "none", None, x, y, f"无法定位：{note}")
        px, py = self._point(j)
        if x is None and method in ("address", "address_near", "crossing"):
            x, y = px, py
        community = None if method == "road" else self.community_code[j]
        return Placement(
            self.street_code[j],
            community,
            None if method == "road" else self.address_id[j],
            method,
            None,
            x,
            y,
            None,
            note,
        )


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [{k.strip(): (v or "").strip() for k, v in row.items() if k is not None} for row in csv.DictReader(f)]


def find_inbox(report_file: Path) -> Path | None:
    """The inbox of `<inbox>/reports/YYYY-MM-DD.csv`, when the file sits there."""
    p = Path(report_file).resolve()
    if p.parent.name == "reports" and (p.parent.parent / "reference").is_dir():
        return p.parent.parent
    return None
