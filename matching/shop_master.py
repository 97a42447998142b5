"""Write the shop master data of one delivery (一店一码): stable shop codes, the shop file, QR codes.

The code is carried across deliveries like a person id (matching/stable_ids.py): a shop keeps its
code while its records (registration, licence, visits, meter) continue; a closed shop keeps its code
with its status, and a successor at the same premises gets a new one.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from matching import qr_codes, stable_ids
from matching.master_tables import carry_forward, previous_fingerprints
from pipelines.settings import output_dir
from quality import cells
from quality.writing import run_many

SHOP_PREFIX = "M"  # 店 → merchant; the code alphabet has no S

DDL = """
create schema if not exists master;
create table if not exists master.shop (
    shop_code varchar, name varchar, registered_name varchar, uscc varchar, entity_type varchar,
    address_id varchar, unit varchar, full_address varchar, street_code varchar, community_code varchar,
    status varchar, registration_status varchar, licence_no varchar, licence_valid_until date,
    visit_count integer, last_visit_date date, last_inspection_result varchar, electricity_accounts varchar,
    operating_evidence varchar, open_since date, page_url varchar,
    in_latest_delivery boolean, first_seen varchar, last_seen varchar
);
-- the shop file before the activity model: its guesses at problems are findings now (qc_shop_operating)
alter table master.shop drop column if exists flag_licence_expired_operating;
alter table master.shop drop column if exists flag_deregistered_operating;
alter table master.shop drop column if exists flag_unregistered_operating;
alter table master.shop add column if not exists operating_evidence varchar;
alter table master.shop add column if not exists open_since date;
create table if not exists master.shop_xref (
    delivery varchar, source varchar, source_file varchar, source_row integer, shop_code varchar,
    match_rule varchar, match_score double, fingerprint varchar
);
create table if not exists master.shop_inspection (
    delivery varchar, shop_code varchar, visited_on date, sign_name varchar, inspection_result varchar,
    visitor varchar, source_file varchar, source_row integer
);
create table if not exists master.id_history (
    old_id varchar, new_id varchar, entity_type varchar, kind varchar, delivery varchar, recorded_at timestamp
);
create table if not exists master.id_sequence (entity_type varchar primary key, next_seq bigint);
-- the code each shop (cluster) of each delivery received
create table if not exists master.shop_code_map (delivery varchar, cluster_key varchar, shop_code varchar);
"""

# before shop_code_map, the soft keys alone were kept
_MIGRATE_CLUSTER_KEYS = """
insert into master.shop_code_map select delivery, soft_key, shop_code from master.shop_cluster_keys;
drop table master.shop_cluster_keys;
"""


@dataclass
class ShopSummary:
    delivery: str
    shops: int
    new_codes: int
    merges: int
    splits: int
    qr_written: int
    shop_xref_rows: int


_FILE_SAFE_CODE = re.compile(r"[0-9A-Za-z_-]{1,64}")


def page_url(base_url: str, code: str) -> str:
    return base_url.rstrip("/") + "/" + cells.text(code)


def write_qr(code: str, url: str, folder: Path) -> bool:
    """PNG and SVG encoding the shop page URL; written once per code (the code never changes).

    A code that cannot name a file (missing, empty, with a path separator) or a missing URL writes
    nothing and answers False: one bad value never stops the shop master."""
    code, url = cells.text(code).strip(), cells.text(url).strip()
    if not code or not url or not _FILE_SAFE_CODE.fullmatch(code):
        return False
    png, svg = folder / f"{code}.png", folder / f"{code}.svg"
    if png.exists() and svg.exists():
        return False
    qr = qr_codes.make(url, error="m")  # segno.make with its mask choice on arrays: the same code
    qr_codes.write_png(qr, png, scale=6, border=4)  # what qr.save(png, …) writes, its scanlines packed by numpy
    qr.save(str(svg), scale=6, border=4, title=code)
    return True


def build(con: duckdb.DuckDBPyConnection, delivery: str, qr_dir: Path, base_url: str) -> ShopSummary:
    con.execute(DDL)
    if con.execute(
        "select count(*) from information_schema.tables where table_schema = 'master' and table_name = 'shop_cluster_keys'"
    ).fetchall()[0][0]:
        con.execute(_MIGRATE_CLUSTER_KEYS)
    con.execute("begin transaction")
    try:
        summary, codes = _build(con, delivery, base_url)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    qr_dir.mkdir(parents=True, exist_ok=True)
    # new codes only (a code's QR never changes); many at once are drawn on every core
    todo = [(c, page_url(base_url, c), qr_dir) for c in codes if not (qr_dir / f"{cells.text(c)}.svg").exists()]
    written = sum(run_many(write_qr, todo))
    summary.qr_written = written
    return summary


def _build(con, delivery: str, base_url: str) -> tuple[ShopSummary, list[str]]:
    now = _dt.datetime.now()
    for table in ("shop_xref", "shop_inspection"):
        con.execute(f"delete from master.{table} where delivery = ?", [delivery])
    con.execute("delete from master.id_history where delivery = ? and entity_type = 'shop'", [delivery])

    # a record's fingerprint: what it says, so the same record next month votes for the same code
    con.execute(
        """
        create or replace temp table shop_records as
        select r.*, c.cluster_key, c.match_rule, c.match_score, c.is_street_shop,
               md5(concat_ws('|', r.source, coalesce(r.uscc, ''), coalesce(r.name, ''), coalesce(r.premises_key, ''),
                             coalesce(r.person_name, ''), coalesce(r.event_date::varchar, ''), coalesce(r.account_no, '')))
                   as fingerprint
        from matching.int_shop_records r join matching.int_shop_clusters c using (record_key)
        """
    )
    clusters = con.execute(
        """
        select cluster_key, fingerprint,
               case when cluster_key like 'uscc:%' then cluster_key end as hard_key,
               case when cluster_key not like 'uscc:%' then cluster_key end as soft_key
        from shop_records where is_street_shop
        """
    ).df()
    previous, prev_fp = previous_fingerprints(con, "shop_xref", "shop_code", delivery)
    prev_hard = con.execute(
        "select 'uscc:' || uscc as hard_key, shop_code as entity_id from master.shop where uscc is not null"
    ).df()
    row = con.execute("select next_seq from master.id_sequence where entity_type = 'shop'").fetchall()
    assignment = stable_ids.assign(
        clusters[["cluster_key", "fingerprint", "hard_key"]],
        prev_fp,
        prev_hard,
        SHOP_PREFIX,
        row[0][0] if row else 1,
        # an unregistered shop has no credit code: its premises and sign are what persist
        soft_keys=clusters[["cluster_key", "soft_key"]].dropna(),
        previous_soft_keys=con.execute(
            """select distinct cluster_key as soft_key, shop_code as entity_id from master.shop_code_map
               where cluster_key not like 'uscc:%'"""
        ).df(),
    )
    con.execute("insert or replace into master.id_sequence values ('shop', ?)", [assignment.next_seq])
    for old, new, kind in assignment.history:
        con.execute("insert into master.id_history values (?, ?, 'shop', ?, ?, ?)", [old, new, kind, delivery, now])
    codes = pd.DataFrame(list(assignment.cluster_ids.items()), columns=["cluster_key", "shop_code"])
    con.register("shop_codes_df", codes)
    con.execute("create or replace temp table shop_codes as select * from shop_codes_df")
    con.unregister("shop_codes_df")

    con.execute("delete from master.shop_code_map where delivery = ?", [delivery])
    con.execute(
        "insert into master.shop_code_map by name select ? as delivery, cluster_key, shop_code from shop_codes",
        [delivery],
    )
    con.execute(
        """
        insert into master.shop_xref by name
        select r.delivery, r.source, r.source_file, r.source_row, s.shop_code, r.match_rule, r.match_score, r.fingerprint
        from shop_records r join shop_codes s using (cluster_key)
        """
    )
    con.execute(
        """
        insert into master.shop_inspection by name
        select r.delivery, s.shop_code, r.event_date as visited_on, r.sign_name, r.inspection_result, v.visitor,
               r.source_file, r.source_row
        from shop_records r
        join shop_codes s using (cluster_key)
        join staging.stg_street_shop_visits v on v.source_file = r.source_file and v.source_row = r.source_row
        where r.source in ('street_shop_visits', 'street_shop_visits_app')
        """
    )
    con.execute(
        """
        create or replace temp table shop_now as
        select s.shop_code, p.* exclude (cluster_key), $base || s.shop_code as page_url
        from shop_codes s join matching.int_shop_profile p using (cluster_key)
        """,
        {"base": base_url.rstrip("/") + "/"},
    )
    merged_away = [old for old, _new, kind in assignment.history if kind == "merge"]
    carry_forward(con, "master.shop", "shop_code", "shop_now", delivery, merged_away)
    n_shops, n_xref = con.execute(
        "select (select count(*) from shop_now), (select count(*) from master.shop_xref where delivery = ?)", [delivery]
    ).fetchall()[0]
    summary = ShopSummary(
        delivery=delivery,
        shops=n_shops,
        new_codes=assignment.new_ids,
        merges=sum(1 for h in assignment.history if h[2] == "merge"),
        splits=sum(1 for h in assignment.history if h[2] == "split"),
        qr_written=0,
        shop_xref_rows=n_xref,
    )
    return summary, sorted(codes["shop_code"].unique())


def default_qr_dir(db_path: str | Path) -> Path:
    return output_dir(db_path) / "qr"
