"""Great Expectations suites for the master tables (person, household, shop), with Data Docs.

Like the source suites (quality/gx_suites.py) these validate pandas frames read from DuckDB (GX
cannot validate DuckDB through SQLAlchemy). Unlike them, results are kept: a file-backed GX context
in `<out>/gx/` and a Data Docs site in `<out>/data_docs/` (out = CIVICHUB_OUT or `<db dir>/out`),
rebuilt on every run. Data Docs show sample values of failing rows, so the frames carry no
personal data in clear: ID numbers are masked (first 6 + last 4), their check is a boolean computed
here, and names and phones are left out.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import great_expectations as gx
import pandas as pd
import pyarrow as pa
from great_expectations.data_context.types.base import ProgressBarsConfig

from normalize.duckdb_udfs import id_numbers_check_ok
from normalize.vocabularies import vocabulary
from pipelines.settings import output_dir
from quality.frames import read_frame
from sharing.masking import mask_id_numbers

SITE = "civichub_master"
CODE12 = r"^\d{12}$"


def data_docs_dir(db_path: str | Path) -> Path:
    return output_dir(db_path) / "data_docs"


def data_docs_index(db_path: str | Path) -> Path:
    return data_docs_dir(db_path) / "index.html"


def person_frame(con) -> pd.DataFrame:
    df = read_frame(
        con,
        """select person_id, id_number, id_number_valid, sex, birth_date, household_id, status
           from master.person where in_latest_delivery""",
    )
    ids = pa.array(df["id_number"], from_pandas=True)  # chunked when pandas holds it in chunks (1M rows)
    ids = (ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids).cast(pa.string())
    # id_check_ok(v) and mask_id_number(v) of each number, None where missing, on the whole column at
    # once: the same values as a call per row (1M persons: ~4 s)
    df["id_number_check_ok"] = id_numbers_check_ok(ids).to_pylist()
    df["id_number_masked"] = mask_id_numbers(ids).to_pylist()
    df["birth_year"] = pd.to_datetime(df["birth_date"]).dt.year
    return df.drop(columns=["id_number", "birth_date"])


def household_frame(con) -> pd.DataFrame:
    return read_frame(
        con,
        """select household_id, address_id, room, street_code, community_code, member_count, in_address_library
           from master.household where in_latest_delivery""",
    )


def shop_frame(con) -> pd.DataFrame:
    return read_frame(
        con,
        """select shop_code, uscc, address_id, street_code, community_code, status, registration_status,
                  licence_valid_until, visit_count
           from master.shop where in_latest_delivery""",
    )


def expectations(table: str) -> list:
    E = gx.expectations
    this_year = _dt.date.today().year
    if table == "person":
        return [
            E.ExpectColumnValuesToNotBeNull(column="person_id"),
            E.ExpectColumnValuesToBeUnique(column="person_id"),
            E.ExpectColumnValuesToMatchRegex(column="person_id", regex=r"^P[0-9A-Z]{9}$"),
            # the shape of an ID number survives masking: 6 digits, 8 hidden, 3 digits and a check
            E.ExpectColumnValuesToMatchRegex(column="id_number_masked", regex=r"^\d{6}\*{8}\d{3}[\dX]$"),
            E.ExpectColumnValuesToBeInSet(column="id_number_check_ok", value_set=[True], mostly=0.98),
            E.ExpectColumnValuesToBeInSet(column="sex", value_set=list(vocabulary("sex"))),
            E.ExpectColumnValuesToBeInSet(column="status", value_set=list(vocabulary("person_status"))),
            E.ExpectColumnValuesToBeBetween(column="birth_year", min_value=1880, max_value=this_year),
            E.ExpectColumnValuesToNotBeNull(column="household_id", mostly=0.9),
        ]
    if table == "household":
        return [
            E.ExpectColumnValuesToNotBeNull(column="household_id"),
            E.ExpectColumnValuesToBeUnique(column="household_id"),
            E.ExpectColumnValuesToMatchRegex(column="household_id", regex=r"^H[0-9A-Z]{9}$"),
            E.ExpectColumnValuesToNotBeNull(column="room"),
            E.ExpectColumnValuesToMatchRegex(column="street_code", regex=CODE12),
            E.ExpectColumnValuesToMatchRegex(column="community_code", regex=CODE12),
            # dwellings outside the standard address library have no committee: a few at most
            E.ExpectColumnValuesToNotBeNull(column="community_code", mostly=0.95),
            E.ExpectColumnValuesToBeBetween(column="member_count", min_value=0, max_value=30),
        ]
    if table == "shop":
        return [
            E.ExpectColumnValuesToNotBeNull(column="shop_code"),
            E.ExpectColumnValuesToBeUnique(column="shop_code"),
            E.ExpectColumnValuesToMatchRegex(column="shop_code", regex=r"^M[0-9A-Z]{9}$"),
            E.ExpectColumnValuesToMatchRegex(column="uscc", regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$"),
            E.ExpectColumnValuesToBeInSet(column="status", value_set=list(vocabulary("shop_status"))),
            E.ExpectColumnValuesToBeInSet(
                column="registration_status", value_set=list(vocabulary("registration_status"))
            ),
            E.ExpectColumnValuesToMatchRegex(column="street_code", regex=CODE12),
            E.ExpectColumnValuesToNotBeNull(column="community_code", mostly=0.95),
        ]
    raise KeyError(table)


FRAMES = {"person": person_frame, "household": household_frame, "shop": shop_frame}


@dataclass
class MasterSuiteOutcome:
    table: str
    success: bool
    rows: int
    evaluated: int
    failed: list[str]  # "expectation(column): n unexpected" — counts only


def _context(db_path: str | Path):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    root = output_dir(db_path)
    root.mkdir(parents=True, exist_ok=True)
    ctx = gx.get_context(mode="file", project_root_dir=str(root))
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs = str(data_docs_dir(db_path).resolve())
    sites = ctx.list_data_docs_sites() if hasattr(ctx, "list_data_docs_sites") else {}
    if SITE not in sites:
        ctx.add_data_docs_site(
            site_name=SITE,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs},
            },
        )
    return ctx


def validate_master_tables(
    con, db_path: str | Path, delivery: str, tables: tuple[str, ...] = ("person", "household", "shop")
) -> dict[str, MasterSuiteOutcome]:
    """Validate each master table's latest state, keep the results and rebuild the Data Docs."""
    ctx = _context(db_path)
    outcomes: dict[str, MasterSuiteOutcome] = {}
    for table in tables:
        if not con.execute(
            "select count(*) from information_schema.tables where table_schema = 'master' and table_name = ?", [table]
        ).fetchall()[0][0]:
            continue
        df = FRAMES[table](con)
        name = f"master_{table}"
        try:
            ds = ctx.data_sources.get(name)
        except (KeyError, ValueError):
            ds = ctx.data_sources.add_pandas(name)
        try:
            asset = ds.get_asset(table)
        except (LookupError, ValueError):
            asset = ds.add_dataframe_asset(table)
        try:
            batch = asset.get_batch_definition("whole_table")
        except (KeyError, ValueError, LookupError):
            batch = asset.add_batch_definition_whole_dataframe("whole_table")
        suite = gx.ExpectationSuite(name=name, expectations=expectations(table))
        suite = ctx.suites.add_or_update(suite)
        validation = ctx.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=f"validate_{name}", data=batch, suite=suite)
        )
        checkpoint = ctx.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"checkpoint_{name}",
                validation_definitions=[validation],
                # no UpdateDataDocsAction: the site is built once, after the last table (below),
                # instead of once per table and again at the end
                actions=[],
                result_format="SUMMARY",
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": df}, run_id=None)
        vr = next(iter(result.run_results.values()))
        failed = []
        for res in vr.results:
            if not res.success:
                cfg = res.expectation_config
                n = (res.result or {}).get("unexpected_count")
                failed.append(f"{cfg.type}({cfg.kwargs.get('column')}): {n} unexpected")
        outcomes[table] = MasterSuiteOutcome(
            table=table,
            success=bool(vr.success),
            rows=len(df),
            evaluated=int(vr.statistics["evaluated_expectations"]),
            failed=failed,
        )
    ctx.build_data_docs(site_names=[SITE])
    return outcomes
