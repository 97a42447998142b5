"""Fellegi–Sunter match weights estimated from the data.

u (how often a level occurs between two different people) comes from random record pairs; m (how
often it occurs for the same person) starts from pairs the data itself labels as matches (records
sharing a valid ID number) and is refined with EM over the candidate pairs, with u held fixed, as
Splink does. Everything runs on counts of comparison patterns, not on individual pairs, so it is
fast whatever the number of pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

SMOOTHING = 1.0  # Laplace pseudo-count per level: an unseen level gets a small, not zero, probability
NULL_LEVEL = "null"  # a missing value is no evidence either way: weight 0
# Starting point (and Dirichlet pseudo-counts, PRIOR_STRENGTH pairs' worth) for the m of fields that
# labelled pairs cannot teach: pairs labelled by a shared ID number always agree on it.
ID_PRIOR_M = {"exact": 0.30, "one_edit": 0.50, "same_birth": 0.10, "diff": 0.10}
PRIOR_STRENGTH = 20.0


@dataclass
class Model:
    fields: list[str]
    levels: dict[str, list[str]]
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]
    prior: float  # λ: share of candidate pairs that are matches
    iterations: int

    def weight(self, field: str, level: str) -> float:
        """log2(m/u): the evidence one agreement level carries (none for a missing value)."""
        if level == NULL_LEVEL:
            return 0.0
        return math.log2(self.m[field][level] / self.u[field][level])

    def weights_frame(self) -> pd.DataFrame:
        rows = [
            {"field": f, "level": lv, "m": self.m[f][lv], "u": self.u[f][lv], "weight": self.weight(f, lv)}
            for f in self.fields
            for lv in self.levels[f]
        ]
        return pd.DataFrame(rows)

    def match_probability(self, patterns: pd.DataFrame) -> pd.Series:
        """Posterior probability of a match for each row of comparison levels."""
        log_odds = math.log2(self.prior / (1 - self.prior))
        total = pd.Series(log_odds, index=patterns.index, dtype="float64")
        for f in self.fields:
            w = {lv: self.weight(f, lv) for lv in self.levels[f]}
            total = total + patterns[f].map(w).fillna(0.0)
        return 1.0 / (1.0 + 2.0 ** (-total))


def _canonical(patterns: pd.DataFrame | None, fields: list[str]) -> pd.DataFrame | None:
    """The pattern counts in one fixed row order (by the field levels). An engine returns a GROUP BY
    in any order (DuckDB's parallel aggregation: another order on every run), and float sums depend on
    the order of their terms: without this, the same delivery gave weights that differed in the 15th
    digit from run to run, and EM could stop an iteration earlier or later."""
    if patterns is None:
        return None
    return patterns.sort_values(fields, kind="mergesort").reset_index(drop=True)


def _distribution(counts: pd.DataFrame, field: str, levels: list[str], weight_col: str = "n") -> dict[str, float]:
    by_level = counts.groupby(field)[weight_col].sum()
    total = float(by_level.sum()) + SMOOTHING * len(levels)
    return {lv: (float(by_level.get(lv, 0.0)) + SMOOTHING) / total for lv in levels}


def estimate(
    candidate_patterns: pd.DataFrame,
    random_patterns: pd.DataFrame,
    labelled_match_patterns: pd.DataFrame | None,
    fields: list[str],
    levels: dict[str, list[str]],
    em_fields: list[str] | None = None,
    max_iterations: int = 200,
    tolerance: float = 1e-7,
) -> Model:
    """Estimate m, u and the prior.

    Each frame holds one row per distinct comparison pattern: the field columns and a count `n`.
    u: from random pairs. m: from labelled matches for every field not in `em_fields`; for the
    `em_fields` (default: id_level, which labelled pairs always agree on) and the prior, EM over the
    candidate pairs, with pseudo-counts so that a delivery with few candidates stays sensible.
    """
    em_fields = list(em_fields if em_fields is not None else [f for f in fields if f == "id_level"])
    candidate_patterns = _canonical(candidate_patterns, fields)
    random_patterns = _canonical(random_patterns, fields)
    labelled_match_patterns = _canonical(labelled_match_patterns, fields)
    u = {f: _distribution(random_patterns, f, levels[f]) for f in fields}
    if labelled_match_patterns is not None and len(labelled_match_patterns):
        m = {f: _distribution(labelled_match_patterns, f, levels[f]) for f in fields}
    else:
        m = {f: {lv: 1.0 / len(levels[f]) for lv in levels[f]} for f in fields}
    pseudo: dict[str, dict[str, float]] = {}
    for f in em_fields:
        start = {lv: ID_PRIOR_M.get(lv, 0.02) if f == "id_level" else 1.0 for lv in levels[f]}
        total = sum(start.values())
        m[f] = {lv: v / total for lv, v in start.items()}
        pseudo[f] = {lv: PRIOR_STRENGTH * m[f][lv] for lv in levels[f]}

    data = candidate_patterns
    prior = 0.5
    iterations = 0
    if len(data) == 0:
        return Model(fields, levels, m, u, prior, 0)
    for iterations in range(1, max_iterations + 1):
        p = Model(fields, levels, m, u, prior, iterations).match_probability(data[fields])
        wm = data["n"] * p
        new_prior = float((wm.sum() + 1.0) / (data["n"].sum() + 2.0))
        new_m = dict(m)
        for f in em_fields:
            by_level = wm.groupby(data[f]).sum()
            counts = {lv: float(by_level.get(lv, 0.0)) + pseudo[f][lv] for lv in levels[f]}
            total = sum(counts.values())
            new_m[f] = {lv: c / total for lv, c in counts.items()}
        delta = abs(new_prior - prior) + max(
            (abs(new_m[f][lv] - m[f][lv]) for f in em_fields for lv in levels[f]), default=0.0
        )
        m, prior = new_m, min(max(new_prior, 1e-6), 1 - 1e-6)
        if delta < tolerance:
            break
    return Model(fields, levels, m, u, prior, iterations)
