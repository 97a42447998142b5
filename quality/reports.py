"""Monthly reports (多表合一): the forms a committee files every month, generated from master data.

One workbook per committee under `<db dir>/out/reports/<delivery>/<street name>/<code>_<name>_月报.xlsx`:
- 汇总: the counts of every sheet;
- 救助对象花名册: aid families (民政) living in the committee, with monthly amounts and totals per
  aid type (Excel formulas over the roster, so a change in the sheet recomputes);
- 独居老人花名册: persons on the elderly-living-alone list living in the committee, with age, the
  household's other residents and the latest electricity reading against its usual level;
- 沿街商铺花名册: the committee's street shops (一店一码) with licence status.
Families and persons are placed by where the hub resolved them to live (master.household), not by
the committee a department wrote. ID numbers and phones are masked (shared/domain.md).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_range

from normalize.dates import month_end, register_age_at
from normalize.vocabularies import vocabulary
from pipelines.settings import output_dir
from quality import cells
from quality.worklists import _account, _formats, _has_table, _print_setup, _safe, _txt, divisions
from quality.writing import (
    XLSX_OPTIONS,
    FileTask,
    FrameDigest,
    fingerprint,
    frame_digest,
    split_with_digests,
    write_files,
)
from quality.xlsx import Workbook
from sharing.masking import mask_id_number, mask_phone

AID_TYPES = list(vocabulary("aid_type"))
EXPIRING_DAYS = 30
POWER_DROP_RULE = "elderly_power_drop"  # dbt_project/models/quality/qc_electricity.sql


@dataclass
class ReportSummary:
    delivery: str
    folder: Path
    reports: int = 0
    aid_families: int = 0
    elderly: int = 0
    shops: int = 0
    files: list[Path] = field(default_factory=list)
    kept: int = 0  # reports whose data had not changed since they were written (not rewritten)
    failed: list[tuple[Path, str]] = field(default_factory=list)  # reports that could not be written, why


def aid_families(con, delivery: str) -> pd.DataFrame:
    """One row per aid certificate in the delivery, placed in the committee where most members live."""
    if not _has_table(con, "staging", "stg_civil_affairs_assistance"):
        return pd.DataFrame()
    return con.execute(
        """
        with rows as (
            select a.*, h.community_code as lives_in, h.full_address as lives_at,
                   row_number() over (partition by a.aid_certificate_no, a.name order by a.source_row) as name_seq,
                   count(*) over (partition by a.aid_certificate_no, h.full_address) as members_at,
                   count(*) over (partition by a.aid_certificate_no, h.community_code) as members_in
            from staging.stg_civil_affairs_assistance a
            left join master.person_xref x on x.source_file = a.source_file and x.source_row = a.source_row
                 and x.delivery = a.delivery
            left join master.person p on p.person_id = x.person_id
            left join master.household h on h.household_id = p.household_id
            where a.delivery = $d and a.aid_certificate_no is not null
        )
        -- the same values every time (the first row that has one, the members in the registry's
        -- order): an unchanged family gives an unchanged report, which is then not rewritten
        select aid_certificate_no,
               arg_min(aid_type, source_row) filter (where aid_type is not null) as aid_type,
               arg_min(head_name, source_row) filter (where head_name is not null) as head_name,
               arg_min(head_id_number, source_row) filter (where head_id_number is not null) as head_id_number,
               max(family_size) as family_size,
               count(distinct coalesce(id_number, name)) as members_listed,
               string_agg(name, '、' order by source_row) filter (where name_seq = 1) as member_names,
               max(monthly_amount) as monthly_amount,
               arg_min(family_address_raw, source_row) filter (where family_address_raw is not null) as family_address,
               -- the committee where most members live, a tie to the first listed (mode() would
               -- break it by thread scheduling: the family would change committee from run to run),
               -- and the address most of them share in that committee
               arg_min(lives_at, [-members_in, -members_at, source_row]) filter (where lives_at is not null) as lives_at,
               arg_min(lives_in, [-members_in, source_row]) filter (where lives_in is not null) as community_code,
               min(aid_since) as aid_since
        from rows group by aid_certificate_no
        order by aid_type, aid_certificate_no
        """,
        {"d": delivery},
    ).df()


def elderly_alone(con, delivery: str) -> pd.DataFrame:
    usage = ""
    if _has_table(con, "staging", "stg_utility_electricity"):
        usage = """
        , readings as (
            select account_no, reading_month, kwh from staging.stg_utility_electricity where delivery = $d
        ),
        per_household as (
            select h.household_id, r.reading_month, sum(r.kwh) as kwh
            from master.household h, unnest(string_split(h.electricity_accounts, ',')) as t(account_no)
            join readings r on r.account_no = t.account_no
            group by all
        ),
        usage as (
            select household_id, arg_max(kwh, reading_month) as latest_kwh, max(reading_month) as latest_month,
                   median(kwh) as median_kwh
            from per_household group by household_id
        )"""
    # the power drop is the quality rule's (qc_electricity.sql, POWER_DROP_RULE), as the streets'
    # worklists report it for the delivery, unless a street found it untrue: never judged here again
    power_drop = (
        f"""h.household_id in (select entity_id from quality.finding_history
                               where delivery = $d and rule = '{POWER_DROP_RULE}' and status <> 'rejected')"""
        if _has_table(con, "quality", "finding_history")
        else "false"
    )
    query = f"""
        with base as (select 1){usage}
        select h.community_code, p.person_id, p.name, p.sex, p.birth_date,
               age_at(p.birth_date, $end) as age,
               h.full_address, p.phone, p.status, greatest(h.member_count - 1, 0) as others_in_dwelling
               {", u.latest_month, u.latest_kwh, u.median_kwh" if usage else ", null as latest_month, null as latest_kwh, null as median_kwh"},
               coalesce({power_drop}, false) as power_drop
        from master.person p
        left join master.household h on h.household_id = p.household_id
        {"left join usage u on u.household_id = p.household_id" if usage else ""}
        where p.on_elderly_alone_list and p.in_latest_delivery
        order by h.full_address, p.name
        """
    params = {"d": delivery, "end": month_end(delivery)} if "$d" in query else {"end": month_end(delivery)}
    register_age_at(con)
    return con.execute(query, params).df()


def shops(con, delivery: str) -> pd.DataFrame:
    if not _has_table(con, "master", "shop"):
        return pd.DataFrame()
    df = con.execute("select * from master.shop where in_latest_delivery order by full_address, shop_code").df()
    end = month_end(delivery)

    df["licence_status"] = (
        [licence_status(n, u, end) for n, u in zip(df["licence_no"], df["licence_valid_until"])] if len(df) else []
    )
    return df


def licence_status(licence_no: object, valid_until: object, end: _dt.date) -> str:
    """The licence's state at the end of the report month (any value of either cell is accepted)."""
    try:
        stamp = None if cells.is_missing(valid_until) else pd.Timestamp(valid_until)
        until = None if stamp is None or cells.is_missing(stamp) else stamp.date()
    except (TypeError, ValueError, OverflowError):
        until = None
    if not cells.text(licence_no).strip():
        return "有效期待核" if cells.text(valid_until).strip() else "无食品经营许可"
    if until is None:
        return "有效期不详"
    if until < end:
        return "已过期"
    if (until - end).days <= EXPIRING_DAYS:
        return "即将到期"
    return "有效"


def _total(frame: pd.DataFrame, column: str) -> float:
    """Sum of a column's numbers (text that is not a number and missing cells count 0)."""
    if not len(frame) or column not in frame:
        return 0.0
    total = float(sum(n for n in (cells.number(v) for v in frame[column]) if n is not None))
    return total if math.isfinite(total) else math.nan  # absurd cells can overflow: #NUM! in the sheet


def _whole(total: float) -> float | int:
    """A count's total as a whole number (NaN, an overflowed total, stays NaN: written as #NUM!)."""
    return int(total) if math.isfinite(total) else total


def _power_drop(flag: object) -> bool:
    """The elderly_power_drop finding holds for the person's home (a true boolean, nothing else)."""
    return isinstance(flag, (bool, np.bool_)) and bool(flag)


def _write_table(ws, fmt, top: int, columns: list[tuple[str, int]], rows: list[list], numeric: set[int] = frozenset()):
    for c, (name, width) in enumerate(columns):
        ws.write_string(top, c, name, fmt["head_locked"])
        ws.set_column(c, c, width)
    for r, values in enumerate(rows, start=top + 1):
        for c, v in enumerate(values):
            n = cells.number(v) if c in numeric else None
            if n is not None:
                ws.write_number(r, c, n, fmt["num"])
            else:
                ws.write_string(r, c, _txt(v), fmt["text"])
    return top + len(rows)


def build_report(
    path: Path, title: str, delivery: str, aid: pd.DataFrame, elderly: pd.DataFrame, shop: pd.DataFrame
) -> None:

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(str(path), XLSX_OPTIONS)
    fmt = _formats(wb)
    money = wb.add_format({"border": 1, "num_format": "#,##0.00"})
    bold_money = wb.add_format({"border": 1, "bold": True, "num_format": "#,##0.00"})
    bold = wb.add_format({"border": 1, "bold": True})

    summary = wb.add_worksheet("汇总")
    summary.write(0, 0, f"{title}（{delivery}）", fmt["title"])
    summary.write(
        1,
        0,
        f"由数据中心根据各部门数据自动生成，{_dt.date.today().isoformat()}；如有出入请在核实清单中反馈。",
        fmt["hint"],
    )

    # --- 救助对象花名册 ---
    ws = wb.add_worksheet("救助对象花名册")
    ws.write(0, 0, f"{title} 救助对象花名册（{delivery}）", fmt["title"])
    cols = [
        ("救助证编号", 18),
        ("救助类型", 8),
        ("户主姓名", 10),
        ("户主身份证号", 20),
        ("家庭人口数", 8),
        ("名单成员数", 8),
        ("成员", 24),
        ("月救助金额(元)", 12),
        ("家庭地址(民政)", 30),
        ("实际居住地址", 30),
        ("起始年月", 9),
    ]
    rows = [
        [
            r.aid_certificate_no,
            r.aid_type,
            r.head_name,
            mask_id_number(_txt(r.head_id_number)),
            r.family_size,
            r.members_listed,
            r.member_names,
            r.monthly_amount,
            r.family_address,
            r.lives_at,
            r.aid_since,
        ]
        for r in cells.rows(aid)
    ]
    top = 2
    last = _write_table(ws, fmt, top, cols, rows, numeric={4, 5})
    for r, values in enumerate(rows, start=top + 1):
        v = cells.number(values[7])
        if v is not None:
            ws.write_number(r, 7, v, money)
    first_data, last_data = top + 1, max(last, top + 1)
    type_range, amount_range = xl_range(first_data, 1, last_data, 1), xl_range(first_data, 7, last_data, 7)
    size_range = xl_range(first_data, 4, last_data, 4)
    t = last + 2
    ws.write_string(t, 0, "按救助类型合计", bold)
    for c, name in enumerate(["救助类型", "户数", "人数(家庭人口数)", "月救助金额合计(元)"]):
        ws.write_string(t + 1, c, name, fmt["head_locked"])
    aid_type = aid.aid_type.map(_txt) if len(aid) else pd.Series(dtype=object)
    types = AID_TYPES + sorted(set(aid_type) - set(AID_TYPES) - {""})
    for i, ty in enumerate(types, start=t + 2):
        sub = aid[(aid_type == ty).to_numpy()] if len(aid) else aid
        ws.write_string(i, 0, ty, fmt["text"])
        ws.write_formula(i, 1, f'=COUNTIF({type_range},"{ty}")', fmt["num"], len(sub))
        ws.write_formula(
            i,
            2,
            f'=SUMIF({type_range},"{ty}",{size_range})',
            fmt["num"],
            _whole(_total(sub, "family_size")),
        )
        ws.write_formula(
            i,
            3,
            f'=SUMIF({type_range},"{ty}",{amount_range})',
            money,
            _total(sub, "monthly_amount"),
        )
    end = t + 2 + len(types)
    ws.write_string(end, 0, "合计", bold)
    ws.write_formula(end, 1, f"=SUM(B{t + 3}:B{end})", bold, len(aid))
    ws.write_formula(end, 2, f"=SUM(C{t + 3}:C{end})", bold, _whole(_total(aid, "family_size")))
    ws.write_formula(end, 3, f"=SUM(D{t + 3}:D{end})", bold_money, _total(aid, "monthly_amount"))
    ws.freeze_panes(top + 1, 1)
    _print_setup(ws, top, end, len(cols))

    # --- 独居老人花名册 ---
    ws = wb.add_worksheet("独居老人花名册")
    ws.write(0, 0, f"{title} 独居老人花名册（{delivery}）", fmt["title"])
    cols = [
        ("姓名", 10),
        ("性别", 6),
        ("出生日期", 12),
        ("年龄", 6),
        ("居住地址", 34),
        ("联系电话", 14),
        ("人员状态", 8),
        ("同住人数", 8),
        ("最近抄表月份", 10),
        ("最近月用电量(kWh)", 12),
        ("平时月用电量(kWh)", 12),
        ("提示", 24),
    ]
    rows = []
    for r in cells.rows(elderly):
        notes = []
        status = _txt(r.status)
        if status and status != "正常":
            notes.append(f"公安登记为{status}")
        others = cells.number(r.others_in_dwelling)
        if others and others > 0:
            notes.append(f"另有{int(others)}人同住")
        if _power_drop(r.power_drop):
            notes.append("用电量骤降，请上门探视")
        median = cells.number(r.median_kwh)
        rows.append(
            [
                r.name,
                r.sex,
                r.birth_date,
                r.age,
                r.full_address,
                mask_phone(_txt(r.phone)),
                r.status,
                r.others_in_dwelling,
                r.latest_month,
                r.latest_kwh,
                None if median is None else round(median, 1),
                "；".join(notes),
            ]
        )
    last = _write_table(ws, fmt, 2, cols, rows, numeric={3, 7, 9, 10})
    ws.freeze_panes(3, 1)
    _print_setup(ws, 2, last, len(cols))

    # --- 沿街商铺花名册 ---
    ws = wb.add_worksheet("沿街商铺花名册")
    ws.write(0, 0, f"{title} 沿街商铺花名册（{delivery}）", fmt["title"])
    cols = [
        ("一店一码", 13),
        ("店招名称", 16),
        ("登记名称", 24),
        ("统一社会信用代码", 20),
        ("经营地址", 30),
        ("经营状态", 8),
        ("登记状态", 8),
        ("食品经营许可证", 18),
        ("有效期至", 12),
        ("许可状态", 10),
        ("走访次数", 8),
        ("最近走访", 12),
        ("最近检查结果", 10),
    ]
    rows = (
        [
            [
                r.shop_code,
                r.name,
                r.registered_name,
                r.uscc,
                r.full_address,
                r.status,
                r.registration_status,
                r.licence_no,
                r.licence_valid_until,
                r.licence_status,
                r.visit_count,
                r.last_visit_date,
                r.last_inspection_result,
            ]
            for r in cells.rows(shop)
        ]
        if len(shop)
        else []
    )
    last = _write_table(ws, fmt, 2, cols, rows, numeric={10})
    ws.freeze_panes(3, 2)
    _print_setup(ws, 2, last, len(cols))

    # --- 汇总 ---
    lines = [
        ("救助家庭（户）", len(aid)),
        ("救助人数（家庭人口数合计）", _whole(_total(aid, "family_size"))),
        ("月救助金额合计（元）", _total(aid, "monthly_amount")),
        ("独居老人（人）", len(elderly)),
        ("独居老人中需关注（状态异常/有同住/用电骤降）", sum(1 for r in rows_elderly_flags(elderly))),
        ("沿街商铺（家）", len(shop)),
        ("许可证已过期", sum(_txt(v) == "已过期" for v in shop.licence_status) if len(shop) else 0),
        ("许可证即将到期（30天内）", sum(_txt(v) == "即将到期" for v in shop.licence_status) if len(shop) else 0),
    ]
    summary.set_column(0, 0, 44)
    summary.set_column(1, 1, 16)
    for i, (label, value) in enumerate(lines, start=3):
        summary.write_string(i, 0, label, fmt["text"])
        summary.write_number(i, 1, value, money if isinstance(value, float) else fmt["num"])
    summary.activate()
    wb.close()


def rows_elderly_flags(elderly: pd.DataFrame):
    for r in cells.rows(elderly):
        status = _txt(r.status)
        if (status and status != "正常") or (cells.number(r.others_in_dwelling) or 0) > 0:
            yield r
        elif _power_drop(r.power_drop):
            yield r


def report_root(db_path: str | Path) -> Path:
    return output_dir(db_path) / "reports"


def _by_committee(frame: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], dict[str, FrameDigest], pd.DataFrame]:
    """The frame's rows per committee code (each in the frame's order, index reset), in one pass over
    the frame instead of one per committee, with each part's digest for `fingerprint` (the rows hashed
    once); and the empty frame a committee without rows gets."""
    empty = frame.iloc[0:0] if len(frame.columns) else frame
    if not len(frame):
        return {}, {}, empty
    codes = frame.community_code.astype(object)
    keep = codes.map(lambda c: isinstance(c, str)).to_numpy(dtype=bool)
    parts, digests = split_with_digests(frame[keep], codes[keep].to_numpy())
    return parts, digests, empty


def write_monthly_reports(con, out_root: Path, delivery: str) -> ReportSummary:
    """One report workbook per committee that has aid families, elderly people living alone or shops.

    Written by quality.writing: on every core when there is much to write, one committee's failure
    reported without stopping the others, a report whose data is unchanged kept as it is."""
    folder = Path(out_root) / delivery
    summary = ReportSummary(delivery=delivery, folder=folder)
    div = divisions(con).drop_duplicates("community_code").set_index("community_code")
    aid, elderly, shop = aid_families(con, delivery), elderly_alone(con, delivery), shops(con, delivery)
    codes = set()
    for frame in (aid, elderly, shop):
        if len(frame):
            codes |= {c for c in frame.community_code.dropna() if isinstance(c, str)}
    tasks = []
    split = [_by_committee(df) for df in (aid, elderly, shop)]
    empty_digests = [frame_digest(empty) for _, _, empty in split]
    names = div[["street_name", "community_name"]].to_dict("index")  # one lookup a committee, not .loc
    for code in sorted(c for c in codes if c in div.index):
        street_name, community_name = names[code]["street_name"], names[code]["community_name"]
        a, e, s = (parts.get(code, empty) for parts, _, empty in split)
        digests = (d.get(code, none) for (_, d, _), none in zip(split, empty_digests, strict=True))
        path = folder / _safe(street_name) / f"{code}_{_safe(community_name)}_月报.xlsx"
        title = f"{street_name} {community_name}"
        fp = fingerprint("monthly_report", title, delivery, *digests)
        tasks.append(FileTask(path, build_report, (title, delivery, a, e, s), fp, len(a) + len(e) + len(s)))
        summary.reports += 1
        summary.aid_families += len(a)
        summary.elderly += len(e)
        summary.shops += len(s)
    _account(summary, write_files(folder, tasks))
    return summary
