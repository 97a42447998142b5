"""One SQL for both engines: every dbt model compiles for the DuckDB and the Spark target, and what
it compiles to uses only what that engine has.

The Spark side is compiled by dbt-spark without a Spark session: its session cursor is replaced by
one that answers every introspective query with no rows (a first build, nothing incremental yet),
so only the SQL text is checked here. Each compiled model must parse with sqlglot in the engine's
dialect, and every function it calls must be in that engine's catalogue (DuckDB's duckdb_functions(),
Spark's `SHOW SYSTEM FUNCTIONS`, kept in spark_functions.txt and checked against a live session by
the spark-marked test below) or be a cn_* function registered on both.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot.tokens import TokenType

from normalize.duckdb_udfs import UDF_NAMES
from pipelines.settings import DBT_PROJECT_DIR

HERE = Path(__file__).parent
SPARK_FUNCTIONS = HERE / "spark_functions.txt"
DIALECTS = {"local": "duckdb", "spark": "spark"}
# words followed by "(" that are syntax, not functions, in both engines
SYNTAX = {
    "as",
    "and",
    "or",
    "not",
    "in",
    "exists",
    "over",
    "filter",
    "values",
    "when",
    "then",
    "else",
    "on",
    "using",
    "from",
    "select",
    "where",
    "cast",
    "try_cast",
    "interval",
    "partition",
    "within",
    "case",
    "by",
    "is",
    "join",
    "all",
    "any",
    "with",
    "union",
    "except",
    "intersect",
    "table",
    "decimal",
    "varchar",
    "char",
    "numeric",
    "struct",
    "array",
    "map",
    "if",
    "like",
    "between",
    "into",
    "row",
}
# DuckDB's special forms (not in duckdb_functions()): coalesce, and the sampling methods
DUCKDB_SPECIAL = {"coalesce", "reservoir", "bernoulli", "system", "repeatable"}
# DuckDB-only constructs that parse in sqlglot's Spark dialect but that Spark refuses
SPARK_REFUSES = {
    "using sample": re.compile(r"\busing\s+sample\b", re.I),
    "union by name": re.compile(r"\bunion\s+(all\s+)?by\s+name\b", re.I),
    "::varchar": re.compile(r"::\s*varchar\b", re.I),
    "lambda": re.compile(r"\blambda\s+\w+\s*:", re.I),
    "select * exclude/replace": re.compile(r"\*\s*(exclude|replace)\s*\(", re.I),
    # DuckDB's 'g' option: Spark reads a fourth argument as a position, and every result is null
    "regexp_replace(…, 'g')": re.compile(r",\s*'g'\s*\)", re.I),
    "a row compared with a struct (x, y) in (select (a, b) …)": re.compile(
        r"\bin\s*\(\s*select\s*\(\s*[\w.]+\s*,", re.I
    ),
}


def compile_models(target: str, out: Path) -> dict[str, str]:
    """dbt compile of every model for `target`; {model path: compiled SQL}."""
    from unittest import mock

    from dbt.cli.main import dbtRunner

    from matching.config import dbt_vars

    args = [
        "compile", "--target", target, "--vars", json.dumps(dbt_vars()),
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(out / "target"), "--log-path", str(out / "logs"), "--quiet", "--no-partial-parse",
        "--no-write-json",
    ]  # fmt: skip
    patches = []
    if target == "spark":
        import dbt.adapters.spark.session as spark_session

        def no_rows(self, sql, *parameters):
            self._df, self._rows = None, []

        patches.append(mock.patch.object(spark_session.Cursor, "execute", no_rows))
    # DuckDB's side compiles against a database of its own (never the session's hub, which other
    # tests open read-only), closed when the compile is done
    patches.append(mock.patch.dict(os.environ, {"CIVICHUB_DB": str(out / "compile.duckdb")}))
    for p in patches:
        p.start()
    try:
        res = dbtRunner().invoke(args)
    finally:
        from pipelines.dbt_runner import _release_database

        _release_database()
        for p in patches:
            p.stop()
    assert res.success, f"dbt compile --target {target} failed: {res.exception}"
    root = out / "target" / "compiled" / "civichub" / "models"
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.sql"))}


def called_functions(sql: str, dialect: str) -> set[str]:
    """Names written as `name(` in the SQL (lower case), syntax words left out."""
    tokens = sqlglot.tokenize(sql, read=dialect)
    names = set()
    for prev, tok, nxt in zip([None, *tokens], tokens, tokens[1:]):
        if nxt.token_type != TokenType.L_PAREN or tok.token_type == TokenType.IDENTIFIER:
            continue
        if prev is not None and prev.token_type in (TokenType.R_PAREN, TokenType.ALIAS):
            continue  # a table alias with its column names: unnest(…) t(x)
        word = tok.text.lower()
        if re.fullmatch(r"[a-z_][a-z0-9_]*", word) and word not in SYNTAX:
            names.add(word)
    return names


def cte_names(sql: str) -> set[str]:
    return {m.lower() for m in re.findall(r"\b(\w+)\s+as\s*\(", sql, re.I)}


def engine_functions(target: str) -> set[str]:
    if target == "local":
        con = duckdb.connect()
        try:
            names = {
                r[0].lower() for r in con.execute("select distinct function_name from duckdb_functions()").fetchall()
            }
            names |= DUCKDB_SPECIAL
        finally:
            con.close()
    else:
        names = {line.strip().lower() for line in SPARK_FUNCTIONS.read_text().splitlines() if line.strip()}
    return names | {n.lower() for n in UDF_NAMES}


def problems(target: str, models: dict[str, str]) -> dict[str, list[str]]:
    dialect = DIALECTS[target]
    known = engine_functions(target)
    out: dict[str, list[str]] = {}
    for path, sql in models.items():
        found = []
        try:
            sqlglot.parse(sql, read=dialect)
        except sqlglot.errors.ParseError as e:
            found.append(f"does not parse as {dialect}: {str(e).splitlines()[0]}")
        missing = called_functions(sql, dialect) - known - cte_names(sql)
        found += [f"{dialect} has no function {name}()" for name in sorted(missing)]
        if target == "spark":
            found += [f"{dialect} refuses {what}" for what, rx in SPARK_REFUSES.items() if rx.search(sql)]
        if found:
            out[path] = found
    return out


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    pytest.importorskip("dbt.adapters.spark", reason="the spark extra: pip install -e '.[dev,spark]'")
    out = tmp_path_factory.mktemp("sql_engines")
    return {t: compile_models(t, out / t) for t in DIALECTS}


def test_every_model_compiles_for_both_targets(compiled):
    assert set(compiled["local"]) == set(compiled["spark"])
    assert len(compiled["local"]) >= 40


@pytest.mark.parametrize("target", list(DIALECTS))
def test_compiled_models_use_only_what_the_engine_has(compiled, target):
    found = problems(target, compiled[target])
    assert not found, "\n".join(f"{path}: {p}" for path, ps in found.items() for p in ps)


def test_the_lint_sees_duckdb_only_sql():
    """The check itself: DuckDB-only functions and syntax are caught in Spark SQL."""
    sql = (
        "select hamming(a, b), list_filter(range(1, 3), lambda i: i > 1) from t "
        "where (a, b) not in (select (x, y) from u) and regexp_replace(c, 'x', '', 'g') = '' using sample 10 percent"
    )
    found = problems("spark", {"m.sql": sql})["m.sql"]
    assert any("hamming" in p for p in found)
    assert any("using sample" in p for p in found)
    assert any("struct" in p for p in found)
    assert any("'g'" in p for p in found)
    assert not problems("spark", {"ok.sql": "select levenshtein(a, b), cn_normalize_id(c) from t"})


@pytest.mark.spark
def test_spark_function_list_is_spark_s(spark):
    """spark_functions.txt is what the installed Spark has (refresh it when pyspark is upgraded)."""
    live = {r.function.lower() for r in spark.sql("show system functions").collect()}
    assert live == engine_functions("spark") - {n.lower() for n in UDF_NAMES}


def test_seed_cells_load_on_spark_session_mode():
    """dbt-spark's session mode writes a seed's cells into its INSERT as they are: one apostrophe in a
    cell (``system's``) is a syntax error on Spark and the whole run fails at the seed."""
    bad = [
        (csv.name, n, line.strip())
        for csv in sorted((DBT_PROJECT_DIR / "seeds").glob("*.csv"))
        for n, line in enumerate(csv.read_text(encoding="utf-8").splitlines(), start=1)
        if "'" in line or "\\" in line
    ]
    assert not bad, bad
