"""Routing a 排摸 list row to the committee where the person lives, saying why every time.

    master = MasterIndex.from_hub(hub_db)          # master data + the standard address library, read once
    decision = route_row(master, name=…, id_number=…, phone=…, address=…)
    decision.match_status     # matched | ambiguous | unmatched
    decision.community_code   # set only when matched to a living resident of a committee
    decision.reason           # in Chinese, what decided it (or why it waits in the district's queue)
    decision.candidates       # the persons considered (ambiguous) / the committee the address suggests

The evidence is the hub's own, through the same normalisers as the master data (normalize/): the
golden records (master.person, master.household) and every source record resolved to a person in
the latest delivery (matching.int_person_records through master.person_xref), so an old address or
a second phone a registry holds still finds the person. Order of evidence, as in the hub's matching:
ID number first, then an ID number one typo away with the same name, then name + phone, then
name + address; a name compares by its normalised form or its pinyin key (李丽/李莉). Several
persons on the same evidence are `ambiguous` (the queue shows them); nobody is `unmatched`, and the
queue suggests the committee of the row's address through the standard address library
(citizen_reports/routing.py `AddressLibrary`, the reports' router) for the operator to confirm.
A matched person who is dead or moved out, or whose dwelling has no committee, waits in the queue
too: the hub never places a row silently.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from citizen_reports.routing import AddressLibrary
from normalize.addresses import parse_address
from normalize.id_number import id_check_ok, normalize_id
from normalize.names import name_pinyin_key, normalize_name
from normalize.phones import normalize_phone
from normalize.text import to_halfwidth

MAX_CANDIDATES = 5
NOT_RESIDENT = {"死亡": "已死亡", "迁出": "已迁出"}


@dataclass
class Person:
    person_id: str
    name: str | None
    household_id: str | None
    status: str | None
    street_code: str | None
    community_code: str | None
    address: str | None
    room: str | None


@dataclass
class Decision:
    match_status: str  # matched | ambiguous | unmatched
    rule: str  # id_number | id_typo | name_phone | name_address | none
    reason: str
    person_id: str | None = None
    household_id: str | None = None
    street_code: str | None = None
    community_code: str | None = None
    candidates: list[dict] = field(default_factory=list)
    suggested_community: str | None = None  # unmatched: where the address says (the operator confirms)
    address_key: str | None = None
    room: str | None = None

    @property
    def routed(self) -> bool:
        return self.community_code is not None


def _keys(name: str | None) -> list[str]:
    n = normalize_name(name) if name else None
    if not n:
        return []
    out = [f"n:{n}"]
    py = name_pinyin_key(n)
    if py:
        out.append(f"p:{py}")
    return out


@dataclass
class MasterIndex:
    persons: dict[str, Person]
    by_id: dict[str, set[str]]
    by_name: dict[str, set[str]]  # name key → persons (for ID typos)
    ids_of: dict[str, set[str]]  # person → ID numbers seen
    by_name_phone: dict[tuple[str, str], set[str]]
    by_name_address: dict[tuple[str, str], set[str]]
    library: AddressLibrary | None
    community_names: dict[str, str]
    street_names: dict[str, str]

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_hub(cls, db: str | Path) -> MasterIndex:
        with duckdb.connect(str(db), read_only=True) as con:
            return cls.from_connection(con)

    @classmethod
    def from_connection(cls, con: duckdb.DuckDBPyConnection) -> MasterIndex:
        def has(t: str) -> bool:
            s, n = t.split(".")
            return bool(
                con.execute(
                    "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [s, n]
                ).fetchone()[0]
            )

        if not has("master.person"):
            raise LookupError("the hub has no master data yet (run `civichub run` first)")
        lib_key = (
            "(select s.address_key from staging.stg_standard_addresses s where s.address_id = h.address_id)"
            if has("staging.stg_standard_addresses")
            else "null"
        )
        rows = con.execute(
            f"""select p.person_id, p.id_number, p.name, p.phone, p.household_id, p.status,
                       h.street_code, h.community_code, h.full_address, h.room, {lib_key}
                from master.person p left join master.household h using (household_id)
                where p.in_latest_delivery"""
        ).fetchall()
        persons: dict[str, Person] = {}
        by_id: dict[str, set[str]] = defaultdict(set)
        by_name: dict[str, set[str]] = defaultdict(set)
        ids_of: dict[str, set[str]] = defaultdict(set)
        by_name_phone: dict[tuple[str, str], set[str]] = defaultdict(set)
        by_name_address: dict[tuple[str, str], set[str]] = defaultdict(set)

        def index(pid: str, keys: list[str], idn: str | None, phone: str | None, address_keys) -> None:
            # values here are the hub's, already through the normalisers (staging and the golden record)
            for k in keys:
                by_name[k].add(pid)
                if phone:
                    by_name_phone[(k, phone)].add(pid)
                for a in address_keys:
                    if a:
                        by_name_address[(k, a)].add(pid)
            if idn:
                by_id[idn].add(pid)
                ids_of[pid].add(idn)

        records = []
        if has("matching.int_person_records") and has("master.person_xref"):
            latest = con.execute("select max(delivery) from master.person_xref").fetchone()[0]
            cols = {
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() where schema_name = 'matching' "
                    "and table_name = 'int_person_records'"
                ).fetchall()
            }
            reg = "r.registered_address_key" if "registered_address_key" in cols else "null"
            pin = "r.name_pinyin_key" if "name_pinyin_key" in cols else "null"
            records = con.execute(
                f"""select x.person_id, r.name, {pin}, r.id_number, r.phone, r.address_key, {reg}
                    from master.person_xref x
                    join matching.int_person_records r
                      on r.source = x.source and r.source_file = x.source_file and r.source_row = x.source_row
                    where x.delivery = ?""",
                [latest],
            ).fetchall()
        pinyin_of = {name: py for _pid, name, py, *_rest in records if name and py}

        def name_keys(name: str | None) -> list[str]:
            if not name:
                return []
            py = pinyin_of.get(name)
            return [f"n:{name}", f"p:{py}"] if py else _keys(name)

        for pid, idn, name, phone, hid, status, street, community, full, room, akey in rows:
            persons[pid] = Person(pid, name, hid, status, street, community, full, room)
            if akey is None and full:
                akey = parse_address(full).address_key
            index(pid, name_keys(name), idn, phone, (akey,))
        for pid, name, _py, idn, phone, ak, rk in records:
            if pid in persons:
                index(pid, name_keys(name), idn, phone, (ak, rk))
        library, streets, communities = _library(con, has)
        return cls(
            persons,
            dict(by_id),
            dict(by_name),
            dict(ids_of),
            dict(by_name_phone),
            dict(by_name_address),
            library,
            communities,
            streets,
        )

    # ------------------------------------------------------------------ lookups
    def committee_label(self, code: str | None) -> str:
        if not code:
            return ""
        return f"{self.community_names.get(code, '')}（{code}）" if code in self.community_names else code

    def place_address(self, address: str | None) -> tuple[str | None, str | None, str]:
        """(street, committee, how) of an address through the standard address library."""
        if not address or self.library is None:
            return None, None, "无地址" if not address else "没有标准地址库"
        i, method, note = self.library.by_text(address)
        if i is None:
            return None, None, note or "地址无法定位"
        how = {"address": "标准地址库门牌一致", "address_near": "同路最近门牌", "road": "整条路在一个街道",
               "crossing": "交叉口"}.get(method, method)  # fmt: skip
        return self.library.street_code[i], self.library.community_code[i] or None, how


def _library(con, has) -> tuple[AddressLibrary | None, dict[str, str], dict[str, str]]:
    streets: dict[str, str] = {}
    communities: dict[str, str] = {}
    if has("staging.stg_divisions"):
        cols = {
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where schema_name='staging' and table_name='stg_divisions'"
            ).fetchall()
        }
        if {"street_code", "street_name", "community_code", "community_name"} <= cols:
            for s, sn, c, cn in con.execute(
                "select street_code, street_name, community_code, community_name from staging.stg_divisions"
            ).fetchall():
                streets[s] = sn
                communities[c] = cn
    if not has("staging.stg_standard_addresses"):
        return None, streets, communities
    rows = con.execute(
        "select address_id, street_code, community_code, full_address from staging.stg_standard_addresses "
        "where full_address is not null order by address_id"
    ).fetchall()
    nan = np.full(len(rows), np.nan)
    lib = AddressLibrary(
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        nan,
        nan.copy(),
        streets,
        communities,
        "staging.stg_standard_addresses",
    )
    return lib, streets, communities


def _one_typo(a: str, b: str) -> bool:
    """Two 18-character ID numbers one substitution or one swap of neighbours apart."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _raw_id(raw: str | None) -> str | None:
    """An ID number as typed, in the normaliser's alphabet (for typo comparison when it fails the check)."""
    if not raw:
        return None

    s = "".join(ch for ch in to_halfwidth(str(raw)).upper() if ch.isalnum())
    return s if len(s) == 18 else None


def route_row(
    m: MasterIndex, *, name: str | None = None, id_number: str | None = None, phone: str | None = None,
    address: str | None = None,
) -> Decision:  # fmt: skip
    """The routing decision for one list row (pure given the index)."""
    keys = _keys(name)
    parsed = parse_address(address) if address else None
    akey = parsed.address_key if parsed else None
    room = parsed.room if parsed else None
    idn = normalize_id(id_number) if id_number else None
    typed = idn or _raw_id(id_number)

    found: set[str] = set()
    rule = "none"
    why = ""
    if idn and idn in m.by_id:
        found, rule = set(m.by_id[idn]), "id_number"
        why = "身份证号一致"
        if keys and len(found) == 1:
            p = m.persons[next(iter(found))]
            if p.name and not set(keys) & set(_keys(p.name)):
                # an ID number typed for someone else's: only the name and more evidence can say
                other = _by_evidence(m, keys, phone, akey)
                if other and other[0] - found:
                    found |= other[0]
                    rule, why = "id_number", f"身份证号对应的人姓名不同，且{other[1]}指向另一人"
                else:
                    why = "身份证号一致（姓名不同，请核对）"
    if not found and typed and keys and not (idn and id_check_ok(idn) and idn in m.by_id):
        near = set()
        for k in keys:
            for pid in m.by_name.get(k, ()):
                if any(_one_typo(typed, i) for i in m.ids_of.get(pid, ())):
                    near.add(pid)
        if near:
            found, rule = near, "id_typo"
            why = "身份证号与主数据差一位（疑为录入错误），姓名一致"
    if not found:
        hit = _by_evidence(m, keys, phone, akey)
        if hit:
            found, why = hit[0], hit[1]
            rule = hit[2]
    if not found:
        street, committee, how = m.place_address(address)
        d = Decision("unmatched", "none", "", address_key=akey, room=room)
        told = "、".join(x for x, v in (("身份证号", id_number), ("电话", phone), ("地址", address)) if v)
        base = f"主数据中找不到此人（按姓名{('、' + told) if told else ''}均未找到）"
        if committee:
            d.suggested_community = committee
            d.street_code = street
            d.reason = f"{base}；按地址（{how}）可归入 {m.committee_label(committee)}，待区里确认"
        else:
            d.reason = f"{base}；地址也无法定位到居委（{how}）"
        return d
    if len(found) > 1:
        cands = sorted(found)[:MAX_CANDIDATES]
        households = {m.persons[p].household_id for p in found}
        d = Decision(
            "ambiguous",
            rule,
            f"{why}的有 {len(found)} 人" + ("（同一户）" if len(households) == 1 else "，无法确定是哪一位"),
            candidates=[_candidate(m, p) for p in cands],
            address_key=akey,
            room=room,
        )
        return d
    p = m.persons[next(iter(found))]
    d = Decision("matched", rule, why, person_id=p.person_id, household_id=p.household_id, address_key=akey, room=room)
    d.candidates = [_candidate(m, p.person_id)]
    if p.status in NOT_RESIDENT:
        d.reason = f"{why}；公安实有人口记录此人{NOT_RESIDENT[p.status]}，不派给居委，待区里决定"
        return d
    if not p.community_code:
        # the dwelling is not in the library as such: place it as far as the library allows, and say so
        for text, whose in ((p.address, "住处"), (address, "名单上的地址")):
            street, committee, how = m.place_address(text)
            if committee:
                d.street_code, d.community_code = street, committee
                d.reason = (f"{why}；此人{whose}不在标准地址库，按{how}归入 {m.committee_label(committee)}，"
                            "请核对")  # fmt: skip
                return d
        d.reason = f"{why}；此人的住处没有归属居委（地址不在标准地址库，也无法按道路定位），待区里分派"
        return d
    d.street_code, d.community_code = p.street_code, p.community_code
    d.reason = f"{why}，居住在 {m.committee_label(p.community_code)}"
    return d


def _by_evidence(m: MasterIndex, keys: list[str], phone: str | None, akey: str | None):
    """(persons, why, rule) by name + phone, then name + address; None when neither finds anyone."""
    if not keys:
        return None
    ph = normalize_phone(phone) if phone else None
    if ph:
        hit = set()
        for p1 in ph.split(";"):
            for k in keys:
                hit |= m.by_name_phone.get((k, p1), set())
        if hit:
            return hit, "姓名与电话一致", "name_phone"
    if akey:
        hit = set()
        for k in keys:
            hit |= m.by_name_address.get((k, akey), set())
        if hit:
            return hit, "姓名与地址一致", "name_address"
    return None


def _candidate(m: MasterIndex, pid: str) -> dict:
    p = m.persons[pid]
    return {
        "person_id": p.person_id,
        "household_id": p.household_id,
        "street_code": p.street_code,
        "community_code": p.community_code,
        "community": m.committee_label(p.community_code),
        "status": p.status,
    }
