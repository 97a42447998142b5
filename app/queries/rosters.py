"""Rosters (花名册): a committee's households and their members, as the street's publication holds them."""

from __future__ import annotations

from app.queries import rows, text

PAGE_SIZE = 100


def households(
    cur, tables: frozenset[str], street_code: str, community_code: str, q: str = "", page: int = 1
) -> tuple[list[dict], int]:
    """(one page of the committee's households with member count and flags, total households)."""
    if "master.household" not in tables:
        return [], 0
    where = ["h.street_code = ?", "h.community_code = ?", "h.in_latest_delivery"]
    params: list = [street_code, community_code]
    has_members = "master.household_member" in tables
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        cond = "h.full_address like ? escape '\\'"
        params.append(like)
        if has_members:
            cond += """ or h.household_id in (select household_id from master.household_member
                        where name like ? escape '\\')"""
            params.append(like)
        where.append(f"({cond})")
    base = f"from master.household h where {' and '.join(where)}"
    total = rows(cur, f"select count(*) as n {base}", params)[0]["n"]
    page = max(1, int(page))
    # one page of households first; members and open findings only for those
    ctes = [
        f"""pg as (select h.household_id, h.street_code, h.full_address, h.member_count, h.in_address_library,
                          h.aid_certificate_no is not null as aided,
                          coalesce(h.has_elderly_alone, false) as elderly_alone
                   {base} order by h.full_address, h.household_id
                   limit {PAGE_SIZE} offset {(page - 1) * PAGE_SIZE})"""
    ]
    head, findings, joins = "null", "0", []
    if has_members:
        ctes.append(
            """heads as (select m.household_id, arg_min(m.name, case m.relation_to_head when '户主' then 0 else 1 end) as head
                         from master.household_member m
                         where m.delivery = (select max(delivery) from master.household_member)
                           and m.household_id in (select household_id from pg)
                         group by 1)"""
        )
        joins.append("left join heads using (household_id)")
        head = "heads.head"
    if "quality.finding" in tables and "master.person" in tables:
        ctes.append(
            """subjects as (select household_id, household_id as entity_id from pg
                            union all
                            select p.household_id, p.person_id from master.person p
                            where p.household_id in (select household_id from pg)),
               open_f as (select s.household_id, count(*) as n from subjects s
                          join quality.finding f on f.entity_id = s.entity_id and f.status = 'open'
                          group by 1)"""
        )
        joins.append("left join open_f using (household_id)")
        findings = "coalesce(open_f.n, 0)"
    found = rows(
        cur,
        f"""with {", ".join(ctes)}
            select pg.household_id, pg.full_address, pg.member_count, pg.in_address_library, pg.aided,
                   pg.elderly_alone, {head} as head, {findings} as open_findings
            from pg {" ".join(joins)}
            order by pg.full_address, pg.household_id""",
        params,
    )
    return found, total


def household(
    cur, tables: frozenset[str], household_id: str, street_code: str, community_code: str | None
) -> dict | None:
    """One household file (一户一档) with its members, if it is in the caller's street (and committee)."""
    if "master.household" not in tables or not household_id or len(household_id) > 32:
        return None
    where, params = ["household_id = ?", "street_code = ?"], [household_id, street_code]
    if community_code is not None:
        where.append("community_code = ?")
        params.append(community_code)
    found = rows(cur, f"select * from master.household where {' and '.join(where)}", params)
    if not found:
        return None
    h = found[0]
    members = []
    if "master.household_member" in tables and "master.person" in tables:
        members = rows(
            cur,
            """select p.person_id, p.name, m.relation_to_head, p.sex, p.birth_date, p.id_number, p.phone, p.status,
                      p.aid_certificate_no is not null as aided, coalesce(p.on_elderly_alone_list, false) as elderly_alone,
                      coalesce(p.is_graduate, false) as graduate
               from master.household_member m join master.person p on p.person_id = m.person_id
               where m.household_id = ? and m.delivery = (select max(delivery) from master.household_member)
               order by case m.relation_to_head when '户主' then 0 else 1 end, p.birth_date""",
            [household_id],
        )
    open_findings = []
    if "quality.finding" in tables:
        ids = [household_id] + [m["person_id"] for m in members]
        marks = ",".join("?" for _ in ids)
        open_findings = rows(
            cur,
            f"select finding_id, rule, field from quality.finding where status = 'open' and entity_id in ({marks})",
            ids,
        )
    return {**h, "members": members, "open_findings": open_findings}


def roster_rows(cur, tables: frozenset[str], street_code: str, community_code: str) -> list[dict]:
    """Every member of every household of the committee (the Excel roster)."""
    if not {"master.household", "master.household_member", "master.person"} <= tables:
        return []
    return rows(
        cur,
        """select h.household_id, h.full_address, h.member_count, p.name, m.relation_to_head, p.sex, p.birth_date,
                  p.id_number, p.phone, p.status
           from master.household h
           join master.household_member m on m.household_id = h.household_id
                and m.delivery = (select max(delivery) from master.household_member)
           join master.person p on p.person_id = m.person_id
           where h.street_code = ? and h.community_code = ? and h.in_latest_delivery
           order by h.full_address, h.household_id, case m.relation_to_head when '户主' then 0 else 1 end""",
        [street_code, community_code],
    )


ROSTER_HEADERS = [
    ("household_id", "户编号"),
    ("full_address", "居住地址"),
    ("member_count", "户内人数"),
    ("name", "姓名"),
    ("relation_to_head", "与户主关系"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("id_number", "身份证号"),
    ("phone", "联系电话"),
    ("status", "人员状态"),
]


def flags(member: dict) -> str:
    out = []
    if member.get("aided"):
        out.append("救助")
    if member.get("elderly_alone"):
        out.append("独居老人")
    if member.get("graduate"):
        out.append("毕业生")
    return "、".join(out)


__all__ = ["households", "household", "roster_rows", "ROSTER_HEADERS", "flags", "text"]
