"""A 排摸 list drawn from a generated district, with the noise real lists have, and its answer key.

    rows, key = screening_list(inbox, n=500, seed=1)
    # rows: dicts by header (姓名, 公民身份号码, 手机号码, 现住址, 备注), in the list's order
    # key:  per row (same order) the committee where the person lives, or None when they do not live in
    #       the district (dead, moved out, never lived here): those rows belong in the district's queue

Noise (each drawn independently per row; rates are per row, not tuned to the router):
  ID number with one typo (a digit changed, or two neighbours swapped)          12%
  ID number missing                                                             15%
  an old address: the registered (户籍) address, or last month's, when it differs  25% of those who have one
  address written short (柳营路669-14-1102) or without 上海市/区                     30%
  name variant: a homophone, traditional characters, another minority separator  10%
  phone missing                                                                 30%
  people who died or moved out (the police file says so)                        as they occur in the draw
  people who never lived in the district (made-up, valid ID numbers)             5%
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

from synthetic.codes import id_check_char
from synthetic.names import homophone, traditional, with_separator

HEADERS = ["序号", "姓名", "公民身份号码", "手机号码", "现住址", "备注"]


def _read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _typo(idn: str, rng: random.Random) -> str:
    s = list(idn)
    if rng.random() < 0.5:
        i = rng.randrange(0, 17)
        s[i] = str((int(s[i]) + rng.randrange(1, 10)) % 10)
    else:
        i = rng.randrange(0, 16)
        while s[i] == s[i + 1]:
            i = rng.randrange(0, 16)
        s[i], s[i + 1] = s[i + 1], s[i]
    return "".join(s)


def _short(address: str, rng: random.Random) -> str:
    a = re.sub(r"^上海市", "", address)
    a = re.sub(r"^[^路街道]{1,3}区", "", a) if rng.random() < 0.5 else a
    m = re.match(r"^(.*?[路街道巷])(\d+)弄(\d+)号(\d+)室$", a)
    if m and rng.random() < 0.5:
        return f"{m.group(1)}{m.group(2)}-{m.group(3)}-{m.group(4)}"
    return a


def _variant(name: str, rng: random.Random) -> str:
    if "·" in name:
        return with_separator(name, rng.randrange(1, 5))
    out = homophone(name, rng.randrange(1 << 30), 1) if rng.random() < 0.7 else traditional(name)
    return out or name


def _made_up(rng: random.Random, names: list[str]) -> tuple[str, str]:
    region = rng.choice(["110105", "320102", "330106", "420102", "510104"])
    body = f"{region}{rng.randrange(1950, 2005)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{rng.randrange(0, 1000):03d}"
    a, b = rng.sample(names, 2)
    return a[0] + b[1:], body + id_check_char(body)


def screening_list(inbox: Path, n: int = 500, seed: int = 1, month: str | None = None):
    truth = Path(inbox) / "_truth"
    months = sorted(p.name for p in truth.iterdir() if re.fullmatch(r"\d{4}-\d{2}", p.name))
    month = month or months[-1]
    persons = _read(truth / month / "persons.csv")
    households = {h["household_id"]: h for h in _read(truth / month / "households.csv")}
    previous = {}
    if months.index(month) > 0:
        prev = months[months.index(month) - 1]
        previous = {p["person_id"]: p["household_id"] for p in _read(truth / prev / "persons.csv")}
    rng = random.Random(seed)
    picked = rng.sample(persons, min(n, len(persons)))
    all_names = [p["name"] for p in persons if len(p["name"]) >= 2]
    rows, key = [], []
    for k, p in enumerate(picked, start=1):
        if rng.random() < 0.05:
            name, idn = _made_up(rng, all_names)
            address = _short(rng.choice(list(households.values()))["full_address"], rng)
            rows.append(
                {"序号": str(k), "姓名": name, "公民身份号码": idn, "手机号码": "", "现住址": address, "备注": ""}
            )
            key.append(None)
            continue
        h = households.get(p["household_id"])
        lives = p["status"] == "正常" and h is not None and bool(h["community_code"])
        address = h["full_address"] if h else ""
        older = [
            x for x in (p.get("registered_household_id"), previous.get(p["person_id"])) if x and x != p["household_id"]
        ]
        if older and rng.random() < 0.25 and households.get(older[0]):
            address = households[older[0]]["full_address"]
        if address and rng.random() < 0.3:
            address = _short(address, rng)
        idn = p["id_number"]
        r = rng.random()
        if r < 0.12:
            idn = _typo(idn, rng)
        elif r < 0.27:
            idn = ""
        name = _variant(p["name"], rng) if rng.random() < 0.10 else p["name"]
        phone = "" if rng.random() < 0.3 else p["phone"]
        rows.append({"序号": str(k), "姓名": name, "公民身份号码": idn, "手机号码": phone, "现住址": address,
                     "备注": "重点人员"})  # fmt: skip
        key.append(h["community_code"] if lives else None)
    return rows, key


def write_list(path: Path, rows: list[dict], encoding: str = "utf-8") -> Path:
    path = Path(path)
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append(HEADERS)
        for r in rows:
            ws.append([r[h] for h in HEADERS])
        wb.save(path)
        return path
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.DictWriter(f, fieldnames=HEADERS)
        w.writeheader()
        w.writerows(rows)
    return path
