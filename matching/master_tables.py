"""Write the person and household master data of one delivery (一户一档), with stable ids.

dbt builds this delivery's clusters, golden records and residences (schema `matching`); this module
keeps the state that spans deliveries: which id each person and dwelling has, the cross-references
of every source row, and the history of merges and splits. All writes of a delivery happen in one
transaction, and building the same delivery again replaces its rows (idempotent).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from matching import stable_ids

DDL = """
create schema if not exists master;
create table if not exists master.person (
    person_id varchar, id_number varchar, id_number_valid boolean, name varchar, sex varchar,
    birth_date date, phone varchar, household_id varchar, status varchar,
    name_source varchar, sex_source varchar, birth_date_source varchar, phone_source varchar,
    sources varchar, record_count integer, aid_certificate_no varchar, on_elderly_alone_list boolean,
    is_graduate boolean, in_latest_delivery boolean, first_seen varchar, last_seen varchar
);
create table if not exists master.household (
    household_id varchar, dwelling_key varchar, address_id varchar, room varchar,
    full_address varchar, street_code varchar, community_code varchar, member_count integer,
    aid_certificate_no varchar, has_elderly_alone boolean, electricity_accounts varchar,
    in_address_library boolean, in_latest_delivery boolean, first_seen varchar, last_seen varchar
);
create table if not exists master.household_member (
    delivery varchar, household_id varchar, person_id varchar, name varchar, relation_to_head varchar,
    status varchar
);
create table if not exists master.person_xref (
    delivery varchar, source varchar, source_file varchar, source_row integer, person_id varchar,
    match_rule varchar, match_score double, matched_record varchar, fingerprint varchar
);
create table if not exists master.household_xref (
    delivery varchar, source varchar, source_file varchar, source_row integer, household_id varchar,
    match_rule varchar, match_score double
);
create table if not exists master.id_history (
    old_id varchar, new_id varchar, entity_type varchar, kind varchar, delivery varchar, recorded_at timestamp
);
create table if not exists master.id_sequence (entity_type varchar primary key, next_seq bigint);
"""


@dataclass
class MasterSummary:
    delivery: str
    persons: int
    new_person_ids: int
    merges: int
    splits: int
    households: int
    new_household_ids: int
    person_xref_rows: int
    household_xref_rows: int


def _next_seq(con, entity_type: str) -> int:
    row = con.execute("select next_seq from master.id_sequence where entity_type = ?", [entity_type]).fetchall()
    return row[0][0] if row else 1


def _save_seq(con, entity_type: str, value: int) -> None:
    con.execute("insert or replace into master.id_sequence values (?, ?)", [entity_type, value])


def carry_forward(con, table: str, key: str, now: str, delivery: str, merged_away: list[str]) -> None:
    """Replace a master table by its next state, column by column name.

    `now` holds this delivery's entities with the table's columns except in_latest_delivery,
    first_seen and last_seen: they are in the latest delivery, seen now, first seen when they were
    first seen. Entities not in this delivery stay as they were, no longer latest; ids merged away
    (`merged_away`, written to master.id_history) leave the table. Rebuilt whole: DuckDB's upsert is
    slow on large tables."""
    con.execute(
        f"""
        create or replace temp table _next as
        select n.*, true as in_latest_delivery, coalesce(p.first_seen, $delivery) as first_seen, $delivery as last_seen
        from {now} n left join {table} p using ({key})
        union all by name
        select p.* replace (false as in_latest_delivery)
        from {table} p
        where p.{key} not in (select {key} from {now})
          and p.{key} not in (select unnest($merged::varchar[]))
        """,
        {"delivery": delivery, "merged": merged_away},
    )
    con.execute(f"delete from {table}")
    con.execute(f"insert into {table} by name select * from _next")
    con.execute("drop table _next")


def previous_fingerprints(
    con, xref: str, id_column: str, delivery: str, arrow: bool = False
) -> tuple[str | None, pd.DataFrame | pa.Table]:
    """The delivery before `delivery` in master.<xref> (person_xref, shop_xref) and its records'
    fingerprint → id (entity_id): what each record of this delivery votes with for its stable id
    (a DataFrame, or an Arrow table with `arrow`)."""
    row = con.execute(f"select max(delivery) from master.{xref} where delivery < ?", [delivery]).fetchall()
    previous = row[0][0] if row and row[0][0] else None
    if previous is None:
        if arrow:
            return None, pa.table({"fingerprint": pa.array([], pa.string()), "entity_id": pa.array([], pa.string())})
        return None, pd.DataFrame(columns=["fingerprint", "entity_id"])
    sql = f"select fingerprint, {id_column} as entity_id from master.{xref} where delivery = ?"
    if arrow:
        return previous, con.sql(sql, params=[previous]).to_arrow_table()
    return previous, con.execute(sql, [previous]).df()


def _previous_meters(con, previous: str) -> None:
    """The previous delivery's electricity accounts, each with the household it was placed in, that
    household's dwelling and whether the hub's evidence placed it (temp table before_meters): one scan
    for the id_history rules below."""
    con.execute(
        """
        create or replace temp table before_meters as
        select distinct u.account_no, x.household_id as old_id, h.dwelling_key as old_key,
               x.match_rule like 'meter_evidence:%' as by_evidence
        from master.household_xref x
        join staging.stg_utility_electricity u
          on u.source_file = x.source_file and u.source_row = x.source_row and u.delivery = $previous
        left join master.household h on h.household_id = x.household_id
        where x.delivery = $previous and x.source = 'utility_electricity'
        """,
        {"previous": previous},
    )


def _record_rooms_found(con, previous: str, delivery: str, now: _dt.datetime) -> None:
    """A household kept at building level last delivery (室号不详) whose people or meter are now
    placed in a room of that building was that dwelling all along: id_history records a merge into
    it (a split when its people went to several rooms), so that its old id can be followed."""
    con.execute(
        """
        insert into master.id_history
        with before_people as (
            select m.person_id, m.household_id as old_id, h.dwelling_key as old_key
            from master.household_member m join master.household h using (household_id)
            where m.delivery = $previous and h.dwelling_key like '%#?%'
        ),
        building_meters as (
            select distinct account_no, old_id, old_key from before_meters where old_key like '%#?%'
        ),
        moved as (
            select b.old_id, b.old_key, p.household_id as new_id, m.dwelling_key as new_key
            from before_people b
            join person_household p using (person_id)
            join household_map m on m.household_id = p.household_id
            union
            select b.old_id, b.old_key, hm.household_id, md.dwelling_key
            from building_meters b
            join matching.int_household_meters md using (account_no)
            join household_map hm on hm.dwelling_key = md.dwelling_key
        ),
        found as (
            select distinct old_id, new_id, count(distinct new_id) over (partition by old_id) as targets
            from moved
            where new_key not like '%#?%' and split_part(new_key, '#', 1) = split_part(old_key, '#', 1)
        )
        select old_id, new_id, 'household', case when targets = 1 then 'merge' else 'split' end, $delivery, $now
        from found
        order by old_id, new_id
        """,
        {"previous": previous, "delivery": delivery, "now": now},
    )


def _record_meters_placed(con, previous: str, delivery: str, now: _dt.datetime) -> None:
    """A meter whose 用电地址 named the building only last delivery, placed by the hub's evidence (its
    holder's flat, int_household_meters) in a household that goes on, and whose 用电地址 now names
    another room of that building: its readings were that flat's all along (a landlord's name on a
    tenant's meter). id_history records a split from the household it was placed in to the one it
    names, so that the records can be followed; the old household keeps its id and its people."""
    con.execute(
        """
        insert into master.id_history
        with placed_meters as (
            select distinct account_no, old_id, split_part(old_key, '#', 1) as old_building
            from before_meters where by_evidence and old_key is not null
        ),
        meters_now as (
            select distinct md.account_no, hm.household_id as new_id, md.dwelling_key
            from matching.int_household_meters md join household_map hm using (dwelling_key)
            where md.match_rule like 'supply_address:%'
        )
        select distinct b.old_id, n.new_id, 'household', 'split', $delivery, $now
        from placed_meters b join meters_now n using (account_no)
        where n.new_id <> b.old_id and split_part(n.dwelling_key, '#', 1) = b.old_building
          and b.old_id in (select household_id from person_household)
          and (b.old_id, n.new_id) not in (
              select (old_id, new_id) from master.id_history where delivery = $delivery and entity_type = 'household'
          )
        order by 1, 2
        """,
        {"delivery": delivery, "now": now},
    )


def _record_moves(con, previous: str, delivery: str, now: _dt.datetime) -> None:
    """Household ids are dwellings', so a household whose people moved, or whose records were placed
    in another room this delivery, goes on under another id. id_history records where it went, so
    that the old id can be followed: a household whose people of last delivery all live in one other
    household now, none left behind, has moved there ('move'; the flat keeps its id and its meter);
    a household with no record at all this delivery merged into the household its people and meters
    went to ('merge', or 'split' when they went to several)."""
    con.execute(
        """
        insert into master.id_history
        with before_people as (
            select m.person_id, m.household_id as old_id
            from master.household_member m
            where m.delivery = $previous
        ),
        people_now as (
            select b.old_id, p.household_id as new_id
            from before_people b join person_household p using (person_id)
        ),
        meters_now as (
            select distinct b.old_id, hm.household_id as new_id
            from before_meters b
            join matching.int_household_meters md using (account_no)
            join household_map hm on hm.dwelling_key = md.dwelling_key
        ),
        present as (
            select household_id from person_household
            union
            select hm.household_id from matching.int_household_meters md join household_map hm using (dwelling_key)
        ),
        moved as (
            select old_id, any_value(new_id) as new_id, 'move' as kind
            from people_now
            where old_id in (select household_id from present)
              and old_id not in (select household_id from person_household)
            group by old_id
            having count(distinct new_id) = 1
        ),
        vanished as (
            select old_id, new_id,
                   case when count(*) over (partition by old_id) = 1 then 'merge' else 'split' end as kind
            from (
                select distinct old_id, new_id from (
                    select * from people_now union all select * from meters_now
                )
                where old_id not in (select household_id from present)
            )
        )
        select old_id, new_id, 'household', kind, $delivery, $now
        from (select * from moved union all select * from vanished)
        where old_id <> new_id
          and (old_id, new_id) not in (
              select (old_id, new_id) from master.id_history where delivery = $delivery and entity_type = 'household'
          )
        order by old_id, new_id
        """,
        {"previous": previous, "delivery": delivery, "now": now},
    )


def person_soft_keys(con, relation: str, key: str, arrow: bool = False, as_key: str | None = None):
    """Weak evidence that keeps the id of a person whose every record changed since last month (no
    fingerprint, no valid ID number in common), as a person not otherwise claimed: the same name and
    birth date, the same (unchecked) ID number, or the same name and phone (an export without the ID
    number whose birth date was typed a day off). `relation` has name, birth_date, id_number, phone.
    Columns `key` (or `as_key`) and soft_key, as a DataFrame or (`arrow`) an Arrow table."""
    sql = f"""
        select {key}, name || '|' || birth_date as soft_key from {relation}
        where name is not null and birth_date is not null
        union all
        select {key}, 'id|' || id_number from {relation} where id_number is not null
        union all
        select {key}, 'tel|' || name || '|' || phone from {relation} where name is not null and phone is not null
        """
    if as_key is not None:
        sql = f"select {key} as {as_key}, soft_key from ({sql})"
    return con.sql(sql).to_arrow_table() if arrow else con.execute(sql).df()


def build(con: duckdb.DuckDBPyConnection, delivery: str) -> MasterSummary:
    con.execute(DDL)
    con.execute("begin transaction")
    try:
        summary = _build(con, delivery)
        con.execute("commit")
        return summary
    except Exception:
        con.execute("rollback")
        raise


def _build(con, delivery: str) -> MasterSummary:
    now = _dt.datetime.now()
    # Rebuilding a delivery replaces what it wrote before.
    for table in ("person_xref", "household_xref", "household_member", "id_history"):
        con.execute(f"delete from master.{table} where delivery = ?", [delivery])

    # --- persons -------------------------------------------------------------------------------
    # the votes' frames as Arrow tables (no pandas conversion either way: stable_ids.Frame)
    clusters = con.sql(
        """
        select c.cluster_key, r.fingerprint, case when r.has_valid_id then r.id_number end as hard_key
        from matching.int_person_clusters c join matching.int_person_records r using (record_key)
        """
    ).to_arrow_table()
    previous, prev_fp = previous_fingerprints(con, "person_xref", "person_id", delivery, arrow=True)
    prev_hard = con.sql(
        "select id_number as hard_key, person_id as entity_id from master.person where id_number_valid"
    ).to_arrow_table()
    soft = person_soft_keys(con, "matching.int_person_golden", "cluster_key", arrow=True)
    prev_soft = person_soft_keys(con, "master.person", "person_id", arrow=True, as_key="entity_id")
    assignment = stable_ids.assign(
        clusters, prev_fp, prev_hard, "P", _next_seq(con, "person"), soft_keys=soft, previous_soft_keys=prev_soft
    )
    _save_seq(con, "person", assignment.next_seq)
    ids = pa.table(
        {
            "cluster_key": pa.array(list(assignment.cluster_ids.keys()), pa.string()),
            "person_id": pa.array(list(assignment.cluster_ids.values()), pa.string()),
        }
    )
    con.register("person_ids_df", ids)
    con.execute("create or replace temp table person_ids as select * from person_ids_df")
    con.unregister("person_ids_df")
    merges = [h for h in assignment.history if h[2] == "merge"]
    splits = [h for h in assignment.history if h[2] == "split"]
    if assignment.history:
        history = pa.table(
            {
                name: pa.array(list(col), pa.string())
                for name, col in zip(("old", "new", "kind"), zip(*assignment.history))
            }
        )
        con.register("person_history_df", history)
        con.execute(
            """insert into master.id_history
               select old, new, 'person', kind, $delivery, $now from person_history_df""",
            {"delivery": delivery, "now": now},
        )
        con.unregister("person_history_df")

    con.execute(
        """
        insert into master.person_xref by name
        select r.delivery, r.source, r.source_file, r.source_row, i.person_id,
               c.match_rule, c.match_score, c.matched_record, r.fingerprint
        from matching.int_person_records r
        join matching.int_person_clusters c using (record_key)
        join person_ids i using (cluster_key)
        """
    )

    # --- households (dwellings, matching.int_household_dwellings) ---------------------------------
    new_keys = con.execute(
        """select dwelling_key from matching.int_household_dwellings
           where dwelling_key not in (select dwelling_key from master.household) order by dwelling_key"""
    ).fetchall()
    seq = _next_seq(con, "household")
    new_rows = []
    for (key,) in new_keys:
        new_rows.append((key, stable_ids.make_id("H", seq)))
        seq += 1
    _save_seq(con, "household", seq)
    new_map = pa.table(
        {
            "dwelling_key": pa.array([k for k, _ in new_rows], pa.string()),
            "household_id": pa.array([h for _, h in new_rows], pa.string()),
        }
    )
    con.register("household_map_df", new_map)
    con.execute(
        """create or replace temp table household_map as
           select dwelling_key, household_id from master.household
           union all
           select dwelling_key, household_id from household_map_df"""
    )
    con.unregister("household_map_df")

    con.execute(
        """
        create or replace temp table person_household as
        select i.person_id, h.household_id, r.address_id, r.room, r.residence_sources, r.residence_evidence
        from person_ids i
        join matching.int_person_residence r using (cluster_key)
        join household_map h on h.dwelling_key = r.dwelling_key
        """
    )
    if previous:
        _previous_meters(con, previous)
        _record_rooms_found(con, previous, delivery, now)
        _record_moves(con, previous, delivery, now)
        _record_meters_placed(con, previous, delivery, now)

    # --- master.person -------------------------------------------------------------------------
    con.execute(
        """
        create or replace temp table person_now as
        select i.person_id, g.id_number, g.id_number_valid, g.name, g.sex, g.birth_date, g.phone,
               ph.household_id, coalesce(g.person_status, prev.status, '正常') as status,
               g.name_source, g.sex_source, g.birth_date_source, g.phone_source, g.sources,
               g.record_count, g.aid_certificate_no, g.on_elderly_alone_list, g.is_graduate
        from person_ids i
        join matching.int_person_golden g using (cluster_key)
        left join person_household ph using (person_id)
        -- a 人员状态 left blank this month (real exports blank other people each month) keeps the
        -- status last known: a blank is not news of being alive
        left join master.person prev using (person_id)
        """
    )
    # Persons not in this delivery stay (with their last status); ids merged away leave master.person
    # (id_history says where they went).
    merged_away = [old for old, _new, kind in assignment.history if kind == "merge"]
    carry_forward(con, "master.person", "person_id", "person_now", delivery, merged_away)

    # --- master.household ------------------------------------------------------------------------
    con.execute(
        """
        create or replace temp table household_now as
        with members as (
            select household_id,
                   count(*) filter (where status = '正常') as member_count,
                   max(aid_certificate_no) as aid_certificate_no,
                   bool_or(on_elderly_alone_list) as has_elderly_alone
            from person_now where household_id is not null group by household_id
        ),
        meters as (
            select h.household_id, string_agg(distinct m.account_no, ',' order by m.account_no) as accounts
            from matching.int_household_meters m join household_map h using (dwelling_key)
            group by h.household_id
        )
        select h.household_id, d.dwelling_key, d.address_id, d.room, d.full_address, d.street_code,
               d.community_code, coalesce(m.member_count, 0) as member_count, m.aid_certificate_no,
               coalesce(m.has_elderly_alone, false) as has_elderly_alone, mt.accounts as electricity_accounts,
               d.address_id is not null as in_address_library
        from matching.int_household_dwellings d
        join household_map h using (dwelling_key)
        left join members m using (household_id)
        left join meters mt using (household_id)
        """
    )
    carry_forward(con, "master.household", "household_id", "household_now", delivery, [])
    con.execute(
        """
        insert into master.household_member by name
        with relations as (
            -- a person's relation from the first source (alphabetically), its first row where a
            -- source lists them twice: the same answer on every run (arg_min over ties is not)
            select i.person_id,
                   arg_min(r.relation_to_head, (r.source, r.source_file, r.source_row)) as relation_to_head
            from matching.int_person_records r
            join matching.int_person_clusters c using (record_key)
            join person_ids i using (cluster_key)
            where r.relation_to_head is not null
            group by i.person_id
        )
        select ? as delivery, p.household_id, p.person_id, p.name, rel.relation_to_head, p.status
        from person_now p left join relations rel using (person_id)
        where p.household_id is not null
        """,
        [delivery],
    )

    # --- household cross-references ---------------------------------------------------------------
    con.execute(
        """
        insert into master.household_xref by name
        select x.delivery, x.source, x.source_file, x.source_row, ph.household_id,
               'residence:' || ph.residence_sources as match_rule, ph.residence_evidence as match_score
        from master.person_xref x join person_household ph using (person_id)
        where x.delivery = ?
        """,
        [delivery],
    )
    con.execute(
        """
        insert into master.household_xref by name
        select ? as delivery, 'utility_electricity' as source, m.source_file, m.source_row, h.household_id,
               m.match_rule, m.match_score
        from matching.int_household_meters m join household_map h using (dwelling_key)
        """,
        [delivery],
    )

    counts = con.execute(
        """
        select
            (select count(*) from person_now),
            (select count(*) from household_now),
            (select count(*) from master.person_xref where delivery = ?),
            (select count(*) from master.household_xref where delivery = ?)
        """,
        [delivery, delivery],
    ).fetchall()[0]
    return MasterSummary(
        delivery=delivery,
        persons=counts[0],
        new_person_ids=assignment.new_ids,
        merges=len(merges),
        splits=len(splits),
        households=counts[1],
        new_household_ids=len(new_rows),
        person_xref_rows=counts[2],
        household_xref_rows=counts[3],
    )
