"""A synthetic city of several districts in one inbox (issue 17): what a city data office receives.

    generate_city(out_dir, districts=("jingan", "xuhui", "changning"), persons=2000, months=2, seed=1)

or `python -m synthetic.generate --city jingan,xuhui,changning --persons 2000 …` (persons per district).

Each district is its own world (its own seed, streets, people and shops); a delivery of the city is the
districts' deliveries of that month, one after the other in each file (the contract's inbox layout,
`reference/` the union of the districts'). What ties them together is 人户分离 across districts: a
family that the district it lives in has as "registered elsewhere in Shanghai" (户籍 in another
district) is registered, in the city, at a real dwelling of another district of the city. Its people
are then on two police exports:

- the district they live in (人在户不在): their row as before, 户籍地址 now the other district's dwelling;
- the district they are registered in (户在人不在): a row of its own, with that 户籍地址 and 户号, a
  居住地址 that is the real one or blank, a phone or none (the police there rarely see them), and an
  ID number that is sometimes the old 15-digit one, mistyped (two digits swapped) or blank.

The city hub must make the two rows one person. Against over-merging, a few people of different
districts are given the same name (namesakes, same sex): two people, who must stay two.

People also move between districts from one month to the next: from the second delivery on, a few
families of each district live in an empty flat of the next district (their 户籍 stays where it was).
The police of the district they moved to register them there (a row with the new 居住地址); the
police of the district they left keep their row as it was (户在人不在, the 居住地址 not yet updated).
The hub must keep each of them the one person (one stable id) they were the month before.

`_truth/` is the districts' answer keys with ids prefixed by district (`xuhui:P00000012`), so that
ids never collide across districts; `_truth/city_cross_district.csv` lists the cross-district persons
`_truth/city_namesakes.csv` the namesake pairs and `_truth/city_movers.csv` the persons who moved
to another district (from, to, the first month there). Citizen reports (`reports/`) are not generated
for a city.
"""

from __future__ import annotations

import csv
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from .config import GeneratorConfig
from .district import District
from .field_profile import FieldRenderer
from .generate import SOURCES, _truth_tables, _write_plain, _ym, source_tables, write_source
from .sources import Renderer, Table, hid_s, pid_s, sid_s
from .world import ST_OUT, World, ymd

DEFAULT_CITY = ("jingan", "xuhui", "changning")
REGISTERED_ELSEWHERE_IN_SHANGHAI = 2  # population.py registration kinds: 0 here, 1 in district, 2 Shanghai, 3 province
RELATION_SPOUSE = 1
POLICE = "police_population"
# police_population columns (sources.Renderer.police)
C_ID, C_NAME, C_HUKOU, C_REG, C_RES, C_PHONE = 0, 1, 5, 7, 8, 11


def _seed_of(seed: int, k: int) -> int:
    return seed * 1009 + 7919 * k


def _link_registrations(worlds: list[World], share: float, seed: int) -> dict[tuple[int, int], tuple[int, int, str]]:
    """Move the 户籍 of `share` of the families registered elsewhere in Shanghai to a dwelling of another
    district of the city: {(world, family): (registered world, dwelling, 户号)}; sets their
    registered_address (the 户籍地址 of the police export of the district they live in)."""
    rng = random.Random(f"city-registration:{seed}")
    links = {}
    for k, w in enumerate(worlds):
        people = w.people
        fams = sorted(
            {int(f) for f in people["family"][people["registration_kind"] == REGISTERED_ELSEWHERE_IN_SHANGHAI]}
        )
        for fam in fams:
            if rng.random() >= share:
                continue
            a = rng.choice([j for j in range(len(worlds)) if j != k])
            dw = rng.randrange(worlds[a].n_dwellings)
            links[(k, fam)] = (a, dw, f"{rng.randint(10000000, 99999999)}{rng.randint(0, 9)}")
    for k, w in enumerate(worlds):
        _apply_registrations(k, w, worlds, links)
    return links


def _apply_registrations(k: int, w: World, worlds: list[World], links: dict) -> None:
    """Every person of a linked family (newborns included) carries the other district's address."""
    people = w.people
    for i in np.nonzero(people["registration_kind"] == REGISTERED_ELSEWHERE_IN_SHANGHAI)[0].tolist():
        link = links.get((k, int(people["family"][i])))
        if link is not None:
            people["registered_address"][i] = _dwelling_text(worlds[link[0]], link[1])


def _dwelling_text(w: World, dw: int) -> str:
    lib = w.library
    return lib.address_text[int(lib.dwelling_address[dw])] + lib.dwelling_room[dw] + "室"


def _plant_namesakes(worlds: list[World], n_pairs: int, seed: int) -> list[tuple[int, int, int, int]]:
    """Give a spouse of the next district the name of a same-sex spouse of this one: [(k, i, k2, j)]."""
    rng = random.Random(f"city-namesakes:{seed}")
    pairs, used = [], set()
    for n in range(n_pairs):
        k, k2 = n % len(worlds), (n + 1) % len(worlds)
        if k == k2:
            break
        pa, pb = worlds[k].people, worlds[k2].people
        cand_a = np.nonzero(pa["relation"] == RELATION_SPOUSE)[0].tolist()
        for _ in range(50):
            i = rng.choice(cand_a)
            same_sex = np.nonzero((pb["relation"] == RELATION_SPOUSE) & (pb["sex"] == pa["sex"][i]))[0].tolist()
            j = rng.choice(same_sex) if same_sex else -1
            if j >= 0 and (k, i) not in used and (k2, j) not in used:
                pb["name"][j] = pa["name"][i]
                used |= {(k, i), (k2, j)}
                pairs.append((k, i, k2, j))
                break
    return pairs


def _pick_movers(
    worlds: list[World], per_district: int, seed: int, links: dict, namesakes: list
) -> list[tuple[int, int, int, int]]:
    """Families that move to the next district of the city at the second delivery: [(k, family, k2,
    dwelling of k2)], per district `per_district` families registered and living at home (not a
    family already registered in another district, nor one with a planted namesake), each given an
    empty flat of the next district."""
    rng = random.Random(f"city-movers:{seed}")
    taken = {(k, i) for k, i, k2, j in namesakes} | {(k2, j) for k, i, k2, j in namesakes}
    out = []
    for k, w in enumerate(worlds):
        k2 = (k + 1) % len(worlds)
        people = w.people
        home = (people["registration_kind"] == 0) & (people["status"] == 0)
        fams = sorted({int(f) for f in people["family"][home]} - {f for kk, f in links if kk == k})
        rng.shuffle(fams)
        occupied = set(worlds[k2].people["dwelling"].tolist()) | set(worlds[k2].people["police_dwelling"].tolist())
        empty = [d for d in range(worlds[k2].n_dwellings) if d not in occupied]
        n = 0
        for fam in fams:
            if n >= per_district or not empty:
                break
            members = np.nonzero(people["family"] == fam)[0].tolist()
            if any((k, i) in taken for i in members):
                continue
            out.append((k, fam, k2, empty.pop(rng.randrange(len(empty)))))
            n += 1
    return out


def _moved_rows(k: int, w: World, tab: Table, worlds: list[World], movers: list) -> dict[int, list]:
    """The rows the police of the district a family moved to add for its members this month:
    {district moved to: [(csv line, truth person id, truth household id)]}; a copy of the member's row
    of district k (the same ID number, name, 户籍) with the new flat as 居住地址."""
    people = w.people
    first_row = {}
    for row, (p, _h, _s) in enumerate(tab.truth):
        first_row.setdefault(p, row)
    out: dict[int, list] = {}
    for kk, fam, k2, dw in movers:
        if kk != k:
            continue
        for i in np.nonzero(people["family"] == fam)[0].tolist():
            if i not in first_row or people["status"][i] != 0:
                continue
            row = first_row[i]
            f = tab.rows[row].split(",")
            f[C_RES] = _dwelling_text(worlds[k2], dw)
            p, h, _s = tab.truth[row]
            out.setdefault(k2, []).append((",".join(f), pid_s(p), hid_s(h)))
    return out


def _registered_rows(k: int, w: World, tab: Table, worlds: list[World], links: dict, seed: int):
    """The rows other districts' police add for the people of district k registered with them:
    {registered world: [(csv line, person index in k, dwelling in k)]}."""
    people = w.people
    first_row = {}
    for row, (p, _h, _s) in enumerate(tab.truth):
        first_row.setdefault(p, row)
    out: dict[int, list] = {}
    for i in np.nonzero(people["registration_kind"] == REGISTERED_ELSEWHERE_IN_SHANGHAI)[0].tolist():
        link = links.get((k, int(people["family"][i])))
        if link is None or i not in first_row or people["status"][i] == ST_OUT:
            continue
        a, dw, hukou = link
        f = tab.rows[first_row[i]].split(",")
        rng = random.Random(f"city-row:{seed}:{k}:{i}")  # the same choices every month
        born = ymd(int(people["birth_day"][i])).year
        f[C_ID], kind = _registering_id(str(people["id_number"][i]), born, rng)
        f[C_NAME] = str(people["name"][i])
        f[C_HUKOU] = hukou
        f[C_REG] = _dwelling_text(worlds[a], dw)
        if rng.random() < 0.4:  # 户在人不在: where they live is often not on the registering police's file
            f[C_RES] = ""
        if rng.random() < 0.3:
            f[C_PHONE] = ""
        out.setdefault(a, []).append((",".join(f), i, int(people["dwelling"][i]), kind))
    return out


def _registering_id(id18: str, born: int, rng: random.Random) -> tuple[str, str | None]:
    """The ID number on the registering district's file: mostly right, some of the old 15-digit
    numbers never upgraded there (people born before 1985, as sources.Renderer.id_col), some typed
    with two digits swapped, a few blank (then only name, sex, birth date and phone say who it is)."""
    u = rng.random()
    if u < 0.15:
        if born >= 1985:
            return id18, None
        return id18[:6] + id18[8:17], "id_15digit"
    if u < 0.25:
        j = rng.randrange(6, 16)
        while id18[j] == id18[j + 1] and j < 15:
            j += 1
        return id18[:j] + id18[j + 1] + id18[j] + id18[j + 2 :], "id_transposed"
    if u < 0.30:
        return "", "field_blank"
    return id18, None


def _prefixed(key: str, value: str) -> str:
    return f"{key}:{value}" if value else ""


def _merge_truth_tables(parts: list[tuple[str, Path]], tdir: Path) -> None:
    """The districts' persons/households/shops/addresses answer keys in one file each, ids prefixed."""
    id_cols = {
        "persons.csv": ("person_id", "household_id", "registered_household_id"),
        "households.csv": ("household_id",),
        "shops.csv": ("shop_id", "successor_of"),
        "addresses.csv": (),
    }
    for fname, cols in id_cols.items():
        header, rows = None, []
        for key, d in parts:
            with open(d / fname, encoding="utf-8", newline="") as f:
                r = csv.reader(f)
                h = next(r)
                header = header or h
                at = [h.index(c) for c in cols]
                for row in r:
                    for c in at:
                        row[c] = _prefixed(key, row[c])
                    rows.append(row)
        _write_plain(tdir / fname, header, rows)


def generate_city(
    out_dir: Path,
    districts: tuple[str, ...] | list[str] = DEFAULT_CITY,
    persons: int = 2000,
    months: int = 2,
    seed: int = 1,
    noise: float = 1.0,
    start_month: str = "2026-10",
    noise_profile: str = "default",
    cross_share: float = 0.7,
    namesakes: int | None = None,
    movers: int | None = None,
    verbose: bool = False,
) -> dict:
    """Write a city of `districts` (each of `persons` persons) in the inbox layout, with `_truth/`.

    cross_share: the share of the families registered elsewhere in Shanghai whose 户籍 is in another
    district of the city. namesakes: pairs of people of different districts given one name (default
    one per 500 persons of a district, at least 3). movers: families of each district that move to
    the next district at the second delivery (default one per 500 persons of a district, at least 2)."""
    t_start = time.time()
    districts = list(districts)
    if len(districts) < 2 or len(set(districts)) != len(districts):
        raise ValueError(f"a city is two or more different districts, not {districts}")
    if persons < 50 or months < 1:
        raise ValueError("persons must be at least 50 and months at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = GeneratorConfig.load(noise, noise_profile)
    renderer_class = FieldRenderer if noise_profile == "field" else Renderer
    ds = [District.load(key) for key in districts]
    worlds = [World(d, persons, months, _seed_of(seed, k), config, start_month) for k, d in enumerate(ds)]
    links = _link_registrations(worlds, cross_share, seed)
    pairs = _plant_namesakes(worlds, namesakes if namesakes is not None else max(3, persons // 500), seed)
    moving = _pick_movers(worlds, movers if movers is not None else max(2, persons // 500), seed, links, pairs)

    def log(msg):
        if verbose:
            print(f"[{time.time() - t_start:7.1f}s] {msg}", flush=True)

    _write_city_reference(out, worlds)
    summary = {
        "city": ds[0].city,
        "districts": [d.name for d in ds],
        "seed": seed,
        "persons_per_district": persons,
        "noise": noise,
        "noise_profile": noise_profile,
        "months": {},
    }
    cross_seen: dict[str, tuple[str, str]] = {}
    movers_seen: dict[str, tuple[str, str, str]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="city-truth-", dir=out))
    try:
        for t in range(1, worlds[0].n_months):
            for w in worlds:
                w.step(t)
            for k, w in enumerate(worlds):  # newborns and movers of linked families
                _apply_registrations(k, w, worlds, links)
            if t < 12:
                continue
            ym = _ym(worlds[0], t)
            mdir, tdir = out / ym, out / "_truth" / ym
            mdir.mkdir(parents=True, exist_ok=True)
            tdir.mkdir(parents=True, exist_ok=True)
            renderers = [renderer_class(w, t) for w in worlds]
            merged: dict[str, dict] = {}
            for k, (w, r) in enumerate(zip(worlds, renderers)):
                for name, tab in source_tables(w, r):
                    m = merged.setdefault(name, {"header": tab.header, "parts": []})
                    if tab.header != m["header"]:
                        raise ValueError(f"{districts[k]} {name}: header differs from {districts[0]}'s")
                    m["parts"].append((k, tab))
            extra: dict[int, list] = {}
            for k, tab in merged[POLICE]["parts"]:
                for a, rows in _registered_rows(k, worlds[k], tab, worlds, links, seed).items():
                    extra.setdefault(a, []).extend((line, k, i, dw, kind) for line, i, dw, kind in rows)
            moved: dict[int, list] = {}
            if t > 12:  # from the second delivery on
                for k, tab in merged[POLICE]["parts"]:
                    for a, rows in _moved_rows(k, worlds[k], tab, worlds, moving).items():
                        moved.setdefault(a, []).extend((line, k, pid, hid) for line, pid, hid in rows)
            msum, planted = {}, []
            for name, m in merged.items():
                rows, truth = [], []
                for k, tab in m["parts"]:
                    key = districts[k]
                    offset = len(rows)
                    rows += tab.rows
                    truth += [
                        (_prefixed(key, pid_s(p)), _prefixed(key, hid_s(h)), _prefixed(key, sid_s(s)))
                        for p, h, s in tab.truth
                    ]
                    for kind, row0, p, h, s, fld, det in tab.planted:
                        planted.append(
                            (
                                kind,
                                name,
                                offset + row0 + 1,
                                _prefixed(key, pid_s(p)),
                                _prefixed(key, hid_s(h)),
                                _prefixed(key, sid_s(s)),
                                fld,
                                det,
                            )
                        )
                    if name == POLICE:
                        for line, k2, i, dw, kind in extra.get(k, []):
                            rows.append(line)
                            pid, hid = _prefixed(districts[k2], pid_s(i)), _prefixed(districts[k2], hid_s(dw))
                            truth.append((pid, hid, ""))
                            cross_seen[pid] = (districts[k2], key)
                            if kind:
                                planted.append(
                                    (kind, name, len(rows), pid, hid, "", "公民身份号码", "registering district")
                                )
                        for line, k2, pid, hid in moved.get(k, []):
                            rows.append(line)
                            pid = _prefixed(districts[k2], pid)
                            truth.append((pid, _prefixed(districts[k2], hid), ""))
                            movers_seen.setdefault(pid, (districts[k2], key, ym))
                write_source(mdir, name, m["header"], rows)
                _write_plain(
                    tdir / f"{name}.csv",
                    ["source_row", "person_id", "household_id", "shop_id"],
                    [(n, *tr) for n, tr in enumerate(truth, start=1)],
                )
                msum[name] = len(rows)
            planted.sort(key=lambda x: (x[1], x[2], x[0], x[6]))
            _write_plain(
                tdir / "planted.csv",
                ["kind", "source", "source_row", "person_id", "household_id", "shop_id", "field", "detail"],
                planted,
            )
            parts = []
            for k, (w, r) in enumerate(zip(worlds, renderers)):
                d = scratch / districts[k]
                d.mkdir(exist_ok=True)
                _truth_tables(w, r, d)
                parts.append((districts[k], d))
            _merge_truth_tables(parts, tdir)
            msum["planted"] = len(planted)
            msum["cross_district_rows"] = sum(len(v) for v in extra.values())
            msum["moved_rows"] = sum(len(v) for v in moved.values())
            summary["months"][ym] = msum
            log(f"{ym}: {msum}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _write_plain(
        out / "_truth" / "city_cross_district.csv",
        ["person_id", "lives_in", "registered_in"],
        sorted((p, lives, reg) for p, (lives, reg) in cross_seen.items()),
    )
    _write_plain(
        out / "_truth" / "city_namesakes.csv",
        ["person_id", "namesake_id"],
        [(_prefixed(districts[k], pid_s(i)), _prefixed(districts[k2], pid_s(j))) for k, i, k2, j in pairs],
    )
    _write_plain(
        out / "_truth" / "city_movers.csv",
        ["person_id", "moved_from", "moved_to", "first_month"],
        sorted((p, a, b, m) for p, (a, b, m) in movers_seen.items()),
    )
    summary["cross_district_persons"] = len(cross_seen)
    summary["namesake_pairs"] = len(pairs)
    summary["movers"] = len(movers_seen)
    summary["id_number_collisions"] = _id_collisions(worlds)
    summary["seconds"] = round(time.time() - t_start, 1)
    return summary


def _id_collisions(worlds: list[World]) -> int:
    """ID numbers that two different people of different districts hold (independent worlds can draw
    the same one; a real city has none, so the figure says how far the precision is the generator's)."""
    seen: dict[str, int] = {}
    clashes = 0
    for k, w in enumerate(worlds):
        for x in set(w.people["id_number"].tolist()):
            if seen.setdefault(x, k) != k:
                clashes += 1
    return clashes


def _write_city_reference(out: Path, worlds: list[World]) -> None:
    from .generate import _write_reference

    ref = out / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    files = ("divisions.csv", "standard_addresses.csv")
    texts = {f: [] for f in files}
    scratch = Path(tempfile.mkdtemp(prefix="city-ref-", dir=out))
    try:
        for w in worlds:
            _write_reference(scratch, w)
            for f in files:
                lines = (scratch / "reference" / f).read_text(encoding="utf-8").splitlines(keepends=True)
                texts[f] += lines if not texts[f] else lines[1:]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for f in files:
        (ref / f).write_text("".join(texts[f]), encoding="utf-8")


__all__ = ["DEFAULT_CITY", "SOURCES", "generate_city"]
