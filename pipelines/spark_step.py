"""The staging-and-matching dbt step on Spark (`civichub run --engine spark`).

The same dbt models as on DuckDB, compiled for the `spark` target and run by dbt-spark's session
method on the hub's SparkSession (pipelines/engines.py). dbt-spark cannot run dbt Python models
outside Databricks, so the three Python models run here as steps of the hub between dbt
invocations, writing the very tables the SQL models downstream `ref()`:

1. raw tables land as Parquet partitioned by delivery (`<db dir>/lake/raw/<source>/delivery=…`),
   external tables `raw.<source>` of Spark's catalogue;
2. dbt: staging and every model up to the comparison vectors and the shop records;
3. EM on the comparison-pattern counts, aggregated by Spark (`int_person_match_weights`);
4. dbt: the pair scores;
5. person clusters: connected components of the links that matter (scored pairs at or above the
   review floor, records sharing a valid ID number, reviewers' decisions) labelled by Spark, then
   the same `cluster()` applied to whole components with `applyInPandas`, components hashed into
   buckets (one component never needs another's records: a union-find never crosses components);
6. dbt: the shop records (they read the person clusters); shop clusters (`int_shop_clusters`,
   matching/shops.py on the shop records, on the driver);
   dbt: the rest of the step's models;
7. the models built here are copied into the hub's DuckDB file (through Arrow), where the master
   data, quality rules and targeting steps read them as after a DuckDB run.

Step 7 makes the rest of the pipeline engine-independent for now: stable ids, quality rules and
targeting still run on DuckDB (issue 17 leaves them for later).
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import pandas as pd

from pipelines.dbt_runner import DbtStepOutcome, invoke
from pipelines.settings import duckdb_config

PYTHON_MODELS = ("int_person_match_weights", "int_shop_clusters", "int_person_clusters")
STEP_SCHEMAS = ("staging", "matching")
QUALITY_AND_TARGETING = "path:models/quality path:models/targeting"
PHASES = {
    # stg_divisions here too (no model of this phase reads it) so that the blocking test of the
    # addresses' community codes against it runs where stg_standard_addresses is built
    "to_comparisons": [
        "--select",
        "+int_person_match_weights +int_shop_clusters +int_person_clusters stg_divisions",
        "--exclude",
        "int_person_match_weights+ int_shop_clusters+ int_person_clusters+ int_person_pair_scores+",
    ],
    "pair_scores": ["--select", "int_person_pair_scores"],
    "to_shop_records": [
        "--select",
        "int_person_clusters+,+int_shop_clusters",
        "--exclude",
        "int_person_clusters int_shop_clusters",
    ],
    "the_rest": [
        "--select",
        "fqn:*",
        "--exclude",
        f"+int_person_clusters +int_shop_clusters stg_divisions {QUALITY_AND_TARGETING}",
    ],
    "python_model_tests": ["--select", " ".join(PYTHON_MODELS), "--resource-type", "test"],
}


def lake_dir(db_path: str | Path) -> Path:
    return Path(db_path).resolve().parent / "lake"


def land_raw(spark, con: duckdb.DuckDBPyConnection, db_path: str | Path, delivery: str) -> dict[str, int]:
    """The raw rows of the delivery (and the reference tables, delivery 'reference') as Parquet
    partitioned by delivery, `<lake>/raw/<table>/delivery=<d>/`, read by Spark as the external
    table `raw.<table>`; rows landed per table. Landing a delivery again replaces its partition. A
    source with no rows yet is an empty table (its columns from DuckDB's raw table)."""
    import shutil

    landed = {}
    spark.sql("create database if not exists raw")
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
        ).fetchall()
    ]
    for table in tables:
        cols = [r[0] for r in con.execute(f"describe raw.{table}").fetchall()]
        if "delivery" not in cols:
            continue
        select = ", ".join(f'"{c}"' for c in cols if c != "delivery")
        target = lake_dir(db_path) / "raw" / table
        parts = con.execute(
            f"select delivery, count(*) from raw.{table} where delivery in ($d, 'reference') group by 1",
            {"d": delivery},
        ).fetchall()
        for part_delivery, rows in parts:
            part = target / f"delivery={part_delivery}"
            if part.exists():
                shutil.rmtree(part)
            part.mkdir(parents=True)
            literal = str(part_delivery).replace("'", "''")
            con.execute(
                f"copy (select {select} from raw.{table} where delivery = '{literal}') "
                f"to '{part}/part-0.parquet' (format parquet)"
            )
            landed[table] = landed.get(table, 0) + rows
        if not parts and not target.exists():
            # a source no delivery has brought yet: an empty table of its columns, as on DuckDB
            empty = target / "delivery=none"
            empty.mkdir(parents=True)
            con.execute(f"copy (select {select} from raw.{table} limit 0) to '{empty}/part-0.parquet' (format parquet)")
        if parts or not spark.catalog.tableExists(f"raw.{table}"):
            # the table over the folder (dropping an external table keeps its files), its
            # delivery partitions discovered from the folder names
            spark.sql(f"drop table if exists raw.{table}")
            spark.sql(f"create table raw.{table} using parquet location '{target}'")
            spark.sql(f"repair table raw.{table}")
    return landed


# the hub's own last month, which some models read when it exists (`adapter.get_relation('master', …)`:
# int_person_dwelling_evidence, int_household_meters, int_shop_records); it lives in the DuckDB file, written by the
# master data step of the previous delivery
MASTER_TABLES = ("person", "household", "person_xref", "household_member", "household_xref", "shop", "shop_xref")


def land_master(spark, con: duckdb.DuckDBPyConnection, db_path: str | Path) -> int:
    """The hub's master tables (the previous delivery's master data) as Parquet, Spark tables
    `master.<table>` over `<lake>/master/<table>/`, so that the models reading last month see on
    Spark what they see on DuckDB; rows landed. Before the first delivery there are none, and no
    table `master.*` exists on Spark either (the models then leave that evidence out, as on DuckDB)."""
    import shutil

    present = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'master'"
        ).fetchall()
    }
    rows = 0
    for table in MASTER_TABLES:
        if table not in present:
            continue
        spark.sql("create database if not exists master")
        target = lake_dir(db_path) / "master" / table
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        con.execute(f"copy master.{table} to '{target}/part-0.parquet' (format parquet)")
        rows += con.execute(f"select count(*) from master.{table}").fetchone()[0]
        spark.sql(f"drop table if exists master.{table}")
        spark.sql(f"create table master.{table} using parquet location '{target}'")
    return rows


def _write(spark, frame: pd.DataFrame, table: str) -> None:
    import pyarrow as pa

    df = spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))
    df.write.mode("overwrite").format("parquet").saveAsTable(table)


def person_match_weights(spark) -> pd.DataFrame:
    from matching.person_model import match_weights_frame, pattern_counts_sql

    counts = [
        spark.sql(pattern_counts_sql(f"matching.{name}")).toPandas()
        for name in ("int_person_pair_comparisons", "int_person_random_pairs", "int_person_labelled_pairs")
    ]
    return match_weights_frame(*counts)


def shop_clusters(spark) -> pd.DataFrame:
    from matching.shops import cluster_shops

    records = spark.sql(
        "select record_key, source, uscc, uscc_check_ok, name, name_core, person_name, person_name_key, "
        "premises_key, address_id, upper_floor_office, event_date, established_on, registration_status, "
        "inspection_result, account_no, previous_uscc, reading_month from matching.int_shop_records"
    ).toPandas()
    return cluster_shops(records)


def connected_components(spark, edges, max_rounds: int = 100):
    """(node, component) of an undirected edge list (src, dst): every node labelled with the least
    node of its component, by min-label propagation in Spark (each round one join and one
    aggregation; the plan is cut each round so it does not grow)."""
    from pyspark.sql import functions as F

    both = edges.select("src", "dst").union(edges.select(F.col("dst").alias("src"), F.col("src").alias("dst")))
    both = both.union(both.select(F.col("src"), F.col("src").alias("dst"))).distinct().localCheckpoint()
    labels = both.groupBy("src").agg(F.min("dst").alias("label")).withColumnRenamed("src", "node").localCheckpoint()
    for _ in range(max_rounds):
        nxt = (
            both.join(labels, both.dst == labels.node)
            .groupBy(both.src.alias("node"))
            .agg(F.min("label").alias("label"))
            .localCheckpoint()
        )
        changed = nxt.join(labels.withColumnRenamed("label", "old"), "node").where("label <> old").limit(1).count()
        labels = nxt
        if not changed:
            break
    return labels.withColumnRenamed("label", "component")


CLUSTER_SCHEMA = "record_key string, cluster_key string, match_rule string, match_score double, matched_record string"


def person_clusters(spark, accept: float, review_floor: float, decisions: pd.DataFrame | None):
    """int_person_clusters on Spark: components labelled by Spark, `cluster()` per bucket of components."""
    from pyspark.sql import functions as F

    from matching.clustering import cluster

    records = spark.sql(
        "select record_key, fingerprint, case when has_valid_id then id_number end as hard_key "
        "from matching.int_person_records"
    )
    pairs = spark.sql(
        f"select record_a, record_b, probability from matching.int_person_pair_scores where probability >= {review_floor}"
    )
    edges = pairs.select(F.col("record_a").alias("src"), F.col("record_b").alias("dst")).union(
        records.where("hard_key is not null").select(
            F.col("record_key").alias("src"), F.concat(F.lit("id:"), "hard_key").alias("dst")
        )
    )
    links = pairs.select("record_a", "record_b", "probability", F.lit(None).cast("string").alias("decision"))
    if decisions is not None and len(decisions):
        d = spark.createDataFrame(decisions[["fingerprint_a", "fingerprint_b", "decision"]].astype(str))
        fp = records.select("record_key", "fingerprint")
        d = (
            d.join(fp.withColumnsRenamed({"record_key": "record_a", "fingerprint": "fingerprint_a"}), "fingerprint_a")
            .join(fp.withColumnsRenamed({"record_key": "record_b", "fingerprint": "fingerprint_b"}), "fingerprint_b")
            .select("record_a", "record_b", F.lit(None).cast("double").alias("probability"), "decision")
        )
        edges = edges.union(d.select(F.col("record_a").alias("src"), F.col("record_b").alias("dst")))
        links = links.union(d)
    components = connected_components(spark, edges)
    # whole components in buckets: one cluster() call per bucket, not per component (a call per
    # component costs more in pandas than the few records it clusters); a component is never split
    n_buckets = F.lit(int(spark.conf.get("spark.sql.shuffle.partitions")))
    rec = records.join(components, records.record_key == components.node, "left").select(
        "record_key",
        "hard_key",
        F.pmod(F.xxhash64(F.coalesce("component", "record_key")), n_buckets).alias("bucket"),
    )
    lnk = links.join(components, links.record_a == components.node).select(
        "record_a", "record_b", "probability", "decision", F.pmod(F.xxhash64("component"), n_buckets).alias("bucket")
    )

    def per_bucket(recs: pd.DataFrame, lks: pd.DataFrame) -> pd.DataFrame:
        scored = lks[lks["decision"].isna()][["record_a", "record_b", "probability"]]
        decided = lks[lks["decision"].notna()][["record_a", "record_b", "decision"]]
        result = cluster(recs, scored, accept=accept, review_floor=review_floor, decisions=decided)
        return result.assignments

    return rec.groupBy("bucket").cogroup(lnk.groupBy("bucket")).applyInPandas(per_bucket, schema=CLUSTER_SCHEMA)


def local_parquet_dir(location: str, provider: str) -> Path | None:
    """The folder of a Parquet table on the local disk, from Spark's `Location` (a URI: a hub kept
    under `/数据/` or a folder with a space is percent-encoded there) and `Provider`; None for
    any other table (another format, or storage that is not a local file system)."""
    uri = urlparse(location)
    if provider.lower() != "parquet" or uri.scheme != "file":
        return None
    return Path(unquote(uri.path))


def _parquet_location(spark, name: str) -> Path | None:
    """Where a Spark table's Parquet files are, when it is a Parquet table on the local disk."""
    rows = spark.sql(f"describe table extended {name}").collect()
    info = {r["col_name"]: r["data_type"] for r in rows}
    path = local_parquet_dir(info.get("Location") or "", info.get("Provider") or "")
    return path if path is not None and any(path.rglob("*.parquet")) else None


def copy_to_duckdb(spark, con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """The Spark tables `schema.table` into the DuckDB file (replacing them). A Parquet table on the
    local disk is read by DuckDB in place (no collect on the driver: at 1M the Arrow collect of
    staging.stg_utility_electricity hung, see bench/PROFILE.md); any other through Arrow."""
    for name in tables:
        schema, _ = name.split(".")
        con.execute(f"create schema if not exists {schema}")
        columns = spark.table(name).columns
        location = _parquet_location(spark, name)
        if location is not None:
            hive = any(p.is_dir() and "=" in p.name for p in location.iterdir())
            cols = ", ".join(f'"{c}"' for c in columns)
            con.execute(
                f"create or replace table {name} as select {cols} from read_parquet(?, hive_partitioning = {str(hive).lower()})",
                [f"{location}/**/*.parquet"],
            )
            continue
        arrow_table = spark.table(name).toArrow()  # noqa: F841 (read by DuckDB below)
        con.execute(f"create or replace table {name} as select * from arrow_table")


def run_matching_step(hub_db: str | Path, dbt_vars: dict, step: str, log) -> DbtStepOutcome:
    """The whole civichub_dbt_models step on Spark; one outcome for the Dagster events."""
    from matching.config import load_matching_config
    from pipelines.engines import spark_session

    started = time.monotonic()
    spark = spark_session(str(Path(hub_db).resolve()))
    delivery = dbt_vars["delivery"]
    with duckdb.connect(str(hub_db), config=duckdb_config(hub_db)) as con:
        landed = land_raw(spark, con, hub_db, delivery)
        master_rows = land_master(spark, con, hub_db)
        has_decisions = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'review' and table_name = 'person_decisions'"
        ).fetchone()[0]
        decisions = con.execute("select * from review.person_decisions").df() if has_decisions else None
    log.info(
        f"spark: landed {sum(landed.values())} raw rows of {delivery} as Parquet ({len(landed)} tables), "
        f"{master_rows} rows of the master data before it"
    )
    import json

    total = DbtStepOutcome(success=True)

    def dbt(phase: str) -> bool:
        # a test runs in the phase that has built every model it reads
        args = ["build", "--vars", json.dumps(dbt_vars), "--indirect-selection", "buildable", *PHASES[phase]]
        out = invoke(args, f"{step}__{phase}", target="spark")
        total.results += out.results
        total.errors += out.errors
        if not out.success:
            total.success, total.exception = False, out.exception or f"dbt {phase} failed"
        return out.success

    if not dbt("to_comparisons"):
        return total
    cfg = load_matching_config().person
    _write(spark, person_match_weights(spark), "matching.int_person_match_weights")
    total.python_models.append((len(total.results), "int_person_match_weights"))
    if not dbt("pair_scores"):
        return total
    person_clusters(spark, cfg.accept, cfg.review_floor, decisions).write.mode("overwrite").format(
        "parquet"
    ).saveAsTable("matching.int_person_clusters")
    total.python_models.append((len(total.results), "int_person_clusters"))
    if not dbt("to_shop_records"):
        return total
    _write(spark, shop_clusters(spark), "matching.int_shop_clusters")
    total.python_models.append((len(total.results), "int_shop_clusters"))
    if not dbt("the_rest"):
        return total
    dbt("python_model_tests")
    built = sorted(
        f"{r.namespace}.{r.tableName}" if hasattr(r, "namespace") else f"{schema}.{r.tableName}"
        for schema in STEP_SCHEMAS
        for r in spark.sql(f"show tables in {schema}").collect()
        if not r.isTemporary
    )
    with duckdb.connect(str(hub_db), config=duckdb_config(hub_db)) as con:
        copy_to_duckdb(spark, con, built)
    log.info(f"spark: matching step in {time.monotonic() - started:.0f} s; {len(built)} tables copied to DuckDB")
    return total
