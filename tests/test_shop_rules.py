"""Shop resolution rules (matching/shops.py) on hand-made records: which shop each record joins, and why."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from matching.shops import cluster_shops

COLUMNS = [
    "record_key", "source", "uscc", "uscc_check_ok", "name", "name_core", "person_name", "person_name_key",
    "premises_key", "address_id", "upper_floor_office", "event_date", "established_on", "registration_status",
    "inspection_result", "account_no", "previous_uscc", "reading_month",
]  # fmt: skip


def rec(key, source, premises=None, **kw) -> dict:
    row = dict.fromkeys(COLUMNS)
    row.update(record_key=key, source=source, premises_key=premises, upper_floor_office=False)
    if premises:
        row["address_id"] = premises.split("#")[0]
    row.update(kw)
    return row


def clusters(rows) -> dict[str, tuple[str, str]]:
    out = cluster_shops(pd.DataFrame(rows, columns=COLUMNS))
    return {r.record_key: (r.cluster_key, r.match_rule) for r in out.itertuples()}


def registered(key, uscc, name, core, rep, premises, established="2018-01-01", status="存续", approved=None):
    return rec(
        key, "market_business_registry", premises, uscc=uscc, name=name, name_core=core, person_name=rep,
        person_name_key=rep, established_on=dt.date.fromisoformat(established), registration_status=status,
        event_date=dt.date.fromisoformat(approved or established),
    )  # fmt: skip


def visit(key, premises, sign, contact, day, result="合格"):
    return rec(
        key, "street_shop_visits", premises, name=sign, name_core=sign, person_name=contact,
        person_name_key=contact, event_date=dt.date.fromisoformat(day), inspection_result=result,
    )  # fmt: skip


def test_a_licence_without_a_credit_code_joins_the_entity_with_its_name_representative_and_address():
    got = clusters(
        [
            registered("r1", "92310106MA0000001X", "上海市静安区明珠花店", "明珠花店", "周敏", "A100#"),
            registered("r2", "92310106MA0000002X", "上海市静安区明珠文具店", "明珠文具店", "吴刚", "A102#"),
            rec(
                "l1",
                "market_food_licence",
                "A100#",
                name="明珠花店",
                name_core="明珠花店",
                person_name="周敏",
                person_name_key="周敏",
            ),  # fmt: skip
        ]
    )
    assert got["l1"] == (got["r1"][0], "licence_name_rep_address")


def test_a_visit_by_a_shop_assistant_joins_by_sign_or_as_the_only_business_operating_there():
    got = clusters(
        [
            registered("r1", "92310106MA0000001X", "上海市静安区明珠花店", "明珠花店", "周敏", "A100#"),
            registered("r2", "92310106MA0000002X", "上海市静安区吉祥超市", "吉祥超市", "吴刚", "A102#"),
            visit("v1", "A100#", "明珠花店", "小王", "2026-09-12"),
            visit("v2", "A102#", "永丰超市", "小李", "2026-09-15"),
            visit("v3", "A104#", "老陈面馆", "陈大勇", "2026-09-18"),
        ]
    )
    assert got["v1"] == (got["r1"][0], "visit_sign_matches_name")
    assert got["v2"] == (got["r2"][0], "visit_only_shop_at_premises")
    assert got["v3"][1] == "unregistered_new" and got["v3"][0] not in {got["r1"][0], got["r2"][0]}


def test_a_visit_after_the_business_closed_or_before_it_was_founded_is_not_its():
    got = clusters(
        [
            registered("r1", "92310106MA0000001X", "上海市静安区老张面馆", "老张面馆", "张强", "A100#", "2015-01-01"),
            visit("v0", "A100#", "老张面馆", "张强", "2026-03-01"),
            visit("v1", "A100#", "老张面馆", "小刘", "2026-04-02", result="已停业"),
            visit("v2", "A100#", "便民水果", "王芳", "2026-08-10"),  # someone else trades there now
            registered(
                "r2", "92310106MA0000003X", "上海市静安区新开奶茶店", "新开奶茶店", "赵丽", "A102#", "2026-09-01"
            ),
            visit("v3", "A102#", "奶茶", "小赵", "2026-06-01"),  # before the business was founded
        ]
    )
    assert got["v1"][0] == got["r1"][0]  # the visit that found it closed is still about it
    assert got["v2"][1] == "unregistered_new"
    assert got["v3"][1] == "unregistered_new"


def test_a_successor_under_another_sign_is_not_the_business_the_street_knows_there():
    # the registered phone shop trades as 海棠数码店; it closed without deregistering, and a bun shop
    # (registered nowhere) opened in the unit: another sign, another contact
    got = clusters(
        [
            registered("r1", "92310106MA0000001X", "静安区沁园手机店", "沁园手机店", "朱斌", "A100#"),
            visit("v1", "A100#", "海棠数码店", "郭可语", "2026-06-03"),
            visit("v2", "A100#", "海棠数码店", "朱斌", "2026-08-25"),
            visit("v3", "A100#", "沁园手机", "小孙", "2026-09-01"),  # the licence's name copied: still it
            visit("v4", "A100#", "巴比馒头", "傅艳", "2026-10-22"),
        ]
    )
    assert got["v1"] == (got["r1"][0], "visit_only_shop_at_premises")
    assert got["v3"][0] == got["r1"][0]
    assert got["v4"][1] == "unregistered_new" and got["v4"][0] != got["r1"][0]
    # never seen under a street sign of its own: a new sign is still the one business there
    got = clusters(
        [
            registered("r1", "92310106MA0000001X", "静安区沁园手机店", "沁园手机店", "朱斌", "A100#"),
            visit("v1", "A100#", "沁园手机店", "郭可语", "2026-06-03"),
            visit("v2", "A100#", "海棠数码店", "小孙", "2026-10-22"),
        ]
    )
    assert got["v2"] == (got["r1"][0], "visit_only_shop_at_premises")


def test_a_mall_visit_without_its_unit_joins_the_business_its_sign_was_seen_under():
    got = clusters(
        [
            registered("r1", "92310106MA0000001X", "上海市静安区海纳洗衣店", "海纳洗衣店", "梁华", "M47#103室"),
            registered("r2", "92310106MA0000002X", "上海市静安区致远便利店", "致远便利店", "杨芳", "M47#202室"),
            visit("v1", "M47#", "老王修鞋铺", "赵浩", "2026-10-05"),  # staff, the unit left out
            visit("v2", "M47#103室", "老王修鞋铺", "梁华", "2026-09-01"),  # the owner, with the unit
            visit("v3", "M47#", "明亮眼镜", "钱多", "2026-10-06"),  # a sign nobody in the mall was seen under
        ]
    )
    assert got["v2"] == (got["r1"][0], "visit_contact_is_legal_rep")
    assert got["v1"] == (got["r1"][0], "visit_sign_matches_name")
    assert got["v3"][1] == "unregistered_new"


def test_a_mall_visit_that_lost_its_unit_this_month_stays_with_last_months_business():
    """Seen on 9103 field x2: the street's register re-exports its visits every month; in November three
    visits of 兴旺数码店 (a sign, not the registered 锦程数码店) came without their unit 1层B02铺, which
    October's copies had, and became an "unregistered" shop. Last month's copy of the same visit (same
    day, visitor, contact, building) was the B02 business's: it stays so. Without that, it is not."""
    r1 = registered("r1", "92310106MA0000001X", "上海市静安区锦程数码店", "锦程数码店", "马飞", "M30#1层B02铺")
    r2 = registered("r2", "92310106MA0000002X", "上海市静安区致远便利店", "致远便利店", "杨芳", "M30#1层B03铺")
    v1 = visit("v1", "M30#", "兴旺数码", "董馨依", "2026-06-10")  # staff, the unit left out
    v2 = visit("v2", "M30#", "明亮眼镜", "钱多", "2026-10-06")  # nobody's last month
    got = clusters([r1, r2, v1, v2])
    assert got["v1"][1] == "unregistered_new"
    got = clusters([r1, r2, {**v1, "previous_uscc": "92310106MA0000001X"}, v2])
    assert got["v1"] == (got["r1"][0], "visit_same_as_last_month")
    assert got["v2"][1] == "unregistered_new"
    # a business last month's copy named that is not in the building now says nothing
    got = clusters([r1, r2, {**v1, "previous_uscc": "92310106MA0000009X"}, v2])
    assert got["v1"][1] == "unregistered_new"


def test_a_meter_at_premises_only_the_registry_knows_joins_by_the_representatives_name():
    got = clusters(
        [
            registered("r1", "92310106XY0000003X", "上海市静安区鑫源五金店", "鑫源五金店", "冯涛", "A106#"),
            rec(
                "e1",
                "utility_electricity",
                "A106#",
                name="冯涛",
                name_core="冯涛",
                person_name="冯涛",
                person_name_key="冯涛",
                account_no="3100099005",
            ),  # fmt: skip
        ]
    )
    assert got["e1"] == (got["r1"][0], "meter_name_matches_shop")


def test_a_shop_trading_after_deregistration_keeps_its_visits():
    """Deregistered on paper, still open: the visits must land on it for deregistered_operating."""
    got = clusters(
        [
            registered(
                "r1",
                "92310106MA0000001X",
                "上海市静安区聚福生鲜店",
                "聚福生鲜店",
                "顾磊",
                "A47#",
                "2016-08-22",
                status="注销",
                approved="2024-02-21",
            ),  # fmt: skip
            visit("v1", "A47#", "聚福生鲜店", "姜佳", "2026-10-07"),  # staff; the sign is its name
            visit("v2", "A47#", "弄口熟食", "韩睿", "2026-11-01"),  # staff; the sign says nothing
        ]
    )
    assert got["v1"] == (got["r1"][0], "visit_sign_matches_name")
    assert got["v2"] == (got["r1"][0], "visit_only_shop_at_premises_deregistered")


def meter_readings(key, premises, holder, account, months):
    return [
        rec(
            f"{key}{i}",
            "utility_electricity",
            premises,
            name=holder,
            name_core=holder,
            person_name=holder,
            person_name_key=holder,
            account_no=account,
            reading_month=m,
        )  # fmt: skip
        for i, m in enumerate(months)
    ]


def test_a_successor_at_a_deregistered_shops_premises_is_a_shop_of_its_own():
    """友谊水果店 (张瑾) was deregistered on 2025-12-13; from 2026-02 a new electricity account at its
    premises, in the name of 姚雨婉 (neither the representative nor the business), reads a shop's
    power, and the street visits a 百果园 there with assistants and 姚雨婉 as contacts. That is a
    successor (unregistered), not 友谊水果店 trading on: no visit lands on the deregistered shop (it
    would be a false deregistered_operating and a missed unregistered_operating). 聚福生鲜店's meter,
    in its representative's name and read since the export's first month, keeps its visits."""
    months = ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
    got = clusters(
        [
            registered(
                "r1",
                "92310106MA0000001X",
                "上海市静安区友谊水果店",
                "友谊水果店",
                "张瑾",
                "A40#",
                "2024-03-23",
                status="注销",
                approved="2025-12-13",
            ),  # fmt: skip
            visit("v1", "A40#", "百果园", "邓航瑞", "2026-02-26"),
            visit("v2", "A40#", "百果园（山海关路店）", "姚雨婉", "2026-03-11"),
            *meter_readings("e", "A40#", "姚雨婉", "3161710212", months[3:]),
            registered(
                "r2",
                "92310106MA0000002X",
                "上海市静安区聚福生鲜店",
                "聚福生鲜店",
                "顾磊",
                "A47#",
                "2016-08-22",
                status="注销",
                approved="2025-12-21",
            ),  # fmt: skip
            visit("w1", "A47#", "弄口熟食", "韩睿", "2026-03-01"),
            *meter_readings("f", "A47#", "顾磊", "3149352190", months),
            # the export's window starts in 2025-11 for every meter
            *meter_readings("g", "A90#", "陈静", "3100000001", months[:1]),
        ]
    )
    assert got["v1"][1] == "unregistered_new" and got["v1"][0] != got["r1"][0]
    assert got["v2"] == (got["v1"][0], "unregistered_same_sign")
    assert got["e0"] == (got["v1"][0], "meter_name_matches_shop")
    assert got["w1"] == (got["r2"][0], "visit_only_shop_at_premises_deregistered")


def test_a_visit_finding_the_premises_closed_after_a_deregistration_is_about_the_deregistered_shop():
    """友谊童装店 was deregistered on 2025-12-09 and a new business (美佳糕团店) registered at its premises
    on 2025-12-03. A visit on 2025-12-11 finds the old sign (梧桐鞋店) closed: that is the deregistered
    shop, not the newcomer; the newcomer's later visits under its own sign (德顺点心店, staff as
    contacts) are the newcomer's, and none lands on the deregistered shop (no false
    deregistered_operating)."""
    got = clusters(
        [
            registered(
                "old", "92310106TWQMP6M860", "上海市静安区友谊童装店", "友谊童装店", "刘睿", "A47#",
                "2022-07-04", status="注销", approved="2025-12-09",
            ),
            registered(
                "new", "92310106BFU93PNBBN", "上海市静安区美佳糕团店", "美佳糕团店", "金霞", "A47#", "2025-12-03",
            ),
            visit("v0", "A47#", "梧桐鞋店", "龚彦煜", "2025-12-11", result="已停业"),
            visit("v1", "A47#", "德顺点心店", "石语思", "2026-04-24"),
            visit("v2", "A47#", "德顺点心店武定店", "区若语", "2026-07-18"),
        ]
    )  # fmt: skip
    assert got["v0"] == (got["old"][0], "visit_found_closed_deregistered_shop")
    assert got["v1"][0] == got["new"][0] and got["v2"][0] == got["new"][0]


def test_a_sign_guessed_among_several_businesses_does_not_make_the_newcomers_own_visits_another_shop():
    """Two businesses on paper at 闻喜路13号: 洁丽电脑维修 (since 2024, deregistered 2026-08-10) and
    梧桐食品店 (registered 2026-07-05). A visit on 07-18 (老张手机店, staff) is given to the newest by
    elimination, a guess; 洁丽电脑维修 is found closed on 08-11. The visits of 阿陆食品店 from 08-31 (staff
    again) are the one business left's, not an unregistered shop of their own."""
    got = clusters(
        [
            registered(
                "old", "92310106FMGKM65ECC", "静安区洁丽电脑维修", "洁丽电脑维修", "姚刚", "A13#", "2024-06-03",
                status="注销", approved="2026-08-10",
            ),
            registered("new", "92310106MG434FPR2J", "上海市静安区梧桐食品店", "梧桐食品店", "钱馨嘉", "A13#", "2026-07-05"),
            visit("v0", "A13#", "老张手机店", "卢梓妍", "2026-07-18"),
            visit("v1", "A13#", "洁丽电脑维修", "金航瑞", "2026-08-11", result="已停业"),
            visit("v2", "A13#", "阿陆食品店", "钱语馨", "2026-08-31"),
            visit("v3", "A13#", "阿陆食品店", "袁涵宇", "2026-09-26"),
        ]
    )  # fmt: skip
    assert got["v1"][0] == got["old"][0]
    assert got["v2"] == (got["new"][0], "visit_only_shop_at_premises")
    assert got["v3"][0] == got["new"][0]  # (by now the street's sign for it)


def meter(key, premises, holder, account, month):
    return rec(
        key, "utility_electricity", premises, name=holder, name_core=holder, person_name=holder,
        person_name_key=holder, account_no=account, reading_month=month,
    )  # fmt: skip


def test_a_meter_nobody_names_at_premises_of_a_closed_shop_and_its_successor_is_the_one_trading_when_read():
    """协和路26号: 老周饭店 (deregistered in August) and its successor 老陈配钥匙 (founded in September);
    an account in a third name read in September and October drew the successor's power. 淞虹路63号:
    明星灯具店 (deregistered in December 2025) and 海棠生煎馆 (founded in November 2026); an account
    read in November and December 2025 was the lamp shop's. (Not by the credit codes' order.)"""
    got = clusters(
        [
            registered("r1", "92310105ZZ0000001X", "上海市长宁区晟鑫面馆", "晟鑫面馆", "周强", "X26#",
                       established="2025-11-01", status="注销", approved="2026-08-20"),
            registered("r2", "91310105AA0000002X", "上海云启生活服务有限公司", "云启生活服务", "陈兵", "X26#",
                       established="2026-09-05"),
            meter("e1", "X26#", "王海", "3100000001", "2026-09"),
            meter("e2", "X26#", "王海", "3100000001", "2026-10"),
            registered("r3", "91310105AA0000003X", "上海德瑞五金交电有限公司", "德瑞五金交电", "刘明", "X63#",
                       established="2020-03-01", status="注销", approved="2025-12-15"),
            registered("r4", "92310105ZZ0000004X", "长宁区恒悦生煎馆", "恒悦生煎馆", "赵云", "X63#",
                       established="2026-11-02"),
            meter("e3", "X63#", "孙丽", "3100000002", "2025-11"),
            meter("e4", "X63#", "孙丽", "3100000002", "2025-12"),
        ]
    )  # fmt: skip
    assert got["e1"] == got["e2"] == (got["r2"][0], "meter_premises_ambiguous")
    assert got["e3"] == got["e4"] == (got["r3"][0], "meter_premises_ambiguous")


def test_a_deregistration_the_registry_gives_no_date_for_has_ended_by_any_day():
    """At 江苏路5号: 福康药房 (注销, the registry's 核准日期 blank) and 万家便利店 (存续, since 2020). A visit
    by staff under another sign is the one business trading there; a visit finding the premises
    closed is about the deregistered one; an account in a third name is the business still
    registered (the deregistered one ended, when is not known)."""
    old = registered(
        "old", "92310105ZZ0000005X", "上海市长宁区福康药房", "福康药房", "何平", "X5#", "2019-04-01", status="注销"
    )
    old["event_date"] = None
    got = clusters(
        [
            old,
            registered("new", "92310105ZZ0000006X", "上海市长宁区万家便利店", "万家便利店", "林芳", "X5#", "2020-05-01"),
            visit("v1", "X5#", "好邻居", "小赵", "2026-03-01"),
            visit("v2", "X5#", "老街面馆", "小钱", "2026-05-01", result="已停业"),
            meter("e1", "X5#", "郑强", "3100000005", "2026-09"),
        ]
    )  # fmt: skip
    assert got["v1"] == (got["new"][0], "visit_only_shop_at_premises")
    assert got["v2"] == (got["old"][0], "visit_found_closed_deregistered_shop")
    assert got["e1"] == (got["new"][0], "meter_premises_ambiguous")
