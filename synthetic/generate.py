"""Synthetic district generator: the contracts.md inbox layout with its `_truth/` answer key.

    generate(out_dir, persons, months, seed, noise=1.0, district="jingan", start_month="2026-10",
             noise_profile="default")

or standalone:  python -m synthetic.generate --out /tmp/inbox --persons 5000 --months 2 --seed 1 [--noise-profile field]

A city of several districts in one inbox (人户分离 across districts): `--city jingan,xuhui,changning`
(synthetic/city.py; --persons per district).

Noise profiles (config.NOISE_PROFILES): `default` (sources.Renderer, noise.yml: noise fixed per record
month after month) and `field` (field_profile.FieldRenderer, noise_field.yml: written apart from it,
from what real exports do; noise drawn afresh every month).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import xlsxwriter

from .config import NOISE_PROFILES
from .field_profile import FieldRenderer
from .names import SHOP_CATEGORIES
from .sources import NOISE_KINDS, SCENARIO_KINDS, Renderer, Table, hid_s, pid_s, sid_s
from .world import AID_TYPES, STATUS, District, GeneratorConfig, World, ymd

SOURCES = {
    # name: (file, format, encoding)
    "police_population": ("police_population.csv", "csv", "gb18030"),
    "civil_affairs_assistance": ("civil_affairs_assistance.xlsx", "xlsx", None),
    "civil_affairs_elderly_alone": ("civil_affairs_elderly_alone.xlsx", "xlsx", None),
    "utility_electricity": ("utility_electricity.csv", "csv", "utf-8-sig"),
    "market_business_registry": ("market_business_registry.csv", "csv", "utf-8"),
    "market_food_licence": ("market_food_licence.xlsx", "xlsx", None),
    "street_shop_visits": ("street_shop_visits.xlsx", "xlsx", None),
    "hr_graduates": ("hr_graduates.csv", "csv", "gbk"),
}
SHEET = {
    "civil_affairs_assistance": "救助对象",
    "civil_affairs_elderly_alone": "独居老人",
    "market_food_licence": "食品经营许可",
    "street_shop_visits": "走访记录",
}
FIXED_TIME = _dt.datetime(2026, 1, 1, 0, 0, 0)

__all__ = ["generate", "SOURCES", "NOISE_KINDS", "SCENARIO_KINDS"]


# ---- writers ------------------------------------------------------------------------------------


def _write_csv(path: Path, header: list[str], lines: list[str], encoding: str) -> None:
    text = ",".join(header) + "\n" + ("\n".join(lines) + "\n" if lines else "")
    if encoding == "utf-8-sig":
        data = b"\xef\xbb\xbf" + text.encode("utf-8")
    elif encoding == "gbk":
        data = text.encode("gbk", errors="replace")  # characters outside GBK become '?', as real exports do
    else:
        data = text.encode(encoding)
    path.write_bytes(data)


def _write_xlsx(path: Path, sheet: str, header: list[str], rows: list[list]) -> None:
    wb = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    wb.set_properties({"created": FIXED_TIME, "author": "civichub synthetic"})
    ws = wb.add_worksheet(sheet)
    ws.write_row(0, 0, header)
    wr = ws.write_row
    for r, row in enumerate(rows, start=1):
        wr(r, 0, row)
    wb.close()


def _write_plain(path: Path, header: list[str], rows) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(_csv_field(x) for x in r) + "\n")


def _write_fast(path: Path, header: list[str], rows) -> None:
    """Rows of values known to hold no comma, quote or newline."""
    text = ",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")


def _csv_field(x) -> str:
    """A value as one CSV field, quoted (RFC 4180) only when it holds a comma, quote or newline."""
    s = "" if x is None else str(x)
    if "," in s or '"' in s or "\n" in s:
        return '"' + s.replace('"', '""') + '"'
    return s


def _write_truth(path: Path, tab: Table) -> None:
    lines = [f"{k},{pid_s(p)},{hid_s(h)},{sid_s(s)}" for k, (p, h, s) in enumerate(tab.truth, start=1)]
    path.write_text(
        "source_row,person_id,household_id,shop_id\n" + ("\n".join(lines) + "\n" if lines else ""), encoding="utf-8"
    )


def source_tables(w: World, r: Renderer):
    """The month's eight source tables, one at a time: (source name, Table)."""
    elderly_people = sorted(w.elderly.keys())
    for name, fn in (
        ("police_population", r.police),
        ("civil_affairs_assistance", r.assistance),
        ("civil_affairs_elderly_alone", r.elderly),
        ("utility_electricity", lambda: r.electricity(elderly_people)),
        ("market_business_registry", r.registry),
        ("market_food_licence", r.licence),
        ("street_shop_visits", r.visits),
        ("hr_graduates", r.graduates),
    ):
        yield name, fn()


def write_source(mdir: Path, name: str, header: list[str], rows: list) -> None:
    """One source file of a delivery, in its format and encoding (SOURCES)."""
    fname, fmt, enc = SOURCES[name]
    if fmt == "csv":
        _write_csv(mdir / fname, header, rows, enc)
    else:
        _write_xlsx(mdir / fname, SHEET[name], header, rows)


# ---- answer-key tables --------------------------------------------------------------------------


def _truth_tables(w: World, r: Renderer, tdir: Path) -> None:
    people, library = w.people, w.library
    occ = r.occ
    t = r.t
    as_of = r.as_of
    n = w.n_persons
    aid_of_dw = w.aid
    aid_member = {}
    for d, f in w.aid.items():
        for i in f["members"]:
            aid_member[i] = (d, f)
    ages = (as_of - people["birth_day"]) / 365.25
    live = people["status"] == 0
    alone = live & (ages >= 60) & (occ[people["dwelling"]] == 1)
    dw = people["dwelling"]
    regdw = people["registered_dwelling"]
    aid_type = [""] * n
    aid_cert = [""] * n
    for f in w.aid.values():  # members listed, then every living resident of an aided dwelling
        for i in f["members"]:
            aid_type[i] = AID_TYPES[f["type"]]
            aid_cert[i] = f["cert"]
    aided = np.zeros(w.n_dwellings, dtype=bool)
    aided[list(w.aid.keys())] = True
    for i in np.nonzero(live & aided[dw])[0].tolist():
        if not aid_cert[i]:
            f = w.aid[int(dw[i])]
            aid_type[i] = AID_TYPES[f["type"]]
            aid_cert[i] = f["cert"]
    on_list = np.zeros(n, dtype=np.int64)
    on_list[list(w.elderly.keys())] = 1
    eth_names = ["汉族", "回族", "满族", "蒙古族", "朝鲜族", "维吾尔族", "藏族", "壮族", "土家族"]
    rel_names = ["户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "儿媳", "女婿", "兄弟姐妹", "其他"]
    ym = [_ym(w, k) for k in range(w.n_months)]
    st = people["status"].tolist()
    cols = [
        [pid_s(i) for i in range(n)],
        [hid_s(d) for d in dw.tolist()],
        [hid_s(d) if d >= 0 else "" for d in regdw.tolist()],
        people["id_number"].tolist(),
        people["name"].tolist(),
        ["男" if x else "女" for x in people["sex"].tolist()],
        np.datetime_as_string(people["birth_day"].astype("datetime64[D]")).tolist(),
        [eth_names[e] for e in people["ethnicity"].tolist()],
        [STATUS[x] for x in st],
        [ym[k] if x else "" for x, k in zip(st, people["status_month"].tolist())],
        [rel_names[x] for x in people["relation"].tolist()],
        aid_type,
        aid_cert,
        alone.astype(np.int64).tolist(),
        on_list.tolist(),
        people["is_graduate"].tolist(),
        [
            ["已就业", "未就业", "灵活就业"][e] if g else ""
            for e, g in zip(people["employment"].tolist(), people["is_graduate"].tolist())
        ],
        ((people["registration_kind"] != 0) | (regdw != dw)).astype(np.int64).tolist(),
        people["hukou_number"].tolist(),
        people["phone"].tolist(),
        [ym[k] for k in people["created_month"].tolist()],
    ]
    rows = zip(*cols)
    _write_fast(
        tdir / "persons.csv",
        [
            "person_id",
            "household_id",
            "registered_household_id",
            "id_number",
            "name",
            "sex",
            "birth_date",
            "ethnicity",
            "status",
            "status_month",
            "relation",
            "aid_type",
            "aid_certificate_no",
            "is_elderly_alone",
            "on_elderly_list",
            "is_graduate",
            "employment_status",
            "renhu_fenli",
            "hukou_number",
            "phone",
            "first_month",
        ],
        rows,
    )
    rows = []
    acc = w.account_of_dwelling
    accounts = w.accounts
    for d in range(w.n_dwellings):
        ai = int(library.dwelling_address[d])
        f = aid_of_dw.get(d)
        a = acc.get(d)
        rows.append(
            (
                hid_s(d),
                library.address_code[ai],
                library.dwelling_room[d],
                library.street_code[library.address_street[ai]],
                library.committee_code_of(ai),
                int(occ[d]),
                library.address_text[ai] + library.dwelling_room[d] + "室",
                int(bool(library.address_in_library[ai])),
                str(3100000000 + (a * 104729) % 100000000)
                if a is not None and accounts["opened_month"][a] <= t
                else "",
                AID_TYPES[f["type"]] if f else "",
                f["cert"] if f else "",
                f["amount"] if f else "",
                f["declared"] if f else "",
            )
        )
    _write_fast(
        tdir / "households.csv",
        [
            "household_id",
            "address_id",
            "room",
            "street_code",
            "community_code",
            "member_count",
            "full_address",
            "in_library",
            "account_no",
            "aid_type",
            "aid_certificate_no",
            "aid_amount",
            "aid_declared_size",
        ],
        rows,
    )
    rows = []
    for s in w.shops:
        if s["opened_month"] > t:
            continue
        e = w.entities[s["entity"]] if s["entity"] >= 0 else None
        lic = w.licences[s["licence"]] if s["licence"] >= 0 else None
        ai = s["address"]
        rows.append(
            (
                sid_s(s["id"]),
                library.address_code[ai],
                s["unit"],
                library.street_code[library.address_street[ai]],
                library.committee_code_of(ai),
                s["sign"],
                _cat(s["category"]),
                s["chain"] >= 0,
                e["uscc"] if e else "",
                e["name"] if e else "",
                e["entity_type"] if e else "",
                e["status"] if e else "",
                lic["no"] if lic else "",
                ymd(lic["valid_until"]).isoformat() if lic else "",
                s["status"],
                int(library.address_kind[ai] == 3),
                _ym(w, s["opened_month"]),
                _ym(w, s["closed_month"]) if s["closed_month"] >= 0 else "",
                sid_s(s["successor_of"]),
                s["owner"],
                int(bool(library.address_in_library[ai])),
            )
        )
    _write_plain(
        tdir / "shops.csv",
        [
            "shop_id",
            "address_id",
            "unit",
            "street_code",
            "community_code",
            "sign_name",
            "category",
            "is_chain",
            "uscc",
            "registered_name",
            "entity_type",
            "registration_status",
            "licence_no",
            "licence_valid_until",
            "status",
            "is_mall",
            "opened_month",
            "closed_month",
            "successor_of",
            "owner",
            "in_library",
        ],
        [tuple(int(x) if isinstance(x, bool) else x for x in r_) for r_ in rows],
    )
    kinds = ["residential_lane", "residential_house", "shop_front", "mall", "office"]
    _write_plain(
        tdir / "addresses.csv",
        [
            "address_id",
            "full_address",
            "street_code",
            "community_code",
            "road",
            "lane",
            "number",
            "kind",
            "in_library",
            "mall_name",
        ],
        [
            (
                library.address_code[a],
                library.address_text[a],
                library.street_code[library.address_street[a]],
                library.committee_code_of(a),
                library.address_road_name[a],
                int(library.address_lane[a]) or "",
                int(library.address_number[a]),
                kinds[library.address_kind[a]],
                int(bool(library.address_in_library[a])),
                library.address_mall_name[a],
            )
            for a in range(len(library.address_code))
        ],
    )


def _cat(c: int) -> str:
    return SHOP_CATEGORIES[c][0]


def _ym(w: World, t) -> str:
    y, m = w.month_ym[int(t)]
    return f"{y}-{m:02d}"


def _write_reference(out: Path, w: World) -> None:
    library = w.library
    ref = out / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    rows = []
    for si, s in enumerate(w.district.streets):
        for code, name in s["communities"]:
            rows.append((library.street_code[si], s["name"], code, name))
    _write_plain(ref / "divisions.csv", ["街道代码", "街道名称", "居委代码", "居委名称"], rows)
    rows = []
    for a in range(len(library.address_code)):
        if not library.address_in_library[a]:
            continue
        rows.append(
            (
                library.address_code[a],
                w.district.name,
                library.street_code[library.address_street[a]],
                library.committee_code_of(a),
                library.address_road_name[a],
                str(int(library.address_lane[a])) if library.address_lane[a] else "",
                str(int(library.address_number[a])),
                library.address_text[a],
            )
        )
    _write_plain(
        ref / "standard_addresses.csv", ["地址编码", "区", "街道代码", "居委代码", "路名", "弄", "号", "标准地址"], rows
    )


# ---- main entry ---------------------------------------------------------------------------------


def generate(
    out_dir: Path,
    persons: int,
    months: int,
    seed: int,
    noise: float = 1.0,
    district: str = "jingan",
    start_month: str = "2026-10",
    verbose: bool = False,
    reports: bool = True,
    noise_profile: str = "default",
    report_noise: str = "default",
) -> dict:
    """Write a synthetic district (reference data, `months` monthly deliveries, `_truth/`) to out_dir.

    Returns a summary: {"district", "seed", "persons", "noise", "months": {YYYY-MM: {source: rows,
    "planted": n, "events": {...}}}, "seconds": s}. Same arguments give byte-identical files."""
    t_start = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if persons < 50:
        raise ValueError("persons must be at least 50")
    if months < 1:
        raise ValueError("months must be at least 1")
    config = GeneratorConfig.load(noise, noise_profile)
    renderer_class = FieldRenderer if noise_profile == "field" else Renderer
    d = District.load(district)
    w = World(d, persons, months, seed, config, start_month)

    def log(msg):
        if verbose:
            print(f"[{time.time() - t_start:7.1f}s] {msg}", file=sys.stderr, flush=True)

    log(f"world: {w.n_persons} persons, {w.n_dwellings} dwellings, {len(w.shops)} shops")
    _write_reference(out, w)
    summary = {
        "district": d.name,
        "district_code": d.code,
        "seed": seed,
        "persons": persons,
        "noise": noise,
        "noise_profile": noise_profile,
        "months": {},
    }
    for t in range(1, w.n_months):
        w.step(t)
        if t < 12:
            continue
        ym = _ym(w, t)
        mdir = out / ym
        tdir = out / "_truth" / ym
        mdir.mkdir(parents=True, exist_ok=True)
        tdir.mkdir(parents=True, exist_ok=True)
        r = renderer_class(w, t)
        msum = {}
        planted_rows = []
        for name, tab in source_tables(w, r):
            write_source(mdir, name, tab.header, tab.rows)
            _write_truth(tdir / f"{name}.csv", tab)
            msum[name] = len(tab.rows)
            for kind, row0, p, h, s, fld, det in tab.planted:
                planted_rows.append((kind, name, row0 + 1, pid_s(p), hid_s(h), sid_s(s), fld, det))
            log(f"{ym} {name}: {len(tab.rows)} rows, {len(tab.planted)} planted")
            del tab
        planted_rows.sort(key=lambda x: (x[1], x[2], x[0], x[6]))
        _write_plain(
            tdir / "planted.csv",
            ["kind", "source", "source_row", "person_id", "household_id", "shop_id", "field", "detail"],
            planted_rows,
        )
        _truth_tables(w, r, tdir)
        counts: dict[str, int] = {}
        for p_ in planted_rows:
            counts[p_[0]] = counts.get(p_[0], 0) + 1
        msum["planted"] = len(planted_rows)
        msum["planted_by_kind"] = dict(sorted(counts.items()))
        msum["events"] = {k: int(v) for k, v in w.month_events.get(t, {}).items()}
        summary["months"][ym] = msum
        log(f"{ym} done")
    if reports:  # citizen reports (百姓拍) of the last month: library coordinates, reports/, _truth/reports/
        from .citizen_reports import write_citizen_reports

        summary["reports"] = write_citizen_reports(out, persons, seed, max(summary["months"]), 1, noise=report_noise)
    summary["seconds"] = round(time.time() - t_start, 1)
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m synthetic.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--persons", type=int, default=5000)
    ap.add_argument("--months", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--noise", type=float, default=1.0)
    ap.add_argument("--district", default="jingan")
    ap.add_argument(
        "--city",
        default=None,
        help="a city of these districts, comma-separated (e.g. jingan,xuhui,changning; --persons per district)",
    )
    ap.add_argument("--start-month", default="2026-10")
    ap.add_argument("--noise-profile", default="default", choices=sorted(NOISE_PROFILES))
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--no-reports", action="store_true", help="no citizen reports (reports/)")
    ap.add_argument(
        "--report-noise",
        default="default",
        choices=["default", "field"],
        help="how citizen reports reach the files (synthetic/citizen_reports.py REPORT_NOISE)",
    )
    a = ap.parse_args(argv)
    if a.city:
        from .city import generate_city

        s = generate_city(
            a.out,
            a.city.split(","),
            a.persons,
            a.months,
            a.seed,
            a.noise,
            a.start_month,
            noise_profile=a.noise_profile,
            verbose=not a.quiet,
        )
        print(json.dumps(s, ensure_ascii=False, indent=1))
        return 0
    s = generate(
        a.out,
        a.persons,
        a.months,
        a.seed,
        a.noise,
        a.district,
        a.start_month,
        verbose=not a.quiet,
        reports=not a.no_reports,
        noise_profile=a.noise_profile,
        report_noise=a.report_noise,
    )
    print(json.dumps(s, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
