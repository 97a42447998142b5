"""Great Expectations suites for the raw registries, built from the source specifications.

GX Core 1.x is called directly: `dagster-ge` needs GX < 1.0 and GX cannot validate DuckDB through
SQLAlchemy (shared/domain.md), so a delivery's rows are read from DuckDB into pandas and validated
there. Only counts and rates leave this module: GX's partial unexpected-value lists would carry ID
numbers and phones, which must never reach logs or the Dagster UI.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import count

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from quality.frames import read_frame

# Raw text of an ID number: 15 or 18 characters, full-width digits and a lowercase x allowed.
RAW_ID_PATTERN = r"^\s*[0-9０-９]{15}([0-9０-９]{2}[0-9Xxｘ Ｘ０-９])?\s*$"
RAW_USCC_PATTERN = r"^\s*[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}\s*$"

# Share of rows that must pass before a suite fails: real exports always carry some noise, and the
# row-level problems become quality findings; the suite fails when a file is broadly wrong.
DEFAULT_MOSTLY = 0.9

_run_numbers = count()

ID_FIELDS = {"id_number", "head_id_number", "member_id_number"}
USCC_FIELDS = {"uscc"}


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    evaluated: int
    failed: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    rows: int | None = None  # rows of the delivery
    sampled: int | None = None  # rows validated, when a sample (GX_MAX_ROWS)

    def failed_descriptions(self) -> list[str]:
        return [
            f"{o.expectation}({o.column}): {o.unexpected_percent:.1f}% unexpected"
            if o.unexpected_percent is not None
            else f"{o.expectation}({o.column})"
            for o in self.outcomes
            if not o.success
        ]


def expectations_for_source(spec) -> list:
    """The expectations a source's delivery must meet, derived from its specification."""
    exps: list = []
    for fld in spec.columns:
        exps.append(gx.expectations.ExpectColumnToExist(column=fld))
    required = list(spec.required_any)
    for fld in required:
        exps.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=fld, mostly=DEFAULT_MOSTLY))
    for fld, allowed in spec.vocabularies.items():
        exps.append(
            gx.expectations.ExpectColumnValuesToBeInSet(column=fld, value_set=list(allowed), mostly=DEFAULT_MOSTLY)
        )
    for fld in spec.columns:
        if fld in ID_FIELDS:
            exps.append(
                gx.expectations.ExpectColumnValuesToMatchRegex(column=fld, regex=RAW_ID_PATTERN, mostly=DEFAULT_MOSTLY)
            )
        elif fld in USCC_FIELDS:
            exps.append(
                gx.expectations.ExpectColumnValuesToMatchRegex(
                    column=fld, regex=RAW_USCC_PATTERN, mostly=DEFAULT_MOSTLY
                )
            )
    exps.append(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1))
    return exps


@lru_cache(maxsize=1)
def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


def validate_dataframe(suite_name: str, expectations: list, df: pd.DataFrame) -> SuiteOutcome:
    """Run the expectations over a DataFrame and keep only counts (no values)."""
    ctx = _context()
    ds_name = f"pandas_{suite_name}"
    try:
        ds = ctx.data_sources.get(ds_name)
    except (KeyError, ValueError):
        ds = ctx.data_sources.add_pandas(ds_name)
    asset_name = f"{suite_name}_frame"
    try:
        asset = ds.get_asset(asset_name)
    except (LookupError, ValueError):
        asset = ds.add_dataframe_asset(asset_name)
    run_name = f"{suite_name}_{next(_run_numbers)}"
    batch_definition = asset.add_batch_definition_whole_dataframe(run_name)

    suite = gx.ExpectationSuite(name=run_name)
    for exp in expectations:
        suite.add_expectation(exp.copy() if hasattr(exp, "copy") else exp)
    suite = ctx.suites.add(suite)
    validation = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"validate_{suite.name}", data=batch_definition, suite=suite)
    )
    result = validation.run(batch_parameters={"dataframe": df}, result_format="SUMMARY")
    outcomes = []
    for res in result.results:
        cfg = res.expectation_config
        r = res.result or {}
        outcomes.append(
            ExpectationOutcome(
                expectation=cfg.type,
                column=cfg.kwargs.get("column"),
                success=bool(res.success),
                element_count=r.get("element_count"),
                unexpected_count=r.get("unexpected_count"),
                unexpected_percent=r.get("unexpected_percent"),
            )
        )
    # Tidy up so a long-lived process (dagster dev) does not accumulate suites.
    ctx.validation_definitions.delete(validation.name)
    ctx.suites.delete(suite.name)
    asset.delete_batch_definition(run_name)
    stats = result.statistics
    return SuiteOutcome(
        suite=suite_name,
        success=bool(result.success),
        evaluated=int(stats["evaluated_expectations"]),
        failed=int(stats["unsuccessful_expectations"]),
        outcomes=outcomes,
    )


# Above this many rows, a delivery's suite runs on a reproducible random sample of this size: the
# expectations are shares of rows ("mostly"), which half a million rows estimate to a fraction of a
# percent, and every row's problems are quality findings anyway. Loading five million meter
# readings into pandas for GX cost more time and memory than the rest of their stage.
GX_MAX_ROWS = 500_000


def validate_source_delivery(con, spec, delivery: str) -> SuiteOutcome:
    """Validate one delivery of one source as ingested into raw.<source> (sampled above GX_MAX_ROWS)."""
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    rows = con.execute(f'select count(*) from raw."{spec.name}" where delivery = ?', [delivery]).fetchall()[0][0]
    sql = f'select {cols} from raw."{spec.name}" where delivery = ?'
    if rows > GX_MAX_ROWS:
        sql = f"select * from ({sql}) using sample reservoir({GX_MAX_ROWS} rows) repeatable (42)"
    df = read_frame(con, sql, [delivery])
    outcome = validate_dataframe(spec.name, expectations_for_source(spec), df)
    outcome.rows, outcome.sampled = rows, (len(df) if rows > GX_MAX_ROWS else None)
    return outcome
