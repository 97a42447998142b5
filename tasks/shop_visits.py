"""最多查一次 (seed 001): one visit to a street shop fills the three forms different staff used to fill
separately — 餐饮设施基础信息登记, 沿街店铺走访调查, 餐饮行业综合检查 — pre-filled from the shop file.

    form = VisitForm.prefilled(shop)                  # what the hub knows: names, credit code, licence, expiry
    visit, problems = save_visit(s, shop, values, user)
    path, n = write_delivery_file(s, inbox, "2026-12")   # <inbox>/2026-12/street_shop_visits_app.csv

The completed visits enter the hub as a source of their own (`street_shop_visits_app` in
connectors/sources.yml: the street_shop_visits columns plus the app's record number, so every row
keeps its lineage to the app), ingested like any delivery file; the shop file (master.shop,
master.shop_inspection) and its findings then use them. A visit goes into one delivery only.
"""

from __future__ import annotations

import csv
import datetime as _dt
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import ShopVisit
from normalize.dates import parse_date
from normalize.phones import normalize_phone
from normalize.uscc import normalize_uscc

DELIVERY_FILE = "street_shop_visits_app.csv"
DELIVERY_HEADERS = ["走访日期", "店招名称", "经营地址", "联系人", "联系电话", "业态", "检查结果", "所属街道", "所属居委",
                    "走访人", "应用记录编号", "一店一码", "统一社会信用代码", "许可证编号"]  # fmt: skip
RESULTS = ("合格", "基本合格", "责令整改", "不合格", "已停业")
FORMATS = ("餐饮", "饮品", "便利店", "水果生鲜", "生活服务", "五金家居", "医药", "通讯数码", "服装", "其他")
YES_NO = ("是", "否")
# the three forms' own items, in the order the worker meets them (seed 001: 卫生许可证、油烟管道等检查)
SECTIONS: list[tuple[str, list[tuple[str, str, tuple[str, ...] | None]]]] = [
    ("餐饮设施基础信息登记", [
        ("area_m2", "经营面积（平方米）", None),
        ("seats", "座位数", None),
        ("fume_purifier", "油烟净化设施", ("有", "无", "不涉及")),
        ("gas_type", "用气类型", ("管道燃气", "瓶装液化气", "电", "不涉及")),
    ]),
    ("沿街店铺走访调查", [
        ("three_guarantees", "门前三包落实", YES_NO),
        ("fire_equipment", "消防器材", ("齐全", "不全", "无")),
        ("outside_business", "跨门营业", YES_NO),
    ]),
    ("餐饮行业综合检查", [
        ("licence_displayed", "许可证亮证公示", YES_NO),
        ("health_certificates", "从业人员健康证", ("齐全", "不全")),
        ("fume_duct_cleaned", "油烟管道定期清洗", ("是", "否", "不涉及")),
        ("gas_safety", "燃气安全", ("合格", "有隐患", "不涉及")),
    ]),
]  # fmt: skip
CHECK_KEYS = {k: (label, options) for _s, items in SECTIONS for k, label, options in items}


def prefilled(shop: dict) -> dict:
    """The form's first values: what the hub already knows (the worker confirms or corrects)."""
    return {
        "visited_on": _dt.date.today().isoformat(),
        "sign_name": shop.get("name") or "",
        "registered_name": shop.get("registered_name") or "",
        "uscc": shop.get("uscc") or "",
        "business_address": shop.get("full_address") or "",
        "licence_no": shop.get("licence_no") or "",
        "licence_valid_until": str(shop.get("licence_valid_until") or ""),
        "contact_name": "",
        "phone": "",
        "business_format": "",
        "inspection_result": "",
        "note": "",
        **{k: "" for k in CHECK_KEYS},
    }


def check_values(values: dict) -> dict[str, str]:
    """{field: 问题}; empty when the visit may be saved."""
    problems: dict[str, str] = {}
    d = parse_date(values.get("visited_on"))
    if d is None:
        problems["visited_on"] = "请填写走访日期"
    elif d > _dt.date.today() + _dt.timedelta(days=1):
        problems["visited_on"] = "走访日期不能在将来"
    for f, label in (("sign_name", "店招名称"), ("business_address", "经营地址")):
        if not (values.get(f) or "").strip():
            problems[f] = f"请填写{label}"
    if values.get("business_format") not in FORMATS:
        problems["business_format"] = "请选择业态"
    if values.get("inspection_result") not in RESULTS:
        problems["inspection_result"] = "请选择检查结果"
    if (values.get("uscc") or "").strip() and normalize_uscc(values["uscc"]) is None:
        problems["uscc"] = "统一社会信用代码应为 18 位"
    if (values.get("phone") or "").strip() and normalize_phone(values["phone"]) is None:
        problems["phone"] = "电话号码无法识别"
    if (values.get("licence_valid_until") or "").strip() and parse_date(values["licence_valid_until"]) is None:
        problems["licence_valid_until"] = "有效期应为日期"
    for k, (label, options) in CHECK_KEYS.items():
        v = (values.get(k) or "").strip()
        if options is None and v:
            try:
                if float(v) < 0:
                    raise ValueError
            except ValueError:
                problems[k] = f"{label}应为数字"
        elif options is not None and v and v not in options:
            problems[k] = f"{label}请从 {'/'.join(options)} 中选择"
    return problems


def save_visit(s: Session, shop: dict, values: dict, visitor: str, user_id: int) -> tuple[ShopVisit | None, dict]:
    problems = check_values(values)
    if problems:
        return None, problems
    until = parse_date(values.get("licence_valid_until")) if values.get("licence_valid_until") else None
    visit = ShopVisit(
        uid="SV" + secrets.token_hex(8).upper(),
        shop_code=shop["shop_code"],
        street_code=shop["street_code"],
        community_code=shop["community_code"],
        visited_on=parse_date(values["visited_on"]),
        sign_name=values["sign_name"].strip()[:200],
        registered_name=(values.get("registered_name") or "").strip()[:200] or None,
        uscc=normalize_uscc(values.get("uscc")) if (values.get("uscc") or "").strip() else None,
        business_address=values["business_address"].strip()[:256],
        licence_no=(values.get("licence_no") or "").strip()[:64] or None,
        licence_valid_until=until.isoformat() if until else None,
        contact_name=(values.get("contact_name") or "").strip()[:64] or None,
        phone=normalize_phone(values.get("phone")) if (values.get("phone") or "").strip() else None,
        business_format=values["business_format"],
        inspection_result=values["inspection_result"],
        checks={k: values[k].strip() for k in CHECK_KEYS if (values.get(k) or "").strip()},
        note=(values.get("note") or "").strip()[:2000] or None,
        visitor=visitor,
        user_id=user_id,
    )
    s.add(visit)
    s.flush()
    return visit, {}


def write_delivery_file(
    s: Session, inbox: Path, delivery: str, names: dict[str, str] | None = None
) -> tuple[Path, int]:
    """The app's visits not yet delivered, as `<inbox>/<delivery>/street_shop_visits_app.csv` (UTF-8).
    Refuses a delivery the file is already in (it would be ingested twice or replaced)."""
    names = names or {}
    if len(delivery) != 7 or delivery[4] != "-" or not (delivery[:4] + delivery[5:]).isdigit():
        raise ValueError(f"delivery must be YYYY-MM (got {delivery!r})")
    folder = Path(inbox) / delivery
    path = folder / DELIVERY_FILE
    if path.exists():
        raise FileExistsError(f"{path} exists already: each delivery carries the app's visits once")
    visits = list(s.scalars(select(ShopVisit).where(ShopVisit.delivered_in.is_(None)).order_by(ShopVisit.id)))
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.part")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(DELIVERY_HEADERS)
        for v in visits:
            w.writerow([v.visited_on.isoformat(), v.sign_name, v.business_address, v.contact_name or "", v.phone or "",
                        v.business_format, v.inspection_result, names.get(v.street_code, v.street_code),
                        names.get(v.community_code, v.community_code), v.visitor, v.uid, v.shop_code, v.uscc or "",
                        v.licence_no or ""])  # fmt: skip
    tmp.replace(path)
    for v in visits:
        v.delivered_in = delivery
    return path, len(visits)
