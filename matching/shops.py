"""Shop resolution (一店一码): which registry rows, licences, street visits and meters are one shop.

A shop is a premises (standard address + unit) where a business operates. Within a premises:
- registered entities are told apart by their credit code (USCC): a mall's shops, or a closed shop
  and its successor at the same premises, are different entities and so different shops; a licence
  joins its entity by USCC (or by a one-character USCC typo at the same premises), and a licence
  whose credit code is blank joins the entity at its premises with the same name and legal
  representative (or, failing that, the one entity there whose name or representative it shares);
- a street visit joins the entity whose legal representative is the visit's contact person (by
  characters or pinyin), or whose registered name shares its identity-bearing core with the sign
  name (上海润泽食品有限公司 ~ 润泽); when the contact is a shop assistant and the sign says nothing,
  the visit joins the one registered shop operating at the premises on the visit's date (founded
  before it, not deregistered before it, not found closed by an earlier visit, and not one the
  street has seen under another sign with other contacts: that is a successor); visits no
  entity claims are a shop of their own (unregistered), grouped by sign name or contact;
- a visit whose address lost its unit (a mall shop written as the mall's address) joins the entity
  of that building whose representative or name it names, and only then; or the entity last month's
  copy of the same visit (previous_uscc: same day, visitor and contact, in the same building) was
  given to on its own evidence (the registers re-export their history every month, re-rendered);
- an electricity meter joins the shop whose name or contact its account name carries, else the only
  shop at its premises.
Every assignment says why (match_rule) and how strongly (match_score, 0-1).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import pandas as pd
from rapidfuzz import fuzz

from matching.clustering import collector_paused

REGISTRY = "market_business_registry"
LICENCE = "market_food_licence"
VISITS = "street_shop_visits"
VISIT_SOURCES = (VISITS, "street_shop_visits_app")  # the street offices' registers and the app's visits
METERS = "utility_electricity"
CLOSED_RESULT = "已停业"  # a visit that found the shop closed
ENDED = ("注销", "吊销")  # registration statuses of a business that no longer exists


@dataclass(frozen=True)
class ShopRules:
    contact_weight: float = 0.6  # visit contact is the entity's legal representative
    name_weight: float = 0.4  # similarity of identity cores (0-1 scaled)
    accept: float = 0.5  # a visit joins an entity at or above this score
    sign_match: float = 80.0  # sign core and registered core this similar name the same business
    sign_group_similarity: float = 80.0  # unregistered visits with sign cores this similar are one shop
    only_shop_score: float = 0.7  # a visit joining the one registered shop operating at its premises
    premises_score: float = 0.6  # placed by the premises alone: the one business there, deregistered or not
    latest_at_premises_score: float = 0.5  # a guess: the newest of several businesses at the premises


@dataclass
class _Entity:
    """What the registry and the licences say about one registered business."""

    uscc: str
    premises: str | None = None
    building: str | None = None
    cores: set = field(default_factory=set)
    names: set = field(default_factory=set)
    people: set = field(default_factory=set)  # legal representatives, by characters
    people_keys: set = field(default_factory=set)  # … and by pinyin
    office: bool = True
    established: _dt.date | None = None
    ended: bool = False  # deregistered / revoked
    ended_on: _dt.date | None = None  # … on (核准日期 of that status); None where the registry gives none


def _text(v) -> str | None:
    return v if isinstance(v, str) and v else None


def _date(v) -> _dt.date | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.date()
    if isinstance(v, _dt.datetime):
        return v.date()
    if isinstance(v, _dt.date):
        return v
    return None


def _similar(a, b) -> float:
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return 0.0
    if a in b or b in a:
        return 100.0
    return float(fuzz.ratio(a, b))


def _one_char_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


SOURCE_ORDER = (REGISTRY, LICENCE, *VISIT_SOURCES, METERS)


def _delivery_order(source, record_key: str) -> tuple[int, str, int]:
    """The records in one order whatever the engine handed them in (DuckDB's scan, Spark's
    partitions): registry, licences, visits, meters, each by file and row number. The rules below
    take the first of equals in places (a tie of scores, a licence one character off two codes), so
    the order is part of the result."""
    rank = SOURCE_ORDER.index(source) if source in SOURCE_ORDER else len(SOURCE_ORDER)
    head, _, row = str(record_key).rpartition(":")
    return (rank, head, int(row)) if head and row.isdigit() else (rank, str(record_key), -1)


def _same_person(name, key, ent: _Entity) -> bool:
    return (_text(name) is not None and name in ent.people) or (_text(key) is not None and key in ent.people_keys)


def cluster_shops(records: pd.DataFrame, rules: ShopRules = ShopRules()) -> pd.DataFrame:
    """records: record_key, source, uscc, uscc_check_ok, name, name_core, person_name, person_name_key,
    premises_key, address_id, upper_floor_office, event_date, established_on, registration_status,
    inspection_result, account_no, previous_uscc (missing optional columns are taken as empty).
    Returns record_key, cluster_key, match_rule, match_score, is_street_shop."""
    with collector_paused():
        return _cluster_shops(records, rules)


def _cluster_shops(records: pd.DataFrame, rules: ShopRules) -> pd.DataFrame:
    recs = records.copy()
    for col in (
        "name",
        "person_name_key",
        "address_id",
        "established_on",
        "inspection_result",
        "previous_uscc",
        "reading_month",
    ):
        if col not in recs.columns:
            recs[col] = None
    recs = recs.astype(object).where(recs.notna(), None)
    # (the columns as lists: a pandas `.iat` per record was half of this function at 1M persons)
    sources, keys = recs["source"].tolist(), recs["record_key"].tolist()
    recs = recs.iloc[sorted(range(len(recs)), key=lambda i: _delivery_order(sources[i], keys[i]))]
    out: dict[str, tuple[str, str, float]] = {}

    entities = _entities_by_credit_code(recs, out)
    _licences_without_credit_code(recs, entities, out)
    shop_cores, shop_people, unregistered = _visits(recs, entities, rules, out, _new_meters(recs))
    _meters(recs, entities, shop_cores, shop_people, unregistered, rules, out)

    rows = [(rk, *out.get(rk, ("rec:" + rk, "singleton", None))) for rk in recs["record_key"]]
    result = pd.DataFrame(rows, columns=["record_key", "cluster_key", "match_rule", "match_score"])
    office = {"uscc:" + e for e, info in entities.items() if info.office}
    result["is_street_shop"] = ~result["cluster_key"].isin(office) & ~result["cluster_key"].str.startswith("meter:")
    return result


# ---- 1. registered entities and their licences ----------------------------------------------------


def _entities_by_credit_code(recs: pd.DataFrame, out: dict) -> dict[str, _Entity]:
    legal = recs[recs["source"].isin([REGISTRY, LICENCE])]
    registry = legal[legal["source"] == REGISTRY]
    entity_of: dict[str, str] = {}  # uscc (as written) -> entity uscc
    registered_at: dict[str, list[str]] = {}
    for u, prem in zip(registry["uscc"], registry["premises_key"]):
        if u:
            entity_of[u] = u
            if prem:
                registered_at.setdefault(prem, []).append(u)
    for u, prem in zip(legal["uscc"], legal["premises_key"]):
        if not u or u in entity_of:
            continue
        # a licence whose code is one character off a registered entity at the same premises
        near = [e for e in registered_at.get(prem, []) if _one_char_apart(e, u)] if prem else []
        entity_of[u] = near[0] if len(near) == 1 else u

    entities: dict[str, _Entity] = {}
    for row in legal.itertuples(index=False):
        if not row.uscc:
            continue
        ent = entity_of[row.uscc]
        info = entities.setdefault(ent, _Entity(ent))
        _learn(info, row)
        rule = "uscc_exact" if row.uscc == ent else "uscc_one_char"
        out[row.record_key] = ("uscc:" + ent, rule, 1.0 if rule == "uscc_exact" else 0.9)
    return entities


def _learn(info: _Entity, row) -> None:
    if row.premises_key and (info.premises is None or row.source == REGISTRY):
        info.premises = row.premises_key
        info.building = row.address_id
    if row.name_core:
        info.cores.add(row.name_core)
    if _text(row.name):
        info.names.add(row.name)
    if _text(row.person_name):
        info.people.add(row.person_name)
    if _text(row.person_name_key):
        info.people_keys.add(row.person_name_key)
    if row.source == LICENCE or not bool(row.upper_floor_office):
        info.office = False
    if row.source == REGISTRY:
        info.established = _date(row.established_on) or info.established
        if row.registration_status in ENDED:
            info.ended, info.ended_on = True, _date(row.event_date)


def _licences_without_credit_code(recs: pd.DataFrame, entities: dict[str, _Entity], out: dict) -> None:
    """A licence whose 统一社会信用代码 is blank is the entity at its premises with its name and legal
    representative; else the one entity there sharing its name core or representative."""
    at_premises: dict[str, list[str]] = {}
    for ent, info in entities.items():
        if info.premises:
            at_premises.setdefault(info.premises, []).append(ent)
    blank = recs[(recs["source"] == LICENCE) & recs["uscc"].isna()]
    for row in blank.itertuples(index=False):
        cands = at_premises.get(row.premises_key, []) if row.premises_key else []
        same_name = [e for e in cands if row.name in entities[e].names or row.name_core in entities[e].cores]
        same_rep = [e for e in cands if _same_person(row.person_name, row.person_name_key, entities[e])]
        both = [e for e in same_name if e in same_rep]
        either = sorted(set(same_name) | set(same_rep))
        if len(both) == 1:
            chosen, rule, score = both[0], "licence_name_rep_address", 0.95
        elif len(either) == 1:
            chosen, rule, score = either[0], "licence_name_or_rep_at_address", 0.8
        else:
            continue  # its own shop (a licence of a business the registry does not list)
        out[row.record_key] = ("uscc:" + chosen, rule, score)
        entities[chosen].office = False  # a food licence is a street business


# ---- 2. street visits -----------------------------------------------------------------------------


def _existed_on(info: _Entity, day: _dt.date | None, found_closed: _dt.date | None) -> bool:
    """Had this registered business been founded by `day`, and had no visit found it closed before?
    (A business deregistered on paper may trade on: that is what deregistered_operating finds.)"""
    if day is None:
        return True
    if info.established and info.established > day:
        return False
    return not (found_closed and found_closed < day)


def _ended_by(info: _Entity, day: _dt.date) -> bool:
    """Had this registered business been deregistered (or revoked) by `day`? (Yes where the registry
    gives no date.)"""
    return info.ended and (info.ended_on is None or info.ended_on <= day)


def _operating_on(info: _Entity, day: _dt.date | None, found_closed: _dt.date | None) -> bool:
    """Could this registered business be the one trading at its premises on `day`, on paper too?"""
    if info.ended and (day is None or info.ended_on is None or info.ended_on < day):
        return False
    return _existed_on(info, day, found_closed)


def _new_meters(recs: pd.DataFrame) -> dict[str, list[tuple[str, str | None, str | None, str | None]]]:
    """premises -> (first 抄表月份, 户名, its pinyin key, its name core) of each electricity account
    there first read after the export's first month: an account opened within the export's window."""
    meters = recs[(recs["source"] == METERS) & recs["reading_month"].notna() & recs["premises_key"].notna()]
    if meters.empty:
        return {}
    window_start = min(meters["reading_month"])
    out: dict[str, list] = {}
    for (prem, _acc), rows in meters.groupby(["premises_key", "account_no"], dropna=False, sort=True):
        first = min(rows["reading_month"])
        if first > window_start:
            head = rows.iloc[0]
            out.setdefault(prem, []).append((first, head["person_name"], head["person_name_key"], head["name_core"]))
    return out


def _month(day: _dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _taken_over(info: _Entity, prem: str, day: _dt.date | None, new_meters: dict) -> bool:
    """Has a new occupant taken over the premises of this ended business by `day`? An electricity
    account opened there after the business was deregistered (first read in a later month, by the
    visit's month), in the name of neither its legal representative nor the business: the shop the
    street finds open is a successor, not the business trading on after its deregistration."""
    if not info.ended or day is None:
        return False
    for first, holder, key, core in new_meters.get(prem, []):
        opened_after_end = info.ended_on is None or _month(info.ended_on) < first  # no date: any account
        if not (opened_after_end and first <= _month(day)):
            continue
        if (holder and (holder in info.people or holder in info.names)) or (key and key in info.people_keys):
            continue
        if core and core in info.cores:
            continue
        return True
    return False


def _visits(recs, entities: dict[str, _Entity], rules: ShopRules, out: dict, new_meters: dict | None = None):
    new_meters = new_meters or {}
    at_premises: dict[str, list[str]] = {}
    in_building: dict[str, list[str]] = {}
    of_person: dict[str, list[str]] = {}
    for ent, info in entities.items():
        if info.premises:
            at_premises.setdefault(info.premises, []).append(ent)
        if info.building:
            in_building.setdefault(info.building, []).append(ent)
        for person in info.people:
            of_person.setdefault(person, []).append(ent)

    visits = recs[recs["source"].isin(VISIT_SOURCES)].copy()
    # visits naming a registered premises first: a visit whose address lost its unit (or is outside
    # the library) is judged after them, against every sign its building's businesses were seen under
    visits["_elsewhere"] = [
        not (isinstance(p, str) and (p in at_premises or not p.endswith("#"))) for p in visits["premises_key"]
    ]
    visits = visits.sort_values(["_elsewhere", "premises_key", "event_date", "record_key"], na_position="last")
    shop_cores: dict[str, set] = {}  # cluster_key -> sign cores seen
    shop_people: dict[str, set] = {}
    unregistered: dict[str, list[str]] = {}  # premises -> cluster keys of unregistered shops
    found_closed: dict[str, _dt.date] = {}  # entity -> the visit (assigned to it) that found it closed
    street_signs: dict[str, set] = {}  # entity -> the signs it was seen under that its registered name is not
    contacts: dict[str, set] = {}  # entity -> the contacts its visits named

    def another_shop(ent: str, row) -> bool:
        """The street knows this business under another sign, and neither the sign nor the contact of
        this visit is one of its own: a successor trading at the premises, not the business."""
        seen = street_signs.get(ent)
        if not seen or not row.name_core:
            return False
        if max(_similar(row.name_core, c) for c in seen | entities[ent].cores) >= rules.sign_group_similarity:
            return False
        return not (row.person_name is not None and row.person_name in contacts.get(ent, set()))

    for row in visits.itertuples(index=False):
        located = row.premises_key is not None
        prem = row.premises_key if located else "unlocated:" + str(row.name_core)
        day = _date(row.event_date)
        # a mall shop written with the mall's address only (no unit): no business registered there
        unit_missing = located and prem.endswith("#") and not at_premises.get(prem) and row.address_id is not None
        if located and not unit_missing:
            candidates = at_premises.get(prem, [])
        elif unit_missing:
            candidates = [e for e in in_building.get(row.address_id, []) if entities[e].premises != prem]
        else:  # an address outside the library: the contact's own business, if the name agrees
            candidates = of_person.get(row.person_name, [])

        best, best_score, best_rule = None, 0.0, None
        for ent in candidates:
            info = entities[ent]
            contact = 1.0 if _same_person(row.person_name, row.person_name_key, info) else 0.0
            cores = info.cores | shop_cores.get("uscc:" + ent, set())
            name = max((_similar(row.name_core, c) for c in cores), default=0.0) / 100
            if not located and name * 100 < rules.sign_match:
                continue  # away from its premises, the contact alone is not enough
            if unit_missing and not (contact or name * 100 >= rules.sign_match):
                continue  # a building holds many shops: only a name or the representative tells
            score = rules.contact_weight * contact + rules.name_weight * name
            if name * 100 >= rules.sign_match and (contact or _existed_on(info, day, None)):
                # the sign names the registered business (one that existed on the visit's date)
                score = max(score, rules.accept + 0.1 * name)
            if score > best_score:
                best, best_score = "uscc:" + ent, score
                best_rule = "visit_contact_is_legal_rep" if contact else "visit_sign_matches_name"
        if best is None or best_score < rules.accept:
            possible = [e for e in candidates if not unit_missing and not another_shop(e, row)]
            operating = [e for e in possible if _operating_on(entities[e], day, found_closed.get(e))]
            existing = [e for e in possible if _existed_on(entities[e], day, found_closed.get(e))]
            # a visit that finds the premises closed, where one business there had been deregistered
            # by then: the street confirms that business closed (a successor registered there is
            # not yet trading, or is what the next visit finds), rather than closing the successor
            ended = [e for e in existing if day is not None and _ended_by(entities[e], day)]
            if located and row.inspection_result == CLOSED_RESULT and len(ended) == 1:
                best, best_score, best_rule = (
                    "uscc:" + ended[0],
                    rules.premises_score,
                    "visit_found_closed_deregistered_shop",
                )
            elif located and len(operating) == 1:
                best, best_score, best_rule = (
                    "uscc:" + operating[0],
                    rules.only_shop_score,
                    "visit_only_shop_at_premises",
                )
            elif (
                located
                and not operating
                and len(existing) == 1
                and not _taken_over(entities[existing[0]], prem, day, new_meters)
            ):
                # the one business there was deregistered on paper, and the street finds a shop open
                # (unless a new occupant's meter says a successor trades there)
                best, best_score, best_rule = (
                    "uscc:" + existing[0],
                    rules.premises_score,
                    "visit_only_shop_at_premises_deregistered",
                )
            elif located and len(operating) > 1:
                # a successor at the same premises: the business founded last before the visit
                latest = max(operating, key=lambda e: (entities[e].established or _dt.date.min, e))
                best, best_score, best_rule = (
                    "uscc:" + latest,
                    rules.latest_at_premises_score,
                    "visit_latest_shop_at_premises",
                )
        if (
            best is None or best_score < rules.accept or best_rule == "visit_latest_shop_at_premises"
        ) and row.previous_uscc in candidates:
            # nothing in this month's copy tells (or only a guess among several businesses): the same
            # visit, last month, was this business's on its own evidence (its sign, contact or premises)
            best, best_score, best_rule = "uscc:" + row.previous_uscc, rules.only_shop_score, "visit_same_as_last_month"
        if best is not None and best_score >= rules.accept:
            if row.inspection_result == CLOSED_RESULT and day is not None:
                # the street found this business closed: a later visit there is another's
                found_closed[best[5:]] = min(day, found_closed.get(best[5:], day))
            out[row.record_key] = (best, best_rule, round(best_score, 3))
            shop_cores.setdefault(best, set()).add(row.name_core)
            ent = best[5:]
            # (a visit given to the newest of several businesses at its premises is a guess: its sign
            # tells nothing about that business's street sign)
            if (
                row.name_core
                and best_rule != "visit_latest_shop_at_premises"
                and max((_similar(row.name_core, c) for c in entities[ent].cores), default=0.0) < rules.sign_match
            ):
                street_signs.setdefault(ent, set()).add(row.name_core)
            if row.person_name is not None:
                contacts.setdefault(ent, set()).add(row.person_name)
            continue
        # a shop no registration claims: the same sign (or contact) at the same premises is one shop
        chosen = None
        for ck in unregistered.get(prem, []):
            if (row.person_name is not None and row.person_name in shop_people.get(ck, set())) or max(
                (_similar(row.name_core, c) for c in shop_cores.get(ck, set())), default=0.0
            ) >= rules.sign_group_similarity:
                chosen = ck
                break
        if chosen is None:
            chosen = f"unreg:{prem}:{row.name_core or row.record_key}"
            unregistered.setdefault(prem, []).append(chosen)
            out[row.record_key] = (chosen, "unregistered_new", 1.0)
        else:
            out[row.record_key] = (chosen, "unregistered_same_sign", 0.8)
        shop_cores.setdefault(chosen, set()).add(row.name_core)
        if row.person_name is not None:
            shop_people.setdefault(chosen, set()).add(row.person_name)
    return shop_cores, shop_people, unregistered


# ---- 3. meters ------------------------------------------------------------------------------------


def _entity_of(ck: str, entities: dict[str, _Entity]) -> _Entity | None:
    """The registered business a shop's cluster key names (`uscc:<code>`); None for a shop no
    registration claims."""
    return entities.get(ck[5:]) if ck.startswith("uscc:") else None


def _meters(recs, entities, shop_cores, shop_people, unregistered, rules: ShopRules, out: dict) -> None:
    meters = recs[recs["source"] == METERS]
    shops_at: dict[str, list[str]] = {}
    for ent, info in entities.items():
        if info.premises and not info.office:
            shops_at.setdefault(info.premises, []).append("uscc:" + ent)
    for prem, cks in unregistered.items():
        shops_at.setdefault(prem, []).extend(cks)
    # the months each account (as keyed below) was read in this export
    read_months: dict[tuple, list[str]] = {}
    for row in meters.itertuples(index=False):
        if row.reading_month is not None:
            key = (row.account_no, row.premises_key, row.name_core, row.person_name)
            read_months.setdefault(key, []).append(str(row.reading_month))

    def trading_when_read(ck: str, key: tuple) -> bool:
        # a business founded after the account's last reading, or ended before its first, did not
        # draw that power
        ent = _entity_of(ck, entities)
        months = read_months.get(key)
        if ent is None or not months:
            return True
        if ent.established is not None and _month(ent.established) > max(months):
            return False
        return not (ent.ended_on is not None and _month(ent.ended_on) < min(months))

    def newest(ck: str) -> tuple:
        ent = _entity_of(ck, entities)
        return (
            ent is not None,
            ent is not None and not ent.ended,
            (ent and ent.established) or _dt.date.min,
            ck,
        )

    meter_choice: dict[tuple, tuple[str, str, float]] = {}
    for row in meters.itertuples(index=False):
        key = (row.account_no, row.premises_key, row.name_core, row.person_name)
        if key not in meter_choice:
            candidates = shops_at.get(row.premises_key, [])
            best, best_score = None, 0.0
            for ck in candidates:
                ent = _entity_of(ck, entities)
                cores = set(shop_cores.get(ck, set()))
                people = set(shop_people.get(ck, set()))
                if ent:
                    cores |= ent.cores
                    people |= ent.people
                named = (row.person_name is not None and row.person_name in people) or (
                    ent is not None and _same_person(row.person_name, row.person_name_key, ent)
                )
                score = max(1.0 if named else 0.0, max((_similar(row.name_core, c) for c in cores), default=0.0) / 100)
                if score > best_score:
                    best, best_score = ck, score
            if best is not None and best_score >= rules.accept:
                meter_choice[key] = (best, "meter_name_matches_shop", round(best_score, 3))
            elif len(candidates) == 1:
                meter_choice[key] = (candidates[0], "meter_only_shop_at_premises", rules.premises_score)
            elif candidates:
                # several shops and no evidence: of those trading while the account was read, a
                # registered one still registered, the most recently founded
                pool = [ck for ck in candidates if trading_when_read(ck, key)] or candidates
                meter_choice[key] = (max(pool, key=newest), "meter_premises_ambiguous", 0.3)
            else:
                meter_choice[key] = (f"meter:{row.account_no}", "meter_unmatched", 0.0)
        out[row.record_key] = meter_choice[key]
