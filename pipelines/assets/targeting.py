"""Targeted aid and alerts as Dagster assets: the targeting facts (dbt, after the master tables), one
asset per scenario of targeting/scenarios.yml writing scenario.match, and the workbooks per committee.

The targeting dbt models read master.*, which Python writes after the main dbt build, so they are a
dbt step of their own (pipelines/assets/transform.py).
"""

import json
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    asset,
)

from pipelines.assets.streets import files_written_check, written_spec
from pipelines.partitions import deliveries
from pipelines.resources import HubResource
from targeting.config import load_scenarios
from targeting.engine import run_scenario
from targeting.worklists import default_out_dir, write_workbooks

FACTS = [AssetKey(["targeting", m]) for m in ("tgt_person_facts", "tgt_household_facts", "tgt_household_electricity")]


def scenario_asset(scenario):
    key = AssetKey(["targeting", scenario.name])

    @asset(
        key=key,
        name=None,
        deps=FACTS + [AssetKey(["master", "person"]), AssetKey(["master", "household"])],
        group_name="targeting",
        partitions_def=deliveries,
        kinds={"python", "duckdb"},
        metadata={"civichub/dataset": "scenario.match"},  # its rows go to scenario.match (catalogued there)
        description=f"{scenario.title} (owner: {scenario.owner}). {scenario.description}",
        check_specs=[
            AssetCheckSpec(
                "every_match_has_a_reason",
                asset=key,
                description="Every listed entity has a reason rendered from its template.",
            ),
            AssetCheckSpec(
                "every_match_is_a_master_entity",
                asset=key,
                description="Every listed person/household exists in the master data.",
            ),
            AssetCheckSpec(
                "every_match_has_a_committee",
                asset=key,
                description="Every listed entity is located in a street and committee (else it reaches no one).",
            ),
        ],
    )
    def _scenario(context: AssetExecutionContext, hub: HubResource):
        delivery = context.partition_key
        with hub.connect() as con:
            result = run_scenario(con, scenario, delivery)
            # counts only: the rows themselves are personal data
            context.log.info(
                f"scenario {scenario.name} {delivery}: {result.matches} rows, "
                f"{result.entities} {scenario.entity}(s), by reason {result.by_reason}"
            )
            yield MaterializeResult(
                metadata={
                    "rows": result.matches,
                    "entities": result.entities,
                    "new_since_last_delivery": result.new_since_last_delivery,
                    "by_reason": json.dumps(result.by_reason, ensure_ascii=False),
                }
            )
            no_reason = con.execute(
                "select count(*) from scenario.match where scenario = ? and delivery = ? and coalesce(reason, '') = ''",
                [scenario.name, delivery],
            ).fetchall()[0][0]
            yield AssetCheckResult(
                check_name="every_match_has_a_reason",
                passed=no_reason == 0,
                severity=AssetCheckSeverity.ERROR,
                metadata={"rows_without_reason": no_reason},
            )
            table = "person" if scenario.entity == "person" else "household"
            orphans = con.execute(
                f"""select count(*) from scenario.match m
                    where m.scenario = ? and m.delivery = ?
                      and m.entity_id not in (select {table}_id from master.{table})""",
                [scenario.name, delivery],
            ).fetchall()[0][0]
            yield AssetCheckResult(
                check_name="every_match_is_a_master_entity",
                passed=orphans == 0,
                severity=AssetCheckSeverity.ERROR,
                metadata={"unknown_entities": orphans},
            )
            yield AssetCheckResult(
                check_name="every_match_has_a_committee",
                passed=result.unlocated == 0,
                severity=AssetCheckSeverity.WARN,
                metadata={"rows_without_committee": result.unlocated},
            )

    return _scenario


SCENARIOS = load_scenarios()
scenario_assets = [scenario_asset(s) for s in SCENARIOS.scenarios]


COMMITTEE_WORKBOOKS = AssetKey(["targeting", "committee_workbooks"])


@asset(
    key=COMMITTEE_WORKBOOKS,
    check_specs=[written_spec(COMMITTEE_WORKBOOKS, "every_workbook_written", "committee's scenario workbook")],
    deps=[AssetKey(["targeting", s.name]) for s in SCENARIOS.scenarios],
    group_name="targeting",
    partitions_def=deliveries,
    kinds={"python", "excel"},
    description="The scenario lists of the delivery as one workbook per committee "
    "(<db folder>/out/scenarios/<delivery>/<street>/<committee>.xlsx), a sheet per scenario, "
    "each row with its reason and 跟进结果 / 跟进人 / 跟进日期 to fill in and return.",
)
def committee_workbooks(context: AssetExecutionContext, hub: HubResource):
    delivery = context.partition_key
    with hub.connect(read_only=False) as con:
        written = write_workbooks(con, SCENARIOS, delivery, default_out_dir(Path(hub.db_path)))
    context.log.info(f"scenario workbooks {delivery}: {written.files} file(s), {written.rows} row(s)")
    yield MaterializeResult(metadata={"files": written.files, "rows": written.rows, "folder": str(written.folder)})
    yield files_written_check("every_workbook_written", written)


# Data (scenario.match) and what is written from it for the committees: nothing in the job depends
# on the workbooks, so their failure does not hold back the catalog and publishing.
targeting_data_assets = [*scenario_assets]
targeting_report_assets = [committee_workbooks]
targeting_assets = [*targeting_data_assets, *targeting_report_assets]
