"""The stateful findings table `quality.finding`: this delivery's candidates merged into what is known.

dbt computes each delivery's candidate findings (`quality.int_quality_findings`, one per rule hit,
with a finding id that stays the same while the same problem persists). This module keeps the state
that spans deliveries, like the master tables do:

- a finding seen for the first time is `open` (first_seen = last_seen = the delivery);
- seen again: last_seen, the record it points at, the observed value and the message are updated;
- no longer seen in the latest delivery: `resolved`;
- a street's decision (`quality.finding_decision`, written by the corrections step) overrides:
  不属实 → `rejected`, 确认 / 更正 → `resolved`, for as long as the observed value stays the one
  the decision was taken on; a different value next month is a new problem, and the finding opens.

`refresh_findings(con, delivery)` re-applies decisions without a new delivery (the corrections run).
Everything here is plain SQL over DuckDB; the status rule is one SQL macro in the database,
`quality.finding_status(...)` (STATUS_MACRO), that any query (or dbt model) can call and that is
unit-tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from quality import worklist_format as wf

FINDING_COLUMNS = (
    "finding_id",
    "rule",
    "severity",
    "entity_type",
    "entity_id",
    "source",
    "source_file",
    "source_row",
    "street_code",
    "community_code",
    "field",
    "observed_value",
    "suggested_value",
    "message",
    "status",
    "first_seen",
    "last_seen",
)
STATUSES = ("open", "resolved", "rejected")
# a street verdict (quality.worklist_format.DECISIONS: 确认, 更正, 不属实) → the status it sets
DECISIONS = dict(zip(wf.DECISIONS, ("resolved", "resolved", "rejected"), strict=True))

# The status of a finding. present: the latest delivery still shows the problem; observed: its
# value now; decision: the latest street verdict (a DECISIONS key) or NULL; decided_on: the observed
# value it was taken on; previous: the status before. A decision holds while the problem is gone or
# its value is the one decided on; a different value is a new problem, and the finding opens again.
STATUS_MACRO = f"""
create or replace macro quality.finding_status(present, observed, decision, decided_on, previous) as
    case
        when decision in ({", ".join(f"'{d}'" for d in DECISIONS)})
             and (not present or observed is not distinct from decided_on)
            then case decision {" ".join(f"when '{d}' then '{s}'" for d, s in DECISIONS.items())} end
        when present then 'open'
        when previous = 'rejected' then 'rejected'
        else 'resolved'
    end
"""

DDL = """
create schema if not exists quality;
create table if not exists quality.finding (
    finding_id varchar, rule varchar, severity varchar, entity_type varchar, entity_id varchar,
    source varchar, source_file varchar, source_row integer, street_code varchar, community_code varchar,
    field varchar, observed_value varchar, suggested_value varchar, message varchar, status varchar,
    first_seen varchar, last_seen varchar
);
-- Street staff's verdicts, from returned worklists (written by the corrections step).
create table if not exists quality.finding_decision (
    finding_id varchar, decision varchar, corrected_value varchar, decided_by varchar,
    decided_at timestamp, source_file varchar, source_row integer
);
-- The observed value each decision was taken on: a decision holds while the value is unchanged.
create table if not exists quality.finding_decision_basis (
    finding_id varchar, decided_at timestamp, decision varchar, observed_value varchar
);
-- One row per finding per delivery it was seen in, with the status after that delivery.
create table if not exists quality.finding_history (
    delivery varchar, finding_id varchar, rule varchar, status varchar, entity_id varchar, source varchar,
    source_file varchar, source_row integer, field varchar, observed_value varchar
);
"""


@dataclass
class FindingSummary:
    delivery: str
    candidates: int
    new: int
    open: int
    resolved: int
    rejected: int
    by_rule: dict[str, int]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    con.execute(STATUS_MACRO)


def merge_delivery(
    con: duckdb.DuckDBPyConnection, delivery: str, candidates: str = "quality.int_quality_findings"
) -> FindingSummary:
    """Merge the delivery's candidate findings into quality.finding, then apply decisions."""
    ensure_tables(con)
    con.execute("begin transaction")
    try:
        new = _merge(con, delivery, candidates)
        _apply(con, delivery)
        con.execute("delete from quality.finding_history where delivery = ?", [delivery])
        con.execute(
            """insert into quality.finding_history
               select ?, finding_id, rule, status, entity_id, source, source_file, source_row, field, observed_value
               from quality.finding where last_seen = ?""",
            [delivery, delivery],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return _summary(con, delivery, new)


def refresh_findings(con: duckdb.DuckDBPyConnection, delivery: str | None = None) -> FindingSummary:
    """Re-apply the streets' decisions to quality.finding without a new delivery.

    delivery: the latest delivery merged (default: the latest last_seen in the table)."""
    ensure_tables(con)
    if delivery is None:
        delivery = con.execute("select max(last_seen) from quality.finding").fetchall()[0][0] or ""
    con.execute("begin transaction")
    try:
        _apply(con, delivery)
        con.execute(
            """update quality.finding_history h set status = f.status
               from quality.finding f where f.finding_id = h.finding_id and h.delivery = ?""",
            [delivery],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return _summary(con, delivery, 0)


def _merge(con, delivery: str, candidates: str) -> int:
    cols = ", ".join(c for c in FINDING_COLUMNS if c not in ("status", "first_seen", "last_seen"))
    con.execute(f"create or replace temp table _cand as select {cols} from {candidates}")
    new = con.execute(
        "select count(*) from _cand where finding_id not in (select finding_id from quality.finding)"
    ).fetchall()[0][0]
    # Replace the whole table (DuckDB's upserts are slow): candidates take their current values and
    # keep first_seen; findings not seen in this delivery keep their last values.
    con.execute(
        """
        create or replace temp table _next as
        select c.*, coalesce(f.status, 'open') as status,
               case when f.first_seen is null or f.first_seen > $d then $d else f.first_seen end as first_seen,
               $d as last_seen
        from _cand c left join quality.finding f using (finding_id)
        union all by name
        -- not seen in this delivery: as before; a delivery built again takes back what its earlier
        -- build saw (last seen in the delivery before, or never seen at all)
        select f.* replace (
                   case when f.last_seen >= $d then coalesce(h.before, f.last_seen) else f.last_seen end as last_seen)
        from quality.finding f
        left join (select finding_id, max(delivery) as before from quality.finding_history
                   where delivery < $d group by finding_id) h using (finding_id)
        where f.finding_id not in (select finding_id from _cand)
          and not (f.first_seen >= $d and h.before is null)
        """,
        {"d": delivery},
    )
    con.execute("delete from quality.finding")
    con.execute("insert into quality.finding by name select * from _next")
    con.execute("drop table _next")
    con.execute("drop table _cand")
    return new


def _apply(con, delivery: str) -> None:
    """Record the basis of decisions not yet seen, then recompute every status."""
    con.execute(
        """
        insert into quality.finding_decision_basis
        with latest as (
            select finding_id, arg_max(decision, decided_at) as decision, max(decided_at) as decided_at
            from quality.finding_decision where decision in $decisions
            group by finding_id
        )
        select l.finding_id, l.decided_at, l.decision, f.observed_value
        from latest l join quality.finding f using (finding_id)
        where (l.finding_id, l.decided_at) not in (select (finding_id, decided_at) from quality.finding_decision_basis)
        """,
        {"decisions": list(DECISIONS)},
    )
    con.execute(
        """
        update quality.finding f set status = s.status
        from (
            with basis as (
                select finding_id, arg_max(decision, decided_at) as decision,
                       arg_max(observed_value, decided_at) as decided_on
                from quality.finding_decision_basis group by finding_id
            )
            select f.finding_id,
                   quality.finding_status(f.last_seen = $d, f.observed_value, b.decision, b.decided_on, f.status) as status
            from quality.finding f left join basis b using (finding_id)
        ) s
        where s.finding_id = f.finding_id and s.status is distinct from f.status
        """,
        {"d": delivery},
    )


def _summary(con, delivery: str, new: int) -> FindingSummary:
    counts = dict(con.execute("select status, count(*) from quality.finding group by 1").fetchall())
    by_rule = dict(
        con.execute("select rule, count(*) from quality.finding where status = 'open' group by 1 order by 1").fetchall()
    )
    candidates = con.execute("select count(*) from quality.finding where last_seen = ?", [delivery]).fetchall()[0][0]
    return FindingSummary(
        delivery=delivery,
        candidates=candidates,
        new=new,
        open=counts.get("open", 0),
        resolved=counts.get("resolved", 0),
        rejected=counts.get("rejected", 0),
        by_rule=by_rule,
    )
