"""`civichub reports …`: import a day's file, export where every report went, evaluate, review.

    civichub reports import   --db FILE --file <inbox>/reports/YYYY-MM-DD.csv [--inbox DIR]
    civichub reports export   --db FILE --out CSV
    civichub reports evaluate --inbox DIR --db FILE
    civichub reports review   --db FILE [--department ROLE]

FILE is the hub's database; the reports live in the app's database beside it (`CIVICHUB_APP_DB`,
default `<db dir>/app.sqlite`). `civichub run` takes in the files of `<inbox>/reports/` not yet taken
through `take_in_inbox`, the same code path.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from citizen_reports.config import ReportsConfigError, load_reports_config
from citizen_reports.models import Incident, RejectedRow, Report
from citizen_reports.repository import SqlRepository, app_db_url, app_engine, sync_library
from citizen_reports.routing import AddressLibrary, AddressLibraryError, find_inbox
from citizen_reports.service import FileOutcome, import_file

EXPORT_COLUMNS = ["编号", "incident_id", "duplicate_of", "street_code", "community_code", "department", "status"]


@contextmanager
def app_session(db: Path | str):
    Path(db).resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = app_engine(app_db_url(db))
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def take_in_inbox(inbox: Path, db: Path, config_path: Path | None = None) -> list[FileOutcome]:
    """Every `<inbox>/reports/*.csv` not yet taken, oldest first (what `civichub run` does)."""
    folder = Path(inbox) / "reports"
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        return []
    cfg = load_reports_config(config_path)
    lib = AddressLibrary.from_inbox(inbox)
    out = []
    with app_session(db) as session:
        repo = SqlRepository(session)
        sync_library(session, lib)
        taken = repo.taken_file_names()
        for f in files:
            name = f"reports/{f.name}"
            if name in taken and repo.file_taken(name, _sha(f)):
                continue
            out.append(import_file(f, repo, cfg, lib, name=name))
    return out


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def describe(outcome: FileOutcome) -> list[str]:
    """Lines for one file: what went in, what joined, what was refused and why."""
    if outcome.status == "rejected":
        return [f"  ✗ {outcome.name}: {outcome.message}"]
    if outcome.status == "already":
        return [f"  {outcome.name}: already taken (same content), nothing to do"]
    r = outcome.result
    lines = [
        f"  {outcome.name}: {outcome.rows:,} rows → {len(r.taken):,} new reports "
        f"({r.incidents_opened:,} new incidents, {r.merged:,} joined an open incident, {r.review:,} to review, "
        f"{r.queued:,} to the district's queue), {len(r.already):,} already taken, {len(r.rejected):,} refused "
        f"[{outcome.seconds:.1f}s]"
    ]
    reasons = Counter(x.code for x in r.rejected)
    for code, n in reasons.most_common():
        example = next(x for x in r.rejected if x.code == code)
        lines.append(f"      {n:>5} {code}: e.g. row {example.source_row}: {example.reason}")
    if r.id_assigned:
        row, note = r.id_assigned[0]
        lines.append(
            f"      {len(r.id_assigned):>5} taken without 编号, numbered by the platform: e.g. row {row}: {note}"
        )
    if r.time_estimated:
        row, note = r.time_estimated[0]
        lines.append(
            f"      {len(r.time_estimated):>5} taken with the file's day as their time (上报时间 in the future):"
            f" e.g. row {row}: {note}"
        )
    return lines


def export_csv(session: Session, out: Path) -> int:
    """contracts.md: 编号, incident_id, duplicate_of, street_code, community_code, department, status;
    a refused row with a 编号 the hub does not hold is listed with status `rejected`."""
    merged = dict(
        session.execute(select(Incident.id, Incident.merged_into).where(Incident.merged_into.is_not(None))).all()
    )
    incidents = {i.id: i for i in session.scalars(select(Incident))}
    n = 0
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(EXPORT_COLUMNS)
        seen = set()
        q = select(Report.report_no, Report.incident_id, Report.duplicate_of).order_by(
            Report.reported_at, Report.report_no
        )
        for no, iid, dup in session.execute(q):
            while iid in merged:
                iid = merged[iid]
            inc = incidents[iid]
            w.writerow(
                [no, iid, dup or "", inc.street_code or "", inc.community_code or "", inc.department, inc.status]
            )
            seen.add(no)
            n += 1
        for rej in session.scalars(select(RejectedRow).order_by(RejectedRow.id)):
            if rej.report_no and rej.report_no not in seen:
                w.writerow([rej.report_no, "", "", "", "", "", "rejected"])
                seen.add(rej.report_no)
                n += 1
    return n


def _cmd_import(args) -> int:
    path = Path(args.file)
    inbox = Path(args.inbox) if args.inbox else find_inbox(path)
    if inbox is None:
        print(
            f"civichub reports import: {path} is not in <inbox>/reports/; say where the inbox is (--inbox DIR): "
            "its reference/standard_addresses.csv places the reports",
            file=sys.stderr,
        )
        return 2
    try:
        cfg = load_reports_config(args.config)
        lib = AddressLibrary.from_inbox(inbox)
    except (ReportsConfigError, AddressLibraryError) as e:
        print(f"civichub reports import: {e}", file=sys.stderr)
        return 2
    name = f"reports/{path.name}" if path.resolve().parent == (inbox / "reports").resolve() else str(path)
    with app_session(args.db) as session:
        sync_library(session, lib)
        outcome = import_file(path, SqlRepository(session), cfg, lib, name=name)
    print("\n".join(describe(outcome)))
    if not lib.has_coordinates:
        print("  note: the address library has no 经度/纬度: reports were placed by their address text only")
    return 1 if outcome.status == "rejected" else 0


def _cmd_export(args) -> int:
    with app_session(args.db) as session:
        n = export_csv(session, Path(args.out))
    print(f"{n:,} report(s) written to {args.out}")
    return 0


def _cmd_evaluate(args) -> int:
    from citizen_reports.evaluate import ReportsEvaluateError, evaluate, format_scores

    try:
        with app_session(args.db) as session:
            scores = evaluate(Path(args.inbox), session, args.day or None)
            taken = evaluate(Path(args.inbox), session, args.day or None, taken_only=True)
    except ReportsEvaluateError as e:
        print(f"civichub reports evaluate: {e}", file=sys.stderr)
        return 2
    print(format_scores(scores))
    print(
        f"  over the {taken.reports:,} reports taken in (refused rows left out)  precision {taken.precision:.4f}   "
        f"recall {taken.recall:.4f}   F1 {taken.f1:.4f}"
    )
    return 0


def _cmd_review(args) -> int:
    with app_session(args.db) as session:
        items = SqlRepository(session).open_reviews(args.department)
        if not items:
            print("no borderline duplicate waiting for review")
            return 0
        nos = {i.report_no for i in items} | {i.candidate_report_no for i in items}
        reports = {r.report_no: r for r in session.scalars(select(Report).where(Report.report_no.in_(nos)))}
        for it in items[: args.limit]:
            why = json.loads(it.explanation)
            print(f"#{it.id} [{it.department}] {it.incident_id} ? {it.candidate_incident_id}  p={it.probability:.2f}")
            for no in (it.report_no, it.candidate_report_no):
                r = reports.get(no)
                if r:
                    print(f"    {no} {r.reported_at:%m-%d %H:%M} {r.major}/{r.minor} {r.description[:40]}")
            print(f"    {why.get('summary', '')}")
        print(f"{len(items)} pair(s) waiting" + (f" (first {args.limit} shown)" if len(items) > args.limit else ""))
    return 0


def add_parser(sub) -> None:
    """Register `civichub reports` on the main command's subparsers."""
    rp = sub.add_parser("reports", help="citizen reports (百姓拍): import daily files, export, evaluate, review")
    rs = rp.add_subparsers(dest="reports_command", required=True)
    ri = rs.add_parser("import", help="take in one daily file reports/YYYY-MM-DD.csv (the same 编号 again: no-op)")
    ri.add_argument("--db", required=True, help="hub database; the reports go into the app database beside it")
    ri.add_argument("--file", required=True)
    ri.add_argument("--inbox", default=None, help="the inbox (default: the file's <inbox>/reports/ parent)")
    ri.add_argument("--config", default=None, help=argparse.SUPPRESS)
    ri.set_defaults(func=_cmd_import)
    rx = rs.add_parser("export", help="every report: its incident, the first report, street, committee, owner, state")
    rx.add_argument("--db", required=True)
    rx.add_argument("--out", required=True)
    rx.set_defaults(func=_cmd_export)
    re_ = rs.add_parser("evaluate", help="pairwise precision/recall/F1 of duplicates against _truth/reports/")
    re_.add_argument("--inbox", required=True)
    re_.add_argument("--db", required=True)
    re_.add_argument("--day", action="append", help="YYYY-MM-DD (repeatable; default: every day of the key)")
    re_.set_defaults(func=_cmd_evaluate)
    rv = rs.add_parser("review", help="borderline duplicates waiting for the department's decision")
    rv.add_argument("--db", required=True)
    rv.add_argument("--department", default=None)
    rv.add_argument("--limit", type=int, default=20)
    rv.set_defaults(func=_cmd_review)
