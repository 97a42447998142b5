"""The engine the dbt models run on: DuckDB (the default, one district on one machine) or Spark (a
city: YARN, Kubernetes or local[N]), selected by `civichub run --engine` (CIVICHUB_ENGINE).

Spark is configured in pipelines/spark.yml (or the file CIVICHUB_SPARK_CONFIG names), validated
here. The hub creates the SparkSession itself, with that master and configuration, and registers
the cn_* functions on it before dbt runs in the same process: dbt-spark's session method then
reuses it (`SparkSession.builder.getOrCreate()`), so dbt's profile needs no connection details.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from pipelines.yaml_models import StrictModel, load_yaml_model

ENGINE_ENV = "CIVICHUB_ENGINE"
SPARK_CONFIG_ENV = "CIVICHUB_SPARK_CONFIG"
DEFAULT_SPARK_CONFIG = Path(__file__).with_name("spark.yml")
Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")
DBT_TARGETS = {"duckdb": "local", "spark": "spark"}  # dbt_project/profiles.yml outputs


class EngineConfigError(ValueError):
    pass


class SparkConfig(StrictModel):
    master: str = Field("local[2]", min_length=1, description="Spark master URL")
    app_name: str = "civichub"
    warehouse_dir: str | None = None
    metastore_dir: str | None = None
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("master")
    @classmethod
    def _known_master(cls, v: str) -> str:
        if not (v.startswith(("local", "yarn", "k8s://", "spark://", "mesos://"))):
            raise ValueError(f"not a Spark master URL: {v!r} (local[N], yarn, k8s://…, spark://…)")
        return v

    @field_validator("conf", mode="before")
    @classmethod
    def _values_as_text(cls, v):
        if isinstance(v, dict):
            return {str(k): str(x).lower() if isinstance(x, bool) else str(x) for k, x in v.items()}
        return v


def current_engine() -> Engine:
    engine = os.environ.get(ENGINE_ENV, "duckdb") or "duckdb"
    if engine not in ENGINES:
        raise EngineConfigError(f"{ENGINE_ENV}={engine!r}: the engine is one of {', '.join(ENGINES)}")
    return engine  # type: ignore[return-value]


def set_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise EngineConfigError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
    os.environ[ENGINE_ENV] = engine


def dbt_target(engine: str | None = None) -> str:
    return DBT_TARGETS[engine or current_engine()]


def load_spark_config(path: str | Path | None = None) -> SparkConfig:
    path = Path(path or os.environ.get(SPARK_CONFIG_ENV) or DEFAULT_SPARK_CONFIG)
    return load_yaml_model(path, SparkConfig, EngineConfigError)


def spark_conf(cfg: SparkConfig, db_path: str | Path) -> dict[str, str]:
    """The session's configuration: the file's, with local defaults for what it leaves out (the
    warehouse and Derby metastore beside the database, the executors' Python this one)."""
    base = Path(db_path).resolve().parent
    warehouse = cfg.warehouse_dir or str(base / "spark-warehouse")
    conf = {
        "spark.sql.warehouse.dir": warehouse,
        "spark.sql.catalogImplementation": "hive",
        # dbt-spark sets this too (its session cursor): ANSI off on Spark 3 and 4 alike
        "spark.sql.ansi.enabled": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # string literals as DuckDB reads them: '\d+' is a regular expression, not an escape
        "spark.sql.parser.escapedStringLiterals": "true",
    }
    if cfg.master.startswith("local"):
        conf["spark.pyspark.python"] = sys.executable
        conf["spark.pyspark.driver.python"] = sys.executable
        metastore = cfg.metastore_dir or str(base / "spark-metastore")
        conf["spark.driver.extraJavaOptions"] = f"-Dderby.system.home={metastore}"
    java_options = " ".join(
        o for o in (conf.get("spark.driver.extraJavaOptions"), cfg.conf.get("spark.driver.extraJavaOptions")) if o
    )
    conf.update(cfg.conf)
    if java_options:
        # the file's JVM options (heap, GC) beside the Derby home, not instead of it
        conf["spark.driver.extraJavaOptions"] = java_options
    return conf


@functools.cache
def spark_session(db_path: str):
    """The hub's SparkSession (one per process), with the cn_* functions registered."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineConfigError(
            "the Spark engine needs pyspark and dbt-spark: pip install -e '.[spark]' (and a Java 17 runtime)"
        ) from None
    from normalize.spark_udfs import register_udfs

    cfg = load_spark_config()
    if cfg.master.startswith("local"):
        # the Python workers run this interpreter (pyarrow and the hub's packages are here);
        # PySpark reads the variable when the context starts, the conf alone is not enough
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(cfg.master).appName(cfg.app_name).enableHiveSupport()
    for key, value in spark_conf(cfg, db_path).items():
        builder = builder.config(key, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas 3 "not fully supported": the hub converts through Arrow
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        register_udfs(spark)
    return spark
