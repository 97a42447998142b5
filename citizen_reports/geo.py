"""Distances in metres on GCJ-02 coordinates, and a grid index for "what is near this point".

GCJ-02 shifts WGS-84 by a smooth offset of a few hundred metres that changes by centimetres over a
district, so distances between two GCJ-02 points are WGS-84 distances to well under a metre: a local
equirectangular projection around the district is exact enough at the scale of a street.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
# The mainland's coordinates (GCJ-02 is defined inside China only): a pair outside is not a position.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (scalars or numpy arrays)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype="float64")) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def in_china(lon: float, lat: float) -> bool:
    return CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]


class LocalProjection:
    """Metres east (x) and north (y) of an origin; exact to a few centimetres over a district."""

    def __init__(self, lon0: float, lat0: float):
        self.lon0, self.lat0 = float(lon0), float(lat0)
        self.kx = math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
        self.ky = math.radians(1) * EARTH_RADIUS_M

    def xy(self, lon, lat):
        return (np.asarray(lon, dtype="float64") - self.lon0) * self.kx, (
            np.asarray(lat, dtype="float64") - self.lat0
        ) * self.ky

    def lonlat(self, x, y):
        return self.lon0 + np.asarray(x, dtype="float64") / self.kx, self.lat0 + np.asarray(
            y, dtype="float64"
        ) / self.ky


class GridIndex:
    """Points in square cells of `cell_m` metres: a radius query looks at the few cells it covers."""

    def __init__(self, cell_m: float):
        self.cell = float(cell_m)
        self.cells: dict[tuple[int, int], list] = defaultdict(list)
        self.where: dict[object, tuple[float, float]] = {}

    def _key(self, x: float, y: float) -> tuple[int, int]:
        return (math.floor(x / self.cell), math.floor(y / self.cell))

    def add(self, key, x: float, y: float) -> None:
        self.cells[self._key(x, y)].append(key)
        self.where[key] = (x, y)

    def discard(self, key) -> None:
        xy = self.where.pop(key, None)
        if xy is not None:
            bucket = self.cells.get(self._key(*xy))
            if bucket is not None and key in bucket:
                bucket.remove(key)

    def near(self, x: float, y: float, radius: float) -> Iterable[tuple[object, float]]:
        """(key, distance) of every point within `radius` metres."""
        reach = math.ceil(radius / self.cell)
        cx, cy = self._key(x, y)
        r2 = radius * radius
        for i in range(cx - reach, cx + reach + 1):
            for j in range(cy - reach, cy + reach + 1):
                for key in self.cells.get((i, j), ()):
                    px, py = self.where[key]
                    d2 = (px - x) ** 2 + (py - y) ** 2
                    if d2 <= r2:
                        yield key, math.sqrt(d2)


class NearestPoints:
    """Nearest of a fixed set of points (the standard address library), bucketed by cell."""

    def __init__(self, x: np.ndarray, y: np.ndarray, cell_m: float = 250.0):
        self.x, self.y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
        self.cell = float(cell_m)
        cx, cy = np.floor(self.x / self.cell).astype(np.int64), np.floor(self.y / self.cell).astype(np.int64)
        order = np.lexsort((cy, cx))
        self.buckets: dict[tuple[int, int], np.ndarray] = {}
        if len(order):
            keys = np.stack([cx[order], cy[order]], axis=1)
            cuts = np.nonzero(np.any(np.diff(keys, axis=0) != 0, axis=1))[0] + 1
            for part in np.split(order, cuts):
                self.buckets[(int(cx[part[0]]), int(cy[part[0]]))] = part

    def nearest(self, x: float, y: float, max_m: float) -> tuple[int, float] | None:
        """(index, distance) of the nearest point within max_m metres, or None."""
        if not self.buckets:
            return None
        reach = math.ceil(max_m / self.cell)
        cx, cy = math.floor(x / self.cell), math.floor(y / self.cell)
        best, best_d = None, max_m
        for ring in range(reach + 1):
            if best is not None and (ring - 1) * self.cell > best_d:
                break  # every unvisited cell is farther than the best point found
            for i in range(cx - ring, cx + ring + 1):
                for j in range(cy - ring, cy + ring + 1):
                    if max(abs(i - cx), abs(j - cy)) != ring:
                        continue
                    idx = self.buckets.get((i, j))
                    if idx is None:
                        continue
                    d = np.hypot(self.x[idx] - x, self.y[idx] - y)
                    k = int(np.argmin(d))
                    if d[k] <= best_d:
                        best, best_d = int(idx[k]), float(d[k])
        return None if best is None else (best, best_d)


# Grid cells in degrees for the database ("which stored reports are near"): about 280 m north-south
# and 285 m east-west at Shanghai's latitude; a key per cell, indexed with the report time.
CELL_LAT, CELL_LON = 0.0025, 0.003


def cell_of(lon: float | None, lat: float | None) -> int | None:
    if lon is None or lat is None:
        return None
    return math.floor(lat / CELL_LAT) * 100_000 + math.floor(lon / CELL_LON)


def cells_near(lon: float, lat: float, radius_m: float) -> list[int]:
    """Every cell a circle of radius_m around the point touches."""
    dlat = radius_m / (math.radians(1) * EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 0.1)
    la0, la1 = math.floor((lat - dlat) / CELL_LAT), math.floor((lat + dlat) / CELL_LAT)
    lo0, lo1 = math.floor((lon - dlon) / CELL_LON), math.floor((lon + dlon) / CELL_LON)
    return [a * 100_000 + b for a in range(la0, la1 + 1) for b in range(lo0, lo1 + 1)]
