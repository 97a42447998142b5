"""What the hub actually holds, read from where it is defined rather than written twice.

- DuckDB (information_schema): every table and its columns with their types;
- the dbt manifest: every model and source (schema.alias), and lineage from `parent_map`;
- Dagster: every asset key, and lineage from the asset graph's parent keys.

`discover()` merges the three; `coverage_gaps()` compares them with the catalog: a dataset found
anywhere without a catalog entry, or a column without a grade, is a gap that fails the build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from catalog.spec import Catalog
from pipelines.settings import get_settings

SYSTEM_SCHEMAS = ("information_schema", "pg_catalog")


@dataclass
class Discovered:
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # dataset -> [(column, type)]
    row_counts: dict[str, int] = field(default_factory=dict)
    found_in: dict[str, set[str]] = field(default_factory=dict)  # dataset -> {'duckdb', 'dbt', 'dagster'}
    upstream: dict[str, set[str]] = field(default_factory=dict)  # dataset -> datasets it is built from
    asset_keys: dict[str, str] = field(default_factory=dict)  # dataset -> Dagster asset key
    dbt_ids: dict[str, str] = field(default_factory=dict)  # dataset -> dbt unique_id

    def add(self, dataset: str, where: str) -> None:
        self.found_in.setdefault(dataset, set()).add(where)

    def downstream(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for d, ups in self.upstream.items():
            for u in ups:
                out.setdefault(u, set()).add(d)
        return out


def duckdb_tables(con, counts: bool = True) -> tuple[dict[str, list[tuple[str, str]]], dict[str, int]]:
    """Every user table and view of the database with its columns and DuckDB types."""
    rows = con.execute(
        """select c.table_schema, c.table_name, c.column_name, c.data_type
           from information_schema.columns c
           join information_schema.tables t using (table_catalog, table_schema, table_name)
           where c.table_catalog = current_database() and c.table_schema not in ('information_schema', 'pg_catalog')
           order by c.table_schema, c.table_name, c.ordinal_position"""
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, dtype in rows:
        columns.setdefault(f"{schema}.{table}", []).append((column, dtype))
    n: dict[str, int] = {}
    if counts:
        for dataset in columns:
            schema, table = dataset.split(".", 1)
            n[dataset] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchall()[0][0]
    return columns, n


def dbt_datasets(manifest_path: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """dbt models, seeds, snapshots and sources as schema.table, and each one's parents.

    An ephemeral model is a CTE of the models that use it, not a dataset: its parents are theirs."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    by_id: dict[str, str] = {}
    ephemeral: set[str] = set()
    for uid, node in manifest.get("nodes", {}).items():
        if node.get("resource_type") in ("model", "seed", "snapshot"):
            if (node.get("config") or {}).get("materialized") == "ephemeral":
                ephemeral.add(uid)
            else:
                by_id[uid] = f"{node['schema']}.{node.get('alias') or node['name']}"
    for uid, src in manifest.get("sources", {}).items():
        by_id[uid] = f"{src['schema']}.{src.get('identifier') or src['name']}"
    parent_map = manifest.get("parent_map", {})

    def datasets_above(uid: str) -> set[str]:
        if uid in ephemeral:
            return {d for u in parent_map.get(uid, ()) for d in datasets_above(u)}
        return {by_id[uid]} if uid in by_id else set()

    parents: dict[str, set[str]] = {}
    for uid, ups in parent_map.items():
        if uid in by_id:
            parents[by_id[uid]] = {d for u in ups for d in datasets_above(u)}
    ids = {d: uid for uid, d in by_id.items()}
    return ids, parents


def dataset_of_asset_key(key: str, catalog: Catalog | None) -> str:
    """`raw/police_population` -> `raw.police_population`; a key an entry claims -> that entry."""
    if catalog is not None:
        claimed = catalog.by_asset_key()
        if key in claimed:
            return claimed[key].dataset
    parts = key.split("/")
    return ".".join(parts) if len(parts) == 2 else key


DATASET_METADATA = "civichub/dataset"


def _dataset_of_node(key, asset_graph, catalog: Catalog | None) -> str:
    """An asset that writes its rows into a shared table says so in its metadata
    (`civichub/dataset: scenario.match`, e.g. every scenario); otherwise its key names it."""
    declared = (asset_graph.get(key).metadata or {}).get(DATASET_METADATA)
    value = getattr(declared, "value", declared)
    return str(value) if value else dataset_of_asset_key(key.to_user_string(), catalog)


def dagster_datasets(asset_graph, catalog: Catalog | None) -> tuple[dict[str, str], dict[str, set[str]]]:
    keys: dict[str, str] = {}
    parents: dict[str, set[str]] = {}
    for key in sorted(asset_graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        dataset = _dataset_of_node(key, asset_graph, catalog)
        keys.setdefault(dataset, key.to_user_string())
        parents.setdefault(dataset, set()).update(
            _dataset_of_node(p, asset_graph, catalog) for p in asset_graph.get(key).parent_keys
        )
    return keys, parents


def default_manifest_path() -> Path:
    """The dbt manifest of the project (written by `dbt parse` when the definitions are built)."""
    return get_settings().dbt_manifest_path


def discover(
    con=None, manifest_path: Path | None = None, asset_graph=None, catalog: Catalog | None = None, counts: bool = True
) -> Discovered:
    d = Discovered()
    if con is not None:
        d.columns, d.row_counts = duckdb_tables(con, counts=counts)
        for dataset in d.columns:
            d.add(dataset, "duckdb")
    if manifest_path is not None and Path(manifest_path).exists():
        ids, parents = dbt_datasets(manifest_path)
        d.dbt_ids = ids
        for dataset in ids:
            d.add(dataset, "dbt")
        for dataset, ups in parents.items():
            d.upstream.setdefault(dataset, set()).update(ups)
    if asset_graph is not None:
        keys, parents = dagster_datasets(asset_graph, catalog)
        d.asset_keys = keys
        for dataset in keys:
            d.add(dataset, "dagster")
        for dataset, ups in parents.items():
            d.upstream.setdefault(dataset, set()).update(ups)
    if catalog is not None:
        for e in catalog.entries.values():
            if e.derived_from:
                d.upstream.setdefault(e.dataset, set()).update(e.derived_from)
    return d


@dataclass(frozen=True)
class Gap:
    dataset: str
    field: str | None
    found_in: tuple[str, ...]
    problem: str

    def __str__(self) -> str:
        where = ", ".join(self.found_in)
        return f"{self.dataset}{'.' + self.field if self.field else ''} ({where}): {self.problem}"


def coverage_gaps(catalog: Catalog, found: Discovered) -> list[Gap]:
    """Every dataset without an entry and every field without a grade, each named."""
    gaps: list[Gap] = []
    for dataset in sorted(found.found_in):
        where = tuple(sorted(found.found_in[dataset]))
        if dataset not in catalog.entries:
            schema = dataset.split(".", 1)[0] if "." in dataset else "?"
            gaps.append(
                Gap(
                    dataset,
                    None,
                    where,
                    f"no catalog entry: add one to catalog/entries/ (e.g. {schema}.yml) with code, name, "
                    "provider, abstract, sharing_class, sharing_method, open_attribute, update_cycle",
                )
            )
    for dataset, cols in sorted(found.columns.items()):
        for column, _type in cols:
            if catalog.grade_of(dataset, column) is None:
                gaps.append(
                    Gap(
                        dataset,
                        column,
                        ("duckdb",),
                        "field without a grade: add the element to catalog/data_elements.yml "
                        "or a `fields:` override to the dataset's entry",
                    )
                )
    for entry in catalog.entries.values():
        if entry.dataset in found.columns:
            continue
        for column in entry.declared_fields:
            if catalog.grade_of(entry.dataset, column) is None:
                gaps.append(Gap(entry.dataset, column, ("catalog",), "declared field without a grade"))
    return gaps
