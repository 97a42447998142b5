"""A failure in what is written for the streets never holds back the data.

The monthly-report step is forced to fail and one committee's roster cannot be written: the master
tables, the catalog and publishing are still done, the other rosters are written, and the run
summary names the failed step and the failed file with their reasons.
"""

from __future__ import annotations

import json

import duckdb
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def one_month(tmp_path_factory):
    from synthetic.generate import generate

    inbox = tmp_path_factory.mktemp("resilience") / "inbox"
    generate(out_dir=inbox, persons=600, months=1, seed=5, noise=1.0)
    return inbox


def test_a_failed_report_step_leaves_master_catalog_and_publishing_done(one_month, tmp_path, monkeypatch, capsys):
    import pipelines.assets.streets as streets
    import quality.worklists as worklists
    from pipelines.run import print_summary, run_hub
    from pipelines.settings import output_dir

    def broken_reports(*_args, **_kwargs):
        raise RuntimeError("forced failure of the monthly reports")

    real_roster = worklists.build_roster
    broken = []

    def roster_failing_once(path, title, roster):
        if not broken:
            broken.append(path.name)
            raise ValueError("forced failure of one roster")
        return real_roster(path, title, roster)

    monkeypatch.setattr(streets, "write_monthly_reports", broken_reports)
    monkeypatch.setattr(worklists, "build_roster", roster_failing_once)
    db = tmp_path / "hub.duckdb"
    summary = run_hub(one_month, db, progress=False)

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
    assert rosters and broken[0] not in {p.name for p in rosters}
    # the data, the catalog and the published views are done
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from master.person").fetchall()[0][0] > 0
        assert con.execute("select count(*) from quality.finding").fetchall()[0][0] > 0
    finally:
        con.close()
    assert (out / "catalog" / "index.html").exists()
    manifests = list((out / "published").glob("*/manifest.json"))
    assert manifests and all(json.loads(m.read_text(encoding="utf-8"))["datasets"] for m in manifests)

    print_summary(summary)
    printed = capsys.readouterr().out
    assert "reports__monthly" in printed and "forced failure of the monthly reports" in printed
    assert "every_worklist_written" in printed and "forced failure of one roster" in printed
