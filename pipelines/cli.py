"""The `civichub` command (contracts.md): generate, run, demo."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from pipelines import settings


def _cmd_generate(args) -> int:
    from synthetic.generate import generate

    t0 = time.perf_counter()
    summary = generate(
        out_dir=Path(args.out),
        persons=args.persons,
        months=args.months,
        seed=args.seed,
        noise=args.noise,
        district=args.district,
        start_month=args.start,
    )
    print(f"generated {args.persons:,} persons × {args.months} month(s) into {args.out} in {time.perf_counter() - t0:.1f}s")
    _print_generate_summary(summary)
    return 0


def _print_generate_summary(summary) -> None:
    if not isinstance(summary, dict):
        return
    files = summary.get("files") or summary.get("counts") or {}
    if not isinstance(files, dict):
        return
    for month, per_file in sorted(files.items()):
        if isinstance(per_file, dict):
            parts = ", ".join(f"{k} {v:,}" for k, v in per_file.items() if isinstance(v, int))
            print(f"  {month}: {parts}")


def _cmd_run(args) -> int:
    from pipelines.run import run_hub, print_summary

    summary = run_hub(Path(args.inbox), Path(args.db), verbose=args.verbose)
    print_summary(summary)
    return 0 if summary.ok else 1


def _cmd_evaluate(args) -> int:
    from pipelines.evaluate import EvaluateError, evaluate, print_report, write_json

    try:
        result = evaluate(Path(args.inbox), Path(args.db), delivery=args.delivery)
    except EvaluateError as e:
        print(f"civichub evaluate: {e}", file=sys.stderr)
        return 2
    print_report(result)
    if args.json:
        write_json(result, Path(args.json))
        print(f"\nfigures written to {args.json}")
    return 0


def _cmd_findings_eval(args) -> int:
    from quality.evaluate_findings import evaluate_findings, format_evaluation

    deliveries = [args.delivery] if args.delivery else sorted(
        p.name for p in (Path(args.inbox) / "_truth").iterdir() if (p / "planted.csv").exists()
    )
    for delivery in deliveries:
        print(format_evaluation(evaluate_findings(Path(args.inbox), Path(args.db), delivery)))
        print()
    return 0


def _cmd_demo(args) -> int:
    from pipelines.run import run_hub, print_summary
    from synthetic.generate import generate

    base = Path(args.dir).resolve()
    if base.exists():
        shutil.rmtree(base)
    inbox, db = base / "inbox", base / "civichub.duckdb"
    print(f"1/2 generating a synthetic district: {args.persons:,} persons, {args.months} monthly deliveries → {inbox}")
    t0 = time.perf_counter()
    generate(out_dir=inbox, persons=args.persons, months=args.months, seed=args.seed, noise=1.0)
    print(f"    done in {time.perf_counter() - t0:.1f}s")
    print(f"2/2 running the hub job (Dagster, in-process) on every delivery → {db}")
    summary = run_hub(inbox, db, verbose=args.verbose)
    print_summary(summary)
    home = Path(settings.os.environ["DAGSTER_HOME"])
    print("\nWhere to look:")
    print(f"  database      duckdb {db}   (schemas: raw, ingest, staging, matching, master)")
    print("                e.g. select * from ingest.file_log;  select * from master.household limit 10;")
    print(f"  quality       .venv/bin/civichub evaluate --inbox {inbox} --db {db}   (F1 against the answer key)")
    print(f"  shop QR codes {db.parent / 'out' / 'qr'}")
    print(f"  Dagster UI    CIVICHUB_INBOX={inbox} CIVICHUB_DB={db} DAGSTER_HOME={home} \\")
    print("                .venv/bin/dagster dev -m pipelines.definitions")
    print("  run again     .venv/bin/civichub run --inbox " + str(inbox) + " --db " + str(db) + "   (nothing new: a no-op)")
    return 0 if summary.ok else 1


def _cmd_review(args) -> int:
    import duckdb

    from matching import review

    db = Path(args.db)
    try:
        if not db.exists():
            raise review.ReviewError(f"database {db} does not exist")
        if args.review_command == "list":
            with duckdb.connect(str(db), read_only=True) as con:
                queue = review.list_queue(con, args.limit)
            print(review.format_queue(queue))
        elif args.review_command == "export":
            n = review.export_queue(db, Path(args.out), limit=args.limit)
            print(f"{n} pair(s) to review written to {args.out}: fill in 决定 (确认/否决), then")
            print(f"  civichub review import --db {args.db} --file {args.out} --by NAME")
        elif args.review_command == "import":
            report = review.import_decisions(db, Path(args.file), args.by)
            print(f"{len(report.applied)} decision(s) kept from {args.file} "
                  f"({report.confirmed} confirmed, {report.rejected_pairs} rejected), "
                  f"{report.undecided} row(s) left undecided, {len(report.rejected)} row(s) not accepted")
            for row, reason in report.rejected:
                print(f"  row {row}: {reason}")
            if report.applied:
                print("Decisions take effect when a delivery is next built (civichub run, or the Dagster job).")
            return 1 if report.rejected else 0
        elif args.review_command == "decide":
            with duckdb.connect(str(db)) as con:
                made = review.record_decision(con, args.a, args.b, args.decision, args.by, note=args.note)
            print(f"kept: {made.decision} {made.fingerprint_a} {made.fingerprint_b} by {made.decided_by} "
                  f"at {made.decided_at:%Y-%m-%d %H:%M:%S}")
            print("It takes effect when a delivery is next built (civichub run, or the Dagster job).")
    except review.ReviewError as e:
        print(f"civichub review: {e}", file=sys.stderr)
        return 2
    except duckdb.IOException as e:  # typically the database is locked by a running job
        print(f"civichub review: cannot open {db}: {e}", file=sys.stderr)
        return 2
    return 0


def _cmd_find(args) -> int:
    import duckdb

    from targeting.config import ScenarioConfigError, load_scenarios
    from targeting.search import FindCriteria, FindError, find, format_rows, parse_age_range

    db = Path(args.db)
    try:
        if not db.exists():
            raise FindError(f"database {db} does not exist")
        scenarios = load_scenarios(args.scenarios)
        if args.scenario:
            scenarios.get(args.scenario)
        criteria = FindCriteria(
            scenario=args.scenario, entity=args.entity,
            age=parse_age_range(args.age) if args.age else None,
            flags=args.flag or [], street=args.street, committee=args.committee,
            graduation_year=args.graduation_year,
            aid=[a for v in (args.aid or []) for a in v.split(",") if a],
            employment=[e for v in (args.employment or []) for e in v.split(",") if e],
            status=None if args.any_status else "正常", delivery=args.delivery, limit=args.limit,
        )
        with duckdb.connect(str(db), read_only=True) as con:
            rows = find(con, criteria, role=args.role, scenarios=scenarios)
    except (FindError, ScenarioConfigError) as e:
        print(f"civichub find: {e}", file=sys.stderr)
        return 2
    except duckdb.IOException as e:
        print(f"civichub find: cannot open {db}: {e}", file=sys.stderr)
        return 2
    if args.scenario:
        s = scenarios.get(args.scenario)
        print(f"{s.title}  (scenario {s.name}, owner {s.owner}; view: {args.role})")
    print(format_rows(rows))
    return 0


def _cmd_scenarios(args) -> int:
    import duckdb

    from targeting.config import ScenarioConfigError, load_scenarios

    try:
        scenarios = load_scenarios(getattr(args, "scenarios", None))
    except ScenarioConfigError as e:
        print(f"civichub scenarios: {e}", file=sys.stderr)
        return 2
    if args.scenarios_command == "list":
        for s in scenarios.scenarios:
            print(f"{s.name:<24} {s.entity:<10} {s.title}  — {s.owner}")
            print(f"{'':<24} reasons: {', '.join(s.reasons)}")
        return 0
    if args.scenarios_command == "evaluate":
        from targeting.evaluate import TargetingEvaluateError, evaluate, format_report

        try:
            print(format_report(evaluate(Path(args.inbox), Path(args.db), args.delivery)))
        except TargetingEvaluateError as e:
            print(f"civichub scenarios evaluate: {e}", file=sys.stderr)
            return 2
        return 0
    if args.scenarios_command == "follow-up":
        from targeting.worklists import read_follow_up

        try:
            with duckdb.connect(str(args.db)) as con:
                report = read_follow_up(con, Path(args.file))
        except (ValueError, duckdb.IOException) as e:
            print(f"civichub scenarios follow-up: {e}", file=sys.stderr)
            return 2
        print(f"{report.kept} follow-up row(s) kept from {args.file}, {report.blank} row(s) not filled in, "
              f"{len(report.rejected)} row(s) rejected")
        for sheet, row, reason in report.rejected:
            print(f"  {sheet} row {row}: {reason}")
        return 1 if report.rejected else 0
    return 2


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="civichub", description="District data-integration and sharing hub.")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write a synthetic district in the inbox layout, with _truth/")
    g.add_argument("--out", required=True)
    g.add_argument("--persons", type=int, default=10_000)
    g.add_argument("--months", type=int, default=2)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--noise", type=float, default=1.0, help="multiplier of the default noise rates (0 = clean)")
    g.add_argument("--district", default="jingan")
    g.add_argument("--start", default="2026-10", help="first delivery month, YYYY-MM")
    g.set_defaults(func=_cmd_generate)

    r = sub.add_parser("run", help="ingest every delivery not yet ingested, build and check")
    r.add_argument("--inbox", required=True)
    r.add_argument("--db", required=True)
    r.add_argument("-v", "--verbose", action="store_true", help="show Dagster's own log lines")
    r.set_defaults(func=_cmd_run)

    e = sub.add_parser("evaluate", help="precision, recall and F1 of persons, households and shops against _truth/")
    e.add_argument("--inbox", required=True)
    e.add_argument("--db", required=True)
    e.add_argument("--delivery", default=None, help="one delivery, YYYY-MM (default: every delivery in _truth/)")
    e.add_argument("--json", default=None, help="also write the figures to this JSON file")
    e.set_defaults(func=_cmd_evaluate)

    fe = sub.add_parser("findings-eval", help="recall and false share of each quality rule against _truth/planted.csv")
    fe.add_argument("--inbox", required=True)
    fe.add_argument("--db", required=True)
    fe.add_argument("--delivery", default=None, help="one delivery, YYYY-MM (default: every delivery in _truth/)")
    fe.set_defaults(func=_cmd_findings_eval)

    rv = sub.add_parser("review", help="pairs of person records to confirm or reject by hand")
    rsub = rv.add_subparsers(dest="review_command", required=True)
    rl = rsub.add_parser("list", help="print the pairs waiting for a decision (masked evidence)")
    rl.add_argument("--db", required=True)
    rl.add_argument("--limit", type=int, default=20)
    rx = rsub.add_parser("export", help="write the queue to a .xlsx (or .csv) with an empty 决定 column")
    rx.add_argument("--db", required=True)
    rx.add_argument("--out", required=True)
    rx.add_argument("--limit", type=int, default=None)
    ri = rsub.add_parser("import", help="keep the decisions of a filled review file")
    ri.add_argument("--db", required=True)
    ri.add_argument("--file", required=True)
    ri.add_argument("--by", required=True, help="who reviewed")
    rd = rsub.add_parser("decide", help="keep one decision: confirm (same person) or reject")
    rd.add_argument("--db", required=True)
    rd.add_argument("--a", required=True, help="fingerprint of record A")
    rd.add_argument("--b", required=True, help="fingerprint of record B")
    rd.add_argument("--decision", required=True, choices=["confirm", "reject"])
    rd.add_argument("--by", required=True, help="who decided")
    rd.add_argument("--note", default=None)
    rv.set_defaults(func=_cmd_review)

    f = sub.add_parser("find", help="people or households who may need help: a named scenario or criteria, per street and committee")
    f.add_argument("--db", required=True)
    f.add_argument("--scenario", default=None, help="a scenario of targeting/scenarios.yml (civichub scenarios list)")
    f.add_argument("--entity", default="person", choices=["person", "household"])
    f.add_argument("--age", default=None, help="age range: 60-, -17, 18-35 or 70")
    f.add_argument("--flag", action="append", help="elderly_alone, on_elderly_list, lives_alone, renhu_fenli, "
                   "registered_elsewhere, graduate, aided, left_aid (repeatable)")
    f.add_argument("--street", default=None, help="street code or name")
    f.add_argument("--committee", default=None, help="committee code or name")
    f.add_argument("--graduation-year", type=int, default=None)
    f.add_argument("--aid", action="append", help="低保, 低收入, 特困 (comma-separated), any or none")
    f.add_argument("--employment", action="append", help="已就业, 未就业, 灵活就业")
    f.add_argument("--any-status", action="store_true", help="include dead and moved-out persons")
    f.add_argument("--delivery", default=None, help="a scenario's delivery, YYYY-MM (default: the latest)")
    f.add_argument("--role", default="masked", choices=["masked", "committee", "full"],
                   help="what the caller may see (default: masked)")
    f.add_argument("--limit", type=int, default=None)
    f.add_argument("--scenarios", default=None, help=argparse.SUPPRESS)
    f.set_defaults(func=_cmd_find)

    sc = sub.add_parser("scenarios", help="targeted aid and alert scenarios: list, evaluate, record follow-up")
    scsub = sc.add_subparsers(dest="scenarios_command", required=True)
    scsub.add_parser("list", help="the scenarios of targeting/scenarios.yml")
    se = scsub.add_parser("evaluate", help="recall and precision of each scenario against _truth/")
    se.add_argument("--inbox", required=True)
    se.add_argument("--db", required=True)
    se.add_argument("--delivery", default=None)
    sf = scsub.add_parser("follow-up", help="record the 跟进结果 of a returned committee workbook")
    sf.add_argument("--db", required=True)
    sf.add_argument("--file", required=True)
    sc.set_defaults(func=_cmd_scenarios)

    d = sub.add_parser("demo", help="generate a small district, run it, say where to look")
    d.add_argument("--dir", default=str(settings.DEFAULT_DATA_DIR / "demo"))
    d.add_argument("--persons", type=int, default=5_000)
    d.add_argument("--months", type=int, default=2)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("-v", "--verbose", action="store_true")
    d.set_defaults(func=_cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
