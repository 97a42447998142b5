"""Staging reuses last delivery's normalised addresses and names (normalize/version.py): what it
stages must be exactly what the normalisers give for the raw text, in every delivery."""

from __future__ import annotations

import shutil

import duckdb

from normalize.addresses import address_tuple
from normalize.names import name_pinyin, name_pinyin_key, normalize_name
from normalize.version import normalizers_version

FIELDS = ("district", "street", "community", "road", "lane", "number", "building", "room", "rest", "address_key")


def _name_values(raw):
    def safe(fn):
        try:
            return fn(raw)
        except Exception:  # the UDFs give NULL where a normaliser raises
            return None

    return (safe(normalize_name), safe(name_pinyin), safe(name_pinyin_key))


def _check(con, table, address_prefixes, name_prefix):
    cols = [f"{p}_address_raw" for p in address_prefixes]
    cols += [f"{p}_{f}" for p in address_prefixes for f in FIELDS]
    cols += [f"{name_prefix}_raw", name_prefix, f"{name_prefix}_pinyin", f"{name_prefix}_pinyin_key"]
    rows = con.execute(f"select delivery, normalized_by, {', '.join(cols)} from staging.{table}").fetchall()
    deliveries, wrong = set(), 0
    for row in rows:
        deliveries.add(row[0])
        assert row[1] == normalizers_version()
        values = row[2:]
        raws, fields = values[: len(address_prefixes)], values[len(address_prefixes) : -4]
        expected = [
            v for raw in raws for v in (address_tuple(raw)[: len(FIELDS)] if raw is not None else (None,) * len(FIELDS))
        ]
        wrong += list(fields) != expected
        wrong += tuple(values[-3:]) != (_name_values(values[-4]) if values[-4] is not None else (None, None, None))
    return deliveries, len(rows), wrong


def test_staged_addresses_and_names_are_the_normalisers_values_in_every_delivery(hub_run):
    con = duckdb.connect(str(hub_run.db), read_only=True)
    try:
        for table, prefixes, name in (
            ("stg_police_population", ("registered", "residence"), "name"),
            ("stg_utility_electricity", ("supply",), "account_name"),
        ):
            deliveries, n, wrong = _check(con, table, prefixes, name)
            assert len(deliveries) == 2 and n > 0
            assert wrong == 0, f"{table}: {wrong} of {n} rows not as the normalisers give them"
    finally:
        con.close()
    # the second delivery was built reusing the first's values (its SQL is the one the logs keep)
    compiled = next((hub_run.db.parent / "logs" / "dbt").glob("*/compiled/**/stg_police_population.sql"))
    assert f"normalized_by = '{normalizers_version()}'" in compiled.read_text(encoding="utf-8")


def test_the_fingerprint_changes_with_any_normaliser(tmp_path):
    import normalize

    here = tmp_path / "normalize"
    shutil.copytree(normalize.__path__[0], here, ignore=shutil.ignore_patterns("__pycache__"))
    before = normalizers_version(here)
    assert before == normalizers_version() and len(before) == 12
    path = here / "addresses.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n# a change\n", encoding="utf-8")
    normalizers_version.cache_clear()
    assert normalizers_version(here) != before
