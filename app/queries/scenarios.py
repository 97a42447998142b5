"""Scenario lists (scenario.match) of a role's publication: per street, with the reasons in Chinese.

A department of district scope sees every street; a street office its street; a committee worker
its committee. The reason text is as the role's grant shows it (aid status in clear only where granted).
"""

from __future__ import annotations

from app.queries import rows


def _scope(street_code: str | None, community_code: str | None) -> tuple[list[str], list]:
    where, params = ["m.delivery = (select max(delivery) from scenario.match)"], []
    if street_code is not None:
        where.append("m.street_code = ?")
        params.append(street_code)
    if community_code is not None:
        where.append("m.community_code = ?")
        params.append(community_code)
    return where, params


def counts(cur, tables: frozenset[str], street_code: str | None, community_code: str | None) -> list[dict]:
    """(scenario, street_code, street_name, rows) for the caller's scope."""
    if "scenario.match" not in tables:
        return []
    where, params = _scope(street_code, community_code)
    names = (
        "(select any_value(d.street_name) from staging.stg_divisions d where d.street_code = m.street_code)"
        if "staging.stg_divisions" in tables
        else "m.street_code"
    )
    return rows(
        cur,
        f"""select m.scenario, m.street_code, {names} as street_name, count(distinct m.match_id) as n
            from scenario.match m where {" and ".join(where)} group by all order by 1, 2""",
        params,
    )


def matches(
    cur,
    tables: frozenset[str],
    scenario: str,
    street_code: str | None,
    community_code: str | None,
    only_street: str | None = None,
    limit: int = 1000,
) -> list[dict]:
    """The rows of one scenario in the caller's scope (optionally one street), reasons joined per row."""
    if "scenario.match" not in tables:
        return []
    where, params = _scope(street_code, community_code)
    where.append("m.scenario = ?")
    params.append(scenario)
    if only_street:
        where.append("m.street_code = ?")
        params.append(only_street)
    person = "master.person" in tables
    household = "master.household" in tables
    joins = []
    if person:
        joins.append("left join master.person p on p.person_id = m.person_id")
    if household:
        joins.append("left join master.household h on h.household_id = m.household_id")
    committee = (
        "(select any_value(d.community_name) from staging.stg_divisions d where d.community_code = m.community_code)"
        if "staging.stg_divisions" in tables
        else "m.community_code"
    )
    return rows(
        cur,
        f"""select m.match_id, any_value(m.entity_type) as entity_type, any_value(m.entity_id) as entity_id,
                   any_value(m.street_code) as street_code, any_value(m.community_code) as community_code,
                   any_value({committee}) as community_name,
                   {"any_value(p.name)" if person else "null"} as name,
                   {"any_value(h.full_address)" if household else "null"} as address,
                   string_agg(distinct m.reason, '；') as reasons, min(m.first_seen) as first_seen
            from scenario.match m {" ".join(joins)}
            where {" and ".join(where)}
            group by m.match_id order by street_code, community_code, first_seen, m.match_id limit {int(limit)}""",
        params,
    )


def match_in_scope(
    cur, tables: frozenset[str], scenario: str, match_id: str, street_code: str | None, community_code: str | None
) -> dict | None:
    if "scenario.match" not in tables or not match_id or len(match_id) > 64:
        return None
    where, params = _scope(street_code, community_code)
    where += ["m.scenario = ?", "m.match_id = ?"]
    params += [scenario, match_id]
    found = rows(
        cur,
        f"""select m.match_id, any_value(m.scenario) as scenario, any_value(m.entity_id) as entity_id,
                   any_value(m.street_code) as street_code, any_value(m.community_code) as community_code
            from scenario.match m where {" and ".join(where)} group by m.match_id""",
        params,
    )
    return found[0] if found else None
