"""How big is a model's plan on Spark? `python -m bench.spark_plan SESSION_DB COMPILED.sql …`

Spark inlines a CTE at every reference (no materialised CTE), so a model whose late CTEs read an
early one several times can grow a physical plan of thousands of operators: minutes of planning,
and in a local session one broadcast hash relation per broadcast join held on the driver's heap
until the query ends (README: Spark traps). This prints, per compiled model, the size of its
physical plan: lines of the operator tree, broadcast exchanges and the joins by kind, and how long
EXPLAIN took. Nothing of the data.

SESSION_DB is the `hub.duckdb` path a Spark session was made for: its warehouse and Derby
metastore are beside it (`spark-warehouse/`, `spark-metastore/`). After `tests/test_spark_engine.py`
that is `<basetemp>/popen-gwN/spark0/hub.duckdb` (the last hub's tables, November's, are there);
the compiled SQL of its run is under `<basetemp>/popen-gwN/test_a_district_on_spark_match0/spark/
logs/dbt/<step>__<phase>/compiled/civichub/models/…`. Run it after the test (Derby admits one
process), with the Spark extra installed.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
from pathlib import Path

_OPERATORS = re.compile(
    r"(BroadcastNestedLoopJoin \w+|BroadcastHashJoin \w+|ShuffledHashJoin \w+|SortMergeJoin \w+"
    r"|BroadcastExchange|CartesianProduct)"
)


def plan_size(plan: str) -> tuple[int, collections.Counter]:
    """(lines of the operator tree, operators counted) of an `EXPLAIN FORMATTED` text."""
    tree = plan.split("\n(1)")[0]
    return tree.count("\n") + 1, collections.Counter(_OPERATORS.findall(tree))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("session_db", type=Path, help="the hub.duckdb path the Spark session was made for")
    ap.add_argument("sql", nargs="+", type=Path, help="compiled model SQL (a select)")
    ap.add_argument("--save", type=Path, help="write each plan to this folder (<model>.plan)")
    args = ap.parse_args(argv)

    from pipelines.engines import spark_session

    spark = spark_session(str(args.session_db.resolve()))
    for path in args.sql:
        started = time.monotonic()
        plan = spark.sql("explain formatted " + path.read_text()).collect()[0][0]
        seconds = time.monotonic() - started
        lines, ops = plan_size(plan)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"{path.stem}.plan").write_text(plan)
        joins = ", ".join(f"{k} {v}" for k, v in sorted(ops.items()) if k != "BroadcastExchange")
        print(
            f"{path.stem}: {lines} plan lines, {ops['BroadcastExchange']} broadcasts, EXPLAIN {seconds:.1f} s; {joins}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
