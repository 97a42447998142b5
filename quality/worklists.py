"""Worklists (核实清单) and corrected rosters (花名册) for the neighbourhood committees.

Per delivery, under `<db dir>/out/worklists/<delivery>/<street name>/`:
- `<committee code>_<committee name>.xlsx`: one row per open finding of the committee with the
  evidence side by side (locked), the columns the committee fills in (核实结果 with a dropdown,
  正确值, 核实人, 核实日期, 备注; unlocked), the hidden finding id and a checksum of the locked cells,
  an instructions sheet and the street summary (open findings by rule per committee);
- `<committee code>_<committee name>_花名册.xlsx`: the committee's households with their members and
  flags as the hub now knows them (master.household / household_member / person);
- `00_街道汇总.xlsx`: the street summary alone, for the street office.
Findings that could not be routed to a committee (no standard address) go to `未能定位/未能定位到居委.xlsx`
for the district office.

What goes to the streets is masked per shared/domain.md (ID number 6+4, mobile 3+4), except the
value under verification when the field IS the ID number: the committee cannot verify a number it
cannot read. Names are shown in full: the committee verifies its own residents door to door.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.settings import output_dir
from quality import cells
from quality import worklist_format as wf
from quality.frames import read_frame
from quality.writing import (
    XLSX_OPTIONS,
    FileTask,
    FrameDigest,
    WriteReport,
    fingerprint,
    frame_digest,
    split_with_digests,
    write_files,
)
from quality.xlsx import Workbook
from sharing.masking import mask_id_number, mask_phone, mask_text

RULE_LABELS = {
    "id_number_invalid": "身份证号校验不通过",
    "id_number_15_digit": "身份证号为15位旧号",
    "id_birth_date_mismatch": "身份证号与出生日期不符",
    "id_sex_mismatch": "身份证号与性别不符",
    "address_not_in_library": "地址不在标准地址库",
    "dead_but_aided": "已死亡仍在领取救助",
    "moved_out_but_aided": "已迁出仍在领取救助",
    "dead_elderly_alone": "已死亡仍列为独居老人",
    "moved_out_elderly_alone": "已迁出仍列为独居老人",
    "elderly_not_alone": "独居老人家中另有他人居住",
    "aid_family_size_mismatch": "救助家庭人口数与成员不符",
    "aid_renhu_fenli": "救助家庭人户分离",
    "account_holder_dead": "电力户主已死亡",
    "account_holder_unknown": "电力户主查无此人",
    "account_holder_not_resident": "电力户主不在此居住",
    "account_vacant": "电力户疑似空置",
    "elderly_power_drop": "独居老人家中用电量骤降",
    "licence_expired_operating": "许可证过期仍在经营",
    "deregistered_operating": "已注销仍在经营",
    "unregistered_operating": "无登记仍在经营",
    "residence_room_unknown": "居住地址缺室号（暂按楼栋归档）",
    "duplicate_record": "同一来源重复记录",
    "duplicate_row": "同一来源重复记录",
}
SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低", "error": "高", "warning": "中", "info": "低"}
ENTITY_LABELS = {
    "person": "人员",
    "household": "户",
    "shop": "商铺",
    "aid_family": "救助家庭",
    "electricity_account": "电力户",
    "account": "电力户",
}
SOURCE_LABELS = {
    "police_population": "公安实有人口",
    "civil_affairs_assistance": "民政社会救助",
    "civil_affairs_elderly_alone": "民政独居老人",
    "utility_electricity": "电力公司",
    "market_business_registry": "市场监管主体登记",
    "market_food_licence": "市场监管食品经营许可",
    "street_shop_visits": "沿街商铺走访",
    "street_shop_visits_app": "沿街商铺走访（街道轻应用）",
    "hr_graduates": "人社高校毕业生",
}
FIELD_LABELS = {
    "id_number": "身份证号",
    "birth_date": "出生日期",
    "sex": "性别",
    "name": "姓名",
    "phone": "联系电话",
    "status": "人员状态",
    "member_count": "家庭人口数",
    "family_size": "家庭人口数",
    "address": "地址",
    "licence_valid_until": "许可证有效期至",
    "registration_status": "登记状态",
    "uscc": "统一社会信用代码",
}
ID_FIELDS = {"id_number", "公民身份号码", "身份证号", "成员身份证号", "户主身份证号", "head_id_number"}

UNROUTED_FOLDER = "未能定位"
UNROUTED_NAME = "未能定位到居委"

HELP_LINES = [
    "本表列出数据中心比对各部门数据后发现的问题，请逐条上门或电话核实。",
    "灰色列由系统生成，已锁定，请勿修改；只需填写黄色列：核实结果、正确值、核实人、核实日期、备注。",
    "核实结果（下拉选择）：",
    "    确认 = 情况属实（如有“建议值”，按建议值更正）；",
    "    更正 = 情况属实，在“正确值”中填写核实后的正确值；",
    "    不属实 = 经核实没有此问题。",
    "选择“更正”时必须填写正确值：身份证号须为18位且校验正确，日期写成 2026-11-05，人数写整数。",
    "核实人必填；核实日期可不填（默认为数据中心收到本表的日期）。",
    "不要增删行、不要改动表格结构；暂未核实的行留空即可，下次清单会再次列出。",
    "填好后保存为 xlsx，原文件名交回街道，由街道放入数据中心 corrections 文件夹。",
    "本表含个人信息，仅限核实使用，不得外传；身份证号、电话已做遮蔽处理（需核实身份证号的行除外）。",
]


def _safe(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", str(name)).strip("_") or "_"


def _txt(value: object) -> str:
    """Cell text of a value from a DataFrame (None, NaN, NaT and pandas' NA are empty)."""
    return cells.text(value)


def display_value(field_name: object, value: object) -> str:
    """What the street sees of a value: masked unless the field under verification is the ID number."""
    text = _txt(value)
    if not text or str(field_name) in ID_FIELDS:
        return text
    return _masked_text(text)


# a committee's findings repeat their addresses, names and messages: each text masked once per process
_masked_text = functools.lru_cache(maxsize=1 << 16)(mask_text)


@dataclass
class WorklistSummary:
    delivery: str
    folder: Path
    worklists: int = 0
    rows: int = 0
    rosters: int = 0
    unrouted_rows: int = 0
    files: list[Path] = field(default_factory=list)
    kept: int = 0  # files whose data had not changed since they were written (not rewritten)
    failed: list[tuple[Path, str]] = field(default_factory=list)  # files that could not be written, why


# --- data ------------------------------------------------------------------------------------------


def _has_table(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
        ).fetchall()[0][0]
    )


def divisions(con) -> pd.DataFrame:
    return con.execute(
        "select distinct street_code, street_name, community_code, community_name from staging.stg_divisions"
    ).df()


def open_findings(con) -> pd.DataFrame:
    """Open findings with what the street needs to find the case: the entity's name and address."""
    if not _has_table(con, "quality", "finding"):
        return pd.DataFrame(columns=["finding_id"])
    person = _has_table(con, "master", "person")
    shop = _has_table(con, "master", "shop")
    joins, name_expr, addr_expr = [], ["null"], ["null"]
    if person:
        joins.append("left join master.person p on f.entity_type = 'person' and p.person_id = f.entity_id")
        joins.append("left join master.household ph on ph.household_id = p.household_id")
        joins.append("left join master.household h on f.entity_type = 'household' and h.household_id = f.entity_id")
        joins.append(
            """left join (select household_id, arg_min(name, (case relation_to_head when '户主' then 0 else 1 end, person_id)) as head
                          from master.household_member
                          where delivery = (select max(delivery) from master.household_member)
                          group by household_id) hm on hm.household_id = h.household_id"""
        )
        name_expr = ["p.name", "hm.head"]
        addr_expr = ["ph.full_address", "h.full_address"]
    if shop:
        joins.append("left join master.shop s on f.entity_type = 'shop' and s.shop_code = f.entity_id")
        name_expr.append("s.name")
        addr_expr.append("s.full_address")
    return read_frame(
        con,
        f"""
        select f.*, coalesce({", ".join(name_expr)}) as entity_name, coalesce({", ".join(addr_expr)}) as entity_address
        from quality.finding f {" ".join(joins)}
        where f.status = 'open'
        order by f.community_code, f.rule, f.entity_id, f.source_file, f.source_row, f.finding_id
        """,
    )


def locked_values(row: pd.Series, seq: int) -> list[str]:
    """The evidence cells of one finding, in LOCKED_COLUMNS order, as shown to the street."""
    fld = _txt(row.get("field"))
    src_row = _txt(row.get("source_row"))
    src = _txt(row.get("source_file")).rsplit("/", 1)[-1] + (f" 第{src_row}行" if src_row else "")
    rule, severity, entity_type = _txt(row.get("rule")), _txt(row.get("severity")), _txt(row.get("entity_type"))
    return [
        str(seq),
        RULE_LABELS.get(rule, rule),
        SEVERITY_LABELS.get(severity.lower(), severity),
        ENTITY_LABELS.get(entity_type, entity_type),
        _txt(row.get("entity_id")),
        display_value(None, row.get("entity_name")),
        display_value(None, row.get("entity_address")),
        FIELD_LABELS.get(fld, fld),
        display_value(fld, row.get("observed_value")),
        display_value(fld, row.get("suggested_value")),
        display_value(None, row.get("message")),
        SOURCE_LABELS.get(_txt(row.get("source")), _txt(row.get("source"))),
        src,
        _txt(row.get("first_seen")),
    ]


def locked_rows(findings: pd.DataFrame) -> list[list[str]]:
    """`locked_values(row, seq)` of every finding (seq from 1), made a column at a time: the same
    texts, without a dict and a dozen lookups per row (a 1M district has ~150,000 findings)."""
    n = len(findings)

    def column(name: str) -> list[str]:
        return cells.texts(findings[name]) if name in findings.columns else [""] * n

    def shown(values: list[str], fields: list[str] | None = None) -> list[str]:
        if fields is None:
            return [_masked_text(v) if v else v for v in values]
        return [_masked_text(v) if v and f not in ID_FIELDS else v for v, f in zip(values, fields)]

    fld = column("field")
    src = [
        f.rsplit("/", 1)[-1] + (f" 第{r}行" if r else "") for f, r in zip(column("source_file"), column("source_row"))
    ]
    columns = [
        [str(seq) for seq in range(1, n + 1)],
        [RULE_LABELS.get(r, r) for r in column("rule")],
        [SEVERITY_LABELS.get(v.lower(), v) for v in column("severity")],
        [ENTITY_LABELS.get(v, v) for v in column("entity_type")],
        column("entity_id"),
        shown(column("entity_name")),
        shown(column("entity_address")),
        [FIELD_LABELS.get(f, f) for f in fld],
        shown(column("observed_value"), fld),
        shown(column("suggested_value"), fld),
        shown(column("message")),
        [SOURCE_LABELS.get(v, v) for v in column("source")],
        src,
        column("first_seen"),
    ]
    return [list(row) for row in zip(*columns)]


def street_summary(findings: pd.DataFrame, div: pd.DataFrame, street_code: str) -> pd.DataFrame:
    """Open findings by committee (rows) and rule (columns) for one street, with totals."""
    comms = div[div.street_code == street_code][["community_code", "community_name"]].drop_duplicates()
    f = findings[findings.street_code.astype(object).eq(street_code).fillna(False).astype(bool)].copy()
    f["规则"] = f["rule"].map(lambda r: RULE_LABELS.get(_txt(r), _txt(r)) or "未知")
    if f.empty:
        table = pd.DataFrame(index=comms.community_code)
    else:
        table = pd.crosstab(f["community_code"].map(_txt), f["规则"])
    table = comms.set_index("community_code").join(table, how="left").fillna(0)
    rules = [c for c in table.columns if c != "community_name"]
    table[rules] = table[rules].astype(int)
    table["合计"] = table[rules].sum(axis=1) if rules else 0
    table = table.reset_index().rename(columns={"community_code": "居委代码", "community_name": "居委名称"})
    return table.sort_values("居委代码").reset_index(drop=True)


# --- workbooks -------------------------------------------------------------------------------------


def _formats(wb):
    return {
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "hint": wb.add_format({"font_color": "#C00000"}),
        "head_locked": wb.add_format(
            {"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True, "valign": "vcenter"}
        ),
        "head_input": wb.add_format(
            {"bold": True, "bg_color": "#FFE699", "border": 1, "text_wrap": True, "valign": "vcenter"}
        ),
        "locked": wb.add_format({"bg_color": "#F2F2F2", "border": 1, "valign": "top"}),
        "input": wb.add_format({"locked": False, "bg_color": "#FFF2CC", "border": 1, "valign": "top"}),
        "input_text": wb.add_format(
            {"locked": False, "bg_color": "#FFF2CC", "border": 1, "valign": "top", "num_format": "@"}
        ),
        "input_date": wb.add_format(
            {"locked": False, "bg_color": "#FFF2CC", "border": 1, "valign": "top", "num_format": "yyyy-mm-dd"}
        ),
        "plain": wb.add_format({"text_wrap": True, "valign": "top"}),
        "bold": wb.add_format({"bold": True}),
        "num": wb.add_format({"border": 1}),
        "text": wb.add_format({"border": 1, "num_format": "@"}),
    }


COLUMN_WIDTHS = {
    "序号": 5,
    "问题类型": 18,
    "严重程度": 6,
    "对象类型": 8,
    "对象编号": 13,
    "姓名/名称": 12,
    "地址": 30,
    "核实项目": 12,
    "现有值": 20,
    "建议值": 20,
    "问题说明": 40,
    "数据来源": 14,
    "来源行": 24,
    "首次发现": 9,
    "核实结果": 10,
    "正确值": 20,
    "核实人": 10,
    "核实日期": 12,
    "备注": 20,
}


def _print_setup(ws, header_row: int, last_row: int, columns: int) -> None:
    """A4 landscape, all columns on one page wide, the header repeated on every page."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_margins(left=0.3, right=0.3, top=0.4, bottom=0.4)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    ws.print_area(0, 0, max(last_row, header_row + 1), columns - 1)


def _write_summary_sheet(wb, fmt, summary: pd.DataFrame, title: str) -> None:
    ws = wb.add_worksheet(wf.SHEET_SUMMARY)
    ws.write(0, 0, title, fmt["title"])
    for c, name in enumerate(summary.columns):
        ws.write_string(2, c, str(name), fmt["head_locked"])
        ws.set_column(c, c, 14 if c > 1 else 16)
    # the columns as lists (itertuples makes a tuple of Series lookups per row: most of this sheet's time)
    for r, rec in enumerate(zip(*(summary[c].tolist() for c in summary.columns)), start=3):
        for c, v in enumerate(rec):
            n = None if isinstance(v, str) else cells.number(v)
            if n is not None and c > 1:
                ws.write_number(r, c, n, fmt["num"])
            else:
                ws.write_string(r, c, _txt(v), fmt["text"])
    ws.protect("", {"autofilter": True})


def build_worklist(path: Path, meta: dict, findings: pd.DataFrame, summary: pd.DataFrame, key: str) -> int:
    """Write one committee's worklist workbook; returns the number of finding rows."""

    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {**meta, "format_version": wf.FORMAT_VERSION}
    meta["signature"] = wf.meta_signature(key, meta)
    wb = Workbook(str(path), XLSX_OPTIONS)
    fmt = _formats(wb)
    ws = wb.add_worksheet(wf.SHEET_WORKLIST)
    who = f"{meta.get('street_name') or ''} {meta.get('committee_name') or ''}".strip()
    ws.write(wf.TITLE_ROW - 1, 0, f"{who} 数据核实清单（{meta['delivery']}）共 {len(findings)} 条", fmt["title"])
    ws.write(
        wf.HINT_ROW - 1,
        0,
        "请只填写黄色列（核实结果请用下拉选择）；填写方法见“填写说明”页。灰色列已锁定。",
        fmt["hint"],
    )
    h = wf.HEADER_ROW - 1
    for c, name in enumerate(wf.ALL_COLUMNS):
        ws.write_string(h, c, name, fmt["head_input"] if name in wf.INPUT_COLUMNS else fmt["head_locked"])
        ws.set_column(c, c, COLUMN_WIDTHS.get(name, 12))
    first_input = len(wf.LOCKED_COLUMNS)
    id_col = wf.ALL_COLUMNS.index(wf.ID_COLUMN)
    for c in (id_col, id_col + 1):
        ws.set_column(c, c, 20, None, {"hidden": True})
    ws.set_row(h, 30)
    r = h
    input_styles = [
        fmt[{"正确值": "input_text", "核实日期": "input_date"}.get(name, "input")] for name in wf.INPUT_COLUMNS
    ]
    # the cells a column at a time (locked_rows), then written row by row
    finding_ids = cells.texts(findings["finding_id"]) if "finding_id" in findings.columns else [""] * len(findings)
    for seq, (values, finding_id) in enumerate(zip(locked_rows(findings), finding_ids), start=1):
        r = h + seq
        ws.write_strings(r, 0, values, fmt["locked"])
        ws.write_blanks(r, first_input, input_styles)
        ws.write_strings(r, id_col, [finding_id, wf.row_checksum(key, finding_id, values)], fmt["locked"])
    last = max(r, h + 1)
    dcol = wf.ALL_COLUMNS.index(wf.DECISION_COLUMN)
    ws.data_validation(
        h + 1,
        dcol,
        last,
        dcol,
        {
            "validate": "list",
            "source": list(wf.DECISIONS),
            "input_title": "核实结果",
            "input_message": "请选择：" + " / ".join(wf.DECISIONS),
            "error_title": "核实结果",
            "error_message": "只能选择：" + "、".join(wf.DECISIONS),
        },
    )
    datecol = wf.ALL_COLUMNS.index(wf.DATE_COLUMN)
    ws.data_validation(
        h + 1,
        datecol,
        last,
        datecol,
        {
            "validate": "date",
            "criteria": "between",
            "minimum": _dt.date(2000, 1, 1),
            "maximum": _dt.date(2100, 12, 31),
            "input_title": "核实日期",
            "input_message": "例如 2026-11-05",
            "error_title": "核实日期",
            "error_message": "请填写日期，例如 2026-11-05",
        },
    )
    ws.freeze_panes(h + 1, 3)
    ws.autofilter(h, 0, last, len(wf.ALL_COLUMNS) - 1)
    _print_setup(ws, h, last, len(wf.ALL_COLUMNS) - len(wf.HIDDEN_COLUMNS))
    ws.protect("", {"autofilter": True, "select_locked_cells": True, "select_unlocked_cells": True})
    ws.activate()

    helpws = wb.add_worksheet(wf.SHEET_HELP)
    helpws.set_column(0, 0, 110)
    helpws.write(0, 0, "填写说明", fmt["title"])
    for i, line in enumerate(HELP_LINES, start=2):
        helpws.write_string(i, 0, line, fmt["plain"])
    helpws.protect("")

    _write_summary_sheet(wb, fmt, summary, f"{meta.get('street_name') or ''} 各居委待核实问题（{meta['delivery']}）")

    metaws = wb.add_worksheet(wf.SHEET_META)
    for i, k in enumerate(wf.META_KEYS):
        metaws.write_string(i, 0, k)
        metaws.write_string(i, 1, wf.cell_text(meta.get(k)))
    metaws.very_hidden()
    metaws.protect("")
    wb.close()
    return len(findings)


def build_street_summary(path: Path, summary: pd.DataFrame, title: str) -> None:

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(str(path), XLSX_OPTIONS)
    _write_summary_sheet(wb, _formats(wb), summary, title)
    wb.close()


# --- rosters ---------------------------------------------------------------------------------------

ROSTER_COLUMNS = [
    "户编号",
    "居住地址",
    "户内人数",
    "是否在标准地址库",
    "姓名",
    "与户主关系",
    "性别",
    "出生日期",
    "身份证号",
    "联系电话",
    "人员状态",
    "救助",
    "独居老人",
    "高校毕业生",
    "待核实问题数",
]


def roster_frame(con, community_code: str | None = None) -> pd.DataFrame:
    """The committee's households and their members as the hub now knows them (latest delivery)."""
    where = "h.community_code = $c" if community_code else "true"
    aid = (
        """left join (select aid_certificate_no, any_value(aid_type) as aid_type from staging.stg_civil_affairs_assistance
                       where delivery = (select max(delivery) from staging.stg_civil_affairs_assistance)
                       group by 1) a on a.aid_certificate_no = p.aid_certificate_no"""
        if _has_table(con, "staging", "stg_civil_affairs_assistance")
        else "left join (select null::varchar as aid_certificate_no, null::varchar as aid_type) a on false"
    )
    findings = (
        """left join (select entity_id, count(*) as n from quality.finding where status = 'open' group by 1) fo
                   on fo.entity_id = p.person_id"""
        if _has_table(con, "quality", "finding")
        else "left join (select null::varchar as entity_id, 0 as n) fo on false"
    )
    return read_frame(
        con,
        f"""
        select h.community_code, h.household_id, h.full_address, h.member_count, h.in_address_library,
               p.person_id, p.name, m.relation_to_head, p.sex, p.birth_date, p.id_number, p.phone, p.status,
               case when p.aid_certificate_no is not null then coalesce(a.aid_type, '救助') end as aid,
               coalesce(p.on_elderly_alone_list, false) as elderly_alone, coalesce(p.is_graduate, false) as graduate,
               coalesce(fo.n, 0) as open_findings
        from master.household h
        join master.household_member m on m.household_id = h.household_id
             and m.delivery = (select max(delivery) from master.household_member)
        join master.person p on p.person_id = m.person_id
        {aid}
        {findings}
        where h.in_latest_delivery and {where}
        order by h.full_address, h.household_id, case m.relation_to_head when '户主' then 0 else 1 end, p.birth_date, p.person_id
        """,
        {"c": community_code} if community_code else {},
    )


def build_roster(path: Path, title: str, roster: pd.DataFrame) -> int:

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(str(path), XLSX_OPTIONS)
    fmt = _formats(wb)
    shade = wb.add_format({"border": 1, "num_format": "@", "bg_color": "#EAF1FB"})
    ws = wb.add_worksheet("花名册")
    ws.write(0, 0, title, fmt["title"])
    ws.write(
        1,
        0,
        f"共 {len(set(cells.texts(roster.household_id)))} 户 {len(roster)} 人；身份证号、电话已遮蔽；数据来自各部门比对结果，如有出入请在核实清单中反馈。",
        fmt["hint"],
    )
    widths = [13, 34, 8, 8, 10, 10, 6, 12, 20, 14, 8, 8, 8, 10, 10]
    for c, (name, w) in enumerate(zip(ROSTER_COLUMNS, widths)):
        ws.write_string(3, c, name, fmt["head_locked"])
        ws.set_column(c, c, w)
    # the cells a column at a time (cells.texts), then written row by row
    text_columns = ["household_id", "full_address", "member_count", "name", "relation_to_head", "sex"]
    text_columns += ["birth_date", "status", "aid"]
    col = {c: cells.texts(roster[c]) for c in text_columns}
    yes = ["是" if b else "" for b in cells.flags(roster.elderly_alone)]
    graduate = ["是" if b else "" for b in cells.flags(roster.graduate)]
    listed = ["是" if b else "否" for b in cells.flags(roster.in_address_library)]
    if isinstance(roster.open_findings.dtype, np.dtype) and roster.open_findings.dtype.kind in "iu":
        open_findings = roster.open_findings.tolist()  # cells.number of a count is the count
    else:
        open_findings = [cells.number(n) for n in roster.open_findings.tolist()]
    rows = zip(
        col["household_id"],
        col["full_address"],
        col["member_count"],
        listed,
        col["name"],
        col["relation_to_head"],
        col["sex"],
        col["birth_date"],
        [mask_id_number(v) for v in cells.texts(roster.id_number)],
        [mask_phone(v) for v in cells.texts(roster.phone)],
        col["status"],
        col["aid"],
        yes,
        graduate,
        [str(int(n)) if n else "" for n in open_findings],
    )
    band = False
    previous = None
    for r, values in enumerate(rows, start=4):
        if values[0] != previous:
            band, previous = not band, values[0]
        ws.write_strings(r, 0, values, shade if band else fmt["text"])
    ws.freeze_panes(4, 2)
    _print_setup(ws, 3, 3 + len(roster), len(ROSTER_COLUMNS))
    ws.autofilter(3, 0, max(4, 3 + len(roster)), len(ROSTER_COLUMNS) - 1)
    wb.close()
    return len(roster)


# --- per delivery --------------------------------------------------------------------------------


def worklist_root(db_path: str | Path) -> Path:
    return output_dir(db_path) / "worklists"


def write_worklists(con, out_root: Path, delivery: str, rosters: bool = True) -> WorklistSummary:
    """Write every committee's worklist (and roster) of a delivery into the delivery's folder.

    The data is read here; the workbooks are written by quality.writing (worker processes when
    there is much to write; a committee whose workbook fails is reported, the rest are written; a
    workbook whose data is unchanged since it was written is kept)."""
    folder = Path(out_root) / delivery
    summary = WorklistSummary(delivery=delivery, folder=folder)
    key = wf.worklist_key(con)
    div = divisions(con)
    findings = open_findings(con)
    now = _dt.datetime.now().isoformat(timespec="seconds")
    names = div.drop_duplicates("community_code").set_index("community_code")
    tasks: list[FileTask] = []

    def worklist_task(path: Path, meta: dict, group: pd.DataFrame, street: pd.DataFrame, digests=None) -> None:
        # generated_at is not part of the data: a kept workbook keeps the time it was written
        group_fp, street_fp = digests or (group, street)
        fp = fingerprint("worklist", key, {k: v for k, v in meta.items() if k != "generated_at"}, group_fp, street_fp)
        tasks.append(FileTask(path, build_worklist, (meta, group, street, key), fp, len(group)))

    routed = findings[findings.community_code.isin(names.index)] if len(findings) else findings
    streets_summary: dict[str, pd.DataFrame] = {}
    street_digests: dict[str, FrameDigest] = {}
    # each committee's rows and their digest for the fingerprint, the rows hashed once
    groups, group_digests = (
        split_with_digests(routed, routed["community_code"].to_numpy(), sort=True) if len(routed) else ({}, {})
    )
    for code, group in groups.items():
        info = names.loc[code]
        if info.street_code not in streets_summary:
            streets_summary[info.street_code] = street_summary(findings, div, info.street_code)
            street_digests[info.street_code] = frame_digest(streets_summary[info.street_code])
        meta = {
            "delivery": delivery,
            "street_code": info.street_code,
            "street_name": info.street_name,
            "committee_code": code,
            "committee_name": info.community_name,
            "generated_at": now,
        }
        path = folder / _safe(info.street_name) / f"{code}_{_safe(info.community_name)}.xlsx"
        worklist_task(
            path,
            meta,
            group,
            streets_summary[info.street_code],
            (group_digests[code], street_digests[info.street_code]),
        )
        summary.worklists += 1
        summary.rows += len(group)
    unrouted = findings[~findings.community_code.isin(names.index)] if len(findings) else findings
    if len(unrouted):
        meta = {
            "delivery": delivery,
            "street_code": "",
            "street_name": "",
            "committee_code": "",
            "committee_name": UNROUTED_NAME,
            "generated_at": now,
        }
        note = pd.DataFrame({"说明": ["以下问题无法按标准地址定位到居委，请区数据中心分派"]})
        worklist_task(folder / UNROUTED_FOLDER / f"{UNROUTED_NAME}.xlsx", meta, unrouted.reset_index(drop=True), note)
        summary.unrouted_rows = len(unrouted)
        summary.rows += len(unrouted)
        summary.worklists += 1
    if rosters and _has_table(con, "master", "household"):
        roster = roster_frame(con)
        parts, digests = split_with_digests(roster, roster["community_code"].to_numpy(), sort=True)
        del roster  # the parts are copies: a 1M district's roster is ~1 GB, not held twice
        for code, group in parts.items():
            if code not in names.index:
                continue
            info = names.loc[code]
            path = folder / _safe(info.street_name) / f"{code}_{_safe(info.community_name)}_花名册.xlsx"
            title = f"{info.street_name} {info.community_name} 居民户花名册（{delivery}，数据中心比对后）"
            fp = fingerprint("roster", title, digests[code])
            tasks.append(FileTask(path, build_roster, (title, group), fp, len(group)))
            summary.rosters += 1
    for street_code in sorted(streets_summary):
        street_name = div[div.street_code == street_code].street_name.iloc[0]
        title = f"{street_name} 各居委待核实问题（{delivery}）"
        table = streets_summary[street_code]
        path = folder / _safe(street_name) / "00_街道汇总.xlsx"
        tasks.append(FileTask(path, build_street_summary, (table, title), fingerprint("street", title, table), 0))
    report = write_files(folder, tasks)
    _account(summary, report)
    return summary


def _account(summary, report: WriteReport) -> None:
    summary.files = report.files
    summary.kept = len(report.kept)
    summary.failed = report.failed
