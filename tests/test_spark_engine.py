"""The Spark engine gives what the DuckDB engine gives.

Every cn_* function returns the same on both engines (test vectors and random inputs); the same
generated district run with `--engine spark` (local[2]) and with DuckDB gives the same person
clusters, master records and findings. These start a JVM: marked `spark` (the e2e run also `slow`).
"""

from __future__ import annotations

import os
import random

import duckdb
import pytest

from normalize.duckdb_udfs import udf_specs
from normalize.id_number import check_char

pytestmark = pytest.mark.spark


def _inputs(n: int = 400, seed: int = 17) -> list[str | None]:
    rng = random.Random(seed)
    fixed = [
        None, "", " ", "abc", "11010519491231002X", "11010519491231002x", "370802940221002",
        "１１０１０５１９４９１２３１００２Ｘ", "上海市静安区天目西路218弄3号1202室", "静安区共和新路3088弄12号302",
        "欧阳娜娜", "张 三", "13812345678", "021-6234 5678", "91310106MA1FL5LX3P", "2026年10月", "1949.12.31",
        "2026-10", "张三", "張三",
    ]  # fmt: skip
    alphabet = "0123456789X-年月日号弄室路上海静安张王李欧阳 ａＢ"
    out = list(fixed)
    for _ in range(n):
        kind = rng.random()
        if kind < 0.4:
            f17 = f"310106{rng.randint(1900, 2025)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
            out.append(f17 + (check_char(f17) if rng.random() < 0.8 else "0"))
        else:
            out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))))
    return out


def _normalised(rows):
    def norm(v):
        if isinstance(v, float):
            return round(v, 9)
        if isinstance(v, dict):
            return tuple(sorted((k, norm(x)) for k, x in v.items()))
        if hasattr(v, "asDict"):
            return norm(v.asDict())
        if isinstance(v, tuple):
            return tuple(norm(x) for x in v)
        return v

    return [tuple(norm(x) for x in r) for r in rows]


def test_every_cn_function_is_the_same_on_both_engines(spark):
    values = _inputs()
    pairs = list(zip(values, reversed(values)))
    con = duckdb.connect()
    from normalize.duckdb_udfs import register_udfs

    register_udfs(con)
    con.execute("create table v (i integer, a varchar, b varchar)")
    con.executemany("insert into v values (?, ?, ?)", [(i, a, b) for i, (a, b) in enumerate(pairs)])
    spark.createDataFrame(
        [(i, a, b) for i, (a, b) in enumerate(pairs)], "i int, a string, b string"
    ).createOrReplaceTempView("v")
    checked = 0
    for name, _fn, params, _ret in udf_specs():
        call = f"{name}(a)" if len(params) == 1 else f"{name}(a, b)"
        on_duckdb = con.execute(f"select i, {call} from v order by i").fetchall()
        on_spark = [tuple(r) for r in spark.sql(f"select i, {call} from v order by i").collect()]
        assert _normalised(on_spark) == _normalised(on_duckdb), name
        checked += 1
    assert checked == len(udf_specs()) == 22


@pytest.mark.slow
def test_a_district_on_spark_matches_the_duckdb_run(tmp_path, spark):
    """2,000 persons, one month, through both engines: the same clusters, master data and findings."""
    from pipelines.engines import ENGINE_ENV
    from pipelines.evaluate import evaluate
    from pipelines.run import run_hub
    from synthetic.generate import generate

    inbox = tmp_path / "inbox"
    generate(out_dir=inbox, persons=2_000, months=1, seed=23, noise=1.0)
    runs = {}
    for engine in ("duckdb", "spark"):
        os.environ[ENGINE_ENV] = engine
        try:
            db = tmp_path / engine / "hub.duckdb"
            summary = run_hub(inbox, db, progress=False)
        finally:
            os.environ.pop(ENGINE_ENV, None)
        assert summary.ok, (engine, [(d.failed_steps, d.error) for d in summary.deliveries])
        runs[engine] = db

    def table(db, sql):
        with duckdb.connect(str(db), read_only=True) as con:
            return sorted(_normalised(con.execute(sql).fetchall()), key=repr)

    same = {
        "person clusters": "select record_key, cluster_key, match_rule from matching.int_person_clusters",
        "shop clusters": "select record_key, cluster_key, match_rule from matching.int_shop_clusters",
        "match weights": "select field, level, round(m, 6), round(u, 6) from matching.int_person_match_weights",
        "persons": "select person_id, id_number, name, sex, birth_date, household_id, status from master.person",
        "households": "select household_id, dwelling_key, address_id, member_count from master.household",
        "shops": "select shop_code, count(*) from master.shop_xref group by 1",
        "findings": "select rule, count(*) from quality.finding group by 1",
    }
    for what, sql in same.items():
        assert table(runs["spark"], sql) == table(runs["duckdb"], sql), what
    f1 = {e: evaluate(inbox, db)["entities"]["person"]["deliveries"] for e, db in runs.items()}
    assert f1["spark"] == f1["duckdb"]
