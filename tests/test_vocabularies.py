"""The hub's vocabularies are defined once (dbt_project/seeds/vocabularies.csv) and read from there by
dbt (staging, tests), Great Expectations, the corrections a street may type and search criteria."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from connectors.spec import load_specs
from normalize.vocabularies import vocabularies, vocabulary
from quality import findings
from quality.corrections import default_specs

ROOT = Path(__file__).resolve().parents[1]


def test_the_vocabularies_the_hub_relies_on():
    assert vocabulary("person_status") == ("正常", "死亡", "迁出")
    assert vocabulary("sex") == ("男", "女")  # the order the ID-number decoding indexes (normalize/duckdb_udfs.py)
    assert vocabulary("aid_type") == ("低保", "低收入", "特困")
    assert vocabulary("registration_status") == ("存续", "在业", "注销", "吊销")
    # the streets' verdicts, in the order worklist_format unpacks them (CONFIRM, CORRECT, NOT_TRUE)
    assert vocabulary("finding_decision") == ("确认", "更正", "不属实")
    assert set(vocabularies()) >= {"sex", "employment_status", "shop_status"}


def test_the_other_ways_exports_write_a_value_are_no_values_of_their_own():
    """The seed also lists how other systems write a value (在册 for 正常): staging reads them as the
    canonical value, so they are neither values of the vocabulary nor in its Python tuple."""
    import csv

    from normalize.vocabularies import VOCABULARIES_CSV

    with open(VOCABULARIES_CSV, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        values = vocabulary(row["vocabulary"])
        assert row["canonical"] in values and row["canonical_under_elderly_age"] in values, row
        assert (row["value"] in values) == (row["value"] == row["canonical"]), row
    written = {
        r["value"]: (r["canonical"], r["canonical_under_elderly_age"])
        for r in rows
        if r["vocabulary"] == "person_status"
    }
    assert written["在册"] == ("正常", "正常") and written["迁移"] == ("迁出", "迁出")
    assert written["注销"] == ("死亡", "迁出")


def test_every_reader_takes_its_values_from_the_seed():
    police = load_specs().sources["police_population"]
    assert police.vocabularies == {"sex": vocabulary("sex"), "person_status": vocabulary("person_status")}
    assert default_specs().get("person", "status").values == vocabulary("person_status")
    assert default_specs().get("shop", "registration_status").values == vocabulary("registration_status")
    assert findings.DECISIONS == {"确认": "resolved", "更正": "resolved", "不属实": "rejected"}


def _literal_lists(text: str, values: tuple[str, ...]) -> bool:
    """Does `text` spell out the whole vocabulary side by side, as a list of it would?"""
    quoted, sep = r"""['"]?""", r"\s*[,，、/]\s*"
    for order in itertools.permutations(values):
        if re.search(sep.join(f"{quoted}{re.escape(v)}{quoted}" for v in order), text):
            return True
    return False


def test_no_code_restates_a_vocabulary():
    offenders = []
    files = [*ROOT.glob("*/**/*.py"), *ROOT.glob("dbt_project/**/*.sql"), ROOT / "connectors" / "sources.yml"]
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if (
            rel.startswith((".venv/", "tests/", "synthetic/", "dbt_project/target/", "catalog/"))
            or path.name == "vocabularies.py"
        ):
            continue
        text = "\n".join(
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith(("#", "--", "description:"))
        )
        for name, values in vocabularies().items():
            if len(values) > 1 and _literal_lists(text, values):
                offenders.append(f"{rel}: {name}")
    assert not offenders, "read the vocabulary (normalize/vocabularies.py, ref('vocabularies')) instead:\n" + "\n".join(
        offenders
    )
