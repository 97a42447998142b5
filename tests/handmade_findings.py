"""A small hand-made quality.finding table (contract columns) built from a hub database's master
data, so worklists and corrections can be tested whatever rules the findings step implements."""

from __future__ import annotations

from quality.findings import ensure_tables


def add_handmade_findings(con, delivery: str, per_rule: int = 6) -> int:
    """Insert findings for persons (birth date, sex, ID number), households (member count) and shops
    (licence date), spread over committees; returns how many were added."""
    ensure_tables(con)  # the contract table, as the findings step creates it
    before = con.execute("select count(*) from quality.finding").fetchall()[0][0]
    con.execute(
        f"""
        insert into quality.finding
        with persons as (
            select p.*, h.street_code, h.community_code,
                   row_number() over (partition by h.community_code order by p.person_id) as k
            from master.person p join master.household h using (household_id)
            where p.in_latest_delivery and h.community_code is not null and p.id_number_valid
        ),
        picked as (select * from persons where k <= 2 order by community_code, person_id limit {per_rule * 3})
        select 'FT' || upper(substr(md5('birth' || person_id), 1, 12)), 'id_birth_date_mismatch', 'medium',
               'person', person_id, 'police_population', '{delivery}/police_population.csv', 1,
               street_code, community_code, '出生日期', strftime(birth_date, '%Y-%m-%d'),
               strftime(birth_date + interval 1 day, '%Y-%m-%d'), '出生日期与身份证号不一致', 'open', '{delivery}', '{delivery}'
        from picked
        union all
        select 'FT' || upper(substr(md5('id' || person_id), 1, 12)), 'id_number_invalid', 'high',
               'person', person_id, 'police_population', '{delivery}/police_population.csv', 2,
               street_code, community_code, '公民身份号码', id_number, null, '身份证号校验位不正确，请核对证件',
               'open', '{delivery}', '{delivery}'
        from picked
        union all
        select 'FT' || upper(substr(md5('hh' || household_id), 1, 12)), 'aid_family_size_mismatch', 'medium',
               'household', household_id, 'civil_affairs_assistance', '{delivery}/civil_affairs_assistance.xlsx', 3,
               street_code, community_code, 'member_count', member_count::varchar, null, '家庭人口数与成员人数不符',
               'open', '{delivery}', '{delivery}'
        from (select * from master.household where in_latest_delivery and community_code is not null
              order by household_id limit {per_rule})
        union all
        select 'FT' || upper(substr(md5('shop' || shop_code), 1, 12)), 'licence_expired_operating', 'high',
               'shop', shop_code, 'market_food_licence', '{delivery}/market_food_licence.xlsx', 4,
               street_code, community_code, '有效期至', strftime(licence_valid_until, '%Y-%m-%d'), null,
               '许可证已过期但仍在经营', 'open', '{delivery}', '{delivery}'
        from (select * from master.shop where licence_valid_until is not null and community_code is not null
              order by shop_code limit {per_rule})
        """
    )
    return con.execute("select count(*) from quality.finding").fetchall()[0][0] - before
