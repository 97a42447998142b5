"""Run a scenario for one delivery and keep its matches in `scenario.match`.

One row per (scenario, delivery, entity, reason): where the entity lives (street and committee, for
the worklists), the reason as Chinese text and the values it was made from (so a masked view can
render it again without the sensitive ones), and the first delivery in which the same entity was
listed for the same reason. Running a delivery again replaces its rows (idempotent).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from targeting.config import PLACEHOLDER_RE, Scenario

DDL = """
create schema if not exists scenario;
create table if not exists scenario.match (
    match_id varchar, scenario varchar, delivery varchar, entity_type varchar, entity_id varchar,
    person_id varchar, household_id varchar, street_code varchar, community_code varchar,
    reason_code varchar, reason varchar, reason_fields varchar, first_seen varchar, computed_at timestamp
);
"""


class ScenarioRunError(RuntimeError):
    pass


@dataclass
class ScenarioResult:
    scenario: str
    delivery: str
    matches: int
    entities: int
    by_reason: dict[str, int]
    new_since_last_delivery: int
    unlocated: int


def match_id(scenario: str, entity_type: str, entity_id: str, reason_code: str) -> str:
    """A list row's id, the same in every delivery (the follow-up of a row refers to it)."""
    digest = hashlib.sha1(f"{scenario}|{entity_type}|{entity_id}|{reason_code}".encode()).hexdigest()
    return f"SM{digest[:14].upper()}"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    return str(value)


def render_reason(template: str, fields: dict, hidden: tuple[str, ...] = (), mask: str = "***") -> str:
    """Fill a reason template; fields in `hidden` are replaced by `mask`."""
    return PLACEHOLDER_RE.sub(lambda m: mask if m.group(1) in hidden else _text(fields.get(m.group(1))), template)


def evaluate_scenario(con: duckdb.DuckDBPyConnection, scenario: Scenario, delivery: str) -> pd.DataFrame:
    """The scenario's rows for a delivery (as its query returns them), reasons rendered in full."""
    try:
        frame = con.execute(scenario.sql, scenario.query_params(delivery)).df()
    except duckdb.Error as e:
        raise ScenarioRunError(f"scenario {scenario.name!r} failed on delivery {delivery}: {e}") from None
    unknown = sorted(set(frame["reason_code"].dropna()) - set(scenario.reasons))
    if unknown:
        raise ScenarioRunError(
            f"scenario {scenario.name!r} returned reason code(s) without a template: {', '.join(unknown)}"
        )
    frame = frame[frame["reason_code"].notna() & frame["entity_id"].notna()].copy()
    field_cols = [c for c in scenario.columns if c not in ("entity_id", "person_id", "household_id", "reason_code")]
    records = frame[field_cols].astype(object).where(frame[field_cols].notna(), None).to_dict("records")
    frame["reason"] = [render_reason(scenario.reasons[c], f) for c, f in zip(frame["reason_code"], records)]
    frame["reason_fields"] = [json.dumps({k: _text(v) for k, v in f.items()}, ensure_ascii=False) for f in records]
    return frame.drop_duplicates(subset=["entity_id", "reason_code"])


def run_scenario(con: duckdb.DuckDBPyConnection, scenario: Scenario, delivery: str) -> ScenarioResult:
    """Evaluate the scenario and replace its rows of this delivery in scenario.match."""
    con.execute(DDL)
    frame = evaluate_scenario(con, scenario, delivery)
    now = _dt.datetime.now()
    out = pd.DataFrame(
        {
            "match_id": [
                match_id(scenario.name, scenario.entity, e, r) for e, r in zip(frame["entity_id"], frame["reason_code"])
            ],
            "scenario": scenario.name,
            "delivery": delivery,
            "entity_type": scenario.entity,
            "entity_id": frame["entity_id"].astype(str),
            "person_id": frame["person_id"].astype(object).where(frame["person_id"].notna(), None),
            "household_id": frame["household_id"].astype(object).where(frame["household_id"].notna(), None),
            "reason_code": frame["reason_code"].astype(str),
            "reason": frame["reason"],
            "reason_fields": frame["reason_fields"],
        }
    )
    con.execute("begin transaction")
    try:
        con.execute("delete from scenario.match where scenario = ? and delivery = ?", [scenario.name, delivery])
        con.register("scenario_rows_df", out)
        con.execute(
            """
            insert into scenario.match
            select r.match_id, r.scenario, r.delivery, r.entity_type, r.entity_id, r.person_id, r.household_id,
                   h.street_code, h.community_code, r.reason_code, r.reason, r.reason_fields,
                   coalesce(prev.first_seen, r.delivery), ?
            from scenario_rows_df r
            left join master.household h on h.household_id = r.household_id
            left join (
                select match_id, min(first_seen) as first_seen from scenario.match
                where scenario = ? and delivery < ? group by match_id
            ) prev using (match_id)
            """,
            [now, scenario.name, delivery],
        )
        con.unregister("scenario_rows_df")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    stats = con.execute(
        """
        select count(*), count(distinct entity_id), count(*) filter (where first_seen = delivery),
               count(*) filter (where street_code is null or community_code is null)
        from scenario.match where scenario = ? and delivery = ?
        """,
        [scenario.name, delivery],
    ).fetchall()[0]
    by_reason = dict(
        con.execute(
            "select reason_code, count(*) from scenario.match where scenario = ? and delivery = ? group by 1 order by 1",
            [scenario.name, delivery],
        ).fetchall()
    )
    previous = con.execute(
        "select max(delivery) from scenario.match where scenario = ? and delivery < ?", [scenario.name, delivery]
    ).fetchall()[0][0]
    return ScenarioResult(
        scenario=scenario.name,
        delivery=delivery,
        matches=stats[0],
        entities=stats[1],
        by_reason=by_reason,
        new_since_last_delivery=stats[2] if previous else 0,
        unlocated=stats[3],
    )
