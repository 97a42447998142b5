"""Write the shop master data of one delivery (一店一码): stable shop codes, the shop file, QR codes.

The code is carried across deliveries like a person id (matching/stable_ids.py): a shop keeps its
code while its records (registration, licence, visits, meter) continue; a closed shop keeps its code
with its status, and a successor at the same premises gets a new one.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import segno

from matching import stable_ids
from matching.master_tables import replace_table
from pipelines.settings import output_dir

SHOP_PREFIX = "M"  # 店 → merchant; the code alphabet has no S
RECENT_VISIT_DAYS = 92  # "seen operating": a visit in the last three months not saying 已停业

DDL = """
create schema if not exists master;
create table if not exists master.shop (
    shop_code varchar, name varchar, registered_name varchar, uscc varchar, entity_type varchar,
    address_id varchar, unit varchar, full_address varchar, street_code varchar, community_code varchar,
    status varchar, registration_status varchar, licence_no varchar, licence_valid_until date,
    visit_count integer, last_visit_date date, last_inspection_result varchar, electricity_accounts varchar,
    flag_licence_expired_operating boolean, flag_deregistered_operating boolean,
    flag_unregistered_operating boolean, page_url varchar,
    in_latest_delivery boolean, first_seen varchar, last_seen varchar
);
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
create table if not exists master.shop_cluster_keys (delivery varchar, soft_key varchar, shop_code varchar);
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


def page_url(base_url: str, code: str) -> str:
    return base_url.rstrip("/") + "/" + code


def write_qr(code: str, url: str, folder: Path) -> bool:
    """PNG and SVG encoding the shop page URL; written once per code (the code never changes)."""

    png, svg = folder / f"{code}.png", folder / f"{code}.svg"
    if png.exists() and svg.exists():
        return False
    qr = segno.make(url, error="m")
    qr.save(str(png), scale=6, border=4)
    qr.save(str(svg), scale=6, border=4, title=code)
    return True


def build(con: duckdb.DuckDBPyConnection, delivery: str, qr_dir: Path, base_url: str) -> ShopSummary:
    con.execute(DDL)
    con.execute("begin transaction")
    try:
        summary, codes = _build(con, delivery, base_url)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    qr_dir.mkdir(parents=True, exist_ok=True)
    written = sum(write_qr(code, page_url(base_url, code), qr_dir) for code in codes)
    summary.qr_written = written
    return summary


def _build(con, delivery: str, base_url: str) -> tuple[ShopSummary, list[str]]:
    now = _dt.datetime.now()
    for table in ("shop_xref", "shop_inspection"):
        con.execute(f"delete from master.{table} where delivery = ?", [delivery])
    con.execute("delete from master.id_history where delivery = ? and entity_type = 'shop'", [delivery])

    clusters = con.execute(
        """
        select c.cluster_key,
               md5(concat_ws('|', r.source, coalesce(r.uscc, ''), coalesce(r.name, ''), coalesce(r.premises_key, ''),
                             coalesce(r.person_name, ''), coalesce(r.event_date::varchar, ''), coalesce(r.account_no, '')))
                   as fingerprint,
               case when c.cluster_key like 'uscc:%' then c.cluster_key end as hard_key,
               case when c.cluster_key not like 'uscc:%' then c.cluster_key end as soft_key
        from matching.int_shop_clusters c join matching.int_shop_records r using (record_key)
        where c.is_street_shop
        """
    ).df()
    previous = con.execute("select max(delivery) from master.shop_xref where delivery < ?", [delivery]).fetchall()[0][0]
    prev_fp = (
        con.execute(
            "select fingerprint, shop_code as entity_id from master.shop_xref where delivery = ?", [previous]
        ).df()
        if previous
        else pd.DataFrame(columns=["fingerprint", "entity_id"])
    )
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
            "select distinct soft_key, shop_code as entity_id from master.shop_cluster_keys"
        ).df(),
    )
    con.execute("insert or replace into master.id_sequence values ('shop', ?)", [assignment.next_seq])
    for old, new, kind in assignment.history:
        con.execute("insert into master.id_history values (?, ?, 'shop', ?, ?, ?)", [old, new, kind, delivery, now])
    codes = pd.DataFrame(list(assignment.cluster_ids.items()), columns=["cluster_key", "shop_code"])
    con.register("shop_codes_df", codes)
    con.execute("create or replace temp table shop_codes as select * from shop_codes_df")
    con.unregister("shop_codes_df")

    con.execute("delete from master.shop_cluster_keys where delivery = ?", [delivery])
    con.execute(
        "insert into master.shop_cluster_keys select ?, cluster_key, shop_code from shop_codes where cluster_key not like 'uscc:%'",
        [delivery],
    )
    con.execute(
        """
        insert into master.shop_xref
        select r.delivery, r.source, r.source_file, r.source_row, s.shop_code, c.match_rule, c.match_score,
               md5(concat_ws('|', r.source, coalesce(r.uscc, ''), coalesce(r.name, ''), coalesce(r.premises_key, ''),
                             coalesce(r.person_name, ''), coalesce(r.event_date::varchar, ''), coalesce(r.account_no, '')))
        from matching.int_shop_records r
        join matching.int_shop_clusters c using (record_key)
        join shop_codes s using (cluster_key)
        """
    )
    con.execute(
        """
        insert into master.shop_inspection
        select r.delivery, s.shop_code, r.event_date, r.sign_name, r.inspection_result, v.visitor, r.source_file, r.source_row
        from matching.int_shop_records r
        join matching.int_shop_clusters c using (record_key)
        join shop_codes s using (cluster_key)
        join staging.stg_street_shop_visits v on v.source_file = r.source_file and v.source_row = r.source_row
        where r.source = 'street_shop_visits'
        """
    )
    as_of = _month_end(delivery)
    con.execute(
        """
        create or replace temp table shop_now as
        with recs as (
            select r.*, s.shop_code
            from matching.int_shop_records r
            join matching.int_shop_clusters c using (record_key)
            join shop_codes s using (cluster_key)
        ),
        premises as (
            select shop_code, arg_max(address_id, address_id is not null) as address_id,
                   arg_max(unit, address_id is not null) as unit
            from recs group by shop_code
        ),
        registry as (
            select shop_code, arg_max(registered_name, event_date) as registered_name, arg_max(uscc, event_date) as uscc,
                   arg_max(entity_type, event_date) as entity_type, arg_max(registration_status, event_date) as registration_status
            from recs where source = 'market_business_registry' group by shop_code
        ),
        licence as (
            select shop_code, arg_max(licence_no, licence_valid_until) as licence_no, max(licence_valid_until) as licence_valid_until,
                   arg_max(uscc, licence_valid_until) as uscc, arg_max(registered_name, licence_valid_until) as operator_name
            from recs where source = 'market_food_licence' group by shop_code
        ),
        visits as (
            select shop_code, count(*) as visit_count, max(event_date) as last_visit_date,
                   arg_max(inspection_result, event_date) as last_inspection_result,
                   arg_max(sign_name, event_date) as sign_name,
                   bool_or(event_date > $as_of - interval ($recent) day and event_date <= $as_of
                           and coalesce(inspection_result, '') <> '已停业') as seen_operating,
                   arg_max(inspection_result, event_date) = '已停业' as last_visit_closed
            from recs where source = 'street_shop_visits' group by shop_code
        ),
        meters as (
            select shop_code, string_agg(distinct account_no, ',' order by account_no) as accounts
            from recs where source = 'utility_electricity' group by shop_code
        )
        select
            c.shop_code,
            coalesce(v.sign_name, r.registered_name, l.operator_name) as name,
            coalesce(r.registered_name, l.operator_name) as registered_name,
            coalesce(r.uscc, l.uscc) as uscc,
            r.entity_type,
            p.address_id, p.unit,
            a.full_address || coalesce(p.unit, '') as full_address,
            a.street_code, a.community_code,
            case
                when coalesce(v.seen_operating, false) then '营业'
                when v.last_visit_closed or r.registration_status in ('注销', '吊销') then '已关闭'
                else '未知'
            end as status,
            r.registration_status, l.licence_no, l.licence_valid_until,
            coalesce(v.visit_count, 0), v.last_visit_date, v.last_inspection_result, m.accounts,
            coalesce(v.seen_operating and l.licence_valid_until < $as_of, false) as flag_licence_expired_operating,
            coalesce(v.seen_operating and r.registration_status in ('注销', '吊销'), false) as flag_deregistered_operating,
            coalesce(v.seen_operating and r.shop_code is null and l.shop_code is null, false) as flag_unregistered_operating
        from (select distinct shop_code from shop_codes) c
        left join premises p using (shop_code)
        left join registry r using (shop_code)
        left join licence l using (shop_code)
        left join visits v using (shop_code)
        left join meters m using (shop_code)
        left join staging.stg_standard_addresses a on a.address_id = p.address_id
        """,
        {"as_of": as_of, "recent": RECENT_VISIT_DAYS},
    )
    merged_away = [old for old, _new, kind in assignment.history if kind == "merge"]
    replace_table(
        con,
        "master.shop",
        """
        select n.*, $base || n.shop_code as page_url, true, coalesce(p.first_seen, $delivery), $delivery
        from shop_now n left join master.shop p using (shop_code)
        union all
        select p.* replace (false as in_latest_delivery)
        from master.shop p
        where p.shop_code not in (select shop_code from shop_now)
          and p.shop_code not in (select unnest($merged::varchar[]))
        """,
        {"base": base_url.rstrip("/") + "/", "delivery": delivery, "merged": merged_away},
    )
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


def _month_end(delivery: str) -> _dt.date:
    year, month = (int(x) for x in delivery.split("-"))
    first_next = _dt.date(year + (month == 12), month % 12 + 1, 1)
    return first_next - _dt.timedelta(days=1)


def default_qr_dir(db_path: str | Path) -> Path:
    return output_dir(db_path) / "qr"
