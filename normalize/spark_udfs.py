"""The cn_* normalisers as Spark Arrow UDFs: the same functions, from the same list, as on DuckDB.

`normalize.duckdb_udfs.udf_specs()` is the one list (name, Arrow function, SQL types). Spark hands
an Arrow UDF a batch of values as a `pyarrow.Array`, as DuckDB does, so the functions run unchanged;
only the SQL type names are spelt the Spark way. The functions are registered on the session before
dbt runs in the same process (dbt-spark's session method reuses `SparkSession.getOrCreate()`), so
the dbt models call them by name on either engine.

Spark may hand over `large_string` arrays (Arrow's 64-bit offsets): the functions cast their input
to `string` first, and the answer is cast back to the type Spark expects.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa

from normalize.duckdb_udfs import udf_specs

_SCALARS = {"VARCHAR": "string", "BOOLEAN": "boolean", "DATE": "date", "BIGINT": "bigint", "DOUBLE": "double"}
_STRUCT = re.compile(r"^STRUCT\((.*)\)$", re.S)


def spark_type(sql_type: str) -> str:
    """A DuckDB type name of the list as a Spark DDL type: VARCHAR -> string, STRUCT(a VARCHAR) -> struct<a:string>."""
    m = _STRUCT.match(sql_type.strip())
    if m:
        fields = [f.strip().split(" ", 1) for f in m.group(1).split(",")]
        return "struct<" + ",".join(f"{name}:{spark_type(t)}" for name, t in fields) + ">"
    try:
        return _SCALARS[sql_type.strip().upper()]
    except KeyError:
        raise ValueError(f"no Spark type for the UDF type {sql_type!r}") from None


def _small_strings(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _small_strings(f.type)) for f in t])
    return t


def _as_spark_batch(fn: Callable) -> Callable:
    """fn on Spark's batch: inputs as 32-bit-offset strings, the answer as it came."""

    def udf(*arrays: pa.Array) -> pa.Array:
        args = [a.cast(_small_strings(a.type)) if _small_strings(a.type) != a.type else a for a in arrays]
        out = fn(*args)
        return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out

    udf.__name__ = getattr(fn, "__name__", "cn_udf")
    return udf


def register_udfs(spark) -> tuple[str, ...]:
    """Register every cn_* function on the Spark session (a temporary function per name, replacing
    an earlier one); the names registered."""
    from pyspark.sql.functions import ArrowUDFType, arrow_udf

    names = []
    for name, fn, _params, ret in udf_specs():
        spark.udf.register(name, arrow_udf(_as_spark_batch(fn), spark_type(ret), ArrowUDFType.SCALAR))
        names.append(name)
    return tuple(names)
