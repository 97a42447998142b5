"""Is this report a problem already reported? Duplicate detection against the open incidents near it.

Each incoming report is paired with the earlier reports of open incidents within the incident's radius
(a grid join on metres, citizen_reports/geo.py) whose category is the same 小类, a sibling 小类 or
the same 大类 and whose latest report is inside the category's time window (categories.yml). A pair
is described by seven comparisons, each cut into levels:

    distance  share of the radius      d0 ≤0.1  d1 ≤0.25  d2 ≤0.5  d3 ≤1
    gap       hours between reports    t0 ≤1  t1 ≤6  t2 ≤24  t3 ≤72  t4 ≤168  t5 more
    category  same 小类 / sibling / same 大类 only
    text      description similarity   x0 ≥0.8  x1 ≥0.6  x2 ≥0.4  x3 less (evidence.py)
    photo     fingerprint Hamming bits p0 ≤same_photo_bits  p1 ≤12  p2 ≤22  p3 more
    address   the 地址 texts           a0 same road ≤4 doors apart  a1 ≤30 or door unknown  a2 farther or another road
    reporter  the same citizen or not

and scored with Fellegi–Sunter weights log2(m/u) (matching/fellegi_sunter.Model). Nothing is taken
from the generator: u (how the levels fall for two *different* problems) is measured on the day's
own reports: distance, address and reporter on pairs within the radius whose categories cannot be the
same problem; gap, category, words and photos on random pairs of related categories. m (how they
fall for the same problem) and the share of duplicates are estimated by EM over the day's candidate
pairs, starting from the guesses in PRIOR_M, weighted as `prior_strength` pairs so that a quiet day
stays sensible. The estimate is stored; a single report posted later is scored with the latest.

Then, in order of time, a report joins the open incident whose best pair has the highest posterior
if it reaches `accept`; from `review` up to `accept` it opens its own incident and the pair goes to
the department's review; below, it opens its own incident. A resolved or closed incident is never a
candidate: a report at the same place after the department has closed it is a new problem.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citizen_reports.config import ReportsConfig
from citizen_reports.evidence import description_pinyin, normalize_description, text_similarity
from matching.fellegi_sunter import NULL_LEVEL, Model

FIELDS = ["distance", "gap", "category", "text", "photo", "address", "reporter"]
LEVELS = {
    "distance": ["d0", "d1", "d2", "d3"],
    "gap": ["t0", "t1", "t2", "t3", "t4", "t5"],
    "category": ["same", "sibling", "major"],
    "text": ["x0", "x1", "x2", "x3"],
    "photo": ["p0", "p1", "p2", "p3"],
    "address": ["a0", "a1", "a2"],
    "reporter": ["same", "other"],
}
# Guesses for two reports of one problem (m), before the day's data speaks: GPS puts most within a
# quarter of the radius; most re-reports come within a day; citizens mostly pick the same 小类; words
# differ; a re-sent or forwarded photo is not rare; the address texts agree when given.
PRIOR_M = {
    "distance": {"d0": 0.40, "d1": 0.30, "d2": 0.18, "d3": 0.12},
    "gap": {"t0": 0.25, "t1": 0.25, "t2": 0.25, "t3": 0.15, "t4": 0.07, "t5": 0.03},
    "category": {"same": 0.75, "sibling": 0.18, "major": 0.07},
    "text": {"x0": 0.15, "x1": 0.25, "x2": 0.30, "x3": 0.30},
    "photo": {"p0": 0.10, "p1": 0.20, "p2": 0.30, "p3": 0.40},
    "address": {"a0": 0.55, "a1": 0.30, "a2": 0.15},
    "reporter": {"same": 0.05, "other": 0.95},
}
# Cold start only (no report stored yet): two different problems, spread evenly in space and time.
DEFAULT_U = {
    "distance": {"d0": 0.01, "d1": 0.0525, "d2": 0.1875, "d3": 0.75},
    "gap": {"t0": 0.01, "t1": 0.03, "t2": 0.10, "t3": 0.30, "t4": 0.40, "t5": 0.16},
    "category": {"same": 0.30, "sibling": 0.15, "major": 0.55},
    "text": {"x0": 0.03, "x1": 0.12, "x2": 0.35, "x3": 0.50},
    "photo": {"p0": 0.001, "p1": 0.01, "p2": 0.10, "p3": 0.889},
    "address": {"a0": 0.05, "a1": 0.25, "a2": 0.70},
    "reporter": {"same": 0.02, "other": 0.98},
}
DEFAULT_PRIOR = 0.2
SMOOTHING = 1.0
U_SAMPLE = 30_000
_EPOCH = np.datetime64("1970-01-01T00:00:00")


@dataclass
class Item:
    """One report as duplicate detection sees it."""

    report_no: str
    hours: float  # since 1970 (UTC), for gaps
    major: str
    minor: str
    x: float | None  # metres (the address library's projection): where the report is taken to be
    y: float | None
    description: str
    photo: int | None
    road: str | None
    door: int | None
    reporter: str
    incident: str | None = None  # stored reports of open incidents: their incident
    batch: bool = False
    open: bool = True  # False: a stored report of a closed incident (evidence for u, never a candidate)


@dataclass
class Decision:
    report_no: str
    incident: str | None  # an existing incident joined, or None: a new incident
    probability: float | None  # of the best candidate
    explanation: dict | None  # evidence of the best candidate pair
    review: dict | None = None  # the borderline candidate: incident, report_no, probability, explanation
    merges: list = field(default_factory=list)  # (incident, into incident, explanation): one problem twice


@dataclass
class Outcome:
    decisions: list[Decision]
    model: Model
    candidate_pairs: int
    estimated: bool
    seconds: dict[str, float] = field(default_factory=dict)


def default_model() -> Model:
    return Model(FIELDS, LEVELS, _norm(PRIOR_M), _norm(DEFAULT_U), DEFAULT_PRIOR, 0)


def model_to_json(model: Model) -> str:
    return json.dumps({"m": model.m, "u": model.u, "prior": model.prior, "iterations": model.iterations})


def model_from_json(text: str) -> Model:
    d = json.loads(text)
    return Model(FIELDS, LEVELS, d["m"], d["u"], d["prior"], d.get("iterations", 0))


def _norm(dist: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {f: {lv: v / sum(d.values()) for lv, v in d.items()} for f, d in dist.items()}


# ---- the frame of reports ---------------------------------------------------------------------


def frame(items: list[Item], cfg: ReportsConfig) -> pd.DataFrame:
    """One row per report, in order of time (stored reports first at equal times); `key` is the row."""
    df = pd.DataFrame(
        {
            "report_no": [i.report_no for i in items],
            "hours": np.array([i.hours for i in items], dtype="float64"),
            "major": [i.major for i in items],
            "minor": [i.minor for i in items],
            "x": np.array([np.nan if i.x is None else i.x for i in items], dtype="float64"),
            "y": np.array([np.nan if i.y is None else i.y for i in items], dtype="float64"),
            "text": [normalize_description(i.description) for i in items],
            "has_photo": np.array([i.photo is not None for i in items], dtype=bool),
            "photo": np.array([i.photo or 0 for i in items], dtype=np.uint64),
            "road": [i.road or "" for i in items],
            "door": np.array([-1 if i.door is None else i.door for i in items], dtype=np.int64),
            "reporter": [i.reporter or "" for i in items],
            "incident": [i.incident for i in items],
            "batch": np.array([i.batch for i in items], dtype=bool),
            "open": np.array([i.open for i in items], dtype=bool),
        }
    )
    df = df.sort_values(["hours", "batch"], kind="stable").reset_index(drop=True)
    rules = {k: cfg.rule(k[0], k[1]) for k in set(zip(df["major"], df["minor"]))}
    pair = list(zip(df["major"], df["minor"]))
    df["radius"] = [rules[k].radius_m for k in pair]
    df["window"] = [rules[k].window_hours for k in pair]
    cats = sorted(rules)
    codes = {k: n for n, k in enumerate(cats)}
    df["cat"] = [codes[k] for k in pair]
    majors = {m: n for n, m in enumerate(sorted(set(df["major"])))}
    df["maj"] = df["major"].map(majors).astype(np.int64)
    # sibling[i, j]: categories i and j are siblings (configuration)
    df.attrs["sibling"] = np.array([[cfg.siblings(a, b) for b in cats] for a in cats], dtype=bool).reshape(
        len(cats), len(cats)
    )
    return df


def _relation(df: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """'same' / 'sibling' / 'major' / '' (not the same problem) for rows a and b."""
    cat, maj = df["cat"].to_numpy(), df["maj"].to_numpy()
    same = cat[a] == cat[b]
    sib = ~same & df.attrs["sibling"][cat[a], cat[b]]
    major = ~same & ~sib & (maj[a] == maj[b])
    return np.select([same, sib, major], ["same", "sibling", "major"], "")


def _no_pairs() -> pd.DataFrame:
    empty = np.zeros(0, dtype=np.int64)
    return pd.DataFrame({"a": empty, "b": empty, "d": np.zeros(0), "radius": np.zeros(0)})


def _within(df: pd.DataFrame, queries: np.ndarray, targets: np.ndarray, radius: float) -> pd.DataFrame:
    """Pairs (a query, b earlier target) at most `radius` metres apart: a join on grid cells of the
    radius (each query looks at its cell and the eight around it), in numpy."""
    x, y = df["x"].to_numpy(), df["y"].to_numpy()
    off = 1 << 30

    def cells(idx, dx=0, dy=0):
        cx = np.floor(x[idx] / radius).astype(np.int64) + dx + off
        cy = np.floor(y[idx] / radius).astype(np.int64) + dy + off
        return cx * (1 << 31) + cy

    t_cell = cells(targets)
    order = np.argsort(t_cell, kind="stable")
    t_sorted, t_idx = t_cell[order], targets[order]
    aa, bb = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            q_cell = cells(queries, dx, dy)
            lo = np.searchsorted(t_sorted, q_cell, side="left")
            hi = np.searchsorted(t_sorted, q_cell, side="right")
            n = hi - lo
            if not n.any():
                continue
            a = np.repeat(queries, n)
            starts = np.repeat(lo, n)
            within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
            aa.append(a)
            bb.append(t_idx[starts + within])
    if not aa:
        return _no_pairs()
    a, b = np.concatenate(aa), np.concatenate(bb)
    keep = b < a
    a, b = a[keep], b[keep]
    d = np.hypot(x[a] - x[b], y[a] - y[b])
    keep = d <= radius
    return pd.DataFrame({"a": a[keep], "b": b[keep], "d": d[keep], "radius": radius})


def _spatial_pairs(df: pd.DataFrame, batch_only: bool) -> pd.DataFrame:
    """Every (report, earlier report) within the earlier report's radius, any category; the later
    one from the batch only when `batch_only`, else from the batch and the open incidents."""
    has = ~np.isnan(df["x"].to_numpy())
    later = df["batch"].to_numpy() | (df["open"].to_numpy() & (not batch_only))
    queries = np.nonzero(has & later)[0]
    if len(queries) == 0:
        return _no_pairs()
    parts = []
    radius = df["radius"].to_numpy()
    for r in sorted(set(radius[has])):
        targets = np.nonzero(has & (radius == r))[0]
        parts.append(_within(df, queries, targets, float(r)))
    return pd.concat(parts, ignore_index=True)


# ---- comparison levels ------------------------------------------------------------------------


def _levels(df: pd.DataFrame, a: np.ndarray, b: np.ndarray, d: np.ndarray | None, radius, same_photo_bits: int):
    out: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    if d is not None:
        f = d / radius
        out["distance"] = np.select([f <= 0.1, f <= 0.25, f <= 0.5], ["d0", "d1", "d2"], "d3")
        values["distance"] = d
    hours = df["hours"].to_numpy()
    gap = np.abs(hours[a] - hours[b])
    out["gap"] = np.select([gap <= 1, gap <= 6, gap <= 24, gap <= 72, gap <= 168], ["t0", "t1", "t2", "t3", "t4"], "t5")
    values["gap"] = gap
    rel = _relation(df, a, b)
    out["category"] = np.where(rel == "", NULL_LEVEL, rel)
    text = df["text"].to_numpy()
    ta, tb = list(text[a]), list(text[b])
    sim = text_similarity(ta, tb, [description_pinyin(t) for t in ta], [description_pinyin(t) for t in tb])
    out["text"] = np.select([np.isnan(sim), sim >= 0.8, sim >= 0.6, sim >= 0.4], [NULL_LEVEL, "x0", "x1", "x2"], "x3")
    values["text"] = sim
    has_photo, photo = df["has_photo"].to_numpy(), df["photo"].to_numpy()
    bits = np.bitwise_count(photo[a] ^ photo[b]).astype(np.int64)
    both = has_photo[a] & has_photo[b]
    out["photo"] = np.select(
        [~both, bits <= same_photo_bits, bits <= 12, bits <= 22], [NULL_LEVEL, "p0", "p1", "p2"], "p3"
    )
    values["photo"] = np.where(both, bits, -1)
    road, door = df["road"].to_numpy(), df["door"].to_numpy()
    both_road = (road[a] != "") & (road[b] != "")
    same_road = both_road & (road[a] == road[b])
    doors = (door[a] >= 0) & (door[b] >= 0)
    gap_doors = np.abs(door[a] - door[b])
    out["address"] = np.select(
        [~both_road, ~same_road, ~doors, gap_doors <= 4, gap_doors <= 30],
        [NULL_LEVEL, "a2", "a1", "a0", "a1"],
        "a2",
    )
    values["doors"] = np.where(same_road & doors, gap_doors, -1)
    who = df["reporter"].to_numpy()
    known = (who[a] != "") & (who[b] != "")
    out["reporter"] = np.select([~known, who[a] == who[b]], [NULL_LEVEL, "same"], "other")
    return out, values


def _distribution(levels: np.ndarray, names: list[str], start: dict[str, float], strength: float) -> dict[str, float]:
    """Share of each level, the earlier estimate counting as `strength` observations."""
    counts = {lv: float(np.count_nonzero(levels == lv)) + strength * start[lv] + SMOOTHING for lv in names}
    total = sum(counts.values())
    return {lv: c / total for lv, c in counts.items()}


def _random_pairs(df: pd.DataFrame, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs of reports whose categories could be one problem (nearly all different problems)."""
    size = len(df)
    if size < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    a, b = rng.integers(0, size, 4 * n), rng.integers(0, size, 4 * n)
    keep = (a != b) & (_relation(df, a, b) != "")
    return a[keep][:n], b[keep][:n]


def measure_u(
    df: pd.DataFrame, spatial: pd.DataFrame, cfg: ReportsConfig, start: Model, candidate_windows, seed: int = 0
) -> dict | None:
    """u of every field from the reports in hand (None when there are too few to say).

    distance, reporter: pairs within the radius whose categories cannot be one problem; gap: even
    over the window; category: random pairs of related categories; words, photo and address text: the same
    place and a related category but outside the time window (the same spot, another problem: a
    photo of the same corner looks alike), or random pairs of one 小类 when there are too few."""
    rng = np.random.default_rng(seed)
    bits = cfg.duplicates.same_photo_bits
    a, b = spatial["a"].to_numpy(), spatial["b"].to_numpy()
    rel = _relation(df, a, b)
    unrelated = spatial[rel == ""]
    if len(unrelated) > U_SAMPLE:
        unrelated = unrelated.sample(U_SAMPLE, random_state=seed)
    gap = df["hours"].to_numpy()[a] - df["hours"].to_numpy()[b]
    far = spatial[(rel != "") & (gap > df["window"].to_numpy()[b])]
    same_spot = far[far["d"] <= 0.25 * far["radius"]]
    if len(same_spot) >= 200:  # the very spot: what a photo of the same corner looks like
        far = same_spot
    if len(far) > U_SAMPLE:
        far = far.sample(U_SAMPLE, random_state=seed)
    ra, rb = _random_pairs(df, rng, U_SAMPLE)
    if len(unrelated) < 50 or len(ra) < 50:
        return None
    near, _ = _levels(
        df,
        unrelated["a"].to_numpy(),
        unrelated["b"].to_numpy(),
        unrelated["d"].to_numpy(),
        unrelated["radius"].to_numpy(),
        bits,
    )
    rand, _ = _levels(df, ra, rb, None, None, bits)
    same = rand["category"] == "same"
    scene = {f: rand[f][same] for f in ("text", "photo", "address")}
    if len(far) >= 200:
        place, _ = _levels(df, far["a"].to_numpy(), far["b"].to_numpy(), None, None, bits)
        scene = {f: place[f] for f in scene}
    levels = {
        "distance": near["distance"],
        "reporter": near["reporter"],
        "category": rand["category"],
        **scene,
    }
    strength = cfg.duplicates.prior_strength
    u = {f: _distribution(v, LEVELS[f], start.u[f], strength) for f, v in levels.items()}
    u["gap"] = _gap_u(candidate_windows)
    return u


GAP_EDGES = [0.0, 1.0, 6.0, 24.0, 72.0, 168.0, math.inf]


def _gap_u(windows: np.ndarray) -> dict[str, float]:
    """Two different problems near each other arise independently: the time between their reports
    is even over the window. Share of each gap level, averaged over the candidate pairs' windows."""
    windows = np.asarray(windows, dtype="float64")
    if len(windows) == 0:
        windows = np.array([72.0])
    out = {}
    for lv, lo, hi in zip(LEVELS["gap"], GAP_EDGES[:-1], GAP_EDGES[1:]):
        share = (np.clip(windows, lo, hi) - lo) / windows
        out[lv] = float(share.mean()) + 1e-4
    total = sum(out.values())
    return {lv: v / total for lv, v in out.items()}


def estimate(patterns: pd.DataFrame, u: dict, strength: float, start: Model, max_iterations: int = 200) -> Model:
    """m and the share of duplicates by EM over the candidate pairs' level patterns, u held fixed,
    starting from (and pulled towards, as `strength` pairs) the previous estimate."""
    names = {f: LEVELS[f] + [NULL_LEVEL] for f in FIELDS}
    codes = np.stack([pd.Categorical(patterns[f], categories=names[f]).codes.astype(np.int64) for f in FIELDS], axis=1)
    uniq, counts = np.unique(codes, axis=0, return_counts=True)
    counts = counts.astype("float64")
    m = {f: dict(start.m[f]) for f in FIELDS}
    pseudo = {f: np.array([strength * m[f][lv] for lv in LEVELS[f]]) for f in FIELDS}
    log_u = {f: np.log2(np.array([u[f][lv] for lv in LEVELS[f]] + [1.0])) for f in FIELDS}
    prior = start.prior
    it = 0
    while it < max_iterations:
        it += 1
        total = np.full(len(uniq), math.log2(prior / (1 - prior)))
        for j, f in enumerate(FIELDS):
            log_m = np.log2(np.array([m[f][lv] for lv in LEVELS[f]] + [1.0]))
            total += (log_m - log_u[f])[uniq[:, j]]
        wm = counts / (1.0 + 2.0 ** (-total))
        new_prior = float((wm.sum() + strength * start.prior) / (counts.sum() + strength))
        new_m = {}
        for j, f in enumerate(FIELDS):
            by_level = np.bincount(uniq[:, j], weights=wm, minlength=len(names[f]))[: len(LEVELS[f])]
            c = by_level + pseudo[f] + SMOOTHING
            new_m[f] = {lv: float(v) for lv, v in zip(LEVELS[f], c / c.sum())}
        delta = abs(new_prior - prior) + max(abs(new_m[f][lv] - m[f][lv]) for f in FIELDS for lv in LEVELS[f])
        m, prior = new_m, min(max(new_prior, 1e-4), 1 - 1e-4)
        if delta < 1e-6:
            break
    return Model(FIELDS, LEVELS, m, u, prior, it)


def _log_odds(model: Model, levels: dict[str, np.ndarray]) -> np.ndarray:
    n = len(next(iter(levels.values())))
    total = np.full(n, math.log2(model.prior / (1 - model.prior)))
    for f in FIELDS:
        w = {lv: model.weight(f, lv) for lv in LEVELS[f]}
        w[NULL_LEVEL] = 0.0
        if n > 1000:  # many pairs: by category codes
            names = LEVELS[f] + [NULL_LEVEL]
            total += np.array([w[lv] for lv in names])[pd.Categorical(levels[f], categories=names).codes]
        else:
            total += np.array([w[lv] for lv in levels[f]], dtype="float64")
    return total


# ---- the whole step ---------------------------------------------------------------------------


def detect(items: list[Item], cfg: ReportsConfig, stored_model: Model | None = None, estimate_model: bool = True):
    """Decide, for every batch item, which open incident it joins (if any). Pure: nothing is stored."""
    import time

    t0 = time.perf_counter()
    if not estimate_model and len(items) == 1:  # a single post with no open incident near it: a new one
        return Outcome([Decision(items[0].report_no, None, None, None)], stored_model or default_model(), 0, False)
    df = frame(items, cfg)
    # estimating looks at every pair of the reports in hand (the open incidents' and the batch's);
    # deciding only at the batch's
    spatial = _spatial_pairs(df, batch_only=not estimate_model)
    a, b = spatial["a"].to_numpy(), spatial["b"].to_numpy()
    rel = _relation(df, a, b)
    hours, window = df["hours"].to_numpy(), df["window"].to_numpy()
    # a candidate: related category, the earlier report inside its window and of an open incident
    is_open = df["batch"].to_numpy() | df["open"].to_numpy()
    cand = (rel != "") & (hours[a] - hours[b] <= window[b]) & is_open[b]
    cand_pairs = spatial[cand].reset_index(drop=True)
    t1 = time.perf_counter()
    ca, cb = cand_pairs["a"].to_numpy(), cand_pairs["b"].to_numpy()
    levels, values = _levels(
        df, ca, cb, cand_pairs["d"].to_numpy(), cand_pairs["radius"].to_numpy(), cfg.duplicates.same_photo_bits
    )
    t2 = time.perf_counter()
    model, estimated = stored_model or default_model(), False
    if estimate_model:
        u = measure_u(df, spatial, cfg, model, window[cb])
        if u is not None and len(ca) >= 50:
            model = estimate(pd.DataFrame(levels), u, cfg.duplicates.prior_strength, model)
            estimated = True
    # decide for the batch's reports only
    mine = df["batch"].to_numpy()[ca]
    cand_pairs = cand_pairs[mine].reset_index(drop=True)
    levels = {f: v[mine] for f, v in levels.items()}
    values = {f: v[mine] for f, v in values.items()}
    score = _log_odds(model, levels) if len(ca) else np.zeros(0)
    t3 = time.perf_counter()
    decisions = _assign(df, cand_pairs, score, levels, values, cfg, model)
    t4 = time.perf_counter()
    return Outcome(
        decisions,
        model,
        len(ca),
        estimated,
        {"pairs": t1 - t0, "compare": t2 - t1, "estimate": t3 - t2, "assign": t4 - t3},
    )


def _assign(df, pairs, score, levels, values, cfg: ReportsConfig, model: Model) -> list[Decision]:
    """In order of time: join the best open incident, or open a new one (with a review when borderline).
    A report that is a sure duplicate of two open incidents shows they are one problem reported twice:
    the younger is merged into the older (`Decision.merges`)."""
    accept = cfg.duplicates.accept
    review = cfg.duplicates.review
    incident = list(df["incident"])
    hours = df["hours"].to_numpy()
    first: dict[str, float] = {}
    for inc, h in zip(incident, hours):
        if inc is not None and h < first.get(inc, math.inf):
            first[inc] = h
    alias: dict[str, str] = {}

    def current(inc: str) -> str:
        while inc in alias:
            inc = alias[inc]
        return inc

    report_no = df["report_no"].to_numpy()
    by_a: dict[int, list[int]] = {}
    for k, a in enumerate(pairs["a"].to_numpy().tolist()):
        by_a.setdefault(a, []).append(k)
    pb = pairs["b"].to_numpy()
    out = []
    for a in np.nonzero(df["batch"].to_numpy())[0].tolist():
        best: dict[str, int] = {}  # incident -> best pair
        for k in by_a.get(a, ()):
            inc = incident[pb[k]]
            if inc is None:
                continue
            inc = current(inc)
            if inc not in best or score[k] > score[best[inc]]:
                best[inc] = k
        ranked = sorted(best.items(), key=lambda kv: -score[kv[1]])
        if not ranked:
            incident[a] = "new:" + report_no[a]
            first[incident[a]] = hours[a]
            out.append(Decision(report_no[a], None, None, None))
            continue
        inc, k = ranked[0]
        p = 1.0 / (1.0 + 2.0 ** (-score[k]))
        why = explain(levels, values, k, model, p, pairs, df)
        if p >= accept:
            sure = [(i, kk) for i, kk in ranked if 1.0 / (1.0 + 2.0 ** (-score[kk])) >= accept]
            target = min((i for i, _ in sure), key=lambda i: first.get(i, math.inf))
            d = Decision(report_no[a], target, p, why)
            for other, kk in sure:
                if other != target:
                    alias[other] = target
                    po = 1.0 / (1.0 + 2.0 ** (-score[kk]))
                    d.merges.append((other, target, explain(levels, values, kk, model, po, pairs, df)))
            incident[a] = target
            out.append(d)
        else:
            incident[a] = "new:" + report_no[a]
            first[incident[a]] = hours[a]
            d = Decision(report_no[a], None, p, why)
            if p >= review:
                d.review = {"incident": inc, "report_no": report_no[pb[k]], "probability": p, "explanation": why}
            out.append(d)
    return out


LEVEL_TEXT = {
    "category": {"same": "同一小类", "sibling": "相近小类", "major": "同一大类的其他小类"},
    "address": {"a0": "地址同路门牌相近", "a1": "地址同路", "a2": "地址不同"},
    "reporter": {"same": "同一上报人", "other": "不同上报人"},
}


def explain(levels, values, k: int, model: Model, p: float, pairs, df) -> dict:
    """Why: the evidence of one pair, each comparison with its value, level and weight, and a sentence."""
    evidence = []
    words = []
    for f in FIELDS:
        lv = str(levels[f][k])
        w = 0.0 if lv == NULL_LEVEL else model.weight(f, lv)
        item = {"field": f, "level": lv, "weight": round(w, 2)}
        if f == "distance":
            d, r = float(values["distance"][k]), float(pairs["radius"].iat[k])
            item["value"] = round(d, 1)
            words.append(f"相距{d:.0f}米（半径{r:.0f}米）")
        elif f == "gap":
            h = float(values["gap"][k])
            item["value"] = round(h, 2)
            words.append(f"相隔{h * 60:.0f}分钟" if h < 1 else f"相隔{h:.1f}小时" if h < 48 else f"相隔{h / 24:.1f}天")
        elif f == "text" and lv != NULL_LEVEL:
            item["value"] = round(float(values["text"][k]), 2)
            words.append(f"描述相似度{item['value']:.2f}")
        elif f == "photo" and lv != NULL_LEVEL:
            item["value"] = int(values["photo"][k])
            words.append(f"照片指纹相差{item['value']}位")
        elif f in LEVEL_TEXT and lv != NULL_LEVEL:
            words.append(LEVEL_TEXT[f][lv])
        evidence.append(item)
    return {
        "probability": round(p, 4),
        "candidate": str(df["report_no"].iat[int(pairs["b"].iat[k])]),
        "evidence": evidence,
        "summary": "，".join(words) + f" → 同一问题的概率 {p:.2f}",
    }
