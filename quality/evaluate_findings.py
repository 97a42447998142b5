"""How well the findings catch the problems a synthetic district was planted with (`_truth/`).

Per rule: recall of the planted cases it is meant to find, and the share of its findings that are
false. A planted case is the generator's `_truth/<delivery>/planted.csv` row, matched to a finding
on the same record (source + row, and field when both name one), or, for problems that belong to
an entity rather than a row, on the same entity: an aid family (certificate), an electricity
account, a shop (the hub shop most of the key's shop's records landed in). A finding is true when it matches a planted case of its rule's kinds, or when the
answer key states the fact it reports (e.g. the person is dead per persons.csv, the ID number on the
row is not the person's, an aid family's 家庭地址 is an old address of theirs). Everything else counts
as false.

Only counts leave this module: no ID numbers, names or phones.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from normalize.dates import month_end
from normalize.id_number import normalize_id

# rule -> (planted kinds it is meant to find, how a case is matched)
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "id_number_invalid": (("id_bad_check", "id_transposed"), "row"),
    "id_number_15_digit": (("id_15digit",), "row"),
    "id_birth_date_mismatch": (("id_birthdate_mismatch",), "row"),
    "id_sex_mismatch": (("id_sex_mismatch",), "row"),
    "address_not_in_library": (("address_not_in_library",), "row"),
    "dead_but_aided": (("dead_but_aided",), "row"),
    "moved_out_but_aided": (("moved_out_but_aided",), "row"),
    "dead_elderly_alone": (("dead_elderly_alone",), "row"),
    "moved_out_elderly_alone": (("moved_out_elderly_alone",), "row"),
    "elderly_not_alone": (("elderly_not_alone",), "row"),
    "aid_family_size_mismatch": (("aid_family_size_mismatch",), "family"),
    "aid_renhu_fenli": (("aid_renhu_fenli",), "family"),
    "account_holder_dead": (("account_holder_dead",), "account"),
    # A holder who lives elsewhere in the district and a name nobody in the district has look the
    # same unless the name is rare: the two rules are judged together.
    "account_holder_not_resident": (("account_holder_not_resident", "account_holder_unknown"), "account"),
    "account_holder_unknown": (("account_holder_unknown", "account_holder_not_resident"), "account"),
    "account_vacant": (("account_vacant",), "account"),
    "elderly_power_drop": (("elderly_power_drop",), "account"),
    "licence_expired_operating": (("licence_expired_operating",), "shop"),
    "deregistered_operating": (("deregistered_operating",), "shop"),
    "unregistered_operating": (("unregistered_operating",), "shop"),
    "duplicate_row": (("duplicate_row",), "row"),
    # A police 居住地址 without its room (or blank) is handled when the hub places the person in the
    # right room from other evidence, or asks the street to confirm the room: either counts as found.
    "residence_room_unknown": (("address_room_missing",), "row"),
}
# rule -> cases the hub resolved without a finding (found too): see _placed_in_true_dwelling
RESOLVED_WITHOUT_FINDING = {"residence_room_unknown"}
# Fields whose problem belongs to an entity, whatever the rule's level: the hub reports it once per
# entity (an aid family's 户主身份证号; a shop's 经营地址, on its latest visit; an account's 用电地址, on
# its latest row), while the answer key may plant it on any of the entity's rows.
FIELD_LEVELS = {"户主身份证号": "family", "经营地址": "shop", "用电地址": "account"}
# The electricity account holder rules, also judged together (the "holder findings that are true").
HOLDER_RULES = ("account_holder_dead", "account_holder_not_resident", "account_holder_unknown")


@dataclass
class RuleScore:
    rule: str
    planted: int = 0
    found: int = 0
    findings: int = 0
    true: int = 0
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (planted, found)

    @property
    def recall(self) -> float | None:
        return self.found / self.planted if self.planted else None

    @property
    def false_share(self) -> float | None:
        return (self.findings - self.true) / self.findings if self.findings else None


@dataclass
class FindingsEvaluation:
    delivery: str
    rules: dict[str, RuleScore]
    unmapped_kinds: dict[str, int]  # planted kinds no finding rule is meant to find


def _read_csv(path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8", newline="") as f:
        return pd.DataFrame(list(csv.DictReader(f)))


def evaluate_findings(inbox: Path, db: Path, delivery: str | None = None) -> FindingsEvaluation:
    inbox, db = Path(inbox), Path(db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        if delivery is None:
            delivery = con.execute("select max(delivery) from quality.finding_history").fetchall()[0][0]
        if delivery is None:
            raise SystemExit(f"civichub: no quality findings in {db} (run the hub first)")
        truth = inbox / "_truth" / delivery
        if not (truth / "planted.csv").exists():
            raise SystemExit(f"civichub: no answer key {truth / 'planted.csv'} (only synthetic districts have one)")
        planted = _read_csv(truth / "planted.csv")
        planted["source_row"] = planted["source_row"].astype(int)
        findings = con.execute("select * from quality.finding_history where delivery = ?", [delivery]).df()
        keys = _entity_keys(con, delivery)
        truth_shops = _truth_shop_codes(con, inbox, delivery)
        facts = _truth_facts(con, inbox, delivery, findings)
        placed_right = _placed_in_true_dwelling(con, inbox, delivery)
    finally:
        con.close()

    def case_key(level: str, source: str, row: int, fld: str):
        if level == "row":
            return (source, row)
        k = keys.get((level, source, row))
        return (level, k) if k is not None else (source, row)

    scores: dict[str, RuleScore] = {}
    mapped_kinds = {k for kinds, _ in RULES.values() for k in kinds}

    def fields_agree(a: str, b: str) -> bool:
        return not a or not b or a == b

    for rule, (kinds, level) in RULES.items():
        score = RuleScore(rule)
        # rules judged together (the same kinds) find each other's cases
        group = [r for r, (k, _) in RULES.items() if set(k) == set(kinds)]
        lvl = lambda fld, level=level: FIELD_LEVELS.get(fld, level)  # noqa: E731
        found_fields: dict = {}
        for f in findings[findings["rule"].isin(group)].itertuples():
            key = case_key(lvl(f.field), f.source, int(f.source_row), f.field)
            found_fields.setdefault(key, []).append(f.field or "")
        # a case: one planted problem (record or entity, and field)
        cases: dict = {}
        for p in planted[planted["kind"].isin(kinds)].itertuples():
            key = case_key(lvl(p.field), p.source, p.source_row, p.field)
            if lvl(p.field) == "shop" and truth_shops.get(getattr(p, "shop_id", "")):
                key = ("shop", truth_shops[p.shop_id])
            cases.setdefault((key, p.field or ""), set()).add(p.kind)
        for (key, pf), case_kinds in cases.items():
            hit = any(fields_agree(pf, ff) for ff in found_fields.get(key, []))
            if rule in RESOLVED_WITHOUT_FINDING and key in placed_right:
                hit = True
            for kind in case_kinds:
                p_n, f_n = score.by_kind.get(kind, (0, 0))
                score.by_kind[kind] = (p_n + 1, f_n + hit)
            if kinds[0] in case_kinds:
                score.planted += 1
                score.found += hit
        mine = findings[findings["rule"] == rule]
        score.findings = len(mine)
        planted_fields: dict = {}
        for key, pf in cases:
            planted_fields.setdefault(key, []).append(pf)
        for f in mine.itertuples():
            key = case_key(lvl(f.field), f.source, int(f.source_row), f.field)
            planted_hit = any(fields_agree(pf, f.field or "") for pf in planted_fields.get(key, []))
            score.true += bool(planted_hit or facts.get((rule, f.finding_id), False))
        scores[rule] = score
    unmapped = planted[~planted["kind"].isin(mapped_kinds)]["kind"].value_counts().to_dict()
    return FindingsEvaluation(delivery=delivery, rules=scores, unmapped_kinds=unmapped)


def _entity_keys(con, delivery: str) -> dict:
    """(level, source, source_row) -> the family / account / shop the row belongs to."""
    out: dict = {}
    for source, row, cert in con.execute(
        "select source, source_row, aid_certificate_no from staging.stg_civil_affairs_assistance where delivery = ?",
        [delivery],
    ).fetchall():
        out[("family", source, row)] = cert
    for source, row, acc in con.execute(
        "select source, source_row, account_no from staging.stg_utility_electricity where delivery = ?", [delivery]
    ).fetchall():
        out[("account", source, row)] = acc
    for source, row, code in con.execute(
        "select source, source_row, shop_code from master.shop_xref where delivery = ?", [delivery]
    ).fetchall():
        out[("shop", source, row)] = code
    return out


def _truth_shop_codes(con, inbox: Path, delivery: str) -> dict:
    """The answer key's shop -> the hub shop most of its records (visits, registrations, licences)
    landed in. A problem that belongs to a shop is found when a finding names that shop, whichever
    record the key planted it on: a visit the hub joined to another shop (a unit-less visit to one of
    two same-sign shops in a mall) does not make the shop's problem another shop's."""
    truth = inbox / "_truth" / delivery
    codes = dict(
        ((s, r), c)
        for s, r, c in con.execute(
            "select source, source_row, shop_code from master.shop_xref where delivery = ?", [delivery]
        ).fetchall()
    )
    votes: dict = {}
    for source in ("market_business_registry", "market_food_licence", "street_shop_visits"):
        path = truth / f"{source}.csv"
        if not path.exists():
            continue
        for r in _read_csv(path).itertuples():
            code = codes.get((source, int(r.source_row)))
            if r.shop_id and code:
                votes.setdefault(r.shop_id, {}).setdefault(code, 0)
                votes[r.shop_id][code] += 1
    # the most records; on a tie the smallest code (the same answer on every run)
    return {sid: min(v, key=lambda c: (-v[c], c)) for sid, v in votes.items()}


def _placed_in_true_dwelling(con, inbox: Path, delivery: str) -> set:
    """(source, source_row) of police rows whose person the hub placed in a household with a room
    that is the row's true dwelling (the truth household most of the hub household's rows carry)."""
    path = inbox / "_truth" / delivery / "police_population.csv"
    if not path.exists():
        return set()
    truth = _read_csv(path)[["source_row", "household_id"]]
    truth["source_row"] = truth["source_row"].astype(int)
    xref = con.execute(
        """select x.source_row, x.household_id, h.room is not null as room_known
           from master.household_xref x join master.household h using (household_id)
           where x.delivery = ? and x.source = 'police_population'""",
        [delivery],
    ).df()
    rows = xref.merge(truth, on="source_row", suffixes=("", "_true"))
    truth_of = rows.groupby("household_id")["household_id_true"].agg(lambda s: s.mode().iloc[0])
    rows["mapped"] = rows["household_id"].map(truth_of)
    right = rows[rows["room_known"] & (rows["mapped"] == rows["household_id_true"])]
    return {("police_population", int(r)) for r in right["source_row"]}


def _truth_facts(con, inbox: Path, delivery: str, findings: pd.DataFrame) -> dict:
    """(rule, finding_id) -> True when the answer key states the reported fact."""
    truth = inbox / "_truth" / delivery
    persons = _read_csv(truth / "persons.csv").set_index("person_id")
    facts: dict = {}
    row_person: dict = {}
    for source in ("police_population", "civil_affairs_assistance", "civil_affairs_elderly_alone", "hr_graduates"):
        path = truth / f"{source}.csv"
        if path.exists():
            for r in _read_csv(path).itertuples():
                row_person[(source, int(r.source_row))] = r.person_id

    for f in findings.itertuples():
        pid = row_person.get((f.source, int(f.source_row)))
        person = persons.loc[pid] if pid and pid in persons.index else None
        if person is None:
            continue
        if f.rule in ("id_number_invalid", "id_birth_date_mismatch", "id_sex_mismatch") and f.field != "户主身份证号":
            facts[(f.rule, f.finding_id)] = normalize_id(f.observed_value) != person["id_number"]
        elif f.rule in ("dead_but_aided", "dead_elderly_alone"):
            facts[(f.rule, f.finding_id)] = person["status"] == "死亡"
        elif f.rule in ("moved_out_but_aided", "moved_out_elderly_alone"):
            facts[(f.rule, f.finding_id)] = person["status"] == "迁出"
    # aid_renhu_fenli reports that an aid family's 家庭地址 is not the dwelling it lives in: also true
    # where the answer key says the 家庭地址 is an old address of the family's (address_stale on it)
    if (findings["rule"] == "aid_renhu_fenli").any():
        planted = _read_csv(truth / "planted.csv")
        stale_rows = {
            int(r.source_row)
            for r in planted.itertuples()
            if r.kind == "address_stale" and r.source == "civil_affairs_assistance" and r.field == "家庭地址"
        }
        cert_of = dict(
            con.execute(
                "select source_row, aid_certificate_no from staging.stg_civil_affairs_assistance where delivery = ?",
                [delivery],
            ).fetchall()
        )
        stale_certs = {cert_of[r] for r in stale_rows if cert_of.get(r)}
        for f in findings[findings["rule"] == "aid_renhu_fenli"].itertuples():
            if f.source == "civil_affairs_assistance" and cert_of.get(int(f.source_row)) in stale_certs:
                facts[(f.rule, f.finding_id)] = True
    shop_rules = {"licence_expired_operating", "deregistered_operating", "unregistered_operating"}
    if findings["rule"].isin(shop_rules).any():
        shops = _read_csv(truth / "shops.csv").set_index("shop_id")
        row_shop: dict = {}
        for source in ("market_business_registry", "market_food_licence", "street_shop_visits"):
            for r in _read_csv(truth / f"{source}.csv").itertuples():
                row_shop[(source, int(r.source_row))] = r.shop_id
        end = month_end(delivery).isoformat()
        for f in findings[findings["rule"].isin(shop_rules)].itertuples():
            sid = row_shop.get((f.source, int(f.source_row)))
            if not sid or sid not in shops.index:
                continue
            s = shops.loc[sid]
            # trading in the delivery month: open at its end, or closed within it (after the records
            # the delivery holds: every finding cites a record that shows it trading)
            operating = s["status"] == "营业" or (s["status"] == "已关闭" and s["closed_month"] == delivery)
            if f.rule == "licence_expired_operating":
                facts[(f.rule, f.finding_id)] = (
                    operating and bool(s["licence_valid_until"]) and s["licence_valid_until"] <= end
                )
            elif f.rule == "deregistered_operating":
                facts[(f.rule, f.finding_id)] = operating and s["registration_status"] in ("注销", "吊销")
            else:
                facts[(f.rule, f.finding_id)] = operating and not s["uscc"] and not s["licence_no"]
    return facts


def format_evaluation(ev: FindingsEvaluation) -> str:
    lines = [
        f"Quality findings vs _truth/{ev.delivery}/planted.csv",
        f"  {'rule':<30} {'planted':>7} {'found':>6} {'recall':>7} {'findings':>8} {'false':>6} {'false %':>7}"
        f" {'precision':>9}",
    ]
    holder = RuleScore("account holder, together")
    for r in HOLDER_RULES:
        if r in ev.rules:
            holder.findings += ev.rules[r].findings
            holder.true += ev.rules[r].true
    for s in [*ev.rules.values(), holder]:
        if not s.planted and not s.findings:
            continue
        recall = f"{s.recall:.3f}" if s.recall is not None else "-"
        false = f"{100 * s.false_share:.1f}" if s.false_share is not None else "-"
        precision = f"{1 - s.false_share:.3f}" if s.false_share is not None else "-"
        lines.append(
            f"  {s.rule:<30} {s.planted:>7} {s.found:>6} {recall:>7} {s.findings:>8} {s.findings - s.true:>6} {false:>7}"
            f" {precision:>9}"
        )
    if ev.unmapped_kinds:
        lines.append(
            "  planted kinds that are not finding rules: "
            + ", ".join(f"{k} {n}" for k, n in sorted(ev.unmapped_kinds.items()))
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:

    ap = argparse.ArgumentParser(description="Recall and false share of quality findings vs _truth/")
    ap.add_argument("--inbox", required=True, type=Path)
    ap.add_argument("--db", required=True, type=Path)
    ap.add_argument("--delivery")
    a = ap.parse_args(argv)
    print(format_evaluation(evaluate_findings(a.inbox, a.db, a.delivery)))


if __name__ == "__main__":
    main()
