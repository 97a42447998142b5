"""Findings (quality.finding) of a street or a committee, with the evidence a worker needs at the door.

The labels and the display rule are the worklist's (quality/worklists.py): the value under
verification is shown in clear when it is the ID number being verified, other values masked.
"""

from __future__ import annotations

from app.queries import rows, text
from quality import corrections as corr
from quality import worklists as wl

SEVERITY_ORDER = (
    "case f.severity when 'high' then 0 when 'error' then 0 when 'medium' then 1 when 'warning' then 1 else 2 end"
)


def _select(tables: frozenset[str], where: str) -> str:
    """Findings matching `where` (over quality.finding f) with the name and address of the record they are
    about. The scope is applied first, so the joins only touch the records of those findings."""
    joins, names, addrs = [], [], []
    ctes = [f"f as (select * from quality.finding f where {where})"]
    if "master.person" in tables:
        joins.append("left join master.person p on f.entity_type = 'person' and p.person_id = f.entity_id")
        names.append("p.name")
        if "master.household" in tables:
            joins.append("left join master.household ph on ph.household_id = p.household_id")
            addrs.append("ph.full_address")
    if "master.household" in tables:
        joins.append("left join master.household h on f.entity_type = 'household' and h.household_id = f.entity_id")
        addrs.append("h.full_address")
        if "master.household_member" in tables:
            ctes.append(
                """hm as (select household_id,
                                 arg_min(name, case relation_to_head when '户主' then 0 else 1 end) as head
                          from master.household_member
                          where delivery = (select max(delivery) from master.household_member)
                            and household_id in (select entity_id from f where entity_type = 'household')
                          group by household_id)"""
            )
            joins.append("left join hm on hm.household_id = h.household_id")
            names.append("hm.head")
    if "master.shop" in tables:
        joins.append("left join master.shop s on f.entity_type = 'shop' and s.shop_code = f.entity_id")
        names.append("s.name")
        addrs.append("s.full_address")
    name = f"coalesce({', '.join(names)})" if names else "null"
    addr = f"coalesce({', '.join(addrs)})" if addrs else "null"
    return (
        f"with {', '.join(ctes)} select f.*, {name} as entity_name, {addr} as entity_address from f {' '.join(joins)}"
    )


def present(finding: dict) -> dict:
    """A finding as the pages show it: labels, masked values, the input its correction needs."""
    field = finding.get("field")
    spec = corr.default_specs().get(finding.get("entity_type"), field)
    src_row = text(finding.get("source_row"))
    return {
        **finding,
        "rule_label": wl.RULE_LABELS.get(finding.get("rule"), finding.get("rule")),
        "severity_label": wl.SEVERITY_LABELS.get(str(finding.get("severity") or "").lower(), finding.get("severity")),
        "entity_label": wl.ENTITY_LABELS.get(finding.get("entity_type"), finding.get("entity_type")),
        "field_label": wl.FIELD_LABELS.get(field, spec.label or field),
        "observed": wl.display_value(field, finding.get("observed_value")),
        "suggested": wl.display_value(field, finding.get("suggested_value")),
        "message_shown": wl.display_value(None, finding.get("message")),
        "name_shown": text(finding.get("entity_name")),
        "address_shown": text(finding.get("entity_address")),
        "source_label": wl.SOURCE_LABELS.get(finding.get("source"), finding.get("source")),
        "source_where": text(finding.get("source_file")).rsplit("/", 1)[-1] + (f" 第{src_row}行" if src_row else ""),
        "spec": spec,
    }


def findings_of(
    cur,
    tables: frozenset[str],
    street_code: str,
    community_code: str | None = None,
    status: str | None = "open",
    limit: int = 2000,
) -> list[dict]:
    if "quality.finding" not in tables:
        return []
    where, params = ["f.street_code = ?"], [street_code]
    if community_code is not None:
        where.append("f.community_code = ?")
        params.append(community_code)
    if status:
        where.append("f.status = ?")
        params.append(status)
    sql = (
        f"{_select(tables, ' and '.join(where))} "
        f"order by f.community_code, {SEVERITY_ORDER}, f.rule, f.entity_id, f.finding_id limit {int(limit)}"
    )
    return [present(r) for r in rows(cur, sql, params)]


def open_ids(cur, tables: frozenset[str], street_code: str, community_code: str) -> list[str]:
    """Ids of the committee's open findings, in the order of the list page."""
    if "quality.finding" not in tables:
        return []
    return [
        r["finding_id"]
        for r in rows(
            cur,
            f"""select f.finding_id from quality.finding f
                where f.street_code = ? and f.community_code = ? and f.status = 'open'
                order by f.community_code, {SEVERITY_ORDER}, f.rule, f.entity_id, f.finding_id""",
            [street_code, community_code],
        )
    ]


def finding_in_scope(
    cur, tables: frozenset[str], finding_id: str, street_code: str, community_code: str | None = None
) -> dict | None:
    """One finding if it is in the caller's street (and committee); None otherwise, as for an unknown id."""
    if "quality.finding" not in tables or not finding_id or len(finding_id) > 64:
        return None
    where, params = ["f.finding_id = ?", "f.street_code = ?"], [finding_id, street_code]
    if community_code is not None:
        where.append("f.community_code = ?")
        params.append(community_code)
    found = rows(cur, _select(tables, " and ".join(where)), params)
    return present(found[0]) if found else None


def master_record(cur, tables: frozenset[str], finding: dict) -> list[tuple[str, str]]:
    """The master record the finding is about, as (label, value) pairs: the other side of the evidence."""
    et, eid = finding.get("entity_type"), finding.get("entity_id")
    if et == "person" and "master.person" in tables:
        found = rows(
            cur,
            "select name, sex, birth_date, id_number, phone, status, household_id from master.person where person_id = ?",
            [eid],
        )
        if found:
            p = found[0]
            return [
                ("姓名", text(p["name"])),
                ("性别", text(p["sex"])),
                ("出生日期", text(p["birth_date"])),
                ("身份证号", text(p["id_number"])),
                ("联系电话", text(p["phone"])),
                ("人员状态", text(p["status"])),
                ("户编号", text(p["household_id"])),
            ]
    if et == "household" and "master.household" in tables:
        found = rows(
            cur,
            "select full_address, member_count, in_address_library from master.household where household_id = ?",
            [eid],
        )
        if found:
            h = found[0]
            return [
                ("居住地址", text(h["full_address"])),
                ("户内人数", text(h["member_count"])),
                ("在标准地址库", text(h["in_address_library"])),
            ]
    if et == "shop" and "master.shop" in tables:
        found = rows(
            cur,
            "select name, registered_name, uscc, full_address, status, registration_status, licence_valid_until "
            "from master.shop where shop_code = ?",
            [eid],
        )
        if found:
            s = found[0]
            return [
                ("店招名称", text(s["name"])),
                ("登记名称", text(s["registered_name"])),
                ("信用代码", text(s["uscc"])),
                ("地址", text(s["full_address"])),
                ("经营状态", text(s["status"])),
                ("登记状态", text(s["registration_status"])),
                ("许可证有效期至", text(s["licence_valid_until"])),
            ]
    return []


def committees_of(cur, tables: frozenset[str], street_code: str) -> list[dict]:
    if "staging.stg_divisions" not in tables:
        return []
    return rows(
        cur,
        """select distinct community_code, community_name from staging.stg_divisions
           where street_code = ? and community_code is not null order by community_code""",
        [street_code],
    )


def street_name(cur, tables: frozenset[str], street_code: str) -> str:
    if "staging.stg_divisions" not in tables:
        return street_code
    found = rows(
        cur, "select any_value(street_name) as n from staging.stg_divisions where street_code = ?", [street_code]
    )
    return (found[0]["n"] if found else None) or street_code


def progress(cur, tables: frozenset[str], street_code: str) -> list[dict]:
    """Per committee of the street: open, resolved and rejected findings, the oldest open one."""
    committees = committees_of(cur, tables, street_code)
    counts: dict[str, dict] = {}
    if "quality.finding" in tables:
        for r in rows(
            cur,
            """select community_code,
                      count(*) filter (where status = 'open') as open,
                      count(*) filter (where status = 'resolved') as resolved,
                      count(*) filter (where status = 'rejected') as rejected,
                      min(first_seen) filter (where status = 'open') as oldest_open,
                      list(finding_id) filter (where status = 'open') as open_ids
               from quality.finding where street_code = ? group by 1""",
            [street_code],
        ):
            counts[r["community_code"] or ""] = r
    out = []
    for c in committees:
        r = counts.get(c["community_code"], {})
        out.append(
            {
                **c,
                "open": r.get("open", 0),
                "resolved": r.get("resolved", 0),
                "rejected": r.get("rejected", 0),
                "oldest_open": r.get("oldest_open"),
                "open_ids": r.get("open_ids") or [],
            }
        )
    unrouted = counts.get("")
    if unrouted and unrouted.get("open"):
        out.append(
            {
                "community_code": "",
                "community_name": "未能定位到居委",
                **{k: unrouted.get(k) for k in ("open", "resolved", "rejected", "oldest_open")},
                "open_ids": unrouted.get("open_ids") or [],
            }
        )
    return out
