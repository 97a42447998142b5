"""Master data (一户一档): persons and households with stable ids, after dbt has clustered.

The ids span deliveries, so this step keeps state (matching/master_tables.py); dbt models before it
are pure transforms of one delivery. Checks here are the promises the master tables make.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    multi_asset,
)

from matching import master_tables
from matching import shop_master as shops
from matching.config import load_matching_config
from matching.stable_ids import is_valid_id
from pipelines.partitions import deliveries
from pipelines.resources import HubResource
from quality.corrections import apply_overrides

MASTER_TABLES = ["person", "household", "household_member", "person_xref", "household_xref", "id_history"]
# dbt models (asset key: schema, model)
UPSTREAM = [
    AssetKey(["matching", "int_person_clusters"]),
    AssetKey(["matching", "int_person_golden"]),
    AssetKey(["matching", "int_person_residence"]),
    AssetKey(["matching", "int_address_lookup"]),
    AssetKey(["staging", "stg_utility_electricity"]),
    AssetKey(["matching", "int_shop_records"]),
    AssetKey(["matching", "int_household_dwellings"]),
    AssetKey(["matching", "int_household_meters"]),
]
PERSON = AssetKey(["master", "person"])
HOUSEHOLD = AssetKey(["master", "household"])
PERSON_XREF = AssetKey(["master", "person_xref"])


@multi_asset(
    name="person_household_master",
    specs=[
        AssetSpec(AssetKey(["master", t]), deps=UPSTREAM, group_name="master", kinds={"python", "duckdb"})
        for t in MASTER_TABLES
    ],
    check_specs=[
        AssetCheckSpec(
            "one_valid_id_number_per_person",
            asset=PERSON,
            description="No person carries records with two different valid ID numbers.",
        ),
        AssetCheckSpec(
            "ids_carry_valid_check_character",
            asset=PERSON,
            description="Every person id is unique and its check character is right.",
        ),
        AssetCheckSpec(
            "every_household_has_address",
            asset=HOUSEHOLD,
            description="Every household has a room (or is a building with the room unknown, a finding for the street) and a standard address_id, or is marked as outside the address library (a finding for the library).",
        ),
        AssetCheckSpec(
            "every_person_record_resolved",
            asset=PERSON_XREF,
            description="Every person record of the delivery has exactly one person_id.",
        ),
    ],
    partitions_def=deliveries,
    description="Persons and households (dwellings) with stable ids, cross-references and id history.",
)
def person_household_master(context: AssetExecutionContext, hub: HubResource):
    delivery = context.partition_key
    with hub.connect() as con:
        summary = master_tables.build(con, delivery)
        # corrections the streets sent back hold over every rebuild (quality/corrections.py)
        overridden = apply_overrides(con, ["person", "household"])
        context.log.info(
            f"master {delivery}: {summary.persons} persons ({summary.new_person_ids} new ids, "
            f"{summary.merges} merges, {summary.splits} splits), {summary.households} households"
        )
        meta = {k: v for k, v in vars(summary).items() if k != "delivery"} | {"overrides_applied": overridden}
        for t in MASTER_TABLES:
            yield MaterializeResult(asset_key=AssetKey(["master", t]), metadata=meta if t == "person" else {})

        two_ids = con.execute(
            """
            select count(*) from (
                select x.person_id from master.person_xref x
                join matching.int_person_records r
                  on r.source_file = x.source_file and r.source_row = x.source_row and r.source = x.source
                where x.delivery = ? and r.has_valid_id
                group by x.person_id having count(distinct r.id_number) > 1)
            """,
            [delivery],
        ).fetchall()[0][0]
        yield AssetCheckResult(
            asset_key=PERSON,
            check_name="one_valid_id_number_per_person",
            passed=two_ids == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"persons_with_two_valid_ids": two_ids},
        )
        ids = [r[0] for r in con.execute("select person_id from master.person").fetchall()]
        bad = sum(1 for i in ids if not is_valid_id(i))
        duplicated = len(ids) - len(set(ids))
        yield AssetCheckResult(
            asset_key=PERSON,
            check_name="ids_carry_valid_check_character",
            passed=bad == 0 and duplicated == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"bad_ids": bad, "duplicated_ids": duplicated},
        )
        no_address, outside = con.execute(
            """select count(*) filter (where (room is null and dwelling_key not like '%#?%')
                                          or (address_id is null and in_address_library)),
                      count(*) filter (where not in_address_library)
               from master.household where in_latest_delivery"""
        ).fetchall()[0]
        yield AssetCheckResult(
            asset_key=HOUSEHOLD,
            check_name="every_household_has_address",
            passed=no_address == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"households_without_address": no_address, "households_outside_address_library": outside},
        )
        unresolved = con.execute(
            """
            select (select count(*) from matching.int_person_records)
                 - (select count(distinct (source_file, source_row)) from master.person_xref where delivery = ?)
            """,
            [delivery],
        ).fetchall()[0][0]
        yield AssetCheckResult(
            asset_key=PERSON_XREF,
            check_name="every_person_record_resolved",
            passed=unresolved == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"records_without_person": unresolved},
        )


SHOP = AssetKey(["master", "shop"])
SHOP_TABLES = ["shop", "shop_xref", "shop_inspection", "shop_code_map"]


@multi_asset(
    name="shop_master",
    specs=[
        AssetSpec(
            AssetKey(["master", t]),
            deps=[AssetKey(["matching", "int_shop_clusters"]), AssetKey(["matching", "int_shop_profile"])],
            group_name="master",
            kinds={"python", "duckdb"},
        )
        for t in SHOP_TABLES
    ],
    check_specs=[
        AssetCheckSpec(
            "shop_codes_unique_and_valid",
            asset=SHOP,
            description="No shop code assigned twice; every code's check character is right.",
        ),
        AssetCheckSpec(
            "licences_with_registered_uscc_resolve_to_its_shop",
            asset=SHOP,
            description="Every licence whose USCC is registered resolves to the registered entity's shop.",
        ),
    ],
    partitions_def=deliveries,
    description="Street shops (一店一码) with stable codes, QR codes and inspection history.",
)
def shop_master(context: AssetExecutionContext, hub: HubResource):
    delivery = context.partition_key
    cfg = load_matching_config()
    with hub.connect() as con:
        summary = shops.build(con, delivery, shops.default_qr_dir(hub.db_path), cfg.shop_page_base_url)
        overridden = apply_overrides(con, ["shop"])
        context.log.info(
            f"shops {delivery}: {summary.shops} shops, {summary.new_codes} new codes, {summary.qr_written} QR codes written"
        )
        meta = {k: v for k, v in vars(summary).items() if k != "delivery"} | {"overrides_applied": overridden}
        for t in SHOP_TABLES:
            yield MaterializeResult(asset_key=AssetKey(["master", t]), metadata=meta if t == "shop" else {})
        codes = [r[0] for r in con.execute("select shop_code from master.shop").fetchall()]
        bad = sum(1 for c in codes if not is_valid_id(c))
        dup = len(codes) - len(set(codes))
        yield AssetCheckResult(
            asset_key=SHOP,
            check_name="shop_codes_unique_and_valid",
            passed=bad == 0 and dup == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"bad_codes": bad, "duplicated_codes": dup},
        )
        stray = con.execute(
            """
            with reg as (
                select r.uscc, x.shop_code from matching.int_shop_records r
                join master.shop_xref x on x.source_file = r.source_file and x.source_row = r.source_row
                where r.source = 'market_business_registry' and x.delivery = $d
            )
            select count(*) from matching.int_shop_records r
            join reg on reg.uscc = r.uscc
            left join master.shop_xref x on x.source_file = r.source_file and x.source_row = r.source_row and x.delivery = $d
            where r.source = 'market_food_licence' and (x.shop_code is null or x.shop_code <> reg.shop_code)
            """,
            {"d": delivery},
        ).fetchall()[0][0]
        yield AssetCheckResult(
            asset_key=SHOP,
            check_name="licences_with_registered_uscc_resolve_to_its_shop",
            passed=stray == 0,
            severity=AssetCheckSeverity.ERROR,
            metadata={"licences_not_on_their_entity_shop": stray},
        )
