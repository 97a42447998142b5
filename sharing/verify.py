"""Check published files after the fact, from the files themselves (Dagster asset checks).

- every table in a role's DuckDB file and every Parquet file is a catalogued, shareable dataset
  (or the role's own `about.fields`);
- in a street office's files, every row that carries a street_code is of that street (datasets the
  catalog marks `street_scope: district`, such as the list of divisions, are shown whole by design).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from catalog.spec import DISTRICT, NOT_SHARED, Catalog
from sharing.publish import PUBLISH_THREADS
from sharing.roles import Role

OWN_TABLES = {"about.fields"}


def published_tables(con) -> list[str]:
    """The tables of a role's file, opened as `con`."""
    return [
        f"{s}.{t}"
        for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
    ]


def verify_published(out_root: Path, catalog: Catalog, roles: dict[str, Role]) -> dict[str, list[str]]:
    """Problems of every role's files, by kind, in the order of the roles (read several at once)."""
    problems: dict[str, list[str]] = {"unshareable": [], "out_of_street": []}
    items = sorted(roles.items())
    with ThreadPoolExecutor(max_workers=PUBLISH_THREADS) as pool:
        for found in pool.map(lambda item: _role_problems(Path(out_root), catalog, *item), items):
            for kind, lines in found.items():
                problems[kind].extend(lines)
    return problems


def _role_problems(out_root: Path, catalog: Catalog, rid: str, role: Role) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {"unshareable": [], "out_of_street": []}
    folder = out_root / rid
    role_db = folder / f"{rid}.duckdb"
    if not role_db.exists():
        problems["unshareable"].append(f"{rid}: no published file")
        return problems
    with duckdb.connect(str(role_db), read_only=True) as con:  # opened once (~15 ms of CPU an opening)
        names = published_tables(con) + [p.stem for p in folder.glob("*.parquet")]
        for name in sorted(set(names)):
            if name in OWN_TABLES:
                continue
            entry = catalog.entries.get(name)
            if entry is None:
                problems["unshareable"].append(f"{rid}: {name} has no catalog entry")
            elif entry.sharing_class == NOT_SHARED:
                problems["unshareable"].append(f"{rid}: {name} is 不予共享")
        if role.scope != "street":
            return problems
        for s, t in con.execute(
            """select table_schema, table_name from information_schema.columns
               where column_name = 'street_code' and table_catalog = current_database()"""
        ).fetchall():
            entry = catalog.entries.get(f"{s}.{t}")
            if entry is not None and entry.street_scope == DISTRICT:
                continue  # not tied to a street (e.g. the list of divisions): shown whole by design
            n = con.execute(
                f'select count(*) from "{s}"."{t}" where street_code is distinct from ?', [role.street_code]
            ).fetchall()[0][0]
            if n:
                problems["out_of_street"].append(f"{rid}: {s}.{t} has {n} row(s) of another street")
    return problems
