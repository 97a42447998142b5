"""Clusters of records that are one person (or one shop), without chaining errors.

Records that share a hard key (a valid ID number) form one cluster by rule. Scored links above the
acceptance threshold are then merged best first, refusing any merge that would put two different
hard keys in one cluster: a chain A–B–C can never join two different valid ID numbers. Decisions
a reviewer made are applied before the scores: a confirmed pair is merged first, a rejected pair
never links, directly or through a chain.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

_NO_KEYS: frozenset = frozenset()
_SINGLETON = ("singleton", None, None)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a while: a union-find of a million records makes a
    million small sets and tuples, and each full collection walks them all again (and everything
    else the process holds: dbt's manifest in a run). 1M persons: cluster() 6.2 -> 4.8 s of CPU.
    What the block leaves behind is collected once it is back on."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class _DisjointSet:
    """Union-find whose components carry hard keys and cannot-link tags: a union is refused when it
    would join two different hard keys, or both sides of a pair a reviewer rejected."""

    def __init__(self):
        self.parent: dict[str, str] = {}
        self.keys: dict[str, frozenset] = {}
        self.apart: dict[str, frozenset] = {}  # root -> {(rejection number, side)}

    def keep_apart(self, number: int, a: str, b: str) -> None:
        for x, side in ((a, 0), (b, 1)):
            root = self.find(x)
            self.apart[root] = self.apart.get(root, frozenset()) | {(number, side)}

    def add(self, x: str, hard_key: str | None) -> None:
        if x not in self.parent:
            self.parent[x] = x
            self.keys[x] = frozenset([hard_key]) if hard_key else _NO_KEYS
        elif hard_key:
            root = self.find(x)
            self.keys[root] = self.keys[root] | {hard_key}

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def can_union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ka, kb = self.keys[ra], self.keys[rb]
        if ka and kb and ka != kb:
            return False
        sa, sb = self.apart.get(ra, frozenset()), self.apart.get(rb, frozenset())
        return not ({(n, 1 - side) for n, side in sa} & sb)

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if not self.can_union(a, b):
            return False
        if ra > rb:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.keys[ra] = self.keys[ra] | self.keys[rb]
        del self.keys[rb]
        if rb in self.apart:
            self.apart[ra] = self.apart.get(ra, frozenset()) | self.apart.pop(rb)
        return True


@dataclass
class ClusterResult:
    assignments: pd.DataFrame  # record_key, cluster_key, match_rule, match_score, matched_record
    refused_links: int = 0
    review: pd.DataFrame = field(default_factory=pd.DataFrame)


def cluster(
    records: pd.DataFrame,
    scored_pairs: pd.DataFrame,
    accept: float,
    review_floor: float,
    decisions: pd.DataFrame | None = None,
) -> ClusterResult:
    """records: record_key, hard_key (None when absent). scored_pairs: record_a, record_b, probability.
    decisions: record_a, record_b, decision ('confirm'|'reject')."""
    with collector_paused():
        return _cluster(records, scored_pairs, accept, review_floor, decisions)


def _cluster(records, scored_pairs, accept, review_floor, decisions) -> ClusterResult:
    ds = _DisjointSet()
    # plain lists: iterating a pandas column of Arrow strings value by value costs ~1 µs a value
    record_keys, hard_keys = records["record_key"].tolist(), records["hard_key"].tolist()
    for rk, hk in zip(record_keys, hard_keys):
        ds.add(rk, hk if isinstance(hk, str) and hk else None)
    # records sharing a hard key are one cluster
    first_of_key: dict[str, str] = {}
    rule: dict[str, tuple[str, float, str | None]] = {}
    for rk, hk in zip(record_keys, hard_keys):
        if isinstance(hk, str) and hk:
            if hk in first_of_key:
                ds.union(first_of_key[hk], rk)
            else:
                first_of_key[hk] = rk
            rule[rk] = ("id_exact", 1.0, None)

    confirmed, rejected = set(), set()
    if decisions is not None and len(decisions):
        for a, b, d in zip(decisions["record_a"], decisions["record_b"], decisions["decision"]):
            pair = (min(a, b), max(a, b))
            (confirmed if d == "confirm" else rejected).add(pair)
    refused = 0
    for number, (a, b) in enumerate(sorted(rejected)):
        if a in ds.parent and b in ds.parent and ds.find(a) != ds.find(b):
            ds.keep_apart(number, a, b)
    for a, b in sorted(confirmed):
        if a in ds.parent and b in ds.parent:
            if ds.union(a, b):
                for x, y in ((a, b), (b, a)):
                    rule.setdefault(x, ("review_confirmed", 1.0, y))
            else:
                refused += 1

    pairs = scored_pairs.sort_values(["probability", "record_a", "record_b"], ascending=[False, True, True])
    review_rows = []
    for a, b, p in zip(pairs["record_a"].tolist(), pairs["record_b"].tolist(), pairs["probability"].tolist()):
        key = (min(a, b), max(a, b))
        if key in rejected or key in confirmed:
            continue
        if p >= accept:
            if ds.find(a) == ds.find(b):
                continue
            if ds.union(a, b):
                for x, y in ((a, b), (b, a)):
                    rule.setdefault(x, ("fs_score", float(p), y))
            else:
                refused += 1
        elif p >= review_floor and ds.find(a) != ds.find(b):
            review_rows.append((key[0], key[1], float(p)))

    out = []
    for rk in record_keys:
        root = ds.find(rk)
        keys = ds.keys.get(root) or _NO_KEYS
        cluster_key = ("id:" + min(keys)) if keys else ("rec:" + root)
        r = rule.get(rk, _SINGLETON)
        out.append((rk, cluster_key, r[0], r[1], r[2]))
    assignments = pd.DataFrame(
        out, columns=["record_key", "cluster_key", "match_rule", "match_score", "matched_record"]
    )
    review = pd.DataFrame(review_rows, columns=["record_a", "record_b", "probability"])
    return ClusterResult(assignments=assignments, refused_links=refused, review=review)
