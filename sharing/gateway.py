"""The query gateway: read-only SELECTs over one role's published views, with a row limit, audited.

    result = run_query("street_310106012000", "select count(*) from master.person", db_path=db)
    result.allowed, result.reason, result.columns, result.rows, result.truncated

A statement is checked twice, by two independent parsers, before anything runs:
1. DuckDB's own parser (the one that will execute it): exactly one statement, of type SELECT; then
   its syntax tree (json_serialize_sql) is walked: every table is one of the role's views (or a CTE
   of the statement), no table functions, no function from the deny list (files, settings,
   environment, catalog introspection);
2. sqlglot (DuckDB dialect): one statement whose root is SELECT / UNION / INTERSECT / EXCEPT (WITH
   allowed, not recursive), the same table and function rules on its tree.
Anything either parser cannot read, or reads differently, is refused. Then, as defence in depth,
the statement runs on the role's own published DuckDB file (which holds nothing else), opened
read-only with external access disabled and the configuration locked, under a time limit; rows
beyond the limit are not fetched.

Every attempt, allowed or refused, is appended to the audit log (sharing/audit.py).
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from pipelines.settings import output_dir
from sharing import audit

DEFAULT_LIMIT = 1000
MAX_LIMIT = 100_000
MAX_STATEMENT_CHARS = 20_000
TIMEOUT_SECONDS = 30.0

# Functions a query may not call: they read files or the network, reveal settings, the environment
# or the catalog of the database, or change state. Checked by name on both parsers' trees.
DENIED_FUNCTIONS = {
    "getenv",
    "current_setting",
    "getvariable",
    "set_variable",
    "glob",
    "query",
    "query_table",
    "sniff_csv",
    "checkpoint",
    "force_checkpoint",
    "enable_profiling",
    "disable_profiling",
    "which_secret",
    "summary",
    "current_database",
    "current_catalog",
    "version",
    "platform",
    "pg_get_viewdef",
    "pg_get_constraintdef",
    "has_table_privilege",
    "has_schema_privilege",
    "has_column_privilege",
    "has_database_privilege",
    "has_function_privilege",
    "has_any_column_privilege",
    "pg_has_role",
    "col_description",
    "obj_description",
    "shobj_description",
    "nextval",
    "currval",
}
DENIED_PREFIXES = (
    "read_",
    "duckdb_",
    "pragma_",
    "parquet_",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "write_",
    "load_",
    "install_",
    "export_",
    "import_",
    "copy_",
    "http",
    "s3",
    "azure",
    "gcs",
    "test_",
    "arrow_",
    "json_execute",
    "system",
    "shell",
    "pg_",
)
# DuckDB statement types, in words a department user understands.
STATEMENT_KINDS = {
    "CREATE": "DDL (CREATE)",
    "DROP": "DDL (DROP)",
    "ALTER": "DDL (ALTER)",
    "INSERT": "DML (INSERT)",
    "UPDATE": "DML (UPDATE)",
    "DELETE": "DML (DELETE)",
    "MERGE_INTO": "DML (MERGE)",
    "ATTACH": "ATTACH",
    "DETACH": "DETACH",
    "COPY": "COPY",
    "COPY_DATABASE": "COPY",
    "EXPORT": "EXPORT",
    "LOAD": "INSTALL/LOAD",
    "PRAGMA": "PRAGMA",
    "SET": "SET",
    "VARIABLE_SET": "SET",
    "CALL": "CALL",
    "TRANSACTION": "transaction control",
    "EXPLAIN": "EXPLAIN",
    "PREPARE": "PREPARE",
    "EXECUTE": "EXECUTE",
    "VACUUM": "VACUUM",
    "ANALYZE": "ANALYZE",
    "MULTI": "PIVOT/UNPIVOT",
    "UPDATE_EXTENSIONS": "UPDATE EXTENSIONS",
    "LOGICAL_PLAN": "logical plan",
    "RELATION": "relation",
    "EXTENSION": "extension",
    "DROP_SECRET": "secret",
    "CREATE_SECRET": "secret",
}
_QUERY_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)


class Refused(Exception):
    """The statement is not allowed; the message is the reason shown to the user and logged."""


@dataclass
class QueryResult:
    role: str
    statement: str
    allowed: bool
    outcome: str = "refused"  # allowed | refused (by the checks) | failed (DuckDB error or time limit)
    reason: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    truncated: bool = False
    seconds: float = 0.0
    audit_seq: int | None = None


# ------------------------------------------------------------------------------------------ paths
def published_root(db_path: str | Path) -> Path:
    return output_dir(db_path) / "published"


def role_db_path(db_path: str | Path, role: str) -> Path:
    return published_root(db_path) / role / f"{role}.duckdb"


def audit_log_path(db_path: str | Path) -> Path:
    return Path(db_path).resolve().parent / "audit" / "query_audit.jsonl"


# How a published file is opened, by the gateway and by anything else in the same process (the street
# app): DuckDB shares one instance per file within a process and refuses a second configuration.
READ_CONFIG = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "memory_limit": "2GB",
    "threads": 1,
    "lock_configuration": True,
}


def allowed_views(role_db: Path) -> set[str]:
    """The tables of the role's published file: exactly what the role may read.

    Read once per version of the file (a publication swaps in a new file: another inode and mtime),
    not on every query: opening a DuckDB file costs ~30 ms, more than checking the statement."""
    st = Path(role_db).stat()
    return set(_views_of(str(role_db), st.st_ino, st.st_mtime_ns, st.st_size))


@functools.lru_cache(maxsize=256)
def _views_of(role_db: str, _inode: int, _mtime_ns: int, _size: int) -> frozenset[str]:
    with duckdb.connect(role_db, read_only=True, config=READ_CONFIG) as con:
        rows = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
    return frozenset(f"{s}.{t}".lower() for s, t in rows)


# ------------------------------------------------------------------------------------------ checks
def _denied_function(name: str) -> bool:
    n = name.lower()
    return n in DENIED_FUNCTIONS or n.startswith(DENIED_PREFIXES)


def _check_table_name(catalog: str, schema: str, table: str, ctes: set[str], allowed: set[str]) -> None:
    if catalog:
        raise Refused(f"database-qualified name {catalog}.{schema}.{table}: name views as schema.table only")
    if not schema and table.lower() in ctes:
        return
    if any(ch in table for ch in "/\\") or re.search(
        r"\.(csv|tsv|parquet|json|jsonl|ndjson|txt|xlsx|db|duckdb|gz)$", table, re.I
    ):
        raise Refused(f"reading a file ({table!r} in FROM) is not allowed: only the role's views can be read")
    name = f"{schema}.{table}".lower() if schema else table.lower()
    if name not in allowed:
        shown = ", ".join(sorted(allowed)) or "none"
        raise Refused(f"{name} is not one of this role's views (allowed: {shown})")


def _walk_duckdb(node, ctes: set[str], tables: list, functions: list, table_functions: list) -> None:
    if isinstance(node, dict):
        t = node.get("type")
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            for item in cte_map.get("map", []) or []:
                ctes.add(str(item.get("key", "")).lower())
        if t == "BASE_TABLE":
            tables.append((node.get("catalog_name") or "", node.get("schema_name") or "", node.get("table_name") or ""))
        elif t == "TABLE_FUNCTION":
            fn = node.get("function") or {}
            table_functions.append(fn.get("function_name") or "?")
        if node.get("class") == "FUNCTION" or t == "FUNCTION":
            functions.append(str(node.get("function_name") or ""))
        for v in node.values():
            _walk_duckdb(v, ctes, tables, functions, table_functions)
    elif isinstance(node, list):
        for v in node:
            _walk_duckdb(v, ctes, tables, functions, table_functions)


_parsers = threading.local()


def _parser() -> duckdb.DuckDBPyConnection:
    """This thread's in-memory DuckDB that only parses (no table, no file access; nothing a statement
    could change is ever run on it): kept, as a new connection costs ~20 ms per query."""
    con = getattr(_parsers, "con", None)
    if con is None:
        con = _parsers.con = duckdb.connect(config={"enable_external_access": False})
    return con


def _duckdb_statement(sql: str) -> dict:
    """DuckDB's own parse: exactly one SELECT; returns its syntax tree (json_serialize_sql)."""
    parser = _parser()
    try:
        statements = parser.extract_statements(sql)
    except duckdb.Error as e:
        raise Refused(f"syntax error: {str(e).splitlines()[0]}") from None
    if len(statements) == 0:
        raise Refused("empty statement")
    if len(statements) > 1:
        raise Refused(f"several statements in one ({len(statements)}): send one SELECT at a time")
    kind = statements[0].type.name
    if kind != "SELECT":
        raise Refused(f"only SELECT queries are allowed: this is {STATEMENT_KINDS.get(kind, kind)}")
    tree = json.loads(parser.execute("select json_serialize_sql(?::VARCHAR)", [sql]).fetchall()[0][0])
    if tree.get("error"):
        raise Refused(f"cannot be checked: {tree.get('error_message') or tree.get('error_type')}")
    return tree


def _sqlglot_statement(sql: str):
    """sqlglot's parse: exactly one statement whose root is SELECT / UNION / INTERSECT / EXCEPT."""
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except sqlglot.errors.SqlglotError as e:
        raise Refused(f"cannot be parsed safely: {str(e).splitlines()[0]}") from None
    if len(trees) != 1:
        raise Refused(f"several statements in one ({len(trees)}): send one SELECT at a time")
    tree = trees[0]
    if not isinstance(tree, _QUERY_ROOTS):
        raise Refused(f"only SELECT queries are allowed: this is {type(tree).__name__.upper()}")
    return tree


def _check_duckdb_tree(tree: dict, allowed: set[str]) -> None:
    ctes: set[str] = set()
    tables: list = []
    functions: list = []
    table_functions: list = []
    _walk_duckdb(tree, ctes, tables, functions, table_functions)
    if table_functions:
        raise Refused(f"table function {table_functions[0]}() is not allowed: only the role's views can be read")
    for name in functions:
        if _denied_function(name):
            raise Refused(f"function {name}() is not allowed (files, settings, environment or catalog)")
    for catalog, schema, table in tables:
        _check_table_name(catalog, schema, table, ctes, allowed)


def _check_sqlglot_tree(tree, allowed: set[str]) -> None:
    for node in tree.walk():
        if isinstance(node, exp.Command):
            raise Refused(f"command {node.name!r} inside the query is not allowed")
        if isinstance(node, exp.With) and node.args.get("recursive"):
            raise Refused("recursive queries (WITH RECURSIVE) are not allowed")
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            raise Refused("parameters are not supported: write the values into the query")
        if isinstance(node, exp.Func):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            if name and _denied_function(name):
                raise Refused(f"function {name.lower()}() is not allowed (files, settings, environment or catalog)")
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            fn = table.this
            name = (
                fn.name
                if isinstance(fn, exp.Anonymous)
                else (fn.sql_name() if isinstance(fn, exp.Func) else type(fn).__name__)
            )
            raise Refused(f"table function {str(name).lower()}() is not allowed: only the role's views can be read")
        _check_table_name(table.catalog, table.db, table.name, ctes, allowed)


def check_statement(sql: str, allowed: set[str]) -> None:
    """Raise Refused with the reason if `sql` is not one plain SELECT over `allowed` views.

    First what kind of statement it is, by both parsers; then what it reads, on both trees.
    """
    if sql is None or not sql.strip():
        raise Refused("empty statement")
    if len(sql) > MAX_STATEMENT_CHARS:
        raise Refused(f"statement longer than {MAX_STATEMENT_CHARS} characters")
    if "\x00" in sql:
        raise Refused("statement contains a NUL character")
    duck_tree = _duckdb_statement(sql)
    glot_tree = _sqlglot_statement(sql)
    _check_sqlglot_tree(glot_tree, allowed)
    _check_duckdb_tree(duck_tree, allowed)


# ------------------------------------------------------------------------------------------ run
def _execute(role_db: Path, sql: str, limit: int, timeout: float) -> tuple[list[str], list[tuple], bool]:
    con = duckdb.connect(str(role_db), read_only=True, config=READ_CONFIG)
    timer = threading.Timer(timeout, con.interrupt)
    timer.start()
    try:
        cur = con.execute(sql)
        columns = [d[0] for d in (cur.description or [])]
        rows = cur.fetchmany(limit + 1)
        return columns, rows[:limit], len(rows) > limit
    finally:
        timer.cancel()
        con.close()


def run_query(
    role: str,
    sql: str,
    *,
    db_path: str | Path,
    limit: int = DEFAULT_LIMIT,
    timeout: float = TIMEOUT_SECONDS,
    audit_path: Path | None = None,
    actor: str | None = None,
) -> QueryResult:
    """Check and run one statement for a role; every call is written to the audit log
    (with `actor`, the person behind the role, when the caller knows it: the street app's user)."""
    t0 = time.perf_counter()
    log = Path(audit_path) if audit_path else audit_log_path(db_path)
    result = QueryResult(role=role, statement=sql or "", allowed=False)
    outcome = "refused"
    try:
        limit = int(limit)
        if limit < 1 or limit > MAX_LIMIT:
            raise Refused(f"row limit must be between 1 and {MAX_LIMIT}")
        if not re.match(r"^[a-z][a-z0-9_]*$", role or ""):
            raise Refused(f"unknown role {role!r}")
        role_db = role_db_path(db_path, role)
        if not role_db.exists():
            raise Refused(f"unknown role {role!r}, or nothing published for it yet (run civichub run)")
        allowed = allowed_views(role_db)
        check_statement(sql, allowed)
        try:
            result.columns, result.rows, result.truncated = _execute(role_db, sql, limit, timeout)
        except duckdb.InterruptException:
            outcome, result.reason = "failed", f"stopped after {timeout:.0f} s (time limit)"
        except duckdb.Error as e:
            outcome, result.reason = "failed", f"query error: {str(e).splitlines()[0]}"
        else:
            outcome, result.allowed = "allowed", True
    except Refused as e:
        result.reason = str(e)
    result.seconds = time.perf_counter() - t0
    result.outcome = outcome
    record = audit.append(
        log,
        role=role,
        statement=result.statement,
        outcome=outcome,
        rows_returned=len(result.rows) if result.allowed else 0,
        reason=result.reason,
        seconds=result.seconds,
        actor=actor,
    )
    result.audit_seq = record["seq"]
    return result
