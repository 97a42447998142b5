"""Is this report a problem already reported? Duplicate detection against the open incidents near it.

Each incoming report is paired with the earlier reports of open incidents within `reach` times the
incident's radius (a grid join on metres, citizen_reports/geo.py) whose category is the same 小类, a
sibling 小类 or the same 大类 (any category with `other_categories`) and whose latest report is
inside the category's time window (categories.yml); beyond `reach` and up to `far_m` metres, those of
the same or a sibling 小类 (a drifted fix; the category is then part of the distance level), and with
`far_scene` those of any other category whose photo is within `scene_bits` (one scene filed
elsewhere: the category and the distance are left out of such a pair). A report
without a usable position (none given, or a fallback fix that several reports share to the
centimetre) is paired along its road instead: the road its address text names, or a positioned
report's nearest library address; with no road either (a fallback fix without address text), with
the reports of the same or a sibling 小类 in its street; with `photo_anywhere_bits`, also with the
reports anywhere whose photo fingerprint is that close to its own (a forwarded photo). A pair is
described by seven comparisons, each cut into levels (the edges are below: DISTANCE_EDGES …):

    distance  share of the radius      d0 ≤0.05 … d11 up to `reach` (none along a road);
                                       fs / fb beyond, up to `far_m` metres: same / sibling 小类 only;
                                       ss / sb within the street, no position nor road on one side
    gap       hours between reports    t0 ≤0.5 … t7 more than 72 (with `gap_from: latest`, from the
                                       incident's latest report before the new one)
    category  same 小类 / sibling / same 大类 only / another
    text      description similarity   x0 ≥0.9 … x7 below 0.3 (evidence.py: characters and pinyin)
    photo     fingerprint Hamming bits p0 ≤same_photo_bits, p1 ≤8 … p7 more than 28
    address   the 地址 texts           a0 same road ≤4 doors apart  a1 ≤30 or door unknown  a2 farther or another road
    reporter  the same citizen (one who reports often, or not) or another

and scored with Fellegi–Sunter weights log2(m/u) (matching/fellegi_sunter.Model); with
`same_spot_class`, against two kinds of other problem (SpotModel, estimate_spot): another problem at
the same spot (s: placed, filed and addressed as the same problem, told from it by the time, the
words, the photo and the reporter) and an unrelated one (u). Nothing is taken
from the generator. Both m (how the levels fall for the same problem) and u (for two different
problems) and the share of duplicates are estimated by EM over the day's candidate pairs (with the
open incidents' and a week more of stored reports), as Winkler does: u starts from what the reports
in hand measure (distance, address and reporter on nearby pairs whose categories cannot be one
problem; gap even over the window; category on random pairs; words and photos at the same spot
outside the window), m from the previous estimate; both weigh `prior_strength` pairs so that a quiet
day stays sensible. The estimate is stored; a single report posted later is scored with the latest.

Then, in order of time, a report joins the open incident of its best pair if the posterior reaches
`accept` (another open incident it is `merge`-sure of is the same problem reported twice and is
merged); from `review` up to `accept` it opens its own incident and the pair goes to the
department's review; below, it opens its own incident. With `linkage: average` a report is judged
against an incident by the mean of its pairs with the incident's reports within reach (of the best
`average_of` of them when set). A photo `different_photo_bits` or more from
the photo of every report of the incident it was compared with (where both have one) shows another
scene: the report is not joined however sure the rest is, the pair goes to review. Photos at most
`scene_bits` apart show one scene: the pair's category (another 小类 or 大类) is left out of it, and
that pair is not outvoted by the mean (past `scene_sure_bits` only when the category was left out,
or within `scene_sure_hours`: scene_speaks); at most `scene_sure_bits` apart a drifted distance is
left out too (scene_place_bits). A resolved or closed incident is never a candidate: a report at the
same place after the department has closed it is a new problem.

Fingerprints that are not perceptual (another export's 照片指纹 may be a digest of the file or
filled in at random: no more photos alike than chance gives, perceptual_fingerprints) are left out as
if blank, and the photo guard holds a report back only where the weights in hand say a photo that far
is clear evidence of another scene (photos_tell_scenes): where only a re-sent photo matches, two
citizens' photos of one problem are as far apart as two problems'.

With `photo_anywhere_estimated` (categories.yml) the range of `photo_anywhere_bits` is read from the
fingerprints in hand at each estimate (`scene_range`: up to the Hamming distance where the pairs seen
are still mostly not chance, never below the configured bits; stored with the weights for a single
post).
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
# Where each comparison is cut into levels. Fine levels, because EM learns a weight for every level
# from the reports themselves: the data, not these cuts, say how much 14 bits of photo hash mean.
DISTANCE_EDGES = [0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.25, 1.6, 2.2]  # share of the radius; the last to `reach`
GAP_EDGES = [0.5, 2.0, 6.0, 12.0, 24.0, 48.0, 72.0]  # hours; the last level beyond
TEXT_EDGES = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]  # similarity, at least; the last level below
PHOTO_EDGES = [8, 12, 16, 20, 24, 28]  # Hamming bits, at most, after p0 (same_photo_bits); the last more
# beyond `reach` radii up to `far_m` metres (a drifted fix), only the same 小类 ("fs") or a sibling
# ("fb") is compared; the level says both, and the category comparison is left out of such a pair
# (the pair was chosen for its category: the two go together, not one after the other)
FAR_LEVELS = ["fs", "fb"]
# a report with neither a position nor a road (a fallback fix, no address text) is compared with the
# reports of the same or a sibling 小类 in its street: "ss" / "sb", the same way
STREET_LEVELS = ["ss", "sb"]
LEVELS = {
    "distance": [f"d{k}" for k in range(len(DISTANCE_EDGES) + 1)] + FAR_LEVELS + STREET_LEVELS,
    "gap": [f"t{k}" for k in range(len(GAP_EDGES) + 1)],
    "category": ["same", "sibling", "major", "other"],
    "text": [f"x{k}" for k in range(len(TEXT_EDGES) + 1)],
    "photo": [f"p{k}" for k in range(len(PHOTO_EDGES) + 2)],
    "address": ["a0", "a1", "a2"],
    "reporter": ["same", "same_frequent", "other"],
}


def _by_level(field: str, shares: list[float]) -> dict[str, float]:
    return dict(zip(LEVELS[field], shares, strict=True))


# Guesses for two reports of one problem (m), before the day's data speaks: GPS puts most within a
# third of the radius; most re-reports come within a day; citizens mostly pick the same 小类; words
# differ; two photos of one problem share most of their hash; the address texts agree when given.
PRIOR_M = {
    "distance": _by_level(
        "distance",
        [0.15, 0.17, 0.20, 0.15, 0.12, 0.08, 0.06, 0.035, 0.02, 0.01, 0.003, 0.002, 0.03, 0.005, 0.02, 0.005],
    ),
    "gap": _by_level("gap", [0.15, 0.20, 0.20, 0.15, 0.15, 0.08, 0.04, 0.03]),
    "category": {"same": 0.74, "sibling": 0.17, "major": 0.06, "other": 0.03},
    "text": _by_level("text", [0.04, 0.06, 0.08, 0.12, 0.15, 0.20, 0.20, 0.15]),
    "photo": _by_level("photo", [0.10, 0.10, 0.15, 0.20, 0.20, 0.13, 0.07, 0.05]),
    "address": {"a0": 0.55, "a1": 0.30, "a2": 0.15},
    "reporter": {"same": 0.05, "same_frequent": 0.02, "other": 0.93},
}
# Cold start only (no report stored yet): two different problems, spread evenly in space (the share
# of the disc) and time (a 72-hour window); unrelated words; pictures of the same corner alike.
DEFAULT_U = {
    "distance": _by_level(
        "distance",
        [0.001, 0.003, 0.013, 0.022, 0.05, 0.07, 0.125, 0.16, 0.25, 0.306, 0.001, 0.001, 0.3, 0.1, 0.1, 0.05],
    ),  # (the levels beyond 1.6 radii only when `reach` goes that far; fs, fb only with `far_m`)
    "gap": _by_level("gap", [0.007, 0.021, 0.056, 0.083, 0.167, 0.333, 0.333, 0.001]),
    "category": {"same": 0.10, "sibling": 0.05, "major": 0.20, "other": 0.65},
    "text": _by_level("text", [0.005, 0.01, 0.02, 0.05, 0.12, 0.20, 0.25, 0.345]),
    "photo": _by_level("photo", [0.0005, 0.002, 0.01, 0.03, 0.06, 0.10, 0.20, 0.5975]),
    "address": {"a0": 0.05, "a1": 0.25, "a2": 0.70},
    "reporter": {"same": 0.02, "same_frequent": 0.03, "other": 0.95},
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
    place_road: str | None = None  # the road it is on: its address text's, or its nearest library address's
    time_known: bool = True  # False: the phone's clock was wrong, `hours` is its file's day (no gap evidence)
    street: str | None = None  # the street (街道) it was routed to


@dataclass
class Decision:
    report_no: str
    incident: str | None  # an existing incident joined, or None: a new incident
    probability: float | None  # of the best candidate
    explanation: dict | None  # evidence of the best candidate pair
    review: dict | None = None  # the borderline candidate: incident, report_no, probability, explanation
    merges: list = field(default_factory=list)  # (incident, into incident, explanation): one problem twice


@dataclass
class Split:
    """Reports of one incident that are another problem: they leave it and open an incident of their own."""

    incident: str  # the incident they leave: its id, or "new:<编号>" for one this batch opened
    report_nos: list[str]  # in order of time: the first opens the new incident
    mean: float  # the mean posterior of their pairs (within reach, when any) with the reports that stay
    within: float  # the mean posterior of their pairs with one another
    stay: int  # how many of the incident's reports compared stay


@dataclass
class Outcome:
    decisions: list[Decision]
    model: Model
    candidate_pairs: int
    estimated: bool
    seconds: dict[str, float] = field(default_factory=dict)
    splits: list[Split] = field(default_factory=list)


# With `same_spot_class`, the pairs that are not one problem are of two kinds (dedupe.estimate):
# another problem at the same spot ("s": the pothole back after the repair, a second one beside it)
# and an unrelated one ("u"). Another problem at the same spot is placed, categorised and addressed
# as the same problem would be: on these fields its distribution is m's (tied), and only the time,
# the words, the photo and the reporter tell the two apart.
SPOT_TIED = ("distance", "category", "address")
DEFAULT_PRIOR_SPOT = 0.05
# of s's own fields, the time is estimated with the rest; the words, the photo and the reporter stay
# as measured at the same spot outside the window (learned too, s drifts onto the duplicates that
# are not re-sends and m keeps only the re-sends: on a 100k dev month recall .93 -> .58). The photo
# alone learned too (measured, not taken; 100k dev months 601-604 pooled P/R): default
# .9768/.9443 -> .9804/.9291, field .9823/.9063 -> .9877/.7573 (field 604 recall .42: s again
# takes the duplicates)
SPOT_LEARNED = ("gap",)


@dataclass
class SpotModel(Model):
    """Fellegi–Sunter with a third class: `s`, how the levels fall for another problem at the same
    spot, and its share `prior_s` of the candidate pairs (`prior` stays the duplicates' share)."""

    s: dict = field(default_factory=dict)
    prior_s: float = DEFAULT_PRIOR_SPOT

    def spot_weight(self, field_: str, level: str) -> float:
        """log2(m/s): how much a level says one problem rather than another at the same spot."""
        if level == NULL_LEVEL:
            return 0.0
        return math.log2(self.m[field_][level] / self.s[field_][level])


def default_model() -> Model:
    return Model(FIELDS, LEVELS, _norm(PRIOR_M), _norm(DEFAULT_U), DEFAULT_PRIOR, 0)


def model_to_json(model: Model) -> str:
    d = {"m": model.m, "u": model.u, "prior": model.prior, "iterations": model.iterations}
    if isinstance(model, SpotModel):
        d.update({"s": model.s, "prior_s": model.prior_s})
    if getattr(model, "scene_range", None) is not None:
        d["scene_range"] = model.scene_range
    if getattr(model, "perceptual", True) is False:
        d["perceptual"] = False
    if getattr(model, "windows", None):
        d["windows"] = model.windows
    return json.dumps(d)


def model_from_json(text: str) -> Model:
    """The stored estimate; the cold-start model when it was made with other levels (an older hub)."""
    d = json.loads(text)
    if any(set(d["m"].get(f, {})) != set(LEVELS[f]) for f in FIELDS):
        return default_model()
    if "s" in d and all(set(d["s"].get(f, {})) == set(LEVELS[f]) for f in FIELDS):
        model = SpotModel(FIELDS, LEVELS, d["m"], d["u"], d["prior"], d.get("iterations", 0), d["s"], d["prior_s"])
    else:
        model = Model(FIELDS, LEVELS, d["m"], d["u"], d["prior"], d.get("iterations", 0))
    if d.get("scene_range") is not None:
        model.scene_range = int(d["scene_range"])  # the photos' same-scene range read with it (scene_range)
    if d.get("perceptual") is False:
        model.perceptual = False  # the fingerprints said nothing when it was estimated: left out
    if d.get("windows"):
        model.windows = {k: float(v) for k, v in d["windows"].items()}  # observed_windows, read with it
    return model


def _norm(dist: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {f: {lv: v / sum(d.values()) for lv, v in d.items()} for f, d in dist.items()}


# ---- the frame of reports ---------------------------------------------------------------------


def _texts(values: list[str]) -> pd.Series:
    """A column of Python strings as they are (none missing): pandas would convert them to its Arrow
    strings, and every comparison and pair lookup back to Python objects."""
    return pd.Series(values, dtype=object)


def frame(items: list[Item], cfg: ReportsConfig) -> pd.DataFrame:
    """One row per report, in order of time (stored reports first at equal times); `key` is the row."""
    df = pd.DataFrame(
        {
            "report_no": _texts([i.report_no for i in items]),
            "hours": np.array([i.hours for i in items], dtype="float64"),
            "major": _texts([i.major for i in items]),
            "minor": _texts([i.minor for i in items]),
            "x": np.array([np.nan if i.x is None else i.x for i in items], dtype="float64"),
            "y": np.array([np.nan if i.y is None else i.y for i in items], dtype="float64"),
            "text": _texts([normalize_description(i.description) for i in items]),
            "has_photo": np.array([i.photo is not None for i in items], dtype=bool),
            "photo": np.array([i.photo or 0 for i in items], dtype=np.uint64),
            "road": _texts([i.road or "" for i in items]),
            "door": np.array([-1 if i.door is None else i.door for i in items], dtype=np.int64),
            "reporter": _texts([i.reporter or "" for i in items]),
            "place_road": _texts([i.place_road or "" for i in items]),
            "street": _texts([i.street or "" for i in items]),
            "incident": [i.incident for i in items],
            "batch": np.array([i.batch for i in items], dtype=bool),
            "open": np.array([i.open for i in items], dtype=bool),
            "time_known": np.array([i.time_known for i in items], dtype=bool),
        }
    )
    df["pinyin"] = _texts([description_pinyin(t) for t in df["text"]])  # a report is in many pairs: once here
    df = df.sort_values(["hours", "batch"], kind="stable").reset_index(drop=True)
    rules = {k: cfg.rule(k[0], k[1]) for k in set(zip(df["major"], df["minor"]))}
    pair = list(zip(df["major"], df["minor"]))
    # a reporter with many reports among those compared reports for a living (网格员, 信息员): many
    # problems of one street, so "the same reporter" says less of them than of a citizen sending again
    who = df["reporter"]
    df["frequent_reporter"] = (who != "") & (who.map(who.value_counts()) >= cfg.duplicates.frequent_reporter)
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


FALLBACK_FIX_REPORTS = 3


def _drop_fallback_fixes(df: pd.DataFrame) -> None:
    """A point that several reports share to the centimetre is not where they were: a phone without a
    GPS fix reports its cell tower's or the street office's centre. Such positions say nothing about
    being one problem (they would pair every report there); the reports are compared along their
    road instead."""
    x, y = df["x"].to_numpy(), df["y"].to_numpy()
    has = ~np.isnan(x)
    if not has.any():
        return
    key = pd.Series(list(zip(np.round(x, 2), np.round(y, 2))))
    shared = has & (key.map(key[has].value_counts()).fillna(0).to_numpy() >= FALLBACK_FIX_REPORTS)
    if shared.any():
        df.loc[shared, ["x", "y"]] = np.nan
        # the road of the library address nearest to the fallback point is not the report's either:
        # only its own address text's road (none: compared within its street, _street_pairs)
        df.loc[shared, "place_road"] = df.loc[shared, "road"]


def _relation(df: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """'same' / 'sibling' / 'major' / 'other' (unrelated categories) for rows a and b."""
    cat, maj = df["cat"].to_numpy(), df["maj"].to_numpy()
    same = cat[a] == cat[b]
    sib = ~same & df.attrs["sibling"][cat[a], cat[b]]
    major = ~same & ~sib & (maj[a] == maj[b])
    return np.select([same, sib, major], ["same", "sibling", "major"], "other")


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


def _spatial_pairs(
    df: pd.DataFrame,
    batch_only: bool,
    reach: float = 1.0,
    far_m: float = 0.0,
    photo_bits: int = 0,
    scene_far_bits: int = 0,
) -> pd.DataFrame:
    """Every (report, earlier report) within `reach` times the earlier report's radius, any category;
    the later one from the batch only when `batch_only`, else from the batch and the open incidents.
    Beyond that and up to `far_m` metres, the pairs of the same or a sibling 小类 (`far`: a phone's
    fix can drift a few hundred metres; the weight of such a distance is learned like the others).

    A report without a position is paired with the reports on the same road (its address text's
    road; a positioned report's nearest library address): `d` is NaN there, the distance says
    nothing and the other comparisons decide. With `photo_bits`, a report without a position is also
    paired with the reports anywhere whose photo fingerprint is at most that many bits from its own
    (`_photo_pairs`)."""
    has = ~np.isnan(df["x"].to_numpy())
    later = df["batch"].to_numpy() | (df["open"].to_numpy() & (not batch_only))
    queries = np.nonzero(has & later)[0]
    parts = []
    radius = df["radius"].to_numpy()
    if len(queries):
        for r in sorted(set(radius[has])):
            targets = np.nonzero(has & (radius == r))[0]
            found = _within(df, queries, targets, float(r) * reach)
            found["radius"] = float(r)
            parts.append(found)
        if far_m > 0:
            parts.append(_far_pairs(df, queries, has, reach, far_m))
        if far_m > 0 and scene_far_bits > 0:  # the batch's only: the stored ones' were looked for before
            batch = queries[df["batch"].to_numpy()[queries]]
            parts.append(_scene_far_pairs(df, batch, has, reach, far_m, scene_far_bits))
    parts.append(_road_pairs(df, has, later))
    parts.append(_street_pairs(df, has, later))
    if photo_bits > 0:
        found = pd.concat(parts, ignore_index=True)
        photo = _photo_pairs(df, has, later, photo_bits)
        if len(photo) and len(found):  # a pair already found along the road or in the street: once
            known = pd.MultiIndex.from_arrays([found["a"], found["b"]])
            photo = photo[~pd.MultiIndex.from_arrays([photo["a"], photo["b"]]).isin(known)]
        parts.append(photo)
    out = pd.concat(parts, ignore_index=True)
    for flag in ("far", "street", "anywhere"):
        out[flag] = out[flag].fillna(False).astype(bool) if flag in out else False
    return out


def _street_pairs(df: pd.DataFrame, has: np.ndarray, later: np.ndarray) -> pd.DataFrame:
    """(report, earlier report) of the same or a sibling 小类 in the same street where one has neither
    a position nor a road (a fallback fix without address text): `d` NaN, `street` True."""
    street, road = df["street"].to_numpy(), df["place_road"].to_numpy()
    lost = np.nonzero(~has & (road == "") & (street != ""))[0]
    if len(lost) == 0:
        return _no_pairs().assign(street=np.zeros(0, dtype=bool))
    cat = df["cat"].to_numpy()
    sibling = df.attrs["sibling"]
    in_street = pd.Series(np.arange(len(df)))[street != ""].groupby(street[street != ""]).apply(np.asarray).to_dict()

    def others_of(i: int) -> np.ndarray:
        others = in_street[street[i]]
        return others[(cat[others] == cat[i]) | sibling[cat[others], cat[i]]]

    a, b = _pairs_of_lost(lost, others_of, later, later_too=np.ones(len(df), dtype=bool))
    if not len(a):
        return _no_pairs().assign(street=np.zeros(0, dtype=bool))
    # a pair of two lost reports is found from both sides: once
    pairs = pd.DataFrame({"a": a, "b": b}).drop_duplicates()
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    return pd.DataFrame(
        {"a": a, "b": b, "d": np.full(len(a), np.nan), "radius": df["radius"].to_numpy()[b], "street": True}
    )


def _pairs_of_lost(
    lost: np.ndarray, others_of, later: np.ndarray, later_too: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(report, earlier report) index pairs for reports that cannot be placed by distance: each lost
    report `i` (if it is in the later part, `later`) with the earlier of `others_of(i)`, and each
    later one of `others_of(i)` (where `later_too` allows it) with `i`."""
    aa, bb = [], []
    for i in lost.tolist():
        others = others_of(i)
        later_ones = others[(others > i) & later[others] & later_too[others]]
        earlier = others[others < i]
        if later[i] and len(earlier):
            aa.append(np.full(len(earlier), i))
            bb.append(earlier)
        if len(later_ones):
            aa.append(later_ones)
            bb.append(np.full(len(later_ones), i))
    if not aa:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(aa), np.concatenate(bb)


def _photo_pairs(df: pd.DataFrame, has: np.ndarray, later: np.ndarray, bits: int) -> pd.DataFrame:
    """(report, earlier report) anywhere in the district where either has no usable position and
    their photo fingerprints are at most `bits` apart: a forwarded or re-sent photo of one scene (two
    unrelated photos' 64-bit hashes differ by 32 bits give or take 4; at 10 bits or fewer, about one
    pair in 10^8). `d` NaN: the distance says nothing, the other comparisons decide."""
    with_photo = df["has_photo"].to_numpy()
    lost = np.nonzero(~has & with_photo)[0]
    others = np.nonzero(with_photo)[0]
    if not len(lost) or len(others) < 2:
        return _no_pairs()
    photo = df["photo"].to_numpy()
    aa, bb = [], []
    for start in range(0, len(lost), 256):  # lost x every photo, a block of rows at a time
        rows = lost[start : start + 256]
        near = np.bitwise_count(photo[rows][:, None] ^ photo[others][None, :]) <= bits
        i, j = np.nonzero(near)
        a, b = rows[i], others[j]
        a, b = np.maximum(a, b), np.minimum(a, b)  # (later, earlier)
        keep = (a != b) & later[a]  # two lost ones are found from both sides: dropped below
        aa.append(a[keep])
        bb.append(b[keep])
    a, b = np.concatenate(aa), np.concatenate(bb)
    if not len(a):
        return _no_pairs()
    pairs = pd.DataFrame({"a": a, "b": b}).drop_duplicates()
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    return pd.DataFrame(
        {"a": a, "b": b, "d": np.full(len(a), np.nan), "radius": df["radius"].to_numpy()[b], "anywhere": True}
    )


# at a Hamming distance where at most this share of the pairs seen are what two unrelated photos give
# (binomial(64, 1/2) of the pairs compared), the pairs at that distance are mostly of one scene
SCENE_CHANCE_SHARE = 0.25
SCENE_SAMPLE = 3_000  # photos: the share is the same in a random sample (both kinds scale as its square)


PhotoCounts = tuple[np.ndarray, float]  # pairs of photos at each Hamming distance (0-64), pairs in all


def photo_distances(df: pd.DataFrame, seed: int = 0) -> PhotoCounts | None:
    """How many pairs of the photos in hand (a random sample of SCENE_SAMPLE) lie at each Hamming
    distance, and how many pairs that is; None when fewer than 50 photos are in hand. Counted once
    per estimate, read by scene_range and perceptual_fingerprints."""
    photo = df["photo"].to_numpy()[df["has_photo"].to_numpy()]
    if len(photo) > SCENE_SAMPLE:
        photo = np.random.default_rng(seed).choice(photo, SCENE_SAMPLE, replace=False)
    n = len(photo)
    if n < 50:
        return None
    seen = np.zeros(65, dtype=np.int64)
    for start in range(0, n - 1, 256):  # each row with the later photos, a block at a time
        rows = photo[start : start + 256]
        bits = np.bitwise_count(rows[:, None] ^ photo[None, start:]).astype(np.int64)
        later = np.arange(len(rows))[:, None] < np.arange(n - start)[None, :]
        seen += np.bincount(bits[later], minlength=65)
    return seen, n * (n - 1) / 2


def scene_range(counted: PhotoCounts | None, floor: int, cap: int = 16) -> int:
    """How far apart (Hamming bits) two photos in hand can be and still mostly show one scene: from
    `floor` up, the largest distance up to which, bit by bit, the pairs seen at that distance are at
    least 1/SCENE_CHANCE_SHARE times what chance gives two unrelated 64-bit fingerprints. Read from
    the reports' own fingerprints, so it narrows as more photos are compared (chance pairs grow
    with the square of the photos, one scene's pairs with their number); `floor` when there are too
    few photos to say (`counted` None: photo_distances)."""
    if counted is None or cap <= floor:
        return floor
    seen, pairs = counted
    out = floor
    for k in range(floor + 1, cap + 1):
        chance = pairs * math.comb(64, k) / 2.0**64
        if seen[k] * SCENE_CHANCE_SHARE < chance or seen[k] == 0:
            break
        out = k
    return out


# A perceptual hash puts photos of one scene (a re-sent or forwarded photo, two of one pothole) a few
# bits apart; 64-bit fingerprints that are not perceptual put any two ~32 apart. Pairs of the photos in
# hand within ALIKE_BITS: at least ALIKE_MIN_PAIRS of them, and ALIKE_OVER_CHANCE times what chance
# gives, or the fingerprints are taken to say nothing (perceptual_fingerprints).
ALIKE_BITS = 12
ALIKE_MIN_PAIRS = 3
ALIKE_OVER_CHANCE = 10.0


def perceptual_fingerprints(counted: PhotoCounts | None) -> bool | None:
    """Whether the fingerprints in hand are perceptual: more photos alike than chance gives (ALIKE_BITS).
    None when there are too few photos to say. Where they are not (another export's 照片指纹 may be a
    digest of the file, or filled in at random), they are left out as if blank: a far photo would
    otherwise count as another scene, and the weights' starting guesses (photos of one problem
    alike) would take every duplicate for two problems until enough days had been seen."""
    if counted is None:
        return None
    seen, pairs = counted
    chance = pairs * sum(math.comb(64, k) for k in range(ALIKE_BITS + 1)) / 2.0**64
    alike = int(seen[: ALIKE_BITS + 1].sum())
    return alike >= ALIKE_MIN_PAIRS and alike >= ALIKE_OVER_CHANCE * chance


def _scene_far_pairs(
    df: pd.DataFrame, queries: np.ndarray, has: np.ndarray, reach: float, far_m: float, bits: int
) -> pd.DataFrame:
    """(report, earlier report) farther than `reach` times the earlier one's radius and at most
    `far_m` metres, of a category that is neither the same 小类 nor a sibling (those are `_far_pairs`),
    whose photos are at most `bits` apart: one scene filed under another category by a phone whose
    fix drifted (both are then left out of the pair: _levels). Found photo first, among the reports
    in the grid cells of `far_m` around each query."""
    with_photo = has & df["has_photo"].to_numpy()
    queries = queries[with_photo[queries]]
    targets = np.nonzero(with_photo)[0]
    if not len(queries) or not len(targets) or bits <= 0 or far_m <= 0:
        return _no_pairs().assign(far=np.zeros(0, dtype=bool))
    x, y, photo = df["x"].to_numpy(), df["y"].to_numpy(), df["photo"].to_numpy()
    cat, radius, sibling = df["cat"].to_numpy(), df["radius"].to_numpy(), df.attrs["sibling"]

    def cell(i):
        return np.floor(x[i] / far_m).astype(np.int64), np.floor(y[i] / far_m).astype(np.int64)

    tx, ty = cell(targets)
    by_cell = pd.Series(targets).groupby([tx, ty]).apply(np.asarray).to_dict()
    qx, qy = cell(queries)
    aa, bb = [], []
    for (cx, cy), q in pd.Series(queries).groupby([qx, qy]).apply(np.asarray).items():
        near = [by_cell[k] for k in ((cx + dx, cy + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)) if k in by_cell]
        if not near:
            continue
        t = np.concatenate(near)
        i, j = np.nonzero(np.bitwise_count(photo[q][:, None] ^ photo[t][None, :]) <= bits)
        a, b = q[i], t[j]
        keep = b < a
        aa.append(a[keep])
        bb.append(b[keep])
    if not aa:
        return _no_pairs().assign(far=np.zeros(0, dtype=bool))
    a, b = np.concatenate(aa), np.concatenate(bb)
    d = np.hypot(x[a] - x[b], y[a] - y[b])
    related = (cat[a] == cat[b]) | sibling[cat[a], cat[b]]
    keep = (d > radius[b] * reach) & (d <= far_m) & ~related
    return pd.DataFrame({"a": a[keep], "b": b[keep], "d": d[keep], "radius": radius[b][keep], "far": True})


def _far_pairs(df: pd.DataFrame, queries: np.ndarray, has: np.ndarray, reach: float, far_m: float) -> pd.DataFrame:
    """(report, earlier report) of the same or a sibling 小类, farther than `reach` times the earlier
    one's radius and at most `far_m` metres: one grid join per 小类 of the earlier report."""
    cat, radius = df["cat"].to_numpy(), df["radius"].to_numpy()
    sibling = df.attrs["sibling"]
    parts = []
    for c in np.unique(cat[has]).tolist():
        targets = np.nonzero(has & (cat == c))[0]
        r = float(radius[targets[0]])
        if r * reach >= far_m:
            continue
        q = queries[(cat[queries] == c) | sibling[cat[queries], c]]
        if not len(q):
            continue
        found = _within(df, q, targets, far_m)
        found = found[found["d"] > r * reach]
        found["radius"] = r
        parts.append(found)
    if not parts:
        return _no_pairs().assign(far=np.zeros(0, dtype=bool))
    return pd.concat(parts, ignore_index=True).assign(far=True)


def _road_pairs(df: pd.DataFrame, has: np.ndarray, later: np.ndarray) -> pd.DataFrame:
    """(report, earlier report) on the same road where either has no position."""
    road = df["place_road"].to_numpy()
    lost = np.nonzero(~has & (road != ""))[0]
    if len(lost) == 0:
        return _no_pairs()
    on_road = pd.Series(np.arange(len(df)))[road != ""].groupby(road[road != ""]).apply(np.asarray).to_dict()
    # of the reports after it, only the positioned ones (two unplaced ones pair from the later side)
    a, b = _pairs_of_lost(lost, lambda i: on_road[road[i]], later, later_too=has)
    if not len(a):
        return _no_pairs()
    return pd.DataFrame({"a": a, "b": b, "d": np.full(len(a), np.nan), "radius": df["radius"].to_numpy()[b]})


# ---- comparison levels ------------------------------------------------------------------------


def _cut(values: np.ndarray, edges: list[float], names: list[str]) -> np.ndarray:
    """The level of each value: the first edge it does not exceed, or the last level."""
    return np.array(names, dtype=object)[np.searchsorted(np.asarray(edges, dtype="float64"), values, side="left")]


def _levels(
    df: pd.DataFrame,
    a: np.ndarray,
    b: np.ndarray,
    d: np.ndarray | None,
    radius,
    same_photo_bits: int,
    far: np.ndarray | None = None,
    street: np.ndarray | None = None,
    since: np.ndarray | None = None,
    scene_bits: int = -1,
    drift_bits: int | None = None,
):
    """Levels (and values) of the seven comparisons of pairs (a, b). `since`: the row whose time the
    gap is measured from, for each pair (default b). `scene_bits`: photos at most this far apart show
    one scene; the pair's category (another 小类 or 大类) is then left out, and its drifted distance
    when they are at most `drift_bits` apart (default scene_bits)."""
    out: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    rel = _relation(df, a, b)
    far = np.zeros(len(a), dtype=bool) if far is None else np.asarray(far, dtype=bool)
    street = np.zeros(len(a), dtype=bool) if street is None else np.asarray(street, dtype=bool)
    if d is not None:
        f = d / radius
        near = _cut(np.nan_to_num(f), DISTANCE_EDGES, LEVELS["distance"][: len(DISTANCE_EDGES) + 1])
        out["distance"] = np.select(
            [street, np.isnan(f), far],
            [
                np.where(rel == "same", "ss", "sb").astype(object),
                np.full(len(a), NULL_LEVEL, dtype=object),
                np.where(rel == "same", "fs", "fb").astype(object),
            ],
            near.astype(object),
        )
        values["distance"] = d
    far = far | street
    hours = df["hours"].to_numpy()
    since = b if since is None else since
    gap = np.abs(hours[a] - hours[since])
    known = df["time_known"].to_numpy()
    out["gap"] = np.where(known[a] & known[since], _cut(gap, GAP_EDGES, LEVELS["gap"]), NULL_LEVEL)
    values["gap"] = gap
    values["gap_from_other"] = since != b  # from the incident's latest report, not the pair's
    out["category"] = np.where(far, NULL_LEVEL, rel).astype(object)
    text = df["text"].to_numpy()
    ta, tb = list(text[a]), list(text[b])
    pinyin = df["pinyin"].to_numpy(dtype=object)  # each report's once (frame), picked per pair
    sim = text_similarity(ta, tb, list(pinyin[a]), list(pinyin[b]))
    out["text"] = np.where(
        np.isnan(sim), NULL_LEVEL, _cut(-np.nan_to_num(sim), [-e for e in TEXT_EDGES], LEVELS["text"])
    )
    values["text"] = sim
    has_photo, photo = df["has_photo"].to_numpy(), df["photo"].to_numpy()
    bits = np.bitwise_count(photo[a] ^ photo[b]).astype(np.int64)
    both = has_photo[a] & has_photo[b]
    out["photo"] = np.where(~both, NULL_LEVEL, _cut(bits, [same_photo_bits, *PHOTO_EDGES], LEVELS["photo"]))
    values["photo"] = np.where(both, bits, -1)
    # a photo of the same scene (scene_bits) says what the problem is, and where when it is surely one
    # (drift_bits): a category of another 小类 beside it says the citizen filed it elsewhere, a drifted
    # distance that the phone drifted; both are left out of the pair, as the category is of a far pair
    scene = both & (bits <= scene_bits)
    values["scene"] = scene
    if scene.any():
        off = scene & np.isin(out["category"], ["major", "other"])
        out["category"] = np.where(off, NULL_LEVEL, out["category"]).astype(object)
        if "distance" in out:
            near_photo = bits <= (scene_bits if drift_bits is None else drift_bits)
            drift = scene & near_photo & np.isin(out["distance"], FAR_LEVELS)
            out["distance"] = np.where(drift, NULL_LEVEL, out["distance"]).astype(object)
            off |= drift
        values["scene"] = off
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
    who, frequent = df["reporter"].to_numpy(), df["frequent_reporter"].to_numpy()
    known = (who[a] != "") & (who[b] != "")
    same = who[a] == who[b]
    out["reporter"] = np.select([~known, same & frequent[a], same], [NULL_LEVEL, "same_frequent", "same"], "other")
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
    keep = a != b
    return a[keep][:n], b[keep][:n]


def measure_u(
    df: pd.DataFrame,
    spatial: pd.DataFrame,
    cfg: ReportsConfig,
    start: Model,
    candidate_windows,
    candidate_distance=None,
    seed: int = 0,
    spot: bool = False,
):
    """u of every field from the reports in hand (None when there are too few to say).

    distance, reporter: pairs within the radius whose categories cannot be one problem; gap: even
    over the window; category: random pairs of related categories; words, photo and address text: the same
    place and a related category but outside the time window (the same spot, another problem: a
    photo of the same corner looks alike), or random pairs of one 小类 when there are too few."""
    rng = np.random.default_rng(seed)
    bits = cfg.duplicates.same_photo_bits
    a, b = spatial["a"].to_numpy(), spatial["b"].to_numpy()
    rel = _relation(df, a, b)
    placed = ~np.isnan(spatial["d"].to_numpy())
    unrelated = spatial[(rel == "other") & placed]
    if len(unrelated) > U_SAMPLE:
        unrelated = unrelated.sample(U_SAMPLE, random_state=seed)
    gap = df["hours"].to_numpy()[a] - df["hours"].to_numpy()[b]
    beyond = spatial["far"].to_numpy() if "far" in spatial else np.zeros(len(spatial), dtype=bool)
    far = spatial[(rel != "other") & placed & ~beyond & (gap > df["window"].to_numpy()[b])]
    nearby = far  # within reach, a related category, outside the window: other problems near it
    same_spot = far[far["d"] <= 0.25 * far["radius"]]
    if len(same_spot) >= 200:  # the very spot: what a photo of the same corner looks like
        far = same_spot
    if len(far) > U_SAMPLE:
        far = far.sample(U_SAMPLE, random_state=seed)
    ra, rb = _random_pairs(df, rng, U_SAMPLE)
    if len(unrelated) < 50 or len(ra) < 50:
        return None if not spot else (None, None)
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
    anywhere = dict(scene)  # two problems of one 小类 anywhere: unrelated words and photos
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
    if candidate_distance is not None and len(candidate_distance):
        u["distance"] = _with_far(u["distance"], np.asarray(candidate_distance))
    if not spot:
        return u
    # three kinds: the same spot outside the window (`scene`) starts another problem at the same
    # spot; two problems of one 小类 anywhere the unrelated ones' words and photos. The address of
    # another problem at the same spot starts from the same spot's too (tied to m in the estimate)
    s_start = start.s if isinstance(start, SpotModel) else start.u
    s = {f: _distribution(scene[f], LEVELS[f], s_start[f], strength) for f in ("text", "photo")}
    s.update({"gap": u["gap"], "reporter": u["reporter"]})
    for f in SPOT_TIED:
        s[f] = dict(start.m[f])
    if cfg.duplicates.same_spot_distance != "tied" and len(nearby) >= 200:
        # another problem of its kind near it (the pothole back, a second one 30 m away) lies as far
        # as the related pairs within reach outside the window do
        if len(nearby) > U_SAMPLE:
            nearby = nearby.sample(U_SAMPLE, random_state=seed)
        spread, _ = _levels(
            df,
            nearby["a"].to_numpy(),
            nearby["b"].to_numpy(),
            nearby["d"].to_numpy(),
            nearby["radius"].to_numpy(),
            bits,
        )
        s["distance"] = _distribution(spread["distance"], LEVELS["distance"], s_start["distance"], strength)
    u.update({f: _distribution(anywhere[f], LEVELS[f], start.u[f], strength) for f in ("text", "photo")})
    return u, s


def _with_far(near: dict[str, float], candidate_distance: np.ndarray) -> dict[str, float]:
    """u of distance with the far levels: the pairs within reach measured what two problems' distance
    looks like there (`near`); how many of the candidates are far pairs (same or sibling 小类 beyond
    reach) is their share of the candidate pairs, nearly all of which are two problems."""
    placed = candidate_distance[candidate_distance != NULL_LEVEL]
    if not len(placed):
        return near
    far = {lv: max(float(np.count_nonzero(placed == lv)) / len(placed), 1e-4) for lv in FAR_LEVELS + STREET_LEVELS}
    rest = sum(v for lv, v in near.items() if lv not in far)
    out = {lv: (far[lv] if lv in far else v / rest * (1 - sum(far.values()))) for lv, v in near.items()}
    total = sum(out.values())
    return {lv: v / total for lv, v in out.items()}


def _gap_u(windows: np.ndarray) -> dict[str, float]:
    """Two different problems near each other arise independently: the time between their reports
    is even over the window. Share of each gap level, averaged over the candidate pairs' windows."""
    windows = np.asarray(windows, dtype="float64")
    if len(windows) == 0:
        windows = np.array([72.0])
    out = {}
    edges = [0.0, *GAP_EDGES, math.inf]
    for lv, lo, hi in zip(LEVELS["gap"], edges[:-1], edges[1:]):
        share = (np.clip(windows, lo, hi) - lo) / windows
        out[lv] = float(share.mean()) + 1e-4
    total = sum(out.values())
    return {lv: v / total for lv, v in out.items()}


def estimate(
    patterns: dict[str, np.ndarray] | pd.DataFrame,
    u: dict,
    strength: float,
    start: Model,
    max_iterations: int = 200,
    held: tuple[str, ...] = (),
    held_m: dict | None = None,
) -> Model:
    """m, u and the share of duplicates by EM over the candidate pairs' level patterns (Fellegi–Sunter
    as Winkler estimates it): every pair counts towards m by its posterior and towards u by the rest.

    u starts from what the reports in hand measured (`u`: pairs that cannot be one problem) and m
    from the previous estimate; both pull as `strength` pairs' worth, so a quiet day stays sensible.
    Holding u at the measured value would bias it: the pairs that measure it are not the candidates'
    non-duplicates (two problems at the very same spot agree on the address more often than two
    problems anywhere within the radius). The fields in `held` are held all the same: where nothing
    else tells neighbouring problems apart, EM's drift is the worse bias (_fit_held_without_photos)."""
    names = {f: LEVELS[f] + [NULL_LEVEL] for f in FIELDS}
    codes = np.stack([_level_codes(patterns[f], names[f]) for f in FIELDS], axis=1)
    uniq, counts = _unique_rows(codes, [len(names[f]) for f in FIELDS])
    counts = counts.astype("float64")
    held_m = held_m or {}
    m = {f: dict(held_m.get(f, start.m[f])) for f in FIELDS}
    u = {f: dict(u[f]) for f in FIELDS}
    pseudo_m = {f: np.array([strength * m[f][lv] for lv in LEVELS[f]]) for f in FIELDS}
    pseudo_u = {f: np.array([strength * u[f][lv] for lv in LEVELS[f]]) for f in FIELDS}
    prior = start.prior
    it = 0
    while it < max_iterations:
        it += 1
        total = np.full(len(uniq), math.log2(prior / (1 - prior)))
        for j, f in enumerate(FIELDS):
            log_m = np.log2(np.array([m[f][lv] for lv in LEVELS[f]] + [1.0]))
            log_u = np.log2(np.array([u[f][lv] for lv in LEVELS[f]] + [1.0]))
            total += (log_m - log_u)[uniq[:, j]]
        wm = counts / (1.0 + 2.0 ** (-total))
        wu = counts - wm
        new_prior = float((wm.sum() + strength * start.prior) / (counts.sum() + strength))
        new_m, new_u = {}, {}
        for j, f in enumerate(FIELDS):
            for weights, pseudo, out in ((wm, pseudo_m, new_m), (wu, pseudo_u, new_u)):
                if out is new_u and f in held:
                    new_u[f] = u[f]  # as measured (held_u_without_photos)
                    continue
                if out is new_m and f in held_m:
                    new_m[f] = m[f]
                    continue
                by_level = np.bincount(uniq[:, j], weights=weights, minlength=len(names[f]))[: len(LEVELS[f])]
                c = by_level + pseudo[f] + SMOOTHING
                out[f] = {lv: float(v) for lv, v in zip(LEVELS[f], c / c.sum())}
        delta = abs(new_prior - prior) + max(
            abs(new[f][lv] - old[f][lv]) for new, old in ((new_m, m), (new_u, u)) for f in FIELDS for lv in LEVELS[f]
        )
        m, u, prior = new_m, new_u, min(max(new_prior, 1e-4), 1 - 1e-4)
        if delta < 1e-6:
            break
    return Model(FIELDS, LEVELS, m, u, prior, it)


def estimate_spot(
    patterns: dict[str, np.ndarray] | pd.DataFrame,
    u: dict,
    s: dict,
    strength: float,
    start: Model,
    max_iterations: int = 200,
    distance: str = "tied",
    held: tuple[str, ...] = (),
    held_m: dict | None = None,
) -> SpotModel:
    """m, s, u and the shares of duplicates and of other problems at the same spot, by EM over the
    candidate pairs' level patterns with three latent classes: one problem (m), another problem at
    the same spot (s) and an unrelated problem (u). The two kinds of non-duplicates break the
    independence a two-class model assumes: among them, two reports at the same spot have alike
    photos and addresses, two far apart do not; each kind by itself is closer to independent.

    Identified by tying s to m on where a report is and what it is filed as (SPOT_TIED: distance,
    category, address pooled over both classes), so that s can only be told from m by the time,
    the words, the photo and the reporter; s starts from the same spot outside the window
    (measure_u), u from the unrelated pairs, m from the previous estimate, each weighing `strength`
    pairs' worth."""
    names = {f: LEVELS[f] + [NULL_LEVEL] for f in FIELDS}
    codes = np.stack([_level_codes(patterns[f], names[f]) for f in FIELDS], axis=1)
    uniq, counts = _unique_rows(codes, [len(names[f]) for f in FIELDS])
    counts = counts.astype("float64")
    held_m = held_m or {}
    m = {f: dict(held_m.get(f, start.m[f])) for f in FIELDS}
    tied = SPOT_TIED if distance == "tied" else tuple(f for f in SPOT_TIED if f != "distance")
    s = {f: dict(m[f]) if f in tied else dict(s[f]) for f in FIELDS}
    u = {f: dict(u[f]) for f in FIELDS}
    start_s = start.prior_s if isinstance(start, SpotModel) else DEFAULT_PRIOR_SPOT
    pseudo = {
        key: {f: np.array([strength * dist[f][lv] for lv in LEVELS[f]]) for f in FIELDS}
        for key, dist in (("m", m), ("s", s), ("u", u))
    }
    prior_m, prior_s = start.prior, start_s
    it = 0
    while it < max_iterations:
        it += 1
        logs = []
        for dist, prior in ((m, prior_m), (s, prior_s), (u, 1.0 - prior_m - prior_s)):
            total = np.full(len(uniq), math.log2(prior))
            for j, f in enumerate(FIELDS):
                total += np.log2(np.array([dist[f][lv] for lv in LEVELS[f]] + [1.0]))[uniq[:, j]]
            logs.append(total)
        top = np.maximum.reduce(logs)
        share = [2.0 ** (lg - top) for lg in logs]
        whole = share[0] + share[1] + share[2]
        wm, ws, wu = (counts * sh / whole for sh in share)
        n = counts.sum() + strength
        new_m_prior = float((wm.sum() + strength * start.prior) / n)
        new_s_prior = float((ws.sum() + strength * start_s) / n)
        new = {"m": {}, "s": {}, "u": {}}
        for j, f in enumerate(FIELDS):

            def by_level(weights, j=j, f=f):
                return np.bincount(uniq[:, j], weights=weights, minlength=len(names[f]))[: len(LEVELS[f])]

            if f in held_m:
                new["m"][f] = m[f]
                new["s"][f] = m[f] if f in tied else s[f]
            elif f in tied:
                c = by_level(wm + ws) + pseudo["m"][f] + pseudo["s"][f] + SMOOTHING
                new["m"][f] = new["s"][f] = {lv: float(v) for lv, v in zip(LEVELS[f], c / c.sum())}
            else:
                c = by_level(wm) + pseudo["m"][f] + SMOOTHING
                new["m"][f] = {lv: float(v) for lv, v in zip(LEVELS[f], c / c.sum())}
                if f in SPOT_LEARNED:
                    c = by_level(ws) + pseudo["s"][f] + SMOOTHING
                    new["s"][f] = {lv: float(v) for lv, v in zip(LEVELS[f], c / c.sum())}
                else:
                    new["s"][f] = s[f]  # as measured at the same spot outside the window
            if f in held:
                new["u"][f] = u[f]  # as measured (held_u_without_photos)
            else:
                c = by_level(wu) + pseudo["u"][f] + SMOOTHING
                new["u"][f] = {lv: float(v) for lv, v in zip(LEVELS[f], c / c.sum())}
        delta = abs(new_m_prior - prior_m) + abs(new_s_prior - prior_s)
        delta += max(
            abs(new[key][f][lv] - old[f][lv])
            for key, old in (("m", m), ("s", s), ("u", u))
            for f in FIELDS
            for lv in LEVELS[f]
        )
        m, s, u = new["m"], new["s"], new["u"]
        prior_m = min(max(new_m_prior, 1e-4), 1 - 2e-4)
        prior_s = min(max(new_s_prior, 1e-4), 1 - prior_m - 1e-4)
        if delta < 1e-6:
            break
    return SpotModel(FIELDS, LEVELS, m, u, prior_m, it, s, prior_s)


def _level_codes(values, names: list[str]) -> np.ndarray:
    """`pd.Categorical(values, categories=names).codes` as int64 (-1: not one of `names`), by one
    lookup per value in a hash table of the names: pd.Categorical first converts a million level
    strings to pandas' Arrow strings, ~7x the time of the lookups."""
    values = np.asarray(values, dtype=object)
    try:
        from pandas._libs.hashtable import PyObjectHashTable

        table = PyObjectHashTable(len(names))
        table.map_locations(np.array(names, dtype=object))
        return np.asarray(table.lookup(values), dtype=np.int64)
    except (ImportError, AttributeError, TypeError):  # another pandas: its public way
        return pd.Categorical(values, categories=names).codes.astype(np.int64)


def _unique_rows(codes: np.ndarray, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(codes, axis=0, return_counts=True)` for small non-negative codes (column j below
    sizes[j]), through one integer key per row (the first column most significant, so the rows come
    out in the same lexicographic order): a 1-D sort instead of a sort of row views, ~10x faster on a
    million pairs."""
    if len(codes) == 0 or math.prod(sizes) >= 1 << 62:
        return np.unique(codes, axis=0, return_counts=True)
    key = np.zeros(len(codes), dtype=np.int64)
    for j, size in enumerate(sizes):
        key = key * size + codes[:, j]
    keys, counts = np.unique(key, return_counts=True)
    uniq = np.empty((len(keys), len(sizes)), dtype=codes.dtype)
    for j in range(len(sizes) - 1, -1, -1):
        keys, uniq[:, j] = np.divmod(keys, sizes[j])
    return uniq, counts


def _log_odds(model: Model, levels: dict[str, np.ndarray]) -> np.ndarray:
    """log2 of the odds that each pair is one problem. With a SpotModel, against both other kinds:
    log2(λm·m / (λs·s + λu·u))."""
    n = len(next(iter(levels.values())))
    if isinstance(model, SpotModel):
        logs = []
        for dist, prior in (
            (model.m, model.prior),
            (model.s, model.prior_s),
            (model.u, 1 - model.prior - model.prior_s),
        ):
            total = np.full(n, math.log2(prior))
            for f in FIELDS:
                names = LEVELS[f] + [NULL_LEVEL]
                total += np.log2(np.array([dist[f][lv] for lv in LEVELS[f]] + [1.0]))[_level_codes(levels[f], names)]
            logs.append(total)
        return logs[0] - np.logaddexp2(logs[1], logs[2])
    total = np.full(n, math.log2(model.prior / (1 - model.prior)))
    for f in FIELDS:
        w = {lv: model.weight(f, lv) for lv in LEVELS[f]}
        w[NULL_LEVEL] = 0.0
        if n > 1000:  # many pairs: by category codes
            names = LEVELS[f] + [NULL_LEVEL]
            total += np.array([w[lv] for lv in names])[_level_codes(levels[f], names)]
        else:
            total += np.array([w[lv] for lv in levels[f]], dtype="float64")
    return total


# ---- the whole step ---------------------------------------------------------------------------


def detect(items: list[Item], cfg: ReportsConfig, stored_model: Model | None = None, estimate_model: bool = True):
    """Decide, for every batch item, which open incident it joins (if any). Pure: nothing is stored."""
    import time

    t0 = time.perf_counter()
    if not items:  # a file whose every row was refused or already taken: nothing to decide nor learn
        return Outcome([], stored_model or default_model(), 0, False)
    if not estimate_model and len(items) == 1:  # a single post with no open incident near it: a new one
        return Outcome([Decision(items[0].report_no, None, None, None)], stored_model or default_model(), 0, False)
    df = frame(items, cfg)
    _drop_fallback_fixes(df)
    counted = photo_distances(df) if estimate_model else None  # a single post reads the stored estimate's
    perceptual = perceptual_fingerprints(counted)
    if perceptual is None:  # as read at the latest estimate (none yet: taken as perceptual)
        perceptual = getattr(stored_model, "perceptual", True)
    if not perceptual:
        df["has_photo"] = False  # fingerprints that say nothing: as if blank
        counted = None
    anywhere_bits, seen_range = photo_ranges(counted, cfg, stored_model, estimate_model)
    # estimating looks at every pair of the reports in hand (the open incidents' and the batch's);
    # deciding only at the batch's
    spatial = _spatial_pairs(
        df,
        batch_only=not estimate_model,
        reach=cfg.duplicates.reach,
        far_m=cfg.duplicates.far_m,
        photo_bits=anywhere_bits,
        scene_far_bits=cfg.duplicates.scene_place_bits if cfg.duplicates.far_scene else 0,
    )
    windows: dict[str, float] = {}
    if cfg.duplicates.window_estimated:  # as long as the delivery shows an open problem's reports coming
        if estimate_model:
            windows = observed_windows(df, spatial, cfg.duplicates.scene_place_bits, cfg.max_window_hours)
        else:
            windows = getattr(stored_model, "windows", None) or {}
        widen_windows(df, windows)
    a, b = spatial["a"].to_numpy(), spatial["b"].to_numpy()
    rel = _relation(df, a, b)
    hours, window = df["hours"].to_numpy(), df["window"].to_numpy()
    # a candidate: related category, the earlier report inside its window and of an open incident
    is_open = df["batch"].to_numpy() | df["open"].to_numpy()
    related = (rel != "other") | cfg.duplicates.other_categories
    cand = related & (hours[a] - hours[b] <= window[b]) & is_open[b]
    cand_pairs = spatial[cand].reset_index(drop=True)
    t1 = time.perf_counter()
    ca, cb = cand_pairs["a"].to_numpy(), cand_pairs["b"].to_numpy()
    levels, values = _levels(
        df,
        ca,
        cb,
        cand_pairs["d"].to_numpy(),
        cand_pairs["radius"].to_numpy(),
        cfg.duplicates.same_photo_bits,
        far=cand_pairs["far"].to_numpy(),
        street=cand_pairs["street"].to_numpy(),
        since=_latest_before(df, ca, cb) if cfg.duplicates.gap_from == "latest" else None,
        scene_bits=cfg.duplicates.scene_bits or -1,
        drift_bits=cfg.duplicates.scene_place_bits,
    )
    values["anywhere"] = cand_pairs["anywhere"].to_numpy()  # paired by the photo alone (_photo_pairs)
    t2 = time.perf_counter()
    model, estimated = stored_model or default_model(), False
    rules = cfg.duplicates
    if estimate_model and rules.same_spot_class:
        u, s = measure_u(df, spatial, cfg, model, window[cb], levels["distance"], spot=True)
        if u is not None and len(ca) >= 50:
            start = model

            def fit(held, held_m):
                return estimate_spot(
                    levels,
                    u,
                    s,
                    rules.prior_strength,
                    start,
                    distance=rules.same_spot_distance,
                    held=held,
                    held_m=held_m,
                )

            model = _fit_held_without_photos(fit, rules, perceptual, levels["photo"])
            estimated = True
    elif estimate_model:
        u = measure_u(df, spatial, cfg, model, window[cb], levels["distance"])
        if u is not None and len(ca) >= 50:
            start = model
            model = _fit_held_without_photos(
                lambda held, held_m: estimate(levels, u, rules.prior_strength, start, held=held, held_m=held_m),
                rules,
                perceptual,
                levels["photo"],
            )
            estimated = True
    # decide for the batch's reports only
    mine = df["batch"].to_numpy()[ca]
    cand_pairs = cand_pairs[mine].reset_index(drop=True)
    levels = {f: v[mine] for f, v in levels.items()}
    values = {f: v[mine] for f, v in values.items()}
    if estimated and seen_range is not None:  # stored with the weights: a single post reads it
        model.scene_range = seen_range
    if estimated:
        model.perceptual = perceptual
        model.windows = windows
    score = _log_odds(model, levels) if len(ca) else np.zeros(0)
    t3 = time.perf_counter()
    decisions = _assign(df, cand_pairs, score, levels, values, cfg, model)
    t4 = time.perf_counter()
    splits = split_incidents(df, decisions, cfg, model) if cfg.duplicates.split_below > 0 else []
    t5 = time.perf_counter()
    return Outcome(
        decisions,
        model,
        len(ca),
        estimated,
        {"pairs": t1 - t0, "compare": t2 - t1, "estimate": t3 - t2, "assign": t4 - t3, "split": t5 - t4},
        splits,
    )


# fewer of the candidate pairs than this with a photo on both sides: the photos cannot tell the
# problems apart, whatever their weights say (_fit_held_without_photos)
PHOTO_PAIRS_SHARE = 0.2


def _fit_held_without_photos(fit, rules, perceptual: bool, photo_levels: np.ndarray) -> Model:
    """`fit(held_u, held_m)`: the weights with nothing held; where the photos say nothing of scenes (the
    fingerprints are not perceptual, few pairs have photos on both sides, or the weights give a far
    photo no weight), fitted again with the u of `held_u_without_photos` held as measured. Without a
    photo to tell one problem from its neighbours, EM drifts to "the same 小类 near it": m takes every
    pair of one 小类, far ones too (a far pair's weight +2 instead of -6), and a storm day's 35
    flooded spots become one incident. The m of `held_m_without_photos` stays the cold start's then
    (PRIOR_M): where citizens write a few words per 小类, EM takes "one 小类, alike words" for one
    problem however far apart (figures in categories.yml)."""
    model = fit((), {})
    with_photos = float(np.mean(np.asarray(photo_levels, dtype=object) != NULL_LEVEL)) if len(photo_levels) else 0.0
    weak = (
        not perceptual
        or with_photos < PHOTO_PAIRS_SHARE
        or not photos_tell_scenes(model, rules.same_photo_bits, rules.different_photo_bits)
    )
    if weak and (rules.held_u_without_photos or rules.held_m_without_photos):
        cold = default_model()
        model = fit(tuple(rules.held_u_without_photos), {f: cold.m[f] for f in rules.held_m_without_photos})
    return model


# an open problem's reports: the share of the later ones that its window must still reach, and how
# many must have been seen in a 大类 for its window to be read from them (observed_windows)
WINDOW_QUANTILE = 0.95
WINDOW_MIN_REPORTS = 30
ANY_MAJOR = ""  # observed_windows' key for the district's window, all 大类 together


def observed_windows(df: pd.DataFrame, spatial: pd.DataFrame, scene_bits: int, cap: float) -> dict[str, float]:
    """Per 大类, how long after an open problem's latest report its next report still comes, as the
    reports in hand show it: for every report whose photo shows the same scene (at most `scene_bits`
    apart) as an earlier report of an open incident of its 大类 within reach, the hours since the
    latest such report; their WINDOW_QUANTILE where WINDOW_MIN_REPORTS were seen, at most `cap`
    (under ANY_MAJOR, the same of all 大类 together).
    Two photos of one scene near each other are one problem (98-100 % of such pairs on three
    generators' months), so the delivery itself says how long its problems stand before the fix;
    the configured windows (categories.yml) stay the least (widen_windows)."""
    if scene_bits <= 0 or not len(spatial):
        return {}
    a, b = spatial["a"].to_numpy(), spatial["b"].to_numpy()
    has, photo = df["has_photo"].to_numpy(), df["photo"].to_numpy()
    major, known = df["major"].to_numpy(), df["time_known"].to_numpy()
    is_open = df["batch"].to_numpy() | df["open"].to_numpy()
    placed = np.isfinite(spatial["d"].to_numpy()) & ~spatial["far"].to_numpy()
    keep = placed & has[a] & has[b] & known[a] & known[b] & is_open[b] & (major[a] == major[b])
    a, b = a[keep], b[keep]
    keep = np.bitwise_count(photo[a] ^ photo[b]) <= scene_bits
    if not keep.any():
        return {}
    latest = pd.Series(b[keep]).groupby(a[keep]).max()  # rows are in order of time
    later = latest.index.to_numpy()
    hours = df["hours"].to_numpy()
    gaps = pd.Series(hours[later] - hours[latest.to_numpy()])
    out = {
        str(m): float(min(g.quantile(WINDOW_QUANTILE), cap))
        for m, g in gaps.groupby(major[later])
        if len(g) >= WINDOW_MIN_REPORTS
    }
    if len(gaps) >= WINDOW_MIN_REPORTS:  # for a 大类 with fewer of its own (a small district, early days)
        out[ANY_MAJOR] = float(min(gaps.quantile(WINDOW_QUANTILE), cap))
    return out


def observed_window(windows: dict[str, float], major: str) -> float:
    """The hours a 大类's open problems' reports were seen coming (observed_windows): its own, or the
    district's where it has none; 0 where nothing was read."""
    return windows.get(major, windows.get(ANY_MAJOR, 0.0))


def widen_windows(df: pd.DataFrame, windows: dict[str, float]) -> None:
    """Every report's window (`df["window"]`) at least its 大类's observed window (observed_window)."""
    if windows:
        majors = df["major"]
        seen = majors.map({m: observed_window(windows, m) for m in majors.unique()}).to_numpy(dtype="float64")
        df["window"] = np.maximum(df["window"].to_numpy(dtype="float64"), seen)


def photo_ranges(
    counted: PhotoCounts | None, cfg: ReportsConfig, stored: Model | None, estimate_model: bool
) -> tuple[int, int | None]:
    """(photo_anywhere_bits, the range read) for this step: as configured, or, with
    `photo_anywhere_estimated`, the same-scene range of the fingerprints in hand (`scene_range`,
    never below the configured value nor `scene_bits`) when the weights are estimated, else the one
    stored with the weights."""
    rules = cfg.duplicates
    anywhere = rules.photo_anywhere_bits
    if not rules.photo_anywhere_estimated:
        return anywhere, None
    floor = max(anywhere, rules.scene_bits)
    k = scene_range(counted, floor) if estimate_model else (getattr(stored, "scene_range", None) or floor)
    if anywhere > 0:
        anywhere = max(anywhere, k)
    return anywhere, k if estimate_model else None


def _latest_before(df: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For each pair (a, b): the latest report before a of b's incident (b itself when b has none
    yet: a report of the batch). The window of an incident runs from its latest report
    (categories.yml), and so does the time evidence: a report three days after an incident's first
    report but an hour after its latest is an hour after the problem was last seen."""
    code, _ = pd.factorize(df["incident"], use_na_sentinel=True)
    code = np.asarray(code, dtype=np.int64)
    n = len(df)
    rows = np.nonzero(code >= 0)[0]
    key = np.sort(code[rows] * n + rows)  # (incident, row): rows are in order of time
    out = np.asarray(b, dtype=np.int64).copy()
    has = code[b] >= 0
    if not has.any() or not len(key):
        return out
    at = np.searchsorted(key, code[b[has]] * n + a[has], side="left") - 1
    found = key[at]
    same = (found // n) == code[b[has]]
    latest = np.where(same, found % n, b[has])
    out[has] = np.maximum(latest, b[has])
    return out


# The photo guard (`different_photo_bits`) holds a report back only as far as the fingerprints in
# hand tell scenes apart: two reports of one problem seldom have photos that far apart, two unrelated
# problems nearly always do. Each photo level the guard covers must weigh (log2 m/u) at most this;
# the guard starts at the nearest of the farthest levels that all do (never nearer than
# `different_photo_bits`), and where none does (no fingerprints, hashes that are not perceptual, or
# only a re-sent photo matching: one problem's photos as far apart as two problems') a far photo
# holds nothing back. The cold-start guesses weigh 25-28 bits -1.5 and beyond -3.6; on the
# generator's months the levels from 25 bits weigh -1.8 (the first day) to -8; with every
# fingerprint replaced by a random one ~0 (and the guard held back 95 % of the duplicates: recall
# .05); with 6-10 more bits off every fingerprint (a coarser hash) 25-28 bits weigh +0.1 and beyond
# 28 -3.9: the guard starts at 29 bits
PHOTO_GUARD_WEIGHT = -1.5


def scene_guard_bits(model: Model, same_photo_bits: int, different_photo_bits: int) -> int:
    """From how many Hamming bits, by `model`, a photo is clear evidence of another scene
    (PHOTO_GUARD_WEIGHT): `different_photo_bits` or more; 65 (never) where the photos do not tell."""
    uppers = [same_photo_bits, *PHOTO_EDGES, 64]  # the largest distance of each photo level
    lowers = [0] + [hi + 1 for hi in uppers[:-1]]
    out = 65
    for lv, lo, hi in reversed(list(zip(LEVELS["photo"], lowers, uppers))):
        m, u = model.m["photo"][lv], model.u["photo"][lv]
        if hi < different_photo_bits or not (m > 0 and u > 0 and math.log2(m / u) <= PHOTO_GUARD_WEIGHT):
            break
        out = max(lo, different_photo_bits)
    return out


def photos_tell_scenes(model: Model, same_photo_bits: int, different_photo_bits: int) -> bool:
    """Whether, by `model`, a photo far enough from another is clear evidence of another scene
    (scene_guard_bits)."""
    return scene_guard_bits(model, same_photo_bits, different_photo_bits) <= 64


def _assign(df, pairs, score, levels, values, cfg: ReportsConfig, model: Model) -> list[Decision]:
    """In order of time: join the best open incident, or open a new one (with a review when borderline).
    A report joins the incident of its best pair; when it is also a very sure duplicate (`merge`) of
    another open incident, the two are one problem reported twice and that one is merged into the
    joined one (`Decision.merges`)."""
    accept, merge, review = cfg.duplicates.accept, cfg.duplicates.merge, cfg.duplicates.review
    if isinstance(model, SpotModel):  # the odds against both other kinds: a posterior of its own
        accept = cfg.duplicates.same_spot_accept
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
    cols = _ExplainColumns(pairs["radius"].to_numpy(), pb, report_no)
    out = []
    average = cfg.duplicates.linkage == "average"
    top = cfg.duplicates.average_of
    # as far as the weights say a photo that far shows another scene (65: no two are that far apart)
    different = scene_guard_bits(model, cfg.duplicates.same_photo_bits, cfg.duplicates.different_photo_bits)
    photo_majority = cfg.duplicates.different_photo_majority
    scene_bits = cfg.duplicates.scene_bits if average and cfg.duplicates.scene_bits > 0 else -1
    photo_bits = np.asarray(values["photo"]) if len(pairs) else np.zeros(0, dtype=np.int64)
    speaks = scene_speaks(levels, values, photo_bits, scene_bits, cfg.duplicates)
    # pairs whose distance is a level within reach (d0 … d11): both reports placed, near each other
    in_reach = np.isin(np.asarray(levels["distance"], dtype=object), LEVELS["distance"][: len(DISTANCE_EDGES) + 1])
    for a in np.nonzero(df["batch"].to_numpy())[0].tolist():
        best: dict[str, int] = {}  # incident -> best pair
        linked: dict[str, list[float]] = {}  # incident -> the scores of all its pairs with this report
        placed: dict[str, list[float]] = {}  # the same, its pairs within reach only (both placed)
        alike: dict[
            str, int
        ] = {}  # incident -> how many of its reports have a photo less than different_photo_bits away
        unlike_n: dict[str, int] = {}  # incident -> how many have one that far or farther (another scene)
        scene: dict[str, float] = {}  # incident -> the best score of its pairs whose photos show the same scene
        for k in by_a.get(a, ()):
            inc = incident[pb[k]]
            if inc is None:
                continue
            inc = current(inc)
            linked.setdefault(inc, []).append(score[k])
            if in_reach[k]:
                placed.setdefault(inc, []).append(score[k])
            if photo_bits[k] >= 0:
                near_photo = bool(photo_bits[k] < different)
                alike[inc] = alike.get(inc, 0) + near_photo
                unlike_n[inc] = unlike_n.get(inc, 0) + (not near_photo)
                if speaks[k] and score[k] > scene.get(inc, -math.inf):
                    scene[inc] = score[k]
            if inc not in best or score[k] > score[best[inc]]:
                best[inc] = k
        # the report against the incident: its best pair (single linkage) or, with `average`, the
        # mean over the reports of the incident it was compared with within reach: the best of many
        # pairs is chosen for being close, so one lucky neighbour of a big incident would decide.
        # The incident's reports paired beyond reach (a drifted fix), along a road or in a street (no
        # position) say little of where the problem is and would pull the mean down: they count
        # only when none of its reports is within reach
        of = {
            inc: (_mean_of_best(placed.get(inc) or linked[inc], top) if average else float(score[k]))
            for inc, k in best.items()
        }
        for inc, s in scene.items():  # the same scene photographed: that pair is not outvoted
            of[inc] = max(of[inc], float(s))
        ranked = sorted(best.items(), key=lambda kv: -of[kv[0]])
        if not ranked:
            incident[a] = "new:" + report_no[a]
            first[incident[a]] = hours[a]
            out.append(Decision(report_no[a], None, None, None))
            continue
        inc, k = ranked[0]
        p = 1.0 / (1.0 + 2.0 ** (-of[inc]))
        why = explain(levels, values, k, model, p, cols)
        # photos on both sides, and none of the incident's like this one, or (with
        # `different_photo_majority`) most of them of another scene: the report matched a few of
        # the incident's reports, but the scene most of them show is not its own
        unlike = alike.get(inc) == 0 or (photo_majority and unlike_n.get(inc, 0) > alike.get(inc, 0))
        if p >= accept and unlike:
            most = "均" if alike.get(inc) == 0 else "多数"
            why["summary"] += (
                f"；照片与该事件各上报的照片{most}相差{different}位以上（不同场景），不自动合并，转部门复核"
            )
            why["different_photos"] = True
        if p >= accept and not unlike:
            # the best pair's incident: joining the oldest of two likely ones would let the weaker
            # pair decide; another that is a very sure duplicate too (`merge`) is the same problem
            # reported twice: the two become one, under the older id
            one = [(inc, k)] + [(i, kk) for i, kk in ranked[1:] if 1.0 / (1.0 + 2.0 ** (-of[i])) >= merge]
            target = min((i for i, _ in one), key=lambda i: first.get(i, math.inf))
            d = Decision(report_no[a], target, p, why)
            for other, kk in one:
                if other != target:
                    alias[other] = target
                    po = 1.0 / (1.0 + 2.0 ** (-of[other]))
                    d.merges.append((other, target, explain(levels, values, kk, model, po, cols)))
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


def scene_speaks(levels: dict, values: dict, photo_bits: np.ndarray, scene_bits: int, rules) -> np.ndarray:
    """Which pairs (by their `levels` and `values`) show one scene so surely that the incident is
    judged by the better of its mean and that pair (`_assign`): photos at most `scene_bits` apart,
    and past `scene_sure_bits` only a pair whose category the scene left out (a drifted distance is
    left out only within scene_place_bits), or one at most `scene_sure_hours` apart (both times
    known). Photos 11-14 bits apart are a re-report's (another angle, another phone) as often as
    the problem back at the same spot's (the same scene, another pothole a day later): the time
    tells them apart."""
    scene = (photo_bits >= 0) & (photo_bits <= scene_bits)
    sure = rules.scene_sure_bits
    if not sure or sure >= scene_bits or not len(photo_bits):
        return scene
    left_out = np.asarray(values["scene"], dtype=bool)  # the category (or, within sure, the distance)
    known = np.asarray(levels["gap"], dtype=object) != NULL_LEVEL
    soon = known & (np.asarray(values["gap"], dtype="float64") <= rules.scene_sure_hours)
    return scene & ((photo_bits <= sure) | left_out | soon)


def average_linkage(p: np.ndarray, below: float) -> list[list[int]]:
    """Groups of the rows of a symmetric matrix of pair posteriors: the two groups whose pairs have
    the highest mean posterior are joined, again and again, while that mean reaches `below`. Each
    group is in order of rows; groups are in order of their first row."""
    n = len(p)
    groups = [[k] for k in range(n)]
    if n < 2:
        return groups
    sums = np.array(p, dtype="float64", copy=True)  # sum of the pair posteriors between two groups
    np.fill_diagonal(sums, 0.0)
    size = np.ones(n)
    alive = np.ones(n, dtype=bool)
    while alive.sum() > 1:
        mean = sums / np.outer(size, size)
        mean[~alive, :] = -1.0
        mean[:, ~alive] = -1.0
        np.fill_diagonal(mean, -1.0)
        i, j = np.unravel_index(int(np.argmax(mean)), mean.shape)
        if mean[i, j] < below:
            break
        i, j = min(i, j), max(i, j)
        sums[i, :] += sums[j, :]
        sums[:, i] += sums[:, j]
        sums[i, i] = 0.0
        size[i] += size[j]
        alive[j] = False
        groups[i] += groups[j]
        groups[j] = []
    return [sorted(g) for g in groups if g]


def _final_incidents(df: pd.DataFrame, decisions: list[Decision]) -> list[str | None]:
    """Each row's incident once the batch is decided: a stored report's (or the incident it was
    merged into), a batch report's joined one or "new:<编号>" for the one it opened."""
    alias = {other: target for d in decisions for other, target, _ in d.merges}

    def current(inc):
        while inc in alias:
            inc = alias[inc]
        return inc

    of = {d.report_no: (d.incident or "new:" + d.report_no) for d in decisions}
    out = []
    for no, inc, batch in zip(df["report_no"], df["incident"], df["batch"]):
        out.append(current(of[no] if batch else inc))
    return out


def split_incidents(df: pd.DataFrame, decisions: list[Decision], cfg: ReportsConfig, model: Model) -> list[Split]:
    """The incidents this batch added to, looked at again with every pair of their reports: a group of
    at least `split_min_reports` later reports that are one problem among themselves but whose pairs
    with the rest have a mean posterior below `split_below` is another problem that joined it (a
    second pothole 40 m away whose first report was just sure enough, followed by its own). Each
    report is judged when it comes, against what is there; the pairs of the reports that came after
    say more (average linkage, `average_linkage`). As when a report joins (`_assign`), the group is
    judged by its pairs within reach with the reports that stay, by all of them when it has none
    (another problem 340 m away whose first report joined through a drifted fix's far pair); one
    whose photo shows the scene of a report that stays (`scene_bits`) stays: one scene is one
    problem."""
    rules = cfg.duplicates
    final = _final_incidents(df, decisions)
    touched = {final[k] for k in np.nonzero(df["batch"].to_numpy())[0].tolist()}
    rows_of: dict[str, list[int]] = {}
    for k, inc in enumerate(final):
        if inc in touched:
            rows_of.setdefault(inc, []).append(k)
    groups = [(inc, rows) for inc, rows in rows_of.items() if len(rows) > rules.split_min_reports]
    if not groups:
        return []
    a_parts, b_parts = [], []
    for _, rows in groups:
        r = np.asarray(rows, dtype=np.int64)  # in order of time: a is the later report of each pair
        a, b = np.tril_indices(len(r), -1)
        a_parts.append(r[a])
        b_parts.append(r[b])
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    x, y = df["x"].to_numpy(), df["y"].to_numpy()
    d = np.hypot(x[a] - x[b], y[a] - y[b])
    radius = df["radius"].to_numpy()[b]
    with np.errstate(invalid="ignore"):
        far = d > radius * rules.reach
    within_reach = ~np.isnan(d) & ~far
    levels, values = _levels(
        df,
        a,
        b,
        d,
        radius,
        rules.same_photo_bits,
        far=far,
        scene_bits=rules.scene_bits or -1,
        drift_bits=rules.scene_place_bits,
    )
    post = 1.0 / (1.0 + 2.0 ** (-_log_odds(model, levels)))
    bits = np.asarray(values["photo"])
    out: list[Split] = []
    at = 0
    report_no = df["report_no"].to_numpy()
    for inc, rows in groups:
        n = len(rows)
        k = n * (n - 1) // 2
        ia, ib = np.tril_indices(n, -1)
        p = np.zeros((n, n))
        p[ia, ib] = p[ib, ia] = post[at : at + k]
        scene = np.zeros((n, n), dtype=bool)
        one_scene = (bits[at : at + k] >= 0) & (bits[at : at + k] <= rules.scene_bits)
        scene[ia, ib] = scene[ib, ia] = one_scene
        near = np.zeros((n, n), dtype=bool)
        near[ia, ib] = near[ib, ia] = within_reach[at : at + k]
        at += k
        found = average_linkage(p, rules.split_below)
        if len(found) < 2:
            continue
        stay = next(g for g in found if 0 in g)  # with the incident's first report compared
        leave = [g for g in found if g is not stay and len(g) >= rules.split_min_reports]
        for g in leave:
            kept = [i for i in range(n) if i not in g and not any(i in h for h in leave)]
            cross, placed = p[np.ix_(g, kept)], near[np.ix_(g, kept)]
            mean = cross[placed].mean() if placed.any() else cross.mean()
            if scene[np.ix_(g, kept)].any() or mean >= rules.split_below:
                continue
            within = p[np.ix_(g, g)][np.triu_indices(len(g), 1)].mean()
            out.append(Split(inc, [report_no[rows[i]] for i in g], float(mean), float(within), len(kept)))
    return out


def _mean_of_best(scores: list[float], top: int) -> float:
    """The mean of the `top` highest scores (all of them when `top` is 0)."""
    if top and len(scores) > top:
        scores = sorted(scores, reverse=True)[:top]
    if len(scores) < 8:
        # np.mean's own sum of fewer than 8 float64s adds them one after another from 0: the same
        # value without building an array (called for every candidate incident of every report)
        return float(sum(scores, 0.0) / len(scores))
    return float(np.mean(scores))


LEVEL_TEXT = {
    "category": {"same": "同一小类", "sibling": "相近小类", "major": "同一大类的其他小类", "other": "不同类别"},
    "address": {"a0": "地址同路门牌相近", "a1": "地址同路", "a2": "地址不同"},
    "reporter": {"same": "同一上报人", "same_frequent": "同一上报人（常报者）", "other": "不同上报人"},
}


@dataclass
class _ExplainColumns:
    """What `explain` reads of the pairs and reports, as arrays (a pandas lookup per call cost more
    than the rest of an explanation), and the model's weights."""

    radius: np.ndarray  # of each pair
    b: np.ndarray  # each pair's earlier report (row)
    report_no: np.ndarray  # of each row
    weights: dict[tuple[str, str], float] = field(default_factory=dict)  # the model's, as they are asked for


def explain(levels, values, k: int, model: Model, p: float, cols: _ExplainColumns) -> dict:
    """Why: the evidence of one pair, each comparison with its value, level and weight, and a sentence."""
    evidence = []
    words = []
    for f in FIELDS:
        lv = str(levels[f][k])
        if lv == NULL_LEVEL:
            w = 0.0
        else:
            w = cols.weights.get((f, lv))
            if w is None:
                w = cols.weights[(f, lv)] = model.weight(f, lv)
        item = {"field": f, "level": lv, "weight": round(w, 2)}
        if isinstance(model, SpotModel):  # against another problem at the same spot
            item["spot_weight"] = round(model.spot_weight(f, lv), 2)
        if f == "distance":
            d, r = float(values["distance"][k]), float(cols.radius[k])
            if lv in STREET_LEVELS:
                words.append(f"一方无位置，同一街道{'同一小类' if lv == 'ss' else '相近小类'}")
            elif math.isnan(d) and "anywhere" in values and values["anywhere"][k]:
                words.append("一方无位置，全区比对照片")
            elif math.isnan(d):
                words.append("一方无位置，同一道路")
            elif lv == NULL_LEVEL:  # a drifted fix beside a photo of the same scene: left out
                item["value"] = round(d, 1)
                words.append(f"相距{d:.0f}米（超出半径{r:.0f}米，定位可能漂移，不计）")
            elif lv in FAR_LEVELS:
                item["value"] = round(d, 1)
                kind = "同一小类" if lv == "fs" else "相近小类"
                words.append(f"相距{d:.0f}米（超出半径{r:.0f}米，{kind}，定位可能漂移）")
            else:
                item["value"] = round(d, 1)
                words.append(f"相距{d:.0f}米（半径{r:.0f}米）")
        elif f == "gap" and lv == NULL_LEVEL:
            words.append("上报时间不可信，不计时间间隔")
        elif f == "gap":
            h = float(values["gap"][k])
            item["value"] = round(h, 2)
            since = "距该事件最近一次上报" if values["gap_from_other"][k] else ""
            words.append(
                since + (f"相隔{h * 60:.0f}分钟" if h < 1 else f"相隔{h:.1f}小时" if h < 48 else f"相隔{h / 24:.1f}天")
            )
        elif f == "text" and lv != NULL_LEVEL:
            item["value"] = round(float(values["text"][k]), 2)
            words.append(f"描述相似度{item['value']:.2f}")
        elif f == "photo" and lv != NULL_LEVEL:
            item["value"] = int(values["photo"][k])
            words.append(f"照片指纹相差{item['value']}位")
            if "scene" in values and values["scene"][k]:
                words.append("同一场景照片（类别或定位漂移不计）")
        elif f in LEVEL_TEXT and lv != NULL_LEVEL:
            words.append(LEVEL_TEXT[f][lv])
        evidence.append(item)
    return {
        "probability": round(p, 4),
        "candidate": str(cols.report_no[int(cols.b[k])]),
        "evidence": evidence,
        "summary": "，".join(words) + f" → 同一问题的概率 {p:.2f}",
    }
