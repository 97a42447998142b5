"""The `civichub` command (contracts.md): generate, run, evaluate, review, catalog, publish, query, audit, demo;
serve and users (the street app, app/cli.py).

Each command imports what it needs when it runs, so that `civichub query` or `civichub find` answer
at once instead of first loading Dagster, dbt and Great Expectations (seconds each).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from normalize.vocabularies import vocabulary
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
        noise_profile=args.noise_profile,
    )
    print(
        f"generated {args.persons:,} persons × {args.months} month(s) into {args.out} in {time.perf_counter() - t0:.1f}s"
    )
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
    from pipelines.engines import set_engine
    from pipelines.run import print_summary, run_hub

    if args.engine:
        set_engine(args.engine)
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

    deliveries = (
        [args.delivery]
        if args.delivery
        else sorted(p.name for p in (Path(args.inbox) / "_truth").iterdir() if (p / "planted.csv").exists())
    )
    for delivery in deliveries:
        print(format_evaluation(evaluate_findings(Path(args.inbox), Path(args.db), delivery)))
        print()
    return 0


def _cmd_demo(args) -> int:
    from pipelines.run import print_summary, run_hub
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
    home = settings.get_settings().dagster_home
    out = settings.output_dir(db)
    print("\nWhere to look:")
    print(f"  database      duckdb {db}   (schemas: raw, ingest, staging, matching, master)")
    print("                e.g. select * from ingest.file_log;  select * from master.household limit 10;")
    print(f"  quality       .venv/bin/civichub evaluate --inbox {inbox} --db {db}   (F1 against the answer key)")
    print(f"  shop QR codes {out / 'qr'}")
    print(f"  catalog       {out / 'catalog' / 'index.html'}   (civichub catalog --db {db})")
    print(f"  shared views  {out / 'published'}/<role>/   e.g.")
    print(f'                .venv/bin/civichub query --db {db} --role minzheng "select count(*) from master.person"')
    print(f"  Dagster UI    CIVICHUB_INBOX={inbox} CIVICHUB_DB={db} DAGSTER_HOME={home} \\")
    print("                .venv/bin/dagster dev -m pipelines.definitions")
    print(
        "  run again     .venv/bin/civichub run --inbox "
        + str(inbox)
        + " --db "
        + str(db)
        + "   (nothing new: a no-op)"
    )
    _demo_app(db)
    return 0 if summary.ok else 1


def _demo_app(db: Path) -> None:
    """Demo accounts of the street app (random passwords, printed here once) and how to start it."""
    from app.demo import create_demo_users
    from app.queries.shops import PUBLIC_ROLE

    try:
        accounts = create_demo_users(db)
    except Exception as e:  # noqa: BLE001 - the demo's data is built; say why the app part is missing
        print(f"\nStreet app: demo accounts not created ({type(e).__name__}: {e})")
        return
    print("\nStreet app (轻应用) — start it, then open http://127.0.0.1:8000/ (a phone on the same network:")
    print("  use --host 0.0.0.0 behind a TLS proxy, see README):")
    print(f"  .venv/bin/civichub serve --db {db}")
    print("  demo accounts (passwords shown only now; civichub users reset --login L makes a new one):")
    for login, name, what, password in accounts:
        print(f"    {login:<10} {password}   {name} · {what}")
    shop = _a_shop_code(db, PUBLIC_ROLE)
    if shop:
        print(f"  a public shop page (what its QR code in out/qr/ opens): http://127.0.0.1:8000/shops/{shop}")


def _a_shop_code(db: Path, role: str) -> str | None:
    import duckdb

    f = settings.output_dir(db) / "published" / role / f"{role}.duckdb"
    if not f.exists():
        return None
    with duckdb.connect(str(f), read_only=True) as con:
        row = con.execute(
            "select shop_code from master.shop where status = '营业' order by visit_count desc, shop_code limit 1"
        ).fetchone()
    return row[0] if row else None


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
            print(
                f"{len(report.applied)} decision(s) kept from {args.file} "
                f"({report.confirmed} confirmed, {report.rejected_pairs} rejected), "
                f"{report.undecided} row(s) left undecided, {len(report.rejected)} row(s) not accepted"
            )
            for row, reason in report.rejected:
                print(f"  row {row}: {reason}")
            if report.applied:
                print("Decisions take effect when a delivery is next built (civichub run, or the Dagster job).")
            return 1 if report.rejected else 0
        elif args.review_command == "decide":
            with duckdb.connect(str(db)) as con:
                made = review.record_decision(con, args.a, args.b, args.decision, args.by, note=args.note)
            print(
                f"kept: {made.decision} {made.fingerprint_a} {made.fingerprint_b} by {made.decided_by} "
                f"at {made.decided_at:%Y-%m-%d %H:%M:%S}"
            )
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

    from catalog.spec import CatalogError
    from sharing.roles import RolesError
    from targeting.config import ScenarioConfigError, load_scenarios
    from targeting.masking import RoleError, view_for_role
    from targeting.search import FindCriteria, FindError, find, format_rows, parse_age_range

    db = Path(args.db)
    try:
        if not db.exists():
            raise FindError(f"database {db} does not exist")
        scenarios = load_scenarios(args.scenarios)
        if args.scenario:
            scenarios.get(args.scenario)
        criteria = FindCriteria(
            scenario=args.scenario,
            entity=args.entity,
            age=parse_age_range(args.age) if args.age else None,
            flags=args.flag or [],
            street=args.street,
            committee=args.committee,
            graduation_year=args.graduation_year,
            aid=[a for v in (args.aid or []) for a in v.split(",") if a],
            employment=[e for v in (args.employment or []) for e in v.split(",") if e],
            status=None if args.any_status else "正常",
            delivery=args.delivery,
            limit=args.limit,
        )
        with duckdb.connect(str(db), read_only=True) as con:
            view = view_for_role(con, args.role)
            rows = find(con, criteria, role=view, scenarios=scenarios)
    except (FindError, ScenarioConfigError, RoleError, RolesError, CatalogError) as e:
        print(f"civichub find: {e}", file=sys.stderr)
        return 2
    except duckdb.IOException as e:
        print(f"civichub find: cannot open {db}: {e}", file=sys.stderr)
        return 2
    if args.scenario:
        s = scenarios.get(args.scenario)
        print(f"{s.title}  (scenario {s.name}, owner {s.owner}; view: {view.role})")
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
        print(
            f"{report.kept} follow-up row(s) kept from {args.file}, {report.blank} row(s) not filled in, "
            f"{len(report.rejected)} row(s) rejected"
        )
        for sheet, row, reason in report.rejected:
            print(f"  {sheet} row {row}: {reason}")
        return 1 if report.rejected else 0
    return 2


def _db_arg(args) -> Path:
    db = Path(args.db) if args.db else settings.get_settings().db
    if not db.exists():
        raise SystemExit(f"civichub: database {db} does not exist (civichub run --inbox DIR --db FILE builds it)")
    return db


def _cmd_catalog(args) -> int:
    import duckdb

    from catalog.spec import SHARING_CLASSES, CatalogError
    from pipelines.assets.sharing import build_catalog
    from pipelines.definitions import build_definitions
    from sharing.roles import RolesError

    db = _db_arg(args)
    settings.configure(db=db)
    try:
        with duckdb.connect(str(db), read_only=True, config=settings.duckdb_config(db)) as con:
            catalog, found, gaps, index = build_catalog(con, db, build_definitions().resolve_asset_graph())
    except (CatalogError, RolesError) as e:
        print(f"civichub catalog: {e}", file=sys.stderr)
        return 2
    per_class = ", ".join(
        f"{c} {sum(1 for e in catalog.entries.values() if e.sharing_class == c)}" for c in SHARING_CLASSES
    )
    built = sum(1 for d in catalog.entries if d in found.columns)
    print(
        f"{len(catalog.entries)} catalog entries ({per_class}); {built} built in {db.name}; "
        f"{len(found.found_in)} datasets found in DuckDB, dbt and Dagster"
    )
    print(f"HTML: {index}")
    if gaps:
        print(f"\nCatalog check FAILED: {len(gaps)} gap(s)")
        for g in gaps:
            print(f"  ✗ {g}")
        return 1
    print("Catalog check passed: every dataset has an entry, every field a grade.")
    return 0


def _cmd_publish(args) -> int:
    import duckdb

    from catalog.spec import CatalogError, load_catalog
    from sharing.publish import PublishError, default_out_root, publish_all
    from sharing.roles import RolesError, load_roles, streets_from

    db = _db_arg(args)
    try:
        catalog = load_catalog()
        with duckdb.connect(str(db), config=settings.duckdb_config(db)) as con:
            roles = load_roles(catalog).expand(streets_from(con))
            report = publish_all(con, catalog, roles, default_out_root(db))
    except (CatalogError, RolesError, PublishError) as e:
        print(f"civichub publish: {e}", file=sys.stderr)
        return 2
    print(f"published {len(report.roles)} roles in {report.seconds:.1f}s under {report.out_dir}")
    for rid, o in report.roles.items():
        print(f"  {rid:<22} " + ", ".join(f"{d.dataset} {d.rows:,}" for d in o.datasets))
    if report.removed:
        print("removed (no longer configured): " + ", ".join(report.removed))
    return 0


def _format_rows(columns, rows, fmt: str) -> str:
    import csv
    import io
    import json

    if fmt == "json":
        return json.dumps([dict(zip(columns, r)) for r in rows], ensure_ascii=False, default=str, indent=1)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(columns)
        w.writerows(rows)
        return buf.getvalue().rstrip("\n")
    cells = [[str(c) for c in columns]] + [["" if v is None else str(v) for v in r] for r in rows]

    def width(s: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)

    widths = [max(width(row[i]) for row in cells) for i in range(len(columns))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(v + " " * (widths[i] - width(v)) for i, v in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cmd_query(args) -> int:
    from sharing.gateway import run_query

    db = _db_arg(args)
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    r = run_query(args.role, sql, db_path=db, limit=args.limit)
    if not r.allowed:
        print(f"civichub query: {r.outcome} ({args.role}): {r.reason}   [audit #{r.audit_seq}]", file=sys.stderr)
        return 2
    print(_format_rows(r.columns, r.rows, args.format))
    more = f" (row limit {args.limit} reached: more rows were not returned)" if r.truncated else ""
    print(f"{len(r.rows)} row(s){more}   [audit #{r.audit_seq}]", file=sys.stderr)
    return 0


def _cmd_audit(args) -> int:
    from sharing import audit
    from sharing.gateway import audit_log_path

    db = _db_arg(args)
    path = audit_log_path(db)
    check = audit.verify(path)
    for rec in audit.read(path)[-args.tail :] if args.tail else []:
        print(audit.describe(rec))
    if check.ok:
        print(f"audit log {path}: {check.records} record(s), hash chain intact")
        return 0
    print(f"audit log {path}: TAMPERED at line {check.line}: {check.problem}", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="civichub", description="District data-integration and sharing hub.")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write a synthetic district in the inbox layout, with _truth/")
    g.add_argument("--out", required=True)
    g.add_argument("--persons", type=int, default=10_000)
    g.add_argument("--months", type=int, default=2)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--noise", type=float, default=1.0, help="multiplier of the profile's noise rates (0 = clean)")
    g.add_argument(
        "--noise-profile",
        default="default",
        choices=["default", "field"],
        help="default: noise fixed per record month after month; field: what real exports do, drawn afresh "
        "every month (blank and building-only addresses, misspelt roads, a lagging utility export …)",
    )
    g.add_argument("--district", default="jingan")
    g.add_argument("--start", default="2026-10", help="first delivery month, YYYY-MM")
    g.set_defaults(func=_cmd_generate)

    r = sub.add_parser("run", help="ingest every delivery not yet ingested, build and check")
    r.add_argument("--inbox", required=True)
    r.add_argument("--db", required=True)
    r.add_argument("-v", "--verbose", action="store_true", help="show Dagster's own log lines")
    r.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default=None,
        help="where staging and matching run: duckdb (default) or spark (pipelines/spark.yml; pip install -e '.[spark]')",
    )
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

    f = sub.add_parser(
        "find", help="people or households who may need help: a named scenario or criteria, per street and committee"
    )
    f.add_argument("--db", required=True)
    f.add_argument("--scenario", default=None, help="a scenario of targeting/scenarios.yml (civichub scenarios list)")
    f.add_argument("--entity", default="person", choices=["person", "household"])
    f.add_argument("--age", default=None, help="age range: 60-, -17, 18-35 or 70")
    f.add_argument(
        "--flag",
        action="append",
        help="elderly_alone, on_elderly_list, lives_alone, renhu_fenli, "
        "registered_elsewhere, graduate, aided, left_aid (repeatable)",
    )
    f.add_argument("--street", default=None, help="street code or name")
    f.add_argument("--committee", default=None, help="committee code or name")
    f.add_argument("--graduation-year", type=int, default=None)
    f.add_argument("--aid", action="append", help=f"{', '.join(vocabulary('aid_type'))} (comma-separated), any or none")
    f.add_argument("--employment", action="append", help=", ".join(vocabulary("employment_status")))
    f.add_argument("--any-status", action="store_true", help="include dead and moved-out persons")
    f.add_argument("--delivery", default=None, help="a scenario's delivery, YYYY-MM (default: the latest)")
    f.add_argument(
        "--role",
        default=None,
        help="the caller's role in sharing/roles.yml, e.g. minzheng or street_310106012000: fields in "
        "clear per its grants, a street office sees its street only (default: masked for everyone: "
        "surname only, ID, phone and address masked, aid status hidden)",
    )
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

    c = sub.add_parser("catalog", help="data catalog: check coverage, write the HTML under <db dir>/out/catalog/")
    c.add_argument("--db", default=None, help="hub database (default: $CIVICHUB_DB or data/civichub.duckdb)")
    c.set_defaults(func=_cmd_catalog)

    pb = sub.add_parser("publish", help="rebuild every role's published files now (after editing sharing/roles.yml)")
    pb.add_argument("--db", default=None)
    pb.set_defaults(func=_cmd_publish)

    q = sub.add_parser("query", help="run a read-only SELECT over a role's published views (audited)")
    q.add_argument("--role", required=True, help="role id, e.g. minzheng or street_310106012000")
    q.add_argument("--db", default=None)
    q.add_argument("--limit", type=int, default=1000, help="row limit (default 1000)")
    q.add_argument("--format", choices=["table", "csv", "json"], default="table")
    q.add_argument("sql", help='one SELECT statement, or "-" to read it from standard input')
    q.set_defaults(func=_cmd_query)

    a = sub.add_parser("audit", help="show the query audit log and verify its hash chain")
    a.add_argument("--db", default=None)
    a.add_argument("--tail", type=int, default=20, help="show the last N records (0: none)")
    a.set_defaults(func=_cmd_audit)

    from citizen_reports.cli import add_parser as add_reports_parser

    add_reports_parser(sub)

    d = sub.add_parser("demo", help="generate a small district, run it, say where to look")
    d.add_argument("--dir", default=str(settings.DEFAULT_DATA_DIR / "demo"))
    d.add_argument("--persons", type=int, default=5_000)
    d.add_argument("--months", type=int, default=2)
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("-v", "--verbose", action="store_true")
    d.set_defaults(func=_cmd_demo)

    from app.cli import add_parsers as add_app_parsers

    add_app_parsers(sub)

    from tasks.cli import add_parsers as add_task_parsers

    add_task_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    import warnings

    # pyspark (the spark extra), imported by Great Expectations, warns that pandas 3 is not fully
    # supported: the hub moves data between Spark and pandas through Arrow only
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
