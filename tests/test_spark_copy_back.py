"""The copy of Spark's built tables into the hub's DuckDB file (pipelines/spark_step.py), without a
JVM: where Spark says a table's Parquet files are, and that DuckDB reads such a table in place
(partition columns included) instead of collecting it through the driver, where the 1M run hung."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.spark_step import copy_to_duckdb, local_parquet_dir


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("file:/tmp/hub/spark-warehouse/staging.db/stg_x", Path("/tmp/hub/spark-warehouse/staging.db/stg_x")),
        ("file:///tmp/hub/wh/t", Path("/tmp/hub/wh/t")),
        # a hub kept under a Chinese folder name or one with a space: Spark gives the URI encoded
        ("file:/%E6%95%B0%E6%8D%AE/my%20hub/wh/t", Path("/数据/my hub/wh/t")),
    ],
)
def test_a_local_parquet_table_is_found_where_spark_says(location, expected):
    assert local_parquet_dir(location, "parquet") == expected
    assert local_parquet_dir(location, "Parquet") == expected


@pytest.mark.parametrize(
    ("location", "provider"),
    [("hdfs://nn:8020/warehouse/t", "parquet"), ("s3a://bucket/t", "parquet"), ("file:/tmp/t", "delta"), ("", "")],
)
def test_a_table_elsewhere_or_in_another_format_is_not_read_in_place(location, provider):
    assert local_parquet_dir(location, provider) is None


class _Rows(list):
    def collect(self):
        return self


class _Table:
    def __init__(self, columns):
        self.columns = columns

    def toArrow(self):  # noqa: N802 (PySpark's name)
        raise AssertionError("a local Parquet table was collected through the driver")


class _Catalog:
    """What copy_to_duckdb asks of a SparkSession: `describe table extended` and a table's columns."""

    def __init__(self, location: Path, columns: list[str]):
        self.location, self.cols = location, columns

    def sql(self, _query):
        return _Rows(
            [
                {"col_name": "Location", "data_type": self.location.as_uri()},
                {"col_name": "Provider", "data_type": "parquet"},
            ]
        )

    def table(self, _name):
        return _Table(self.cols)


def test_a_partitioned_parquet_table_is_read_in_place_with_its_partition_column(tmp_path):
    table_dir = tmp_path / "数据 warehouse" / "staging.db" / "stg_meters"
    table_dir.parent.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            "copy (select * from (values ('M1', 12.5, '2026-10'), ('M2', null, '2026-10'), ('M1', 3.0, '2026-11')) "
            "t(account, kwh, delivery)) to ? (format parquet, partition_by (delivery))",
            [str(table_dir)],
        )
    hub = duckdb.connect(str(tmp_path / "hub.duckdb"))
    copy_to_duckdb(_Catalog(table_dir, ["delivery", "account", "kwh"]), hub, ["staging.stg_meters"])
    rows = hub.execute("select delivery, account, kwh from staging.stg_meters order by delivery, account").fetchall()
    assert rows == [("2026-10", "M1", 12.5), ("2026-10", "M2", None), ("2026-11", "M1", 3.0)]
    assert [c[0] for c in hub.execute("describe staging.stg_meters").fetchall()] == ["delivery", "account", "kwh"]
