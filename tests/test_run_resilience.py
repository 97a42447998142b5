"""A month at its worst still delivers the data.

One generated month is run once (the `worst_month` fixture) with everything that goes wrong in a real
delivery at the same time, and each test reads what that run did:

- three broken files (the GBK graduates file re-saved as UTF-8, the electricity readings without
  用电地址, a truncated workbook) are rejected with their reasons, and every other file loads (the
  police file, which the households come from, is left whole: the rosters below need them);
- a small DuckDB memory limit (200 MiB) is set: the delivery completes, spilling to the folder beside
  the database, and every connection the run opens on the hub's database, dbt's included, carries it;
- the monthly-report step is forced to fail and one committee's roster cannot be written: the master
  tables, the catalog and publishing are still done, the other rosters are written, and the run
  summary names the failed step and the failed file with their reasons.

(One run for the three: each was a delivery of its own, about 30 s of the suite apiece.)
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import NamedTuple

import duckdb
import pytest

from connectors.spec import load_specs
from pipelines import settings

pytestmark = pytest.mark.slow

MEMORY_LIMIT = "200MiB"
# the street app writes street_shop_visits_app into a delivery (tasks/shop_visits.py), not the generator
GENERATED_SOURCES = [s for s in load_specs().sources if s != "street_shop_visits_app"]
BROKEN = {
    "hr_graduates.csv": "wrong encoding",
    "utility_electricity.csv": "no 用电地址 column",
    "civil_affairs_elderly_alone.xlsx": "truncated workbook",
}


class WorstMonth(NamedTuple):
    delivery: str
    db: Path
    summary: object
    opened: list[dict]  # the config of every connection opened on the hub's database
    broken_roster: list[str]


def _break_files(month: Path) -> None:
    # wrong encoding: the GBK graduates file re-saved as UTF-8
    grads = month / "hr_graduates.csv"
    grads.write_text(grads.read_bytes().decode("gbk"), encoding="utf-8")
    # missing columns: drop 用电地址 from the electricity readings (UTF-8 with a BOM)
    power = month / "utility_electricity.csv"
    lines = power.read_text(encoding="utf-8-sig").splitlines()
    drop = lines[0].split(",").index("用电地址")
    power.write_text(
        "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in lines),
        encoding="utf-8-sig",
    )
    # a truncated workbook
    book = month / "civil_affairs_elderly_alone.xlsx"
    data = book.read_bytes()
    book.write_bytes(data[: len(data) // 2])
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(book)


@pytest.fixture(scope="module")
def worst_month(tmp_path_factory) -> WorstMonth:
    import pipelines.assets.streets as streets
    import quality.worklists as worklists
    from pipelines.run import run_hub
    from synthetic.generate import generate

    root = tmp_path_factory.mktemp("worst_month")
    inbox, db = root / "inbox", root / "hub.duckdb"
    generate(out_dir=inbox, persons=600, months=1, seed=5, noise=1.0)
    (delivery,) = [p.name for p in inbox.iterdir() if p.name[:2] == "20"]
    _break_files(inbox / delivery)

    def broken_reports(*_args, **_kwargs):
        raise RuntimeError("forced failure of the monthly reports")

    real_roster = worklists.build_roster
    broken_roster: list[str] = []

    def roster_failing_once(path, title, roster):
        if not broken_roster:
            broken_roster.append(path.name)
            raise ValueError("forced failure of one roster")
        return real_roster(path, title, roster)

    opened: list[dict] = []
    real_connect = duckdb.connect

    def recording_connect(database=":memory:", *args, **kwargs):
        if Path(str(database)).resolve() == db.resolve():
            opened.append(dict(kwargs.get("config") or {}))
        return real_connect(database, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.MEMORY_LIMIT_ENV, MEMORY_LIMIT)
        mp.setattr(streets, "write_monthly_reports", broken_reports)
        mp.setattr(worklists, "build_roster", roster_failing_once)
        mp.setattr(duckdb, "connect", recording_connect)
        summary = run_hub(inbox, db, progress=False)
    return WorstMonth(delivery, db, summary, opened, broken_roster)


def test_broken_files_are_rejected_and_the_rest_loads(worst_month):
    delivery, _db, summary, _opened, _roster = worst_month
    by_file = {f[2]: f for f in summary.files}
    rejected = {f: row[7] for f, row in by_file.items() if row[3] == "rejected"}
    assert set(rejected) == {f"{delivery}/{name}" for name in BROKEN}
    grads = rejected[f"{delivery}/hr_graduates.csv"]
    assert "hr_graduates.csv" in grads and ("UTF-8" in grads or "utf-8" in grads)
    assert "用电地址" in rejected[f"{delivery}/utility_electricity.csv"]
    assert "civil_affairs_elderly_alone.xlsx" in rejected[f"{delivery}/civil_affairs_elderly_alone.xlsx"]
    loaded = [f for f, row in by_file.items() if row[3] == "loaded"]
    assert len(loaded) == len(GENERATED_SOURCES) - len(BROKEN)
    (outcome,) = summary.deliveries
    assert "raw/hr_graduates:file_accepted" in outcome.failed_checks


def test_a_delivery_completes_under_a_small_memory_limit_on_every_connection(worst_month):
    _delivery, db, summary, opened, _roster = worst_month
    (outcome,) = summary.deliveries
    assert set(outcome.failed_steps) == {"reports__monthly"}, "only the forced failure"
    assert len(opened) > 5, "the resource, the run and dbt all open the hub's database"
    assert all(c.get("memory_limit") == MEMORY_LIMIT for c in opened), opened
    assert all(c.get("temp_directory") == str(db.parent / "hub.duckdb.tmp") for c in opened)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from master.person").fetchone()[0] > 0
        assert con.execute("select count(*) from master.shop").fetchone()[0] > 0


def test_a_failed_report_step_leaves_master_catalog_and_publishing_done(worst_month, capsys):
    from pipelines.run import print_summary
    from pipelines.settings import output_dir

    _delivery, db, summary, _opened, broken_roster = worst_month
    (outcome,) = summary.deliveries
    assert set(outcome.failed_steps) == {"reports__monthly"}
    assert "forced failure of the monthly reports" in outcome.failed_steps["reports__monthly"]
    assert not outcome.skipped_steps, "nothing else depends on the reports"
    # one roster failed: a failed check naming the file and the reason; the other files are there
    assert "quality/worklists:every_worklist_written" in outcome.failed_checks
    assert "forced failure of one roster" in outcome.check_reasons["quality/worklists:every_worklist_written"]
    out = output_dir(db)
    folder = out / "worklists" / outcome.delivery
    rosters = list(folder.rglob("*_花名册.xlsx"))
    assert rosters and broken_roster[0] not in {p.name for p in rosters}
    # the data, the catalog and the published views are done
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from master.person").fetchall()[0][0] > 0
        assert con.execute("select count(*) from quality.finding").fetchall()[0][0] > 0
    assert (out / "catalog" / "index.html").exists()
    manifests = list((out / "published").glob("*/manifest.json"))
    assert manifests and all(json.loads(m.read_text(encoding="utf-8"))["datasets"] for m in manifests)
    print_summary(summary)
    printed = capsys.readouterr().out
    assert "reports__monthly" in printed and "forced failure of the monthly reports" in printed
    assert "every_worklist_written" in printed and "forced failure of one roster" in printed
