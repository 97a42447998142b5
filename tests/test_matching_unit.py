"""The pure matching functions, on inputs whose right answer is known: Fellegi–Sunter estimation,
constrained clustering, stable ids, the matching configuration. Fast: no dbt, no Dagster."""

from __future__ import annotations

import itertools
import random
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from matching import stable_ids
from matching.clustering import cluster
from matching.config import MatchingConfigError, dbt_vars, load_matching_config
from matching.fellegi_sunter import NULL_LEVEL, estimate

# ---------------------------------------------------------------------------------------------------
# Fellegi–Sunter: simulate comparison vectors from known m, u and λ, recover them

# levels from most to least agreement, then null
LEVELS = {
    "id_level": ["exact", "one_edit", "same_birth", "diff", "null"],
    "name_level": ["exact", "pinyin", "diff", "null"],
    "birth_level": ["exact", "close", "diff", "null"],
    "phone_level": ["same", "diff", "null"],
}
FIELDS = list(LEVELS)
TRUE_M = {
    "id_level": [0.55, 0.25, 0.05, 0.05, 0.10],
    "name_level": [0.85, 0.08, 0.02, 0.05],
    "birth_level": [0.80, 0.10, 0.05, 0.05],
    "phone_level": [0.45, 0.15, 0.40],
}
TRUE_U = {
    "id_level": [0.002, 0.003, 0.02, 0.875, 0.10],
    "name_level": [0.01, 0.02, 0.92, 0.05],
    "birth_level": [0.005, 0.02, 0.925, 0.05],
    "phone_level": [0.001, 0.599, 0.40],
}
TRUE_PRIOR = 0.3


def _simulate(rng: np.random.Generator, n: int, share_matches: float) -> pd.DataFrame:
    """n comparison vectors, a share of them from m (matches), the rest from u; as pattern counts."""
    is_match = rng.random(n) < share_matches
    columns = {}
    for f in FIELDS:
        levels = np.array(LEVELS[f])
        from_m = rng.choice(len(levels), size=n, p=TRUE_M[f])
        from_u = rng.choice(len(levels), size=n, p=TRUE_U[f])
        columns[f] = levels[np.where(is_match, from_m, from_u)]
    frame = pd.DataFrame(columns)
    return frame.groupby(FIELDS, as_index=False).size().rename(columns={"size": "n"}).astype({"n": "float64"})


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(20261001)
    candidates = _simulate(rng, 200_000, TRUE_PRIOR)
    randoms = _simulate(rng, 200_000, 0.0)
    labelled = _simulate(rng, 50_000, 1.0)
    return candidates, randoms, labelled


def test_estimate_recovers_known_m_u_and_prior(simulated):
    candidates, randoms, labelled = simulated
    model = estimate(candidates, randoms, labelled, FIELDS, LEVELS)
    assert model.prior == pytest.approx(TRUE_PRIOR, abs=0.01)
    for f in FIELDS:
        for i, level in enumerate(LEVELS[f]):
            assert model.m[f][level] == pytest.approx(TRUE_M[f][i], abs=0.01), (f, level)
            assert model.u[f][level] == pytest.approx(TRUE_U[f][i], abs=0.005), (f, level)
    assert 0 < model.iterations < 200  # converged


def test_estimate_by_em_alone_recovers_m_without_labelled_pairs(simulated):
    candidates, randoms, _ = simulated
    model = estimate(candidates, randoms, None, FIELDS, LEVELS, em_fields=FIELDS, max_iterations=1000)
    assert model.prior == pytest.approx(TRUE_PRIOR, abs=0.02)
    for f in FIELDS:
        for i, level in enumerate(LEVELS[f]):
            assert model.m[f][level] == pytest.approx(TRUE_M[f][i], abs=0.03), (f, level)


def test_null_level_carries_no_weight_and_probability_grows_with_agreement(simulated):
    candidates, randoms, labelled = simulated
    model = estimate(candidates, randoms, labelled, FIELDS, LEVELS)
    for f in FIELDS:
        assert model.weight(f, NULL_LEVEL) == 0.0
        agreement = [lv for lv in LEVELS[f] if lv != NULL_LEVEL]
        weights = [model.weight(f, lv) for lv in agreement]
        assert weights == sorted(weights, reverse=True), (f, weights)
    # every pattern: moving one field one step towards agreement raises the probability
    patterns = pd.DataFrame(list(itertools.product(*(LEVELS[f] for f in FIELDS))), columns=FIELDS)
    p = model.match_probability(patterns)
    index = {tuple(r): i for i, r in enumerate(patterns.itertuples(index=False))}
    steps = 0
    for row, prob in zip(patterns.itertuples(index=False), p):
        for k, f in enumerate(FIELDS):
            agreement = [lv for lv in LEVELS[f] if lv != NULL_LEVEL]
            level = row[k]
            if level in agreement and agreement.index(level) > 0:
                better = list(row)
                better[k] = agreement[agreement.index(level) - 1]
                assert p[index[tuple(better)]] > prob
                steps += 1
    assert steps > 100
    # a missing value is no evidence: null lies between agreement and disagreement
    base = {f: LEVELS[f][0] for f in FIELDS}
    for f in FIELDS:
        rows = pd.DataFrame([{**base, f: lv} for lv in (LEVELS[f][0], NULL_LEVEL, LEVELS[f][-2])])
        probs = list(model.match_probability(rows))
        assert probs[0] > probs[1] > probs[2]


def test_estimate_does_not_depend_on_the_row_order_of_the_pattern_counts(simulated):
    # An engine returns GROUP BY rows in any order (DuckDB's parallel aggregation: another order on
    # each run); the weights of one delivery must be the same on every run, to the last bit, or
    # pair scores and ids can change because a run was repeated.
    candidates, randoms, labelled = simulated
    first = estimate(candidates, randoms, labelled, FIELDS, LEVELS)
    for seed in (1, 2, 3):
        shuffled = [
            f.sample(frac=1.0, random_state=seed).reset_index(drop=True) for f in (candidates, randoms, labelled)
        ]
        again = estimate(*shuffled, FIELDS, LEVELS)
        assert (again.prior, again.iterations) == (first.prior, first.iterations)
        assert again.weights_frame().equals(first.weights_frame())


def test_estimate_with_no_candidates_returns_a_usable_model(simulated):
    _, randoms, labelled = simulated
    empty = randoms.iloc[0:0]
    model = estimate(empty, randoms, labelled, FIELDS, LEVELS)
    assert model.iterations == 0 and 0 < model.prior < 1
    assert model.weight("name_level", "exact") > 0 > model.weight("name_level", "diff")


# ---------------------------------------------------------------------------------------------------
# clustering


def _records(spec: dict[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"record_key": list(spec), "hard_key": list(spec.values())})


def _pairs(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_a", "record_b", "probability"])


def _decisions(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_a", "record_b", "decision"])


def _cluster_of(result) -> dict[str, str]:
    return dict(zip(result.assignments["record_key"], result.assignments["cluster_key"]))


@pytest.mark.parametrize("first_link", ["A", "B"])
def test_a_chain_of_strong_links_never_joins_two_valid_id_numbers(first_link):
    records = _records({"A": "110105194912310021", "x": None, "B": "440524188001010014"})
    strong, stronger = 0.97, 0.99
    links = [
        ("A", "x", stronger if first_link == "A" else strong),
        ("x", "B", strong if first_link == "A" else stronger),
    ]
    result = cluster(records, _pairs(links), accept=0.9, review_floor=0.5)
    c = _cluster_of(result)
    assert c["A"] != c["B"]
    assert c["x"] == c[first_link]  # the best link wins, the other is refused
    assert result.refused_links == 1


def test_random_graphs_keep_one_valid_id_per_cluster_and_every_id_in_one_cluster():
    rng = random.Random(7)
    for _trial in range(30):
        keys = [f"K{i}" for i in range(6)]
        spec = {f"r{i}": (rng.choice(keys) if rng.random() < 0.5 else None) for i in range(40)}
        names = list(spec)
        links = [(a, b, rng.uniform(0.85, 1.0)) for a, b in (rng.sample(names, 2) for _ in range(80))]
        decided = [(a, b, rng.choice(["confirm", "reject"])) for a, b in (rng.sample(names, 2) for _ in range(5))]
        result = cluster(_records(spec), _pairs(links), accept=0.9, review_floor=0.5, decisions=_decisions(decided))
        c = _cluster_of(result)
        per_cluster: dict[str, set[str]] = {}
        per_key: dict[str, set[str]] = {}
        for rk, hk in spec.items():
            if hk:
                per_cluster.setdefault(c[rk], set()).add(hk)
                per_key.setdefault(hk, set()).add(c[rk])
        assert all(len(v) == 1 for v in per_cluster.values())
        assert all(len(v) == 1 for v in per_key.values())
        assert set(c) == set(spec)


def test_records_sharing_a_valid_id_are_one_cluster_whatever_else():
    records = _records({"a": "110105194912310021", "b": "110105194912310021", "c": None})
    # not even a reviewer's rejection separates two records with the same valid ID number
    result = cluster(
        records, _pairs([("a", "b", 0.01)]), accept=0.9, review_floor=0.5, decisions=_decisions([("a", "b", "reject")])
    )
    c = _cluster_of(result)
    assert c["a"] == c["b"] != c["c"]
    assert set(result.assignments.set_index("record_key").loc[["a", "b"], "match_rule"]) == {"id_exact"}


def test_confirmed_pairs_merge_and_rejected_pairs_do_not_link():
    records = _records(
        {"a": None, "b": None, "c": None, "d": None, "e": "110105194912310021", "f": "440524188001010014"}
    )
    pairs = _pairs([("a", "b", 0.2), ("c", "d", 0.99)])
    result = cluster(
        records,
        pairs,
        accept=0.9,
        review_floor=0.5,
        decisions=_decisions([("b", "a", "confirm"), ("c", "d", "reject"), ("e", "f", "confirm")]),
    )
    c = _cluster_of(result)
    rules = dict(zip(result.assignments["record_key"], result.assignments["match_rule"]))
    assert c["a"] == c["b"] and rules["a"] == rules["b"] == "review_confirmed"
    assert c["c"] != c["d"] and rules["c"] == rules["d"] == "singleton"
    # a confirmation cannot join two different valid ID numbers: refused, counted
    assert c["e"] != c["f"] and result.refused_links == 1
    assert result.review.empty  # decided pairs are not asked again


def test_a_rejected_pair_is_not_joined_through_a_chain():
    records = _records({"a": None, "x": None, "b": None})
    result = cluster(
        records,
        _pairs([("a", "x", 0.99), ("x", "b", 0.98)]),
        accept=0.9,
        review_floor=0.5,
        decisions=_decisions([("a", "b", "reject")]),
    )
    c = _cluster_of(result)
    assert c["a"] != c["b"]


def test_pairs_in_the_review_band_are_listed_unless_already_linked():
    records = _records({k: None for k in "abcdefgh"})
    pairs = _pairs(
        [
            ("a", "b", 0.95),  # accepted
            ("b", "c", 0.92),  # accepted
            ("a", "c", 0.70),  # in the band, but a and c are one cluster already: not asked
            ("d", "e", 0.70),  # in the band: asked
            ("f", "g", 0.50),  # at the floor: asked
            ("g", "h", 0.49),  # below the floor: neither linked nor asked
        ]
    )
    result = cluster(records, pairs, accept=0.9, review_floor=0.5)
    c = _cluster_of(result)
    assert c["a"] == c["b"] == c["c"]
    assert len({c["d"], c["e"], c["f"], c["g"], c["h"]}) == 5
    listed = {(a, b): p for a, b, p in result.review.itertuples(index=False)}
    assert listed == {("d", "e"): 0.70, ("f", "g"): 0.50}


# ---------------------------------------------------------------------------------------------------
# stable ids


def _sample_ids() -> list[str]:
    rng = random.Random(3)
    seqs = [0, 1, 9, 10, 30, 31, 99_999_999] + [rng.randrange(100_000_000) for _ in range(40)]
    return [stable_ids.make_id(prefix, s) for prefix in ("P", "H", "A") for s in seqs]


def test_check_character_catches_every_substitution_and_adjacent_swap():
    alphabet = stable_ids.ALPHABET
    for code in _sample_ids():
        assert stable_ids.is_valid_id(code)
        for i, original in enumerate(code):
            for c in alphabet:
                if c != original:
                    assert not stable_ids.is_valid_id(code[:i] + c + code[i + 1 :]), (code, i, c)
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
                assert not stable_ids.is_valid_id(swapped), (code, i)


def test_make_id_round_trip_and_malformed_ids():
    for seq in (1, 42, 12_345_678):
        code = stable_ids.make_id("P", seq)
        assert code.startswith("P") and len(code) == 10
        assert stable_ids.is_valid_id(code) and stable_ids.is_valid_id(code.lower())
        assert stable_ids.id_sequence(code) == seq
    for bad in (None, "", "P1", "P0000001I", "P0000 0012", 12345):
        assert not stable_ids.is_valid_id(bad)
    assert set(stable_ids.ALPHABET).isdisjoint("IOZSV") and len(stable_ids.ALPHABET) == 31


P1, P2, P3 = (stable_ids.make_id("P", s) for s in (1, 2, 3))
NO_HARD = pd.DataFrame(columns=["hard_key", "entity_id"])


def _clusters(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["cluster_key", "fingerprint", "hard_key"])


def _previous(rows: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows.items()), columns=["fingerprint", "entity_id"])


def test_assign_keeps_ids_across_deliveries():
    previous = _previous({"f1": P1, "f2": P1, "f3": P2, "f4": P2})
    now = _clusters(
        [
            ("rec:x", "f1", None),
            ("rec:x", "f2", None),
            ("rec:y", "f3", None),
            ("rec:y", "f4", None),
            ("rec:z", "f5", None),
        ]
    )
    result = stable_ids.assign(now, previous, NO_HARD, "P", next_seq=4)
    assert result.cluster_ids["rec:x"] == P1 and result.cluster_ids["rec:y"] == P2
    assert result.cluster_ids["rec:z"] == stable_ids.make_id("P", 4)  # a new person, a new id
    assert result.history == [] and result.new_ids == 1 and result.next_seq == 5
    # a valid ID number known before outweighs fingerprints
    hard = pd.DataFrame({"hard_key": ["110105194912310021"], "entity_id": [P2]})
    now = _clusters([("id:1", "f1", "110105194912310021"), ("id:1", "f2", "110105194912310021")])
    assert stable_ids.assign(now, previous, hard, "P", next_seq=4).cluster_ids == {"id:1": P2}


def test_assign_records_merges_and_splits():
    previous = _previous({"f1": P1, "f2": P1, "f3": P2, "f4": P2, "f5": P3, "f6": P3, "f7": P3})
    now = _clusters(
        [
            # P1 and P2 are now one person
            ("rec:m", "f1", None),
            ("rec:m", "f2", None),
            ("rec:m", "f3", None),
            ("rec:m", "f4", None),
            # P3 is now two persons
            ("rec:s1", "f5", None),
            ("rec:s1", "f6", None),
            ("rec:s2", "f7", None),
        ]
    )
    result = stable_ids.assign(now, previous, NO_HARD, "P", next_seq=10)
    ids = result.cluster_ids
    assert ids["rec:m"] in (P1, P2)
    assert ids["rec:s1"] == P3  # the larger part keeps the id
    new = stable_ids.make_id("P", 10)
    assert ids["rec:s2"] == new and result.new_ids == 1 and result.next_seq == 11
    merged_away = P2 if ids["rec:m"] == P1 else P1
    assert sorted(result.history) == sorted([(merged_away, ids["rec:m"], "merge"), (P3, new, "split")])
    assert len(set(ids.values())) == len(ids)  # one id per cluster


def test_assign_uses_soft_keys_only_when_unique():
    previous = _previous({"f1": P1})
    previous_soft = pd.DataFrame(
        {
            "soft_key": ["李丽|1990-01-02", "王伟|1980-05-06", "王伟|1980-05-06"],
            "entity_id": [P1, P2, P3],
        }
    )
    # every record changed since last month: only the soft keys can carry an id
    now = _clusters([("rec:a", "g1", None), ("rec:b", "g2", None)])
    soft = pd.DataFrame({"cluster_key": ["rec:a", "rec:b"], "soft_key": ["李丽|1990-01-02", "王伟|1980-05-06"]})
    result = stable_ids.assign(
        now, previous, NO_HARD, "P", next_seq=4, soft_keys=soft, previous_soft_keys=previous_soft
    )
    assert result.cluster_ids["rec:a"] == P1  # unique: kept
    assert result.cluster_ids["rec:b"] not in (P2, P3)  # shared by two persons: says nothing
    assert result.new_ids == 1 and result.history == []
    # a fingerprint vote outweighs a soft key
    now = _clusters([("rec:a", "f1", None), ("rec:c", "g3", None)])
    soft = pd.DataFrame({"cluster_key": ["rec:c"], "soft_key": ["李丽|1990-01-02"]})
    result = stable_ids.assign(
        now, previous, NO_HARD, "P", next_seq=4, soft_keys=soft, previous_soft_keys=previous_soft
    )
    assert result.cluster_ids["rec:a"] == P1 and result.cluster_ids["rec:c"] != P1


def test_a_person_without_id_number_whose_birth_date_was_typed_a_day_off_keeps_her_id():
    """俞红娟 has no ID number in either month's police export and November's birth date is a day
    off (1973-2-5): her name and phone are the evidence left that she is last month's person."""
    import duckdb

    from matching.master_tables import person_soft_keys

    con = duckdb.connect()
    con.execute("create schema master")
    con.execute(
        "create table master.person (person_id varchar, name varchar, birth_date date, id_number varchar, phone varchar)"
    )
    con.execute(
        "insert into master.person values (?, '俞红娟', '1973-02-04', null, '15311354538'),"
        " (?, '王伟', '1980-05-06', null, '13900000000'), (?, '王伟', '1981-01-01', null, '13900000000')",
        [P1, P2, P3],
    )
    con.execute(
        "create table golden (cluster_key varchar, name varchar, birth_date date, id_number varchar, phone varchar)"
    )
    con.execute(
        "insert into golden values ('rec:a', '俞红娟', '1973-02-05', null, '15311354538'),"
        " ('rec:b', '王伟', '1980-05-07', null, '13900000000')"
    )
    now = _clusters([("rec:a", "g1", None), ("rec:b", "g2", None)])
    previous = _previous({"f9": stable_ids.make_id("P", 9)})
    result = stable_ids.assign(
        now,
        previous,
        NO_HARD,
        "P",
        next_seq=10,
        soft_keys=person_soft_keys(con, "golden", "cluster_key"),
        previous_soft_keys=person_soft_keys(con, "master.person", "person_id").rename(
            columns={"person_id": "entity_id"}
        ),
    )
    assert result.cluster_ids["rec:a"] == P1
    # two earlier 王伟 share that phone: the key says nothing, and a new id is made
    assert result.cluster_ids["rec:b"] not in (P2, P3)


# ---------------------------------------------------------------------------------------------------
# configuration


def test_the_shipped_matching_yml_is_valid():
    cfg = load_matching_config().person
    assert 0 < cfg.review_floor < cfg.accept < 1
    assert cfg.source_rank[0] == "police_population"


def test_every_matching_setting_reaches_dbt_and_no_sql_writes_its_own():
    from pathlib import Path

    cfg = load_matching_config()
    dbt = cfg.dbt_vars()
    assert dbt["source_rank"]["police_population"] == 1 and dbt["person_accept"] == cfg.person.accept
    project = Path(__file__).resolve().parents[1] / "dbt_project"
    sql = "\n".join(
        p.read_text(encoding="utf-8") for folder in ("models", "macros") for p in (project / folder).rglob("*.sql")
    )
    for var in dbt:
        assert f"var('{var}')" in sql, f"{var} of matching.yml is read by no model"
        assert not re.search(rf"var\('{var}',", sql), f"a default for {var} in SQL repeats matching.yml"
    # and every var a model reads is one of them, a domain rule (normalize/domain_rules.yml) or the
    # delivery: no setting lives in SQL alone
    read = set(re.findall(r"var\('([a-z_]+)'", sql))
    known = set(dbt_vars("2026-11"))
    assert set(dbt) | {"delivery"} <= known
    assert read <= known, f"set in SQL only, not in matching.yml or domain_rules.yml: {sorted(read - known)}"


def _shipped() -> dict:
    from matching.config import DEFAULT_PATH

    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _without(d: dict, key: str) -> dict:
    return {k: v for k, v in d.items() if k != key}


# each case: the shipped file with one mistake in the person section, and words the message must hold
BAD_PERSON = [
    (lambda p: {**p, "accept": 0.4, "review_floor": 0.6}, ["review_floor", "accept", "0.6", "0.4"]),
    (lambda p: _without(p, "review_floor"), ["review_floor"]),
    (lambda p: _without(p, "accept"), ["accept"]),
    (lambda p: {**p, "accept": "high"}, ["accept", "number"]),
    (lambda p: {**p, "accept": 1.0}, ["accept", "less than 1"]),
    (lambda p: {**p, "source_rank": {"police_population": 1}}, ["source_rank"]),
    (lambda p: {**p, "trust": {"name": ["police_population"]}}, ["trust", "unknown key"]),
    (lambda p: None, ["person"]),
]


@pytest.mark.parametrize("case", range(len(BAD_PERSON)))
def test_a_bad_matching_yml_fails_naming_the_file_and_the_key(tmp_path, case):
    mistake, words = BAD_PERSON[case]
    raw = _shipped()
    person = mistake(dict(raw["person"]))
    raw = {**raw, "person": person} if person is not None else _without(raw, "person")
    path = tmp_path / "matching.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(MatchingConfigError) as e:
        load_matching_config(path)
    message = str(e.value)
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_a_meter_the_hub_placed_by_its_holder_that_now_names_its_room_is_recorded_as_a_split():
    """Account 1's 用电地址 named the building only in October and the hub placed it by its holder (a
    landlord's name) in the landlord's household H1 (B#1005); in November it names B#1902 (H2, the
    tenants'): id_history records H1 → H2 as a split, H1 keeping its people. Not recorded: a meter
    whose room was written last month too (account 2), one now in another building (account 3), one
    placed in a household with nobody left (account 4: _record_moves' business)."""
    import datetime as dt

    import duckdb

    from matching.master_tables import DDL, _previous_meters, _record_meters_placed

    con = duckdb.connect()
    con.execute(DDL)
    con.execute("create schema staging; create schema matching")
    con.execute(
        "insert into master.household (household_id, dwelling_key) values "
        "('H1', 'B#1005'), ('H2', 'B#1902'), ('H3', 'B#301'), ('H4', 'B#302'), ('H5', 'C#101'), ('H6', 'B#401')"
    )
    oct_ = [(1, "H1", "meter_evidence:holder"), (2, "H3", "supply_address:exact"), (3, "H1", "meter_evidence:holder")]
    oct_ += [(4, "H6", "meter_evidence:holder")]
    con.execute(
        "create table staging.stg_utility_electricity (delivery varchar, source_file varchar, source_row int, account_no varchar)"
    )
    for row, hid, rule in oct_:
        con.execute("insert into staging.stg_utility_electricity values ('2026-10', 'f', ?, ?)", [row, str(row)])
        con.execute(
            "insert into master.household_xref values ('2026-10', 'utility_electricity', 'f', ?, ?, ?, 1.0)",
            [row, hid, rule],
        )
    con.execute(
        "create table matching.int_household_meters as select * from (values "
        "('1', 'B#1902', 'supply_address:exact'), ('2', 'B#302', 'supply_address:exact'),"
        " ('3', 'C#101', 'supply_address:exact'), ('4', 'B#1902', 'supply_address:exact')"
        ") t(account_no, dwelling_key, match_rule)"
    )
    con.execute("create temp table household_map as select dwelling_key, household_id from master.household")
    con.execute("create temp table person_household as select * from (values ('H1'), ('H2'), ('H3')) t(household_id)")
    _previous_meters(con, "2026-10")
    _record_meters_placed(con, "2026-10", "2026-11", dt.datetime(2026, 11, 5))
    assert con.execute("select old_id, new_id, kind, delivery from master.id_history").fetchall() == [
        ("H1", "H2", "split", "2026-11")
    ]


def test_assign_on_arrow_tables_is_assign_on_dataframes():
    """The person master step hands assign() Arrow tables: the same ids, history and sequence as the
    same rows in DataFrames (ties, missing fingerprints and keys, merges and splits included)."""
    import random

    import pyarrow as pa

    rng = random.Random(7)
    ids = [stable_ids.make_id("P", i) for i in range(1, 60)]
    prev = pd.DataFrame(
        {
            "fingerprint": [f"f{rng.randint(0, 150)}" if rng.random() > 0.05 else None for _ in range(200)],
            "entity_id": [rng.choice(ids) for _ in range(200)],
        }
    )
    now = _clusters(
        [
            (
                f"c{rng.randint(0, 70)}",
                f"f{rng.randint(0, 170)}" if rng.random() > 0.05 else None,
                rng.choice([None, None, "110105194912310021", "37080219940221002X"]),
            )
            for _ in range(220)
        ]
    )
    hard = pd.DataFrame({"hard_key": ["110105194912310021", "37080219940221002X"], "entity_id": ids[:2]})
    soft = pd.DataFrame(
        {
            "cluster_key": [f"c{rng.randint(0, 70)}" for _ in range(80)],
            "soft_key": [f"s{rng.randint(0, 40)}" for _ in range(80)],
        }
    )
    prev_soft = pd.DataFrame(
        {"soft_key": [f"s{rng.randint(0, 40)}" for _ in range(60)], "entity_id": [rng.choice(ids) for _ in range(60)]}
    )
    frames = (now, prev, hard, soft, prev_soft)
    tables = tuple(pa.Table.from_pandas(f, preserve_index=False) for f in frames)
    a = stable_ids.assign(frames[0], frames[1], frames[2], "P", 100, soft_keys=frames[3], previous_soft_keys=frames[4])
    b = stable_ids.assign(tables[0], tables[1], tables[2], "P", 100, soft_keys=tables[3], previous_soft_keys=tables[4])
    assert a.history and a.new_ids  # the case has splits or merges and new persons
    assert (a.cluster_ids, a.history, a.next_seq, a.new_ids) == (b.cluster_ids, b.history, b.next_seq, b.new_ids)
