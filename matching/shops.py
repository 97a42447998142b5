"""Shop resolution (一店一码): which registry rows, licences, street visits and meters are one shop.

A shop is a premises (standard address + unit) where a business operates. Within a premises:
- registered entities are told apart by their credit code (USCC): a mall's shops, or a closed shop
  and its successor at the same premises, are different entities and so different shops; a licence
  joins its entity by USCC (or by a one-character USCC typo at the same premises);
- a street visit joins the entity whose legal representative is the visit's contact person, or whose
  registered name shares its identity-bearing core with the sign name (上海润泽食品有限公司 ~ 润泽);
  visits no entity claims are a shop of their own (unregistered), grouped by sign name;
- an electricity meter joins the shop whose name or contact its account name carries, else the only
  shop at its premises.
Every assignment says why (match_rule) and how strongly (match_score, 0-1).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz


@dataclass(frozen=True)
class ShopRules:
    contact_weight: float = 0.6  # visit contact is the entity's legal representative
    name_weight: float = 0.4  # similarity of identity cores (0-1 scaled)
    accept: float = 0.5  # a visit joins an entity at or above this score
    sign_group_similarity: float = 80.0  # unregistered visits with sign cores this similar are one shop


def _similar(a, b) -> float:
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return 0.0
    if a in b or b in a:
        return 100.0
    return float(fuzz.ratio(a, b))


def _one_char_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def cluster_shops(records: pd.DataFrame, rules: ShopRules = ShopRules()) -> pd.DataFrame:
    """records: record_key, source, uscc, uscc_check_ok, name_core, person_name, premises_key,
    upper_floor_office, event_date, registration_status, account_no.
    Returns record_key, cluster_key, match_rule, match_score."""
    out: dict[str, tuple[str, str, float]] = {}
    recs = records.copy()
    recs["uscc"] = recs["uscc"].where(recs["uscc"].notna(), None)

    # --- 1. entities by credit code -------------------------------------------------------------
    legal = recs[recs["source"].isin(["market_business_registry", "market_food_licence"])]
    entity_of: dict[str, str] = {}  # uscc (as written) -> entity uscc
    by_premises_registry: dict[str, list[str]] = {}
    for u, prem in zip(
        legal.loc[legal["source"] == "market_business_registry", "uscc"],
        legal.loc[legal["source"] == "market_business_registry", "premises_key"],
    ):
        if isinstance(u, str):
            entity_of[u] = u
            if isinstance(prem, str):
                by_premises_registry.setdefault(prem, []).append(u)
    for u, prem in zip(legal["uscc"], legal["premises_key"]):
        if not isinstance(u, str) or u in entity_of:
            continue
        # a licence whose code is one character off a registered entity at the same premises
        near = [e for e in by_premises_registry.get(prem, []) if _one_char_apart(e, u)] if isinstance(prem, str) else []
        entity_of[u] = near[0] if len(near) == 1 else u

    entity_info: dict[str, dict] = {}
    for row in legal.itertuples(index=False):
        if not isinstance(row.uscc, str):
            continue
        ent = entity_of[row.uscc]
        info = entity_info.setdefault(ent, {"premises": None, "cores": set(), "people": set(), "office": True})
        if isinstance(row.premises_key, str) and (info["premises"] is None or row.source == "market_business_registry"):
            info["premises"] = row.premises_key
        if isinstance(row.name_core, str):
            info["cores"].add(row.name_core)
        if isinstance(row.person_name, str):
            info["people"].add(row.person_name)
        if row.source == "market_food_licence" or not bool(row.upper_floor_office):
            info["office"] = False
        rule = "uscc_exact" if row.uscc == ent else "uscc_one_char"
        out[row.record_key] = ("uscc:" + ent, rule, 1.0 if rule == "uscc_exact" else 0.9)

    entities_at: dict[str, list[str]] = {}
    entities_of_person: dict[str, list[str]] = {}
    for ent, info in entity_info.items():
        if info["premises"]:
            entities_at.setdefault(info["premises"], []).append(ent)
        for person in info["people"]:
            entities_of_person.setdefault(person, []).append(ent)

    # --- 2. visits -------------------------------------------------------------------------------
    visits = recs[recs["source"] == "street_shop_visits"].sort_values(["premises_key", "event_date", "record_key"])
    shop_cores: dict[str, set] = {}  # cluster_key -> sign cores seen
    shop_people: dict[str, set] = {}
    unregistered: dict[str, list[str]] = {}  # premises -> cluster keys of unregistered shops
    for row in visits.itertuples(index=False):
        located = isinstance(row.premises_key, str)
        prem = row.premises_key if located else "unlocated:" + str(row.name_core)
        # a visit whose address is not in the library can still be the shop of its contact person
        candidates = entities_at.get(prem, []) if located else entities_of_person.get(row.person_name, [])
        best, best_score, best_rule = None, 0.0, None
        for ent in candidates:
            info = entity_info[ent]
            contact = 1.0 if isinstance(row.person_name, str) and row.person_name in info["people"] else 0.0
            name = (
                max(
                    (_similar(row.name_core, c) for c in info["cores"] | shop_cores.get("uscc:" + ent, set())),
                    default=0.0,
                )
                / 100
            )
            score = rules.contact_weight * contact + rules.name_weight * name
            if not located and name < 0.8:
                continue  # away from its premises, the contact alone is not enough
            if score > best_score:
                best, best_score = "uscc:" + ent, score
                best_rule = "visit_contact_is_legal_rep" if contact else "visit_sign_matches_name"
        if best is not None and best_score >= rules.accept:
            out[row.record_key] = (best, best_rule, round(best_score, 3))
            shop_cores.setdefault(best, set()).add(row.name_core)
            continue
        # a shop no registration claims: the same sign (or contact) at the same premises is one shop
        chosen = None
        for ck in unregistered.get(prem, []):
            if (isinstance(row.person_name, str) and row.person_name in shop_people.get(ck, set())) or max(
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
        if isinstance(row.person_name, str):
            shop_people.setdefault(chosen, set()).add(row.person_name)

    # --- 3. meters -------------------------------------------------------------------------------
    meters = recs[recs["source"] == "utility_electricity"]
    shops_at: dict[str, list[str]] = {}
    for ent, info in entity_info.items():
        if info["premises"] and not info["office"]:
            shops_at.setdefault(info["premises"], []).append("uscc:" + ent)
    for prem, cks in unregistered.items():
        shops_at.setdefault(prem, []).extend(cks)
    meter_choice: dict[tuple, tuple[str, str, float]] = {}
    for row in meters.itertuples(index=False):
        key = (row.account_no, row.premises_key, row.name_core, row.person_name)
        if key not in meter_choice:
            candidates = shops_at.get(row.premises_key, [])
            best, best_score = None, 0.0
            for ck in candidates:
                ent = ck[5:] if ck.startswith("uscc:") else None
                cores = set(shop_cores.get(ck, set()))
                people = set(shop_people.get(ck, set()))
                if ent:
                    cores |= entity_info[ent]["cores"]
                    people |= entity_info[ent]["people"]
                score = max(
                    1.0 if isinstance(row.person_name, str) and row.person_name in people else 0.0,
                    max((_similar(row.name_core, c) for c in cores), default=0.0) / 100,
                )
                if score > best_score:
                    best, best_score = ck, score
            if best is not None and best_score >= rules.accept:
                meter_choice[key] = (best, "meter_name_matches_shop", round(best_score, 3))
            elif len(candidates) == 1:
                meter_choice[key] = (candidates[0], "meter_only_shop_at_premises", 0.6)
            elif candidates:
                # several shops and no evidence: the most recently registered one operates now
                meter_choice[key] = (sorted(candidates)[-1], "meter_premises_ambiguous", 0.3)
            else:
                meter_choice[key] = (f"meter:{row.account_no}", "meter_unmatched", 0.0)
        out[row.record_key] = meter_choice[key]

    rows = [(rk, *out.get(rk, ("rec:" + rk, "singleton", None))) for rk in recs["record_key"]]
    result = pd.DataFrame(rows, columns=["record_key", "cluster_key", "match_rule", "match_score"])
    office = {"uscc:" + e for e, i in entity_info.items() if i["office"]}
    result["is_street_shop"] = ~result["cluster_key"].isin(office) & ~result["cluster_key"].str.startswith("meter:")
    return result
