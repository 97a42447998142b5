"""`civichub find`: a named scenario's list, or persons/households by a few criteria, with reasons,
per street and committee, masked for the caller's role (a sharing role of sharing/roles.yml:
fields in clear per its grants, a street office's rows limited to its street; see targeting/masking.py).

The builders are pure: criteria in, (SQL, parameters) out. User values only ever travel as
parameters; the SQL text is assembled from fixed fragments chosen by which criteria are given.
Ad-hoc searches read the targeting facts of the latest delivery built (targeting.tgt_*).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import duckdb

from normalize.domain_rules import load_domain_rules
from normalize.vocabularies import vocabulary
from targeting.masking import BUILTIN_VIEWS, DEFAULT_ROLE, HIDDEN, View, mask_row, masked_reason

AID_TYPES = vocabulary("aid_type")
EMPLOYMENT = vocabulary("employment_status")
# flag -> (condition on tgt_person_facts p, reason text); $elderly_min_age is the domain rule
# (normalize/domain_rules.yml), passed as a parameter like the user's values
FLAGS: dict[str, tuple[str, str]] = {
    "elderly_alone": ("(p.on_elderly_alone_list or (p.lives_alone and p.age >= $elderly_min_age))", "独居老人"),
    "on_elderly_list": ("p.on_elderly_alone_list", "独居老人名单在册"),
    "lives_alone": ("p.lives_alone", "独居"),
    "renhu_fenli": ("p.renhu_fenli", "人户分离"),
    "registered_elsewhere": ("p.registered_elsewhere", "户籍在外区或外省"),
    "graduate": ("p.graduation_year is not null", "高校毕业生"),
    "aided": ("p.aid_type is not null", "享受社会救助"),
    "left_aid": ("(p.aided_in_previous_delivery and p.aid_type is null)", "上月享受救助，本月不在名单"),
}
SENSITIVE_FLAGS = {"aided", "left_aid"}
_AGE_RE = re.compile(r"^\s*(\d{1,3})?\s*-\s*(\d{1,3})?\s*$|^\s*(\d{1,3})\s*$")


class FindError(ValueError):
    """The criteria cannot be searched; the message says which and why."""


@dataclass
class FindCriteria:
    scenario: str | None = None
    entity: str = "person"
    age: tuple[int | None, int | None] | None = None
    flags: list[str] = field(default_factory=list)
    street: str | None = None
    committee: str | None = None
    graduation_year: int | None = None
    aid: list[str] = field(default_factory=list)  # aid types, or ["any"] / ["none"]
    employment: list[str] = field(default_factory=list)
    status: str | None = "正常"
    delivery: str | None = None
    limit: int | None = None
    within_street: str | None = None  # row scope of the caller (a street office's street code)


def parse_age_range(text: str) -> tuple[int | None, int | None]:
    """'60-' -> (60, None); '-17' -> (None, 17); '18-35' -> (18, 35); '70' -> (70, 70)."""
    m = _AGE_RE.match(text or "")
    if not m or text.strip() == "-":
        raise FindError(f"--age {text!r}: write a range such as 60-, -17, 18-35 or one age such as 70")
    if m.group(3) is not None:
        a = int(m.group(3))
        return a, a
    lo = int(m.group(1)) if m.group(1) else None
    hi = int(m.group(2)) if m.group(2) else None
    if lo is not None and hi is not None and lo > hi:
        raise FindError(f"--age {text!r}: the lower bound is above the upper bound")
    return lo, hi


def _location_filter(criteria: FindCriteria, params: dict, street_col: str, community_col: str) -> list[str]:
    where = []
    if criteria.within_street:
        params["within_street"] = criteria.within_street
        where.append(f"{street_col} = $within_street")
    if criteria.street:
        params["street"] = criteria.street
        where.append(
            f"({street_col} = $street or {street_col} in "
            "(select street_code from staging.stg_divisions where street_name = $street))"
        )
    if criteria.committee:
        params["committee"] = criteria.committee
        where.append(
            f"({community_col} = $committee or {community_col} in "
            "(select community_code from staging.stg_divisions where community_name = $committee))"
        )
    return where


def build_scenario_query(criteria: FindCriteria) -> tuple[str, dict]:
    """The rows of a scenario's list (scenario.match) for a delivery (default: the latest)."""
    params: dict = {"scenario": criteria.scenario}
    delivery = (
        "$delivery" if criteria.delivery else "(select max(delivery) from scenario.match where scenario = $scenario)"
    )
    if criteria.delivery:
        params["delivery"] = criteria.delivery
    where = ["m.scenario = $scenario", f"m.delivery = {delivery}"]
    where += _location_filter(criteria, params, "m.street_code", "m.community_code")
    sql = f"""
        select m.street_code, coalesce(s.street_name, m.street_code) as street_name,
               m.community_code, coalesce(c.community_name, m.community_code) as community_name,
               m.entity_type, m.entity_id, m.match_id, m.delivery, m.first_seen,
               p.name, p.id_number, p.phone,
               h.full_address as address, m.reason_code, m.reason, m.reason_fields
        from scenario.match m
        left join master.person p on p.person_id = m.person_id
        left join master.household h on h.household_id = m.household_id
        left join (select distinct street_code, street_name from staging.stg_divisions) s on s.street_code = m.street_code
        left join staging.stg_divisions c on c.community_code = m.community_code
        where {" and ".join(where)}
        order by m.street_code, m.community_code, m.entity_id, m.reason_code
    """
    if criteria.limit:
        sql += " limit $limit"
        params["limit"] = int(criteria.limit)
    return sql, params


def build_find_query(criteria: FindCriteria) -> tuple[str, dict]:
    """Persons (or their households) matching every given criterion, with a reason per row made
    of the criteria each one meets; a second reason text leaves out the sensitive parts."""
    if criteria.scenario:
        return build_scenario_query(criteria)
    if criteria.entity not in ("person", "household"):
        raise FindError(f"--entity must be person or household (got {criteria.entity!r})")
    params: dict = {}
    where: list[str] = []
    parts: list[tuple[str, bool]] = []  # (SQL expression giving a reason part or null, sensitive)
    if criteria.status:
        params["status"] = criteria.status
        where.append("p.status = $status")
    if criteria.age:
        lo, hi = criteria.age
        if lo is not None:
            params["age_min"] = lo
            where.append("p.age >= $age_min")
        if hi is not None:
            params["age_max"] = hi
            where.append("p.age <= $age_max")
        parts.append(("p.age || '岁'", False))
    for flag in criteria.flags:
        if flag not in FLAGS:
            raise FindError(f"--flag {flag!r} is not known; flags: {', '.join(FLAGS)}")
        cond, text = FLAGS[flag]
        where.append(cond)
        if "$elderly_min_age" in cond:
            params["elderly_min_age"] = load_domain_rules().elderly_min_age
        parts.append((f"'{text}'", flag in SENSITIVE_FLAGS))
    if criteria.graduation_year is not None:
        params["graduation_year"] = int(criteria.graduation_year)
        where.append("p.graduation_year = $graduation_year")
        parts.append(("p.graduation_year || '年高校毕业生'", False))
    if criteria.employment:
        bad = [e for e in criteria.employment if e not in EMPLOYMENT]
        if bad:
            raise FindError(f"--employment {', '.join(bad)}: use {', '.join(EMPLOYMENT)}")
        params["employment"] = list(criteria.employment)
        where.append("p.employment_status in (select unnest($employment::varchar[]))")
        parts.append(("'就业状态：' || p.employment_status", False))
    if criteria.aid:
        if criteria.aid == ["any"]:
            where.append("p.aid_type is not null")
            parts.append(("'享受' || p.aid_type", True))
        elif criteria.aid == ["none"]:
            where.append("p.aid_type is null")
            parts.append(("'未享受社会救助'", True))
        else:
            bad = [a for a in criteria.aid if a not in AID_TYPES]
            if bad:
                raise FindError(f"--aid {', '.join(bad)}: use {', '.join(AID_TYPES)}, any or none")
            params["aid"] = list(criteria.aid)
            where.append("p.aid_type in (select unnest($aid::varchar[]))")
            parts.append(("'享受' || p.aid_type", True))
    where += _location_filter(criteria, params, "p.street_code", "p.community_code")
    if not where:
        where.append("true")
    reason = "concat_ws('；', " + ", ".join(e for e, _ in parts) + ")" if parts else "''"
    masked = "concat_ws('；', " + ", ".join((f"'{HIDDEN}'" if s else e) for e, s in parts) + ")" if parts else "''"
    if criteria.entity == "person":
        select = f"""
            select p.street_code, coalesce(s.street_name, p.street_code) as street_name,
                   p.community_code, coalesce(c.community_name, p.community_code) as community_name,
                   'person' as entity_type, p.person_id as entity_id, p.name, p.id_number, p.phone,
                   p.full_address as address, {reason} as reason, {masked} as reason_masked
            from targeting.tgt_person_facts p
            left join (select distinct street_code, street_name from staging.stg_divisions) s on s.street_code = p.street_code
            left join staging.stg_divisions c on c.community_code = p.community_code
            where {" and ".join(where)}
            order by p.street_code, p.community_code, p.person_id
        """
    else:
        select = f"""
            select p.street_code, coalesce(any_value(s.street_name), p.street_code) as street_name,
                   p.community_code, coalesce(any_value(c.community_name), p.community_code) as community_name,
                   'household' as entity_type, p.household_id as entity_id, null as name, null as id_number,
                   null as phone, any_value(p.full_address) as address,
                   count(*) || '名成员：' || string_agg({reason}, '；' order by p.person_id) as reason,
                   count(*) || '名成员：' || string_agg({masked}, '；' order by p.person_id) as reason_masked
            from targeting.tgt_person_facts p
            left join (select distinct street_code, street_name from staging.stg_divisions) s on s.street_code = p.street_code
            left join staging.stg_divisions c on c.community_code = p.community_code
            where p.household_id is not null and {" and ".join(where)}
            group by p.street_code, p.community_code, p.household_id
            order by p.street_code, p.community_code, p.household_id
        """
    if criteria.limit:
        select += " limit $limit"
        params["limit"] = int(criteria.limit)
    return select, params


def find(
    con: duckdb.DuckDBPyConnection, criteria: FindCriteria, role: str | View = DEFAULT_ROLE, scenarios=None
) -> list[dict]:
    """Run a search and return rows as the role may see them: `role` is a `View` (from
    `targeting.masking.view_for_role`) or the name of a built-in view."""
    view = role if isinstance(role, View) else BUILTIN_VIEWS.get(role)
    if view is None:
        raise FindError(f"unknown role {role!r}")
    if criteria.scenario:
        view.require("scenario.match", "read scenario lists")
    else:
        view.require("master.person", "search persons and households")
    if view.street_code:
        criteria = replace(criteria, within_street=view.street_code)
    sql, params = build_find_query(criteria)
    try:
        rows = con.execute(sql, params).df().to_dict("records")
    except duckdb.CatalogException as e:
        raise FindError(
            f"the database has no scenario lists or targeting facts yet (run the hub first): {str(e).splitlines()[0]}"
        ) from None
    out = []
    scenario = scenarios.get(criteria.scenario) if (criteria.scenario and scenarios) else None
    for row in rows:
        row = {k: (None if v != v else v) if isinstance(v, float) else v for k, v in row.items()}
        if scenario is not None:
            hidden = masked_reason(scenario.reasons[row["reason_code"]], row["reason_fields"], scenario.sensitive)
        else:
            hidden = row.pop("reason_masked", None)
        row.pop("reason_fields", None)
        out.append(mask_row(row, view, sensitive_reason=hidden))
    return out


def format_rows(rows: list[dict]) -> str:
    """Grouped per street and committee, one line per row."""
    if not rows:
        return "no matches"
    lines = []
    current = None
    per_group: dict[tuple, int] = {}
    for r in rows:
        key = (r.get("street_name"), r.get("community_name"))
        per_group[key] = per_group.get(key, 0) + 1
    for r in rows:
        key = (r.get("street_name"), r.get("community_name"))
        if key != current:
            current = key
            lines.append(f"\n{key[0] or '（街道未知）'} / {key[1] or '（居委未知）'}  ({per_group[key]})")
        who = " ".join(x for x in (r.get("name") or "", r.get("id_number") or "", r.get("phone") or "") if x)
        lines.append(f"  {r['entity_id']}  {who}  {r.get('address') or ''}\n      {r.get('reason') or ''}")
    lines.append(f"\n{len(rows)} row(s) in {len(per_group)} committee(s)")
    return "\n".join(lines)
