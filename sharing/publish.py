"""Publishing: per role, a DuckDB file and Parquet files holding exactly what the role may see.

    <db dir>/out/published/<role>/<role>.duckdb      tables schema.table, opened read-only by consumers
    <db dir>/out/published/<role>/<schema>.<table>.parquet
    <db dir>/out/published/<role>/manifest.json      datasets, rows, and how each field is shown

For each dataset the role receives (sharing/roles.py: granted, or 无条件共享):
- rows: all, or for a street office only those its street_scope (catalog) places in its street;
- fields: L1/L2 as they are; L3/L4 in clear only if the role's grant lists them under `unmasked`,
  otherwise masked (sharing/masking.py) or left out (`hide`);
- a field without a grade stops publishing (the catalog check names it); 不予共享 data is never read.
Each role's folder is built beside the old one and swapped in, so consumers never see half a file;
folders of roles that no longer exist are removed (a street that loses its role loses its data).
`about.fields` in each file says, for the role, how every field it receives is shown.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from catalog.spec import DISTRICT, NOT_SHARED, Catalog
from pipelines.settings import output_dir
from pipelines.sql import quote_identifier
from sharing.masking import mask_sql
from sharing.roles import Role


class PublishError(ValueError):
    pass


@dataclass
class PublishedDataset:
    dataset: str
    rows: int
    fields: list[dict]  # {field, type, grade, shown: clear|masked:<mask>}
    hidden: list[str]


@dataclass
class RoleOutcome:
    role: str
    datasets: list[PublishedDataset] = field(default_factory=list)
    not_built: list[str] = field(default_factory=list)  # granted but absent from the hub database


@dataclass
class PublishReport:
    out_dir: Path
    roles: dict[str, RoleOutcome]
    removed: list[str]
    seconds: float

    def roles_by_dataset(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for rid, o in sorted(self.roles.items()):
            for d in o.datasets:
                out.setdefault(d.dataset, []).append(rid)
        return out


def _columns(con, dataset: str) -> list[tuple[str, str]]:
    schema, table = dataset.split(".", 1)
    return con.execute(
        """select column_name, data_type from information_schema.columns
           where table_catalog = current_database() and table_schema = ? and table_name = ?
           order by ordinal_position""",
        [schema, table],
    ).fetchall()


def projection(catalog: Catalog, role: Role, dataset: str, columns: list[tuple[str, str]]):
    """(select list, field notes, hidden fields) for one role and dataset."""
    unmasked = role.unmasked(dataset)
    known = {c for c, _ in columns}
    unknown = sorted(unmasked - known)
    if unknown:
        raise PublishError(
            f"role {role.id}: grant {dataset} unmasks {', '.join(unknown)}, "
            f"which {dataset} does not have (fields: {', '.join(sorted(known))})"
        )
    select, notes, hidden = [], [], []
    for column, dtype in columns:
        g = catalog.grade_of(dataset, column)
        if g is None:
            raise PublishError(f"{dataset}.{column} has no grade in the catalog: nothing of {dataset} is published")
        if not g.sensitive or column in unmasked:
            select.append(f"t.{quote_identifier(column)} AS {quote_identifier(column)}")
            notes.append({"field": column, "type": dtype, "grade": g.grade, "shown": "clear"})
            continue
        expr = mask_sql(g.mask, column)
        if expr is None:
            hidden.append(column)
            continue
        select.append(f"{expr} AS {quote_identifier(column)}")
        notes.append({"field": column, "type": dtype, "grade": g.grade, "shown": f"masked:{g.mask}"})
    return select, notes, hidden


def _row_filter(catalog: Catalog, role: Role, dataset: str) -> tuple[str, list]:
    if role.scope != "street":
        return "", []
    scope = catalog.entries[dataset].street_scope
    if not scope:
        raise PublishError(f"role {role.id} sees its street only, but {dataset} has no street_scope")
    if scope == DISTRICT:
        return "", []
    return f" WHERE ({scope}) = ?", [role.street_code]


def publish_role(con, catalog: Catalog, role: Role, out_root: Path) -> RoleOutcome:
    """Build one role's folder beside the old one, then swap it in."""
    outcome = RoleOutcome(role.id)
    final = out_root / role.id
    tmp = out_root / f".{role.id}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    db_file = tmp / f"{role.id}.duckdb"
    alias = "pub_" + role.id
    present = {
        f"{s}.{t}"
        for s, t in con.execute(
            "select table_schema, table_name from information_schema.tables where table_catalog = current_database()"
        ).fetchall()
    }
    con.execute(f"ATTACH {_sql_str(str(db_file))} AS {quote_identifier(alias)}")
    try:
        notes_rows = []
        for dataset in role.datasets(catalog):
            entry = catalog.entries[dataset]
            if entry.sharing_class == NOT_SHARED:  # roles.py refuses such grants; never read it anyway
                raise PublishError(f"{dataset} is 不予共享 and cannot be published to {role.id}")
            if dataset not in present:
                outcome.not_built.append(dataset)
                continue
            columns = _columns(con, dataset)
            select, notes, hidden = projection(catalog, role, dataset, columns)
            where, params = _row_filter(catalog, role, dataset)
            schema, table = dataset.split(".", 1)
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(alias)}.{quote_identifier(schema)}")
            con.execute(
                f"CREATE TABLE {quote_identifier(alias)}.{quote_identifier(schema)}.{quote_identifier(table)} AS "
                f"SELECT {', '.join(select)} FROM {quote_identifier(schema)}.{quote_identifier(table)} AS t{where}",
                params,
            )
            rows = con.execute(
                f"SELECT count(*) FROM {quote_identifier(alias)}.{quote_identifier(schema)}.{quote_identifier(table)}"
            ).fetchall()[0][0]
            parquet = tmp / f"{schema}.{table}.parquet"
            con.execute(
                f"COPY {quote_identifier(alias)}.{quote_identifier(schema)}.{quote_identifier(table)} TO {_sql_str(str(parquet))} (FORMAT parquet)"
            )
            outcome.datasets.append(PublishedDataset(dataset, rows, notes, hidden))
            notes_rows += [(dataset, n["field"], n["type"], n["grade"], n["shown"]) for n in notes]
            notes_rows += [(dataset, h, None, catalog.grade_of(dataset, h).grade, "hidden") for h in hidden]
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(alias)}.about")
        con.execute(
            f"CREATE TABLE {quote_identifier(alias)}.about.fields (dataset VARCHAR, field VARCHAR, type VARCHAR, "
            "grade VARCHAR, shown VARCHAR)"
        )
        if notes_rows:
            con.executemany(f"INSERT INTO {quote_identifier(alias)}.about.fields VALUES (?, ?, ?, ?, ?)", notes_rows)
    finally:
        con.execute(f"DETACH {quote_identifier(alias)}")
    manifest = {
        "role": role.id,
        "name": role.name,
        "department": role.department,
        "purpose": role.purpose,
        "scope": role.scope,
        "street_code": role.street_code,
        "built_at": _dt.datetime.now().isoformat(timespec="seconds"),
        "datasets": [
            {"dataset": d.dataset, "rows": d.rows, "fields": d.fields, "hidden": d.hidden} for d in outcome.datasets
        ],
        "not_built": outcome.not_built,
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    old = out_root / f".{role.id}.old"
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old)
    return outcome


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def publish_all(con, catalog: Catalog, roles: dict[str, Role], out_root: Path) -> PublishReport:
    """Publish every role; remove folders of roles that are no longer configured."""
    t0 = time.perf_counter()
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    outcomes = {rid: publish_role(con, catalog, role, out_root) for rid, role in sorted(roles.items())}
    removed = []
    for child in out_root.iterdir():
        if child.is_dir() and child.name not in roles:
            shutil.rmtree(child)
            if not child.name.startswith("."):
                removed.append(child.name)
    return PublishReport(out_root, outcomes, removed, time.perf_counter() - t0)


def default_out_root(db_path: str | Path) -> Path:
    return output_dir(db_path) / "published"
