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
    assert checked == len(udf_specs()) == 23


def test_spark_levenshtein_is_cn_levenshtein(spark):
    """The edit_distance macro uses Spark's own levenshtein on Spark (a Python UDF in a `case` runs
    for every row there): it must count what cn_levenshtein counts, characters."""
    values = _inputs()
    pairs = [(i, a, b) for i, (a, b) in enumerate(zip(values, reversed(values)))]
    pairs += [(len(pairs) + i, a, b) for i, (a, b) in enumerate([("张三", "张珊"), ("欧阳娜娜", "欧阳娜"), ("", "王")])]
    con = duckdb.connect()
    from normalize.duckdb_udfs import register_udfs

    register_udfs(con)
    con.execute("create table v (i integer, a varchar, b varchar)")
    con.executemany("insert into v values (?, ?, ?)", pairs)
    spark.createDataFrame(pairs, "i int, a string, b string").createOrReplaceTempView("v")
    on_duckdb = con.execute("select i, cn_levenshtein(a, b) from v order by i").fetchall()
    on_spark = [tuple(r) for r in spark.sql("select i, levenshtein(a, b) from v order by i").collect()]
    assert on_spark == on_duckdb
    assert (len(pairs) - 2, 1) in on_spark  # 欧阳娜娜 / 欧阳娜: one character, not three bytes


# What the equivalence test compares, table by table. Built on Spark (dbt-spark and the Python steps,
# then copied into the hub's DuckDB file): staging and matching. Built on DuckDB in both runs, from
# the tables Spark built: master (stable ids, households, shop codes), quality (findings) and
# targeting. raw and ingest are DuckDB's ingestion in both runs (the same code), not compared; nor is
# the workbooks' signing key (NOT_COMPARED).
COMPARED_SCHEMAS = ("staging", "matching", "master", "quality", "targeting")
DECIMALS = 6  # doubles are compared rounded: Spark and DuckDB sum floats in different orders
NOT_COMPARED = {"quality.worklist_key"}  # the secret that signs the streets' workbooks: random per hub


def _normalised_select(con, alias: str, schema: str, table: str) -> str:
    """`select` of a table's columns by name, each in one type: doubles and decimals rounded, the
    rest as text; the run's clock (timestamps named *_at: when it was ingested or decided) left out."""
    cols = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = $c and table_schema = $s and table_name = $t order by column_name",
        {"c": alias, "s": schema, "t": table},
    ).fetchall()
    exprs = []
    for name, dtype in cols:
        if dtype.startswith("TIMESTAMP") and name.endswith("_at"):
            continue
        if dtype in ("DOUBLE", "FLOAT", "REAL") or dtype.startswith("DECIMAL"):
            exprs.append(f'round("{name}"::double, {DECIMALS}) as "{name}"')
        else:
            exprs.append(f'"{name}"::varchar as "{name}"')
    return f"select {', '.join(exprs)} from {alias}.{schema}.{table}"


def table_differences(duckdb_run, spark_run) -> dict[str, str]:
    """{schema.table: what differs} between two hub files, for every table of COMPARED_SCHEMAS:
    missing tables, other columns, and rows one side has and the other has not (counted, by
    column, never printed: the rows hold ID numbers and phones)."""
    con = duckdb.connect()
    con.execute(f"attach '{duckdb_run}' as d (read_only)")
    con.execute(f"attach '{spark_run}' as s (read_only)")
    listed = "select table_schema, table_name from information_schema.tables where table_catalog = $c and table_schema in ({})".format(
        ", ".join(f"'{x}'" for x in COMPARED_SCHEMAS)
    )
    tables = {a: set(con.execute(listed, {"c": a}).fetchall()) for a in ("d", "s")}
    out = {f"{s}.{t}": "only in the DuckDB run" for s, t in tables["d"] - tables["s"]}
    out |= {f"{s}.{t}": "only in the Spark run" for s, t in tables["s"] - tables["d"]}
    for schema, table in sorted(tables["d"] & tables["s"]):
        if f"{schema}.{table}" in NOT_COMPARED:
            continue
        d_sql = _normalised_select(con, "d", schema, table)
        s_sql = _normalised_select(con, "s", schema, table)
        d_cols = con.execute(f"describe {d_sql}").fetchall()
        s_cols = con.execute(f"describe {s_sql}").fetchall()
        if [c[0] for c in d_cols] != [c[0] for c in s_cols]:
            names = {c[0] for c in d_cols} ^ {c[0] for c in s_cols}
            out[f"{schema}.{table}"] = f"columns differ: {sorted(names)}"
            continue
        only_d = con.execute(f"select count(*) from ({d_sql} except all {s_sql})").fetchone()[0]
        only_s = con.execute(f"select count(*) from ({s_sql} except all {d_sql})").fetchone()[0]
        if only_d or only_s:
            differing = [
                c[0]
                for c in d_cols
                if con.execute(
                    f'select count(*) from (select "{c[0]}" from ({d_sql}) except all select "{c[0]}" from ({s_sql}))'
                ).fetchone()[0]
            ]
            out[f"{schema}.{table}"] = f"{only_d} rows only on DuckDB, {only_s} only on Spark; columns {differing}"
    con.close()
    return out


@pytest.mark.slow
def test_a_district_on_spark_matches_the_duckdb_run(tmp_path, spark):
    """2,000 persons, two months of field-profile noise, through both engines: every table of staging, matching, master,
    quality and targeting the same (person clusters, stable ids, household files, shop codes,
    findings), and the same resolution quality against the answer key. Two months: the second
    delivery reads the hub's own last month (master data, incremental staging, stable ids kept)."""
    from pipelines.engines import ENGINE_ENV
    from pipelines.evaluate import evaluate
    from pipelines.run import run_hub
    from synthetic.generate import generate

    inbox = tmp_path / "inbox"
    # the field profile: blank and building-only addresses, misspelt roads … (more of the SQL runs)
    generate(out_dir=inbox, persons=2_000, months=2, seed=23, noise=1.0, noise_profile="field")
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

    with duckdb.connect(str(runs["spark"]), read_only=True) as con:
        # the Spark run's matching tables are Spark's (copied in), not left over from a DuckDB build
        assert con.execute("select count(*) from matching.int_person_clusters").fetchone()[0] > 2_000
    assert table_differences(runs["duckdb"], runs["spark"]) == {}

    def rounded(v):  # B-cubed sums floats in the order the rows come: equal to 1e-15
        if isinstance(v, dict):
            return {k: rounded(x) for k, x in v.items()}
        if isinstance(v, list):
            return [rounded(x) for x in v]
        return round(v, 9) if isinstance(v, float) else v

    f1 = {e: rounded(evaluate(inbox, db)["entities"]) for e, db in runs.items()}
    assert f1["spark"] == f1["duckdb"]
