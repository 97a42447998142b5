"""Stable, readable ids with a check character, carried from one delivery to the next.

An id is a prefix letter, a zero-padded sequence number and a check character: P00001234K. The
check is a weighted sum modulo 31 over the 31-character alphabet of the credit code (no I O Z S V,
which are misread): every single-character error and every swap of two adjacent characters changes
it, so a mistyped id is caught.

A delivery's clusters get the ids of the previous delivery by votes: each record whose fingerprint
(same source, same identifying content) was seen before votes for the id it had, and a valid ID
number shared with a known person votes strongly. Best votes are assigned first, one id per cluster.
A cluster left without an id though it had votes is split off an existing one (new id, recorded);
an old id that lost all its records to another cluster was merged into it (recorded).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
HARD_KEY_VOTE = 1000
SOFT_KEY_VOTE = 0.5


def check_char(body: str) -> str:
    total = sum(_VALUE[c] * (i + 1) for i, c in enumerate(body))
    return ALPHABET[(-total) % len(ALPHABET)]


def make_id(prefix: str, seq: int, width: int = 8) -> str:
    body = f"{prefix}{seq:0{width}d}"
    return body + check_char(body)


def is_valid_id(code: str) -> bool:
    """True when the code is well formed and its check character matches."""
    if not isinstance(code, str) or len(code) < 3 or len(code) > 30:
        return False
    code = code.strip().upper()
    if any(c not in _VALUE for c in code):
        return False
    return check_char(code[:-1]) == code[-1]


def id_sequence(code: str) -> int:
    return int(code[1:-1])


@dataclass
class Assignment:
    cluster_ids: dict[str, str]  # cluster_key -> stable id
    history: list[tuple[str, str, str]] = field(default_factory=list)  # (old_id, new_id, kind)
    next_seq: int = 1
    new_ids: int = 0


def assign(
    clusters: pd.DataFrame,
    previous_fingerprints: pd.DataFrame,
    previous_hard_keys: pd.DataFrame,
    prefix: str,
    next_seq: int,
    soft_keys: pd.DataFrame | None = None,
    previous_soft_keys: pd.DataFrame | None = None,
) -> Assignment:
    """clusters: cluster_key, fingerprint, hard_key (per record).
    previous_fingerprints: fingerprint, entity_id. previous_hard_keys: hard_key, entity_id.
    soft_keys: cluster_key, soft_key; previous_soft_keys: soft_key, entity_id — weak evidence (e.g.
    name + birth date) that keeps the id of a person whose records all changed since last month."""
    votes: dict[tuple[str, str], float] = {}

    def add(pairs: pd.DataFrame, weight: float) -> None:
        for (ck, eid), n in pairs.groupby(["cluster_key", "entity_id"]).size().items():
            votes[(ck, eid)] = votes.get((ck, eid), 0) + weight * int(n)

    if len(previous_fingerprints):
        add(
            clusters[["cluster_key", "fingerprint"]].merge(
                previous_fingerprints.drop_duplicates("fingerprint"), on="fingerprint"
            ),
            1.0,
        )
    if len(previous_hard_keys):
        add(
            clusters.dropna(subset=["hard_key"])[["cluster_key", "hard_key"]]
            .drop_duplicates()
            .merge(previous_hard_keys.drop_duplicates("hard_key"), on="hard_key"),
            HARD_KEY_VOTE,
        )
    if soft_keys is not None and previous_soft_keys is not None and len(previous_soft_keys):
        # a soft key shared by several previous entities says nothing
        prev = previous_soft_keys.drop_duplicates()
        unique_prev = prev[prev.groupby("soft_key")["entity_id"].transform("size") == 1]
        add(soft_keys.dropna().drop_duplicates().merge(unique_prev, on="soft_key"), SOFT_KEY_VOTE)

    ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1]))
    cluster_ids: dict[str, str] = {}
    used: set[str] = set()
    for (ck, eid), _n in ranked:
        if ck in cluster_ids or eid in used:
            continue
        cluster_ids[ck] = eid
        used.add(eid)

    result = Assignment(cluster_ids=cluster_ids, next_seq=next_seq)
    voted_for: dict[str, list[str]] = {}
    for (ck, eid), _n in ranked:
        voted_for.setdefault(ck, []).append(eid)
    for ck in sorted(clusters["cluster_key"].unique()):
        if ck in cluster_ids:
            continue
        new = make_id(prefix, result.next_seq)
        result.next_seq += 1
        result.new_ids += 1
        cluster_ids[ck] = new
        if ck in voted_for:  # its records belonged to an id that another cluster kept
            result.history.append((voted_for[ck][0], new, "split"))
    # an old id none of whose records kept it, but whose records are now in another cluster
    merged_into: dict[str, str] = {}
    for (ck, eid), _n in ranked:
        if eid not in used and eid not in merged_into:
            merged_into[eid] = cluster_ids[ck]
    for old, new in sorted(merged_into.items()):
        result.history.append((old, new, "merge"))
    return result
