"""Catalog and publishing, after everything else in the job.

- `catalog/data_catalog`: discovers every dataset (DuckDB, dbt manifest, Dagster asset graph), writes
  the static HTML catalog to <db dir>/out/catalog/, and checks coverage: a dataset without an entry or
  a field without a grade fails the blocking check `every_dataset_and_field_catalogued`, which names
  each gap and stops publishing.
- `sharing/published_views`: per role, a read-only DuckDB file and Parquet files under
  <db dir>/out/published/<role>/ (sharing/publish.py), with checks that nothing 不予共享 was published
  and that street offices received their street only.

Both are built by `build_sharing_assets(upstream)` so that they depend on every other asset of the
definitions, including ones added later.
"""

from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)

from catalog.discover import coverage_gaps, default_manifest_path, discover
from catalog.html import build_site
from catalog.spec import load_catalog
from pipelines.partitions import deliveries
from pipelines.resources import HubResource
from pipelines.settings import output_dir
from sharing import audit
from sharing.gateway import audit_log_path
from sharing.publish import default_out_root, publish_all
from sharing.roles import load_roles, streets_from
from sharing.verify import verify_published

CATALOG_KEY = AssetKey(["catalog", "data_catalog"])
PUBLISHED_KEY = AssetKey(["sharing", "published_views"])


def _asset_keys(assets_defs) -> list[AssetKey]:
    keys: list[AssetKey] = []
    for a in assets_defs:
        keys.extend(getattr(a, "keys", []) or [])
    return keys


def catalog_outputs(db_path: str | Path) -> Path:
    return output_dir(db_path) / "catalog"


def build_catalog(con, db_path, asset_graph=None, manifest_path=None):
    """Load the catalog, discover what the hub holds, write the HTML; (catalog, found, gaps, index)."""
    catalog = load_catalog()
    found = discover(con, manifest_path or default_manifest_path(), asset_graph, catalog)
    gaps = coverage_gaps(catalog, found)
    roles = load_roles(catalog).expand(streets_from(con))
    present = set(found.columns)
    by_dataset: dict[str, list[str]] = {}
    for rid, role in sorted(roles.items()):
        for d in role.datasets(catalog):
            if d in present:
                by_dataset.setdefault(d, []).append(rid)
    index = build_site(catalog, found, catalog_outputs(db_path), gaps, by_dataset)
    return catalog, found, gaps, index


def build_sharing_assets(upstream_assets) -> list:
    upstream = _asset_keys(upstream_assets)

    @asset(
        key=CATALOG_KEY,
        deps=upstream,
        group_name="sharing",
        kinds={"python", "html"},
        partitions_def=deliveries,
        check_specs=[
            AssetCheckSpec(
                "every_dataset_and_field_catalogued",
                asset=CATALOG_KEY,
                blocking=True,
                description="Every dataset in DuckDB, the dbt manifest and the Dagster graph has a catalog entry, "
                "and every field a sensitivity grade. Blocks publishing when it fails.",
            )
        ],
        description="政务信息资源目录: entries from catalog/entries/*.yml, field types from DuckDB, lineage from dbt "
        "and Dagster; static HTML under <db dir>/out/catalog/.",
    )
    def data_catalog(context: AssetExecutionContext, hub: HubResource):
        # the asset graph of the job this run belongs to (every asset of the definitions: the job
        # selects them all; an in-process run has no repository on its context)
        with hub.connect(read_only=True) as con:
            catalog, found, gaps, index = build_catalog(con, hub.db_path, context.job_def.asset_layer.asset_graph)
        for g in gaps:
            context.log.error(f"catalog gap: {g}")
        yield MaterializeResult(
            asset_key=CATALOG_KEY,
            metadata={
                "entries": len(catalog.entries),
                "datasets_found": len(found.found_in),
                "gaps": len(gaps),
                "index": MetadataValue.path(str(index)),
            },
        )
        yield AssetCheckResult(
            asset_key=CATALOG_KEY,
            check_name="every_dataset_and_field_catalogued",
            passed=not gaps,
            severity=AssetCheckSeverity.ERROR,
            description=(
                "; ".join(str(g) for g in gaps[:20]) + (f" … and {len(gaps) - 20} more" if len(gaps) > 20 else "")
            )
            if gaps
            else "every dataset has an entry and every field a grade",
            metadata={"gaps": MetadataValue.md("\n".join(f"- {g}" for g in gaps) or "none")},
        )

    @asset(
        key=PUBLISHED_KEY,
        deps=[CATALOG_KEY],
        group_name="sharing",
        kinds={"duckdb", "parquet"},
        partitions_def=deliveries,
        check_specs=[
            AssetCheckSpec(
                "nothing_unshareable_published",
                asset=PUBLISHED_KEY,
                description="No role's files hold a 不予共享 dataset or a dataset without a catalog entry.",
            ),
            AssetCheckSpec(
                "street_offices_see_their_street_only",
                asset=PUBLISHED_KEY,
                description="Every published row with a street_code in a street office's files is of its street.",
            ),
        ],
        description="Per role (sharing/roles.yml): a read-only DuckDB file and Parquet files with exactly what the "
        "role may see, under <db dir>/out/published/<role>/.",
    )
    def published_views(context: AssetExecutionContext, hub: HubResource):
        catalog = load_catalog()
        with hub.connect() as con:
            roles = load_roles(catalog).expand(streets_from(con))
            report = publish_all(con, catalog, roles, default_out_root(hub.db_path))
        context.log.info(f"published {len(report.roles)} roles in {report.seconds:.1f}s to {report.out_dir}")
        head = audit.head(audit_log_path(hub.db_path))
        yield MaterializeResult(
            asset_key=PUBLISHED_KEY,
            metadata={
                "roles": len(report.roles),
                "seconds": round(report.seconds, 1),
                "removed_roles": ", ".join(report.removed) or "none",
                "datasets_per_role": MetadataValue.md(
                    "\n".join(
                        f"- {rid}: " + ", ".join(f"{d.dataset} ({d.rows})" for d in o.datasets)
                        for rid, o in report.roles.items()
                    )
                ),
                "out_dir": MetadataValue.path(str(report.out_dir)),
                # anchors the audit log: a later truncation before this point is detectable
                "audit_log_records": head[0],
                "audit_log_head_hash": head[1],
            },
        )
        problems = verify_published(report.out_dir, catalog, roles)
        yield AssetCheckResult(
            asset_key=PUBLISHED_KEY,
            check_name="nothing_unshareable_published",
            passed=not problems["unshareable"],
            severity=AssetCheckSeverity.ERROR,
            metadata={"problems": MetadataValue.md("\n".join(problems["unshareable"]) or "none")},
        )
        yield AssetCheckResult(
            asset_key=PUBLISHED_KEY,
            check_name="street_offices_see_their_street_only",
            passed=not problems["out_of_street"],
            severity=AssetCheckSeverity.ERROR,
            metadata={"problems": MetadataValue.md("\n".join(problems["out_of_street"]) or "none")},
        )

    return [data_catalog, published_views]
