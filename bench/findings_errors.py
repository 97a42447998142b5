"""Where the finding rules go wrong on a generated delivery: a diagnostic beside `civichub findings-eval`.

    python -m bench.findings_errors --inbox DIR --db FILE --delivery 2026-10 [--rules a,b]

Reads the hub's findings of the delivery (quality.finding_history) and the generator's answer key
(`_truth/<delivery>/planted.csv`), matched the way findings-eval matches them (one case per entity:
an account, an aid family, a shop), and prints for each rule

- every planted case no finding found (MISSED), with the planted detail and the hub's dwelling of the
  record (and, for an electricity account, its readings and the people the hub has on file there:
  status and age only), and
- every finding that is not true (FALSE), with its masked observed value and message,

so that the misses and the false findings can be sorted into classes before a rule is changed.
Names, ID numbers, phones and addresses are masked (sharing/masking.py): the output may be pasted into
an issue. Nothing here feeds back into the hub. The hub's quality tables hold the latest delivery
only: for an earlier delivery run the hub on an inbox holding that delivery alone.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

import quality.evaluate_findings as ef
from sharing.masking import mask_name
from sharing.masking import mask_text_and_certificates as _mask

# fields whose observed value is a person's name
_NAME_FIELDS = {"户名", "姓名", "成员姓名", "户主姓名", "联系人", "法定代表人"}


def _observed(field: object, value: object) -> str:
    return mask_name(value) or "" if field in _NAME_FIELDS else _mask(value)


def _readings(con: duckdb.DuckDBPyConnection, delivery: str, account: str) -> str:
    row = con.execute(
        """select string_agg(coalesce(kwh::integer::varchar, '-'), ',' order by reading_month)
           from staging.stg_utility_electricity where delivery = ? and account_no = ?""",
        [delivery, account],
    ).fetchone()
    return row[0] if row else ""


def _on_file(con: duckdb.DuckDBPyConnection, delivery: str, household_id: str | None) -> str:
    if household_id is None:
        return "-"
    rows = con.execute(
        """select m.status, date_diff('year', p.birth_date, last_day(strptime(? || '-01', '%Y-%m-%d')))
           from master.household_member m join master.person p using (person_id)
           where m.delivery = ? and m.household_id = ? order by 2""",
        [delivery, delivery, household_id],
    ).fetchall()
    return " ".join(f"{s}/{a}" for s, a in rows) or "nobody"


def _row_dwelling(con: duckdb.DuckDBPyConnection, delivery: str, source: str, row: int):
    return con.execute(
        """select h.household_id, h.dwelling_key, h.member_count from master.household_xref x
           join master.household h using (household_id)
           where x.delivery = ? and x.source = ? and x.source_row = ?""",
        [delivery, source, row],
    ).fetchone()


def report(inbox: Path, db: Path, delivery: str, rules: list[str] | None = None) -> list[str]:
    out: list[str] = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        planted = ef._read_csv(inbox / "_truth" / delivery / "planted.csv")
        planted["source_row"] = planted["source_row"].astype(int)
        findings = con.execute(
            """select h.*, coalesce(f.message, '') as message from quality.finding_history h
               left join quality.finding f using (finding_id) where h.delivery = ?""",
            [delivery],
        ).df()
        keys = ef._entity_keys(con, delivery)
        facts = ef._truth_facts(con, inbox, delivery, findings)
        placed_right = ef._placed_in_true_dwelling(con, inbox, delivery)

        def case_key(level: str, source: str, row: int):
            if level == "row":
                return (source, row)
            k = keys.get((level, source, row))
            return (level, k) if k is not None else (source, row)

        def describe(source: str, row: int, key) -> str:
            dw = _row_dwelling(con, delivery, source, row)
            text = f"hub {dw[1] if dw else '-'} on file: {_on_file(con, delivery, dw[0] if dw else None)}"
            if source == "utility_electricity" and key[0] == "account":
                text += f" kwh {_readings(con, delivery, key[1])}"
            return text

        for rule in rules or list(ef.RULES):
            kinds, level = ef.RULES[rule]
            group = [r for r, (k, _) in ef.RULES.items() if set(k) == set(kinds)]

            def lvl(fld, level=level):
                return ef.FIELD_LEVELS.get(fld, level)

            found_fields: dict = {}
            for f in findings[findings["rule"].isin(group)].itertuples():
                found_fields.setdefault(case_key(lvl(f.field), f.source, int(f.source_row)), []).append(f.field or "")
            cases: dict = {}
            for p in planted[planted["kind"].isin(kinds)].itertuples():
                cases.setdefault((case_key(lvl(p.field), p.source, p.source_row), p.field or ""), []).append(p)
            missed, false = [], []
            for (key, pf), ps in cases.items():
                hit = any(not pf or not ff or pf == ff for ff in found_fields.get(key, []))
                if rule in ef.RESOLVED_WITHOUT_FINDING and key in placed_right:
                    hit = True
                if not hit and kinds[0] in {p.kind for p in ps}:
                    p = ps[0]
                    missed.append(
                        f"  MISSED {key[0]} {_mask(key[1])} field={pf} detail={_mask(p.detail)} "
                        f"| {describe(p.source, int(p.source_row), key)}"
                    )
            planted_fields: dict = {}
            for key, pf in cases:
                planted_fields.setdefault(key, []).append(pf)
            mine = findings[findings["rule"] == rule]
            for f in mine.itertuples():
                key = case_key(lvl(f.field), f.source, int(f.source_row))
                ok = any(not pf or not f.field or pf == f.field for pf in planted_fields.get(key, []))
                if not (ok or facts.get((rule, f.finding_id), False)):
                    false.append(
                        f"  FALSE {key[0]} {_mask(key[1])} field={f.field} observed={_observed(f.field, f.observed_value)} "
                        f"| {describe(f.source, int(f.source_row), key)} | {_mask(f.message)[:120]}"
                    )
            out.append(f"== {rule} {delivery}: {len(mine)} findings, {len(missed)} missed, {len(false)} false")
            out.extend(missed)
            out.extend(false)
    finally:
        con.close()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inbox", type=Path, required=True)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--delivery", required=True)
    ap.add_argument("--rules", help="comma-separated rules (default: every finding rule)")
    a = ap.parse_args(argv)
    for line in report(a.inbox, a.db, a.delivery, a.rules.split(",") if a.rules else None):
        print(line)


if __name__ == "__main__":
    main()
