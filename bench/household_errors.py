"""Where household resolution goes wrong on a generated delivery: a diagnostic beside the scores.

    python -m bench.household_errors --inbox DIR --db FILE [--delivery 2026-10] [--show 8]

Reads the hub's `master.household_xref` (and `master.household`, `master.id_history`) and the
generator's answer key (`_truth/<delivery>/`: the person sources' and the electricity export's
household ids, `planted.csv`, `persons.csv`) and prints, per delivery:

- false pairs (two true households in one hub household), by class: a police record whose
  居住地址 is out of date (planted `address_stale`: the family moved and the police have not caught
  up), a fragment of meters only, or else the rule that placed the smaller fragment;
- missed pairs (one true household in several hub households, or records without one), by the
  rule of the fragment away from the household's majority id (`unresolved` for records without a
  household), with the planted kinds of its records;
- and, where the database holds two deliveries, the true households whose majority hub id changed
  between them without a recorded merge or split (`master.id_history`).

Examples list each fragment's records with masked names (sharing/masking.py): the true and hub
household ids, the source, the relation to the head, the match rule and the planted kinds. Pairs
are counted as `civichub evaluate` counts them (records with a household in the key). Nothing here
feeds back into the hub.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

from sharing.masking import mask_name

SOURCES = [
    "police_population",
    "civil_affairs_assistance",
    "civil_affairs_elderly_alone",
    "hr_graduates",
    "utility_electricity",
]


def _deliveries(inbox: Path) -> list[str]:
    return sorted(p.name for p in (inbox / "_truth").iterdir() if p.is_dir() and p.name[:2] == "20")


def _load(con, inbox: Path, db: Path, deliveries: list[str]) -> None:
    con.execute(f"ATTACH '{db}' AS hub (READ_ONLY)")
    parts, planted, persons = [], [], []
    for d in deliveries:
        t = inbox / "_truth" / d
        for s in SOURCES:
            if (t / f"{s}.csv").exists():
                parts.append(
                    f"select '{d}' as delivery, '{s}' as source, cast(source_row as int) as source_row, "
                    f"nullif(person_id, '') as person_id, nullif(household_id, '') as tid "
                    f"from read_csv('{t}/{s}.csv', all_varchar=true)"
                )
        planted.append(
            f"select '{d}' as delivery, source, cast(source_row as int) as source_row, kind "
            f"from read_csv('{t}/planted.csv', all_varchar=true)"
        )
        persons.append(
            f"select '{d}' as delivery, person_id, name, relation from read_csv('{t}/persons.csv', all_varchar=true)"
        )
    con.execute("create table truth as " + " union all ".join(parts))
    con.execute(
        "create table planted as select delivery, source, source_row, string_agg(distinct kind, '|' order by kind) as"
        " kinds from (" + " union all ".join(planted) + ") group by all"
    )
    con.execute("create table persons as " + " union all ".join(persons))
    con.execute(
        """create table x as select coalesce(cast(delivery as varchar), split_part(source_file, '/', 1)) as delivery,
           source, source_row, household_id as pred, match_rule from hub.master.household_xref"""
    )
    con.execute(
        """create table rec as
           select t.delivery, t.source, t.source_row, t.person_id, t.tid, x.pred, coalesce(x.match_rule, 'unresolved') as
               match_rule, coalesce(p.kinds, '') as kinds, pe.name, pe.relation,
               h.room is null and x.pred is not null as room_unknown
           from truth t
           left join x using (delivery, source, source_row)
           left join planted p using (delivery, source, source_row)
           left join persons pe on pe.delivery = t.delivery and pe.person_id = t.person_id
           left join hub.master.household h on h.household_id = x.pred
           where t.tid is not null"""
    )


def _rule_class(rule: str) -> str:
    """The rule's family: its first two segments, without the evidence list's detail."""
    head = rule.split("(")[0]
    parts = head.split(":")
    if parts[0] == "residence" and len(parts) > 1 and parts[1] == "evidence":
        kinds = parts[2] if len(parts) > 2 else ""
        return "residence:evidence" + (":moved" if kinds.startswith("moved") else "")
    if parts[0] == "residence" and len(parts) > 1 and parts[1] == "building_only":
        return ":".join(parts[:3])
    return ":".join(parts[:2])


def _fragment_class(rows: list[tuple]) -> str:
    if any(r[1] == "police_population" and "address_stale" in r[7] for r in rows):
        return "stale police address"
    if all(r[1] == "utility_electricity" for r in rows):
        return "meters only (" + Counter(_rule_class(r[6]) for r in rows).most_common(1)[0][0] + ")"
    people = [r for r in rows if r[1] != "utility_electricity"] or rows
    return Counter(_rule_class(r[6]) for r in people).most_common(1)[0][0]


def _show(rows: list[tuple], indent: str = "      ") -> None:
    for r in sorted(rows, key=lambda r: (r[4] or "", r[5] or "", r[1], r[2])):
        _d, source, row, _pid, tid, pred, rule, kinds, name, relation, room_unknown = r
        print(
            f"{indent}{tid} -> {pred or '-'}{' (室号不详)' if room_unknown else ''}  {source}#{row}  "
            f"{mask_name(name) or ''} {relation or ''}  {rule}  {kinds}"
        )


def report(con, delivery: str, show: int) -> None:
    rows = con.execute("select * from rec where delivery = ? order by source, source_row", [delivery]).fetchall()
    by_pred: dict[str, list] = defaultdict(list)
    by_tid: dict[str, list] = defaultdict(list)
    for r in rows:
        if r[5] is not None:
            by_pred[r[5]].append(r)
        by_tid[r[4]].append(r)
    predicted = sum(len(v) * (len(v) - 1) // 2 for v in by_pred.values())
    true_pairs = sum(len(v) * (len(v) - 1) // 2 for v in by_tid.values())

    # false pairs: fragments of different true households in one hub household
    false_cls: Counter = Counter()
    false_ex: dict[str, list] = defaultdict(list)
    for pred, recs in by_pred.items():
        frags: dict[str, list] = defaultdict(list)
        for r in recs:
            frags[r[4]].append(r)
        if len(frags) < 2:
            continue
        ordered = sorted(frags.values(), key=len, reverse=True)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                ca, cb = _fragment_class(a), _fragment_class(b)
                cls = "stale police address" if "stale police address" in (ca, cb) else cb
                false_cls[cls] += len(a) * len(b)
                false_ex[cls].append((len(a) * len(b), pred, a + b))
    false_total = sum(false_cls.values())

    # missed pairs: fragments of one true household in several hub households (or none)
    missed_cls: Counter = Counter()
    missed_ex: dict[str, list] = defaultdict(list)
    for tid, recs in by_tid.items():
        frags: dict[object, list] = defaultdict(list)
        for r in recs:
            frags[r[5] if r[5] is not None else ("unresolved", r[1], r[2])].append(r)
        if len(frags) < 2:
            continue
        ordered = sorted(frags.values(), key=len, reverse=True)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                cls = _fragment_class(b)
                if b[0][5] is None:
                    cls = "unresolved"
                kinds = sorted({k for r in b for k in r[7].split("|") if k})
                key = cls + (" [" + ",".join(kinds) + "]" if kinds else "")
                missed_cls[key] += len(a) * len(b)
                missed_ex[key].append((len(a) * len(b), tid, a + b))
    missed_total = sum(missed_cls.values())

    p = 1 - false_total / predicted if predicted else 1.0
    rcl = 1 - missed_total / true_pairs if true_pairs else 1.0
    print(f"== household {delivery}: records {len(rows):,}, hub pairs {predicted:,}, true pairs {true_pairs:,}")
    print(f"   false pairs {false_total:,} (precision {p:.4f}); missed pairs {missed_total:,} (recall {rcl:.4f})")
    print("\n-- false pairs by class (pairs, hub households)")
    for cls, n in false_cls.most_common():
        print(f"   {n:8,}  {len(false_ex[cls]):5,}  {cls}")
    print("\n-- missed pairs by class of the fragment away from the majority (pairs, fragments)")
    for cls, n in missed_cls.most_common():
        print(f"   {n:8,}  {len(missed_ex[cls]):5,}  {cls}")
    if show:
        for cls, _n in false_cls.most_common():
            print(f"\n-- false: {cls}")
            for _np, pred, recs in sorted(false_ex[cls], key=lambda e: -e[0])[:show]:
                print(f"   hub {pred}: {_np} pairs")
                _show(recs)
        for cls, _n in missed_cls.most_common(6):
            print(f"\n-- missed: {cls}")
            for _np, tid, recs in sorted(missed_ex[cls], key=lambda e: -e[0])[:show]:
                print(f"   true {tid}: {_np} pairs")
                _show(recs)


def id_changes(con, first: str, second: str, show: int) -> None:
    # the majority hub id of each true household, ties to the smallest id, and in the second month
    # to the first month's id where it is one of the tied (as `civichub evaluate`)
    con.execute(
        """create or replace table cnt as
           select delivery, tid, pred, count(*) as n from rec where pred is not null group by all"""
    )
    con.execute(
        """create or replace table maj as select delivery, tid, pred from cnt
           qualify row_number() over (partition by delivery, tid order by n desc, pred) = 1"""
    )
    con.execute(
        """update maj set pred = a.pred from maj a, cnt k
           where maj.delivery = ? and a.delivery = ? and a.tid = maj.tid and k.delivery = ? and k.tid = maj.tid
             and k.pred = a.pred and k.n = (select max(n) from cnt t where t.delivery = ? and t.tid = maj.tid)""",
        [second, first, second, second],
    )
    con.execute(
        "create or replace table hist as select distinct old_id, new_id from hub.master.id_history"
        " where entity_type is null or entity_type like 'household%'"
    )
    changed = con.execute(
        """select a.tid, a.pred, b.pred from maj a join maj b on a.tid = b.tid
           where a.delivery = ? and b.delivery = ? and a.pred <> b.pred
             and not exists (select 1 from hist h where h.old_id = a.pred and h.new_id = b.pred)
           order by 1""",
        [first, second],
    ).fetchall()
    print(f"\n== household id changes {first} -> {second} without a recorded merge/split: {len(changed)}")
    for tid, p1, p2 in changed[: max(show, 0) or len(changed)]:
        print(f"   true {tid}: {p1} -> {p2}")
        recs = con.execute("select * from rec where tid = ? order by delivery, source, source_row", [tid]).fetchall()
        for d in (first, second):
            print(f"     {d}")
            _show([r for r in recs if r[0] == d], indent="       ")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inbox", type=Path, required=True)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--delivery", action="append", help="a delivery (YYYY-MM); default every one in the key")
    ap.add_argument("--show", type=int, default=8, help="examples per class (0: none)")
    a = ap.parse_args(argv)
    deliveries = _deliveries(a.inbox)
    con = duckdb.connect()
    _load(con, a.inbox, a.db, deliveries)
    for d in a.delivery or deliveries:
        report(con, d, a.show)
    hub_deliveries = {r[0] for r in con.execute("select distinct delivery from x").fetchall()}
    present = [d for d in deliveries if d in hub_deliveries]
    for first, second in zip(present, present[1:]):
        id_changes(con, first, second, a.show)


if __name__ == "__main__":
    main()
