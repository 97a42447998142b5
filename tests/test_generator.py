"""Guarantees of the synthetic district generator (synthetic/generate.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import openpyxl
import pytest
import yaml

from synthetic.generate import NOISE_KINDS, SCENARIO_KINDS, SOURCES, generate

ROOT = Path(__file__).resolve().parents[1]
PERSONS = 2500
SEED = 5
MONTHS = ["2026-10", "2026-11"]

# ID columns per source (the ones whose check digit is guaranteed unless planted)
ID_COLUMNS = {
    "police_population": ["公民身份号码"],
    "civil_affairs_assistance": ["户主身份证号", "成员身份证号"],
    "civil_affairs_elderly_alone": ["身份证号"],
    "hr_graduates": ["身份证号"],
}
PERSON_SOURCES = list(ID_COLUMNS)
ID_KINDS = {"id_bad_check", "id_transposed", "id_15digit", "field_blank"}


# ---- GB 11643 check, implemented here from domain.md (independent of the generator) ------------

_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_valid(s: str) -> bool:
    if len(s) != 18 or not s[:17].isdigit():
        return False
    return "10X98765432"[sum(int(c) * w for c, w in zip(s, _W)) % 11] == s[17]


def norm_id(s) -> str:
    return unicodedata.normalize("NFKC", str(s or "")).strip().upper()


def test_id_check_vectors():
    assert id_valid("11010519491231002X")
    assert id_valid("440524188001010014")
    assert not id_valid("110105194912310021")
    assert not id_valid("44052418800101001")


# ---- helpers ------------------------------------------------------------------------------------


def contract_headers() -> dict[str, list[str]]:
    spec = yaml.safe_load((ROOT / "connectors" / "sources.yml").read_text(encoding="utf-8"))
    out = {}
    for name, s in spec["sources"].items():
        out[name] = [v if isinstance(v, str) else v[0] for v in s["columns"].values()]
    return out


def read_source(inbox: Path, month: str, name: str) -> tuple[list[str], list[list[str]]]:
    fname, fmt, enc = SOURCES[name]
    p = inbox / month / fname
    if fmt == "csv":
        text = p.read_bytes().decode(enc)
        rows = list(csv.reader(io.StringIO(text)))
        return rows[0], rows[1:]
    wb = openpyxl.load_workbook(p, read_only=True)
    ws = wb.worksheets[0]
    rows = [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]
    wb.close()
    return rows[0], rows[1:]


def read_csv(p: Path) -> list[dict]:
    with open(p, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    base = tmp_path_factory.mktemp("gen")
    t0 = time.time()
    summary = generate(base / "a", persons=PERSONS, months=2, seed=SEED, noise=1.0)
    elapsed = time.time() - t0
    return {"base": base, "a": base / "a", "summary": summary, "elapsed": elapsed}


@pytest.fixture(scope="module")
def planted(gen) -> dict[str, list[dict]]:
    return {m: read_csv(gen["a"] / "_truth" / m / "planted.csv") for m in MONTHS}


# ---- tests --------------------------------------------------------------------------------------


def test_small_district_is_fast(gen):
    assert gen["elapsed"] < 20, gen["elapsed"]
    assert set(gen["summary"]["months"]) == set(MONTHS)


def test_layout_and_reference(gen):
    a = gen["a"]
    for m in MONTHS:
        for name, (fname, _, _) in SOURCES.items():
            assert (a / m / fname).is_file(), (m, fname)
            assert (a / "_truth" / m / f"{name}.csv").is_file()
        for extra in ("persons.csv", "households.csv", "shops.csv", "planted.csv", "addresses.csv"):
            assert (a / "_truth" / m / extra).is_file()
    div = read_csv(a / "reference" / "divisions.csv")
    assert list(div[0].keys()) == ["街道代码", "街道名称", "居委代码", "居委名称"]
    assert len({d["街道代码"] for d in div}) == 14  # 静安区: 13 streets + 彭浦镇
    assert {"310106012000", "南京西路街道"} <= {d["街道代码"] for d in div} | {d["街道名称"] for d in div}
    for d in div:
        assert len(d["街道代码"]) == 12 and len(d["居委代码"]) == 12
        assert d["居委代码"][:9] == d["街道代码"][:9] and 1 <= int(d["居委代码"][9:]) <= 199
    comm = {d["居委代码"]: d["街道代码"] for d in div}
    addrs = read_csv(a / "reference" / "standard_addresses.csv")
    # + the optional 经度, 纬度 (GCJ-02) of contracts.md, written with the citizen reports
    assert list(addrs[0].keys()) == [
        "地址编码",
        "区",
        "街道代码",
        "居委代码",
        "路名",
        "弄",
        "号",
        "标准地址",
        "经度",
        "纬度",
    ]
    ids = set()
    for r in addrs:
        assert comm[r["居委代码"]] == r["街道代码"]
        assert r["标准地址"].startswith("上海市静安区" + r["路名"])
        exp = f"上海市静安区{r['路名']}" + (f"{r['弄']}弄" if r["弄"] else "") + f"{r['号']}号"
        assert r["标准地址"] == exp
        ids.add(r["地址编码"])
    assert len(ids) == len(addrs)
    lanes = sum(1 for r in addrs if r["弄"])
    assert lanes > len(addrs) * 0.4 and lanes < len(addrs)  # mostly 路+弄+号, some 路+号
    hh = read_csv(a / "_truth" / MONTHS[0] / "households.csv")
    all_addr = {r["address_id"]: r for r in read_csv(a / "_truth" / MONTHS[0] / "addresses.csv")}
    for h in hh:
        ad = all_addr[h["address_id"]]
        assert (h["address_id"] in ids) == (ad["in_library"] == "1")
        assert h["community_code"][:9] == h["street_code"][:9]


def test_encodings_and_headers(gen):
    a = gen["a"]
    headers = contract_headers()
    for m in MONTHS:
        raw = (a / m / "utility_electricity.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        assert not (a / m / "market_business_registry.csv").read_bytes().startswith(b"\xef\xbb\xbf")
        (a / m / "police_population.csv").read_bytes().decode("gb18030")
        (a / m / "hr_graduates.csv").read_bytes().decode("gbk")
        with pytest.raises(UnicodeDecodeError):  # really GB18030, not UTF-8
            (a / m / "police_population.csv").read_bytes().decode("utf-8")
        for name in SOURCES:
            header, rows = read_source(a, m, name)
            assert header == headers[name], name
            assert all(len(r) == len(header) for r in rows), name


def test_truth_complete(gen):
    a = gen["a"]
    for m in MONTHS:
        for name in SOURCES:
            _, rows = read_source(a, m, name)
            truth = read_csv(a / "_truth" / m / f"{name}.csv")
            assert len(truth) == len(rows) > 0, (m, name)
            assert [int(t["source_row"]) for t in truth] == list(range(1, len(rows) + 1))
            for t in truth:
                if name in PERSON_SOURCES:
                    assert t["person_id"] and t["household_id"] and not t["shop_id"], (name, t)
                elif name == "utility_electricity":
                    assert bool(t["household_id"]) != bool(t["shop_id"]), t
                elif name == "street_shop_visits":
                    assert t["shop_id"] and not t["person_id"]
            if name in ("market_business_registry", "market_food_licence"):
                with_shop = sum(1 for t in truth if t["shop_id"])
                assert 0 < with_shop < len(truth)  # offices are not street shops


def test_true_ids_valid_and_consistent(gen):
    persons = read_csv(gen["a"] / "_truth" / MONTHS[-1] / "persons.csv")
    seen = set()
    for p in persons:
        idn = p["id_number"]
        assert id_valid(idn), idn
        assert idn[6:14] == p["birth_date"].replace("-", "")
        assert (int(idn[16]) % 2 == 1) == (p["sex"] == "男")
        assert idn not in seen
        seen.add(idn)
    regions = Counter(p["id_number"][:6] for p in persons)
    assert any(r in regions for r in ("310108", "310103", "310119"))  # abolished district codes
    assert sum(v for r, v in regions.items() if not r.startswith("31")) > 0  # other provinces
    assert any("·" in p["name"] for p in persons) or len(persons) < 5000
    sizes = Counter(p["household_id"] for p in persons if p["status"] == "正常")
    avg = sum(sizes.values()) / len(sizes)
    assert 2.0 < avg < 3.2
    rf = sum(1 for p in persons if p["renhu_fenli"] == "1") / len(persons)
    assert 0.08 < rf < 0.35


def test_invalid_ids_in_files_are_planted(gen, planted):
    a = gen["a"]
    for m in MONTHS:
        pl = defaultdict(set)
        for p in planted[m]:
            pl[(p["source"], int(p["source_row"]), p["field"])].add(p["kind"])
        n_bad = 0
        for name, cols in ID_COLUMNS.items():
            header, rows = read_source(a, m, name)
            for c in cols:
                k = header.index(c)
                for r, row in enumerate(rows, start=1):
                    v = norm_id(row[k])
                    if len(v) == 18 and id_valid(v):
                        continue
                    n_bad += 1
                    assert pl[(name, r, c)] & ID_KINDS, (m, name, r, c, row[k])
        assert n_bad > 0  # default noise does plant some


def test_planted_rows_point_at_truth(gen, planted):
    a = gen["a"]
    for m in MONTHS:
        truth = {name: read_csv(a / "_truth" / m / f"{name}.csv") for name in SOURCES}
        kinds = Counter()
        for p in planted[m]:
            assert p["kind"] in NOISE_KINDS | SCENARIO_KINDS, p["kind"]
            kinds[p["kind"]] += 1
            t = truth[p["source"]]
            r = int(p["source_row"])
            assert 1 <= r <= len(t)
            tr = t[r - 1]
            if p["source"] in PERSON_SOURCES:
                assert p["person_id"] == tr["person_id"], p
            if p["shop_id"]:
                assert p["shop_id"] == tr["shop_id"], p
        for k in (
            "dead_but_aided",
            "dead_elderly_alone",
            "elderly_not_alone",
            "elderly_power_drop",
            "aid_family_size_mismatch",
            "aid_renhu_fenli",
            "account_holder_dead",
            "account_holder_unknown",
            "licence_expired_operating",
            "deregistered_operating",
            "unregistered_operating",
            "graduate_from_aid_family_unemployed",
            "duplicate_row",
            "id_bad_check",
            "address_not_in_library",
        ):
            assert kinds[k] > 0, (m, k)


def test_scenarios_agree_with_answer_key(gen, planted):
    a = gen["a"]
    m = MONTHS[-1]
    persons = {p["person_id"]: p for p in read_csv(a / "_truth" / m / "persons.csv")}
    shops = {s["shop_id"]: s for s in read_csv(a / "_truth" / m / "shops.csv")}
    hh = {h["household_id"]: h for h in read_csv(a / "_truth" / m / "households.csv")}
    for p in planted[m]:
        k = p["kind"]
        if k in ("dead_but_aided", "dead_elderly_alone", "account_holder_dead"):
            assert persons[p["person_id"]]["status"] == "死亡", p
        elif k == "elderly_not_alone":
            assert int(hh[p["household_id"]]["member_count"]) > 1
        elif k in ("licence_expired_operating", "deregistered_operating", "unregistered_operating"):
            assert shops[p["shop_id"]]["status"] == "营业"
        elif k == "graduate_from_aid_family_unemployed":
            pr = persons[p["person_id"]]
            assert pr["is_graduate"] == "1" and pr["employment_status"] == "未就业" and pr["aid_type"]
    # every dead person on the aid list is planted
    _, rows = read_source(a, m, "civil_affairs_assistance")
    truth = read_csv(a / "_truth" / m / "civil_affairs_assistance.csv")
    dead_rows = {int(t["source_row"]) for t in truth if persons[t["person_id"]]["status"] == "死亡"}
    planted_rows = {int(p["source_row"]) for p in planted[m] if p["kind"] == "dead_but_aided"}
    assert dead_rows == planted_rows


def test_electricity_history(gen):
    a = gen["a"]
    header, rows = read_source(a, MONTHS[0], "utility_electricity")
    per_acc = defaultdict(list)
    for r in rows:
        per_acc[r[0]].append(r[4])
    months = {mm for r in rows for mm in [r[4]]}
    assert min(months) == "2025-11" and max(months) == "2026-10"
    full = sum(1 for v in per_acc.values() if len(set(v)) == 12)
    assert full > 0.85 * len(per_acc)
    assert any(len(set(v)) < 12 for v in per_acc.values())  # new accounts / missing months
    kwh = [int(r[5]) for r in rows]
    assert min(kwh) >= 0 and 80 < sorted(kwh)[len(kwh) // 2] < 600


def test_deterministic(gen, tmp_path):
    generate(tmp_path / "b", persons=PERSONS, months=2, seed=SEED, noise=1.0)
    assert tree_digest(gen["a"]) == tree_digest(tmp_path / "b")
    generate(tmp_path / "c", persons=PERSONS, months=1, seed=SEED + 1, noise=1.0)
    for name, (fname, _, _) in SOURCES.items():
        assert (gen["a"] / MONTHS[0] / fname).read_bytes() != (tmp_path / "c" / MONTHS[0] / fname).read_bytes(), name


def test_noise_zero_is_clean(tmp_path):
    out = tmp_path / "clean"
    generate(out, persons=PERSONS, months=1, seed=SEED, noise=0.0)
    m = MONTHS[0]
    pl = read_csv(out / "_truth" / m / "planted.csv")
    assert not [p for p in pl if p["kind"] in NOISE_KINDS]
    assert [p for p in pl if p["kind"] in SCENARIO_KINDS]  # scenarios remain
    for name, cols in ID_COLUMNS.items():
        header, rows = read_source(out, m, name)
        for c in cols:
            k = header.index(c)
            assert all(id_valid(r[k]) for r in rows), (name, c)
    header, rows = read_source(out, m, "police_population")
    assert len({tuple(r) for r in rows}) == len(rows)
    k = header.index("出生日期")
    assert all(len(r[k]) == 10 and r[k][4] == "-" for r in rows)
    assert all(r[header.index("居住地址")].startswith("上海市静安区") for r in rows)


def test_noise_two_doubles(tmp_path, gen, planted):
    out = tmp_path / "noisy"
    generate(out, persons=PERSONS, months=1, seed=SEED, noise=2.0)
    pl = read_csv(out / "_truth" / MONTHS[0] / "planted.csv")
    n2 = sum(1 for p in pl if p["kind"] in ("id_bad_check", "name_homophone", "duplicate_row", "phone_invalid"))
    n1 = sum(
        1
        for p in planted[MONTHS[0]]
        if p["kind"] in ("id_bad_check", "name_homophone", "duplicate_row", "phone_invalid")
    )
    assert 1.4 * n1 < n2 < 2.8 * n1


def test_month_to_month_change(gen):
    a = gen["a"]
    p1 = {p["person_id"]: p for p in read_csv(a / "_truth" / MONTHS[0] / "persons.csv")}
    p2 = {p["person_id"]: p for p in read_csv(a / "_truth" / MONTHS[1] / "persons.csv")}
    assert set(p1) <= set(p2)  # nobody disappears from the police snapshot
    live1 = [k for k, p in p1.items() if p["status"] == "正常"]
    died = [k for k in live1 if p2[k]["status"] == "死亡"]
    left = [k for k in live1 if p2[k]["status"] == "迁出"]
    moved = [k for k in live1 if p2[k]["status"] == "正常" and p2[k]["household_id"] != p1[k]["household_id"]]
    same = [k for k in live1 if p2[k]["status"] == "正常" and p2[k]["household_id"] == p1[k]["household_id"]]
    new = [k for k in p2 if k not in p1]
    assert died and (left or moved) and new
    assert len(same) > 0.97 * len(live1)
    assert all(p2[k]["status_month"] == MONTHS[1] for k in died)
    # police rows for the dead say so
    header, rows = read_source(a, MONTHS[1], "police_population")
    truth = read_csv(a / "_truth" / MONTHS[1] / "police_population.csv")
    st = header.index("人员状态")
    dead_rows = [r for r, t in zip(rows, truth) if t["person_id"] in set(died)]
    assert dead_rows and all(r[st] in ("死亡", "注销") for r in dead_rows)


def test_records_persist_with_the_same_noise(gen):
    """A record exported again next month is the same record: same ID string, typo included."""
    a = gen["a"]
    ids = []
    for m in MONTHS:
        header, rows = read_source(a, m, "police_population")
        truth = read_csv(a / "_truth" / m / "police_population.csv")
        k = header.index("公民身份号码")
        ids.append({t["person_id"]: r[k] for r, t in zip(rows, truth)})
    common = set(ids[0]) & set(ids[1])
    assert len(common) == len(ids[0])
    assert all(ids[0][p] == ids[1][p] for p in common)
    for name, col in (("market_food_licence", 0), ("market_business_registry", 0)):
        keys = [{r[col] for r in read_source(a, m, name)[1]} for m in MONTHS]
        assert keys[0] <= keys[1], name


def test_shops_realism(gen):
    a = gen["a"]
    shops = read_csv(a / "_truth" / MONTHS[-1] / "shops.csv")
    assert any(s["is_mall"] == "1" for s in shops)
    mall_addr = Counter(s["address_id"] for s in shops if s["is_mall"] == "1")
    assert max(mall_addr.values()) >= 3
    assert any(s["is_chain"] == "1" for s in shops)
    assert any(s["sign_name"] != s["registered_name"] and s["registered_name"] for s in shops)
    assert any(s["successor_of"] for s in shops) or any(s["status"] == "已关闭" for s in shops)
    _, reg = read_source(a, MONTHS[-1], "market_business_registry")
    for r in reg:
        code = r[0]
        assert code[:2] in ("91", "92") or len(code) == 18
    _, lic = read_source(a, MONTHS[-1], "market_food_licence")
    assert all(r[0].startswith("JY") and len(r[0]) == 16 and r[0][2:].isdigit() for r in lic)


def test_other_district(tmp_path):
    s = generate(tmp_path / "xh", persons=500, months=1, seed=3, district="xuhui")
    assert s["district_code"] == "310104"
    div = read_csv(tmp_path / "xh" / "reference" / "divisions.csv")
    assert len({d["街道代码"] for d in div}) == 13
    addrs = read_csv(tmp_path / "xh" / "reference" / "standard_addresses.csv")
    assert all(r["标准地址"].startswith("上海市徐汇区") for r in addrs)


# ---- the field noise profile ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    out = tmp_path_factory.mktemp("field") / "inbox"
    summary = generate(out, persons=1500, months=2, seed=SEED, noise=1.0, noise_profile="field")
    return out, summary


def _police_by_person(inbox: Path, month: str) -> dict[str, list[str]]:
    header, rows = read_source(inbox, month, "police_population")
    truth = read_csv(inbox / "_truth" / month / "police_population.csv")
    return {t["person_id"]: dict(zip(header, r)) for r, t in zip(rows, truth)}


def test_field_profile_draws_blank_and_building_only_residences_afresh_each_month(field):
    inbox, _ = field
    months = [_police_by_person(inbox, m) for m in MONTHS]
    blank = [{p for p, r in rows.items() if not r["居住地址"].strip()} for rows in months]
    assert all(len(b) > 0.01 * len(months[0]) for b in blank)
    assert len(blank[0] & blank[1]) < 0.2 * len(blank[0])  # other people each month
    # the same record is written another way next month (prefix, forms), typos in stored values stay
    common = set(months[0]) & set(months[1])
    differs = sum(months[0][p]["居住地址"] != months[1][p]["居住地址"] for p in common)
    assert differs > 0.3 * len(common)
    planted = read_csv(inbox / "_truth" / MONTHS[1] / "planted.csv")
    missing = [p for p in planted if p["kind"] == "address_room_missing"]
    assert {p["detail"] for p in missing} == {"blank", "building"}


def test_field_profile_utility_export_lags_the_delivery(field):
    inbox, _ = field
    for m in MONTHS:
        header, rows = read_source(inbox, m, "utility_electricity")
        k = header.index("抄表月份")
        months = {r[k] for r in rows}
        y, mm = (int(x) for x in m.split("-"))
        before = f"{y - (mm == 1)}-{(mm - 2) % 12 + 1:02d}"
        assert max(months) == before and m not in months


def test_field_profile_visits_shops_meters_and_licences(field):
    inbox, _ = field
    m = MONTHS[-1]
    shops = {s["shop_id"]: s for s in read_csv(inbox / "_truth" / m / "shops.csv")}
    header, rows = read_source(inbox, m, "street_shop_visits")
    truth = read_csv(inbox / "_truth" / m / "street_shop_visits.csv")
    contact = header.index("联系人")
    staff = sum(r[contact] != shops[t["shop_id"]]["owner"] for r, t in zip(rows, truth))
    assert 0.2 * len(rows) < staff < 0.8 * len(rows)  # often a shop assistant, not the owner
    _, licences = read_source(inbox, m, "market_food_licence")
    assert any(not (r[2] or "").strip() for r in licences)  # a blank credit code
    header, meters = read_source(inbox, m, "utility_electricity")
    truth = read_csv(inbox / "_truth" / m / "utility_electricity.csv")
    holder = header.index("户名")
    reps = {s["owner"] for s in shops.values()}
    assert any(t["shop_id"] and r[holder] in reps for r, t in zip(meters, truth))


def test_field_profile_misspells_road_names_by_one_homophone(field):
    inbox, _ = field
    roads = {r["路名"] for r in read_csv(inbox / "reference" / "standard_addresses.csv")}
    header, rows = read_source(inbox, MONTHS[0], "police_population")
    k = header.index("居住地址")
    import re

    written = {m.group(1) for r in rows if (m := re.search(r"([^\d\s市区道镇]{2,6}?路)", r[k] or ""))}
    misspelt = [
        w
        for w in written
        if w not in roads and any(len(w) == len(r) and sum(a != b for a, b in zip(w, r)) == 1 for r in roads)
    ]
    assert misspelt


def test_field_profile_is_deterministic(field, tmp_path):
    inbox, _ = field
    again = tmp_path / "again"
    generate(again, persons=1500, months=2, seed=SEED, noise=1.0, noise_profile="field")
    assert tree_digest(again) == tree_digest(inbox)


def test_unknown_noise_profile_is_refused(tmp_path):
    with pytest.raises(ValueError, match="noise profile"):
        generate(tmp_path / "x", persons=100, months=1, seed=1, noise_profile="kind")
