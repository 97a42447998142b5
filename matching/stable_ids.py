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

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# The frames of `assign` are pandas DataFrames or Arrow tables (the person master step fetches them
# from the hub as Arrow: DuckDB scans an Arrow table in place, where pandas' string columns cost a
# conversion each way, ~40% of the votes' time at 1M).
Frame = pd.DataFrame | pa.Table

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


def _columns(frame: Frame, columns: list[str]) -> Frame:
    return frame.select(columns) if isinstance(frame, pa.Table) else frame[columns]


def _unique_keys(clusters: Frame) -> list:
    if isinstance(clusters, pa.Table):
        return pc.unique(clusters.column("cluster_key")).to_pylist()
    return list(clusters["cluster_key"].unique())


def _ranked_votes(
    clusters: Frame,
    previous_fingerprints: Frame,
    previous_hard_keys: Frame,
    soft_keys: Frame | None,
    previous_soft_keys: Frame | None,
) -> list[tuple]:
    """(cluster_key, previous id, votes) of every pair with a vote, the most votes first, then by
    cluster and id. The votes: each record's fingerprint seen last delivery (the first id it had
    there), 1; each valid ID number of the cluster known before (the first id it had), HARD_KEY_VOTE;
    each soft key of the cluster that exactly one previous id had, SOFT_KEY_VOTE. Counted in DuckDB
    (a 1M district has ~1M fingerprints and ~3M soft keys: pandas' groupby over them took ~25 s);
    missing keys never vote; fingerprints are compared as pandas' merge compares them (a missing
    one equals a missing one)."""
    frames: dict[str, Frame] = {}
    parts: list[str] = []

    def first_per(frame: Frame, key: str) -> Frame:  # drop_duplicates(key) keeps the first row
        rows = np.arange(len(frame))
        if isinstance(frame, pa.Table):
            return frame.select([key, "entity_id"]).append_column("_row", pa.array(rows))
        return frame[[key, "entity_id"]].assign(_row=rows)

    if len(previous_fingerprints):
        frames["fp_now"] = _columns(clusters, ["cluster_key", "fingerprint"])
        frames["fp_before"] = first_per(previous_fingerprints, "fingerprint")
        parts.append(
            """select n.cluster_key, b.entity_id, 1.0 as w
               from fp_now n join (select fingerprint, arg_min_null(entity_id, _row) as entity_id
                                   from fp_before group by fingerprint) b
                 on n.fingerprint is not distinct from b.fingerprint"""
        )
    if len(previous_hard_keys):
        frames["hard_now"] = _columns(clusters, ["cluster_key", "hard_key"])
        frames["hard_before"] = first_per(previous_hard_keys, "hard_key")
        parts.append(
            f"""select n.cluster_key, b.entity_id, {float(HARD_KEY_VOTE)} as w
               from (select distinct cluster_key, hard_key::varchar as hard_key from hard_now where hard_key is not null) n
               join (select hard_key::varchar as hard_key, arg_min_null(entity_id, _row) as entity_id
                     from hard_before where hard_key is not null group by hard_key::varchar) b using (hard_key)"""
        )
    if soft_keys is not None and previous_soft_keys is not None and len(previous_soft_keys) and len(soft_keys):
        # a soft key shared by several previous entities says nothing
        frames["soft_now"] = _columns(soft_keys, ["cluster_key", "soft_key"])
        frames["soft_before"] = _columns(previous_soft_keys, ["soft_key", "entity_id"])
        parts.append(
            f"""select n.cluster_key, b.entity_id, {SOFT_KEY_VOTE} as w
               from (select distinct cluster_key, soft_key::varchar as soft_key from soft_now
                     where cluster_key is not null and soft_key is not null) n
               join (select soft_key, any_value(entity_id) as entity_id
                     from (select distinct soft_key::varchar as soft_key, entity_id from soft_before)
                     where soft_key is not null group by soft_key having count(*) = 1) b using (soft_key)"""
        )
    if not parts:
        return []
    con = duckdb.connect()
    try:
        for name, frame in frames.items():
            con.register(name, frame)
        return con.execute(
            f"""select cluster_key, entity_id, sum(w) as votes
                from ({" union all ".join(parts)})
                where cluster_key is not null and entity_id is not null
                group by cluster_key, entity_id
                order by votes desc, cluster_key, entity_id"""
        ).fetchall()
    finally:
        con.close()


def assign(
    clusters: Frame,
    previous_fingerprints: Frame,
    previous_hard_keys: Frame,
    prefix: str,
    next_seq: int,
    soft_keys: Frame | None = None,
    previous_soft_keys: Frame | None = None,
) -> Assignment:
    """Frames: pandas DataFrames or Arrow tables. clusters: cluster_key, fingerprint, hard_key (per record).
    previous_fingerprints: fingerprint, entity_id. previous_hard_keys: hard_key, entity_id.
    soft_keys: cluster_key, soft_key; previous_soft_keys: soft_key, entity_id — weak evidence (e.g.
    name + birth date) that keeps the id of a person whose records all changed since last month."""
    ranked = _ranked_votes(clusters, previous_fingerprints, previous_hard_keys, soft_keys, previous_soft_keys)
    cluster_ids: dict[str, str] = {}
    used: set[str] = set()
    for ck, eid, _n in ranked:
        if ck in cluster_ids or eid in used:
            continue
        cluster_ids[ck] = eid
        used.add(eid)

    result = Assignment(cluster_ids=cluster_ids, next_seq=next_seq)
    voted_for: dict[str, str] = {}  # a cluster's best-voted previous id
    for ck, eid, _n in ranked:
        voted_for.setdefault(ck, eid)
    for ck in sorted(_unique_keys(clusters)):
        if ck in cluster_ids:
            continue
        new = make_id(prefix, result.next_seq)
        result.next_seq += 1
        result.new_ids += 1
        cluster_ids[ck] = new
        if ck in voted_for:  # its records belonged to an id that another cluster kept
            result.history.append((voted_for[ck], new, "split"))
    # an old id none of whose records kept it, but whose records are now in another cluster
    merged_into: dict[str, str] = {}
    for ck, eid, _n in ranked:
        if eid not in used and eid not in merged_into:
            merged_into[eid] = cluster_ids[ck]
    for old, new in sorted(merged_into.items()):
        result.history.append((old, new, "merge"))
    return result
