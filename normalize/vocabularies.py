"""The hub's vocabularies — 人员状态 (正常/死亡/迁出), 救助类型 (低保/低收入/特困), 登记状态
(存续/在业/注销/吊销), 就业状态, 性别, 经营状态 — defined once, in the dbt seed
dbt_project/seeds/vocabularies.csv. The staging models keep a value only when it is in its
vocabulary, the dbt tests check columns against it (`in_vocabulary`), and Python (Great
Expectations suites, the corrections a street may type, search criteria) reads it here.
A row whose value is not its canonical value is another way exports write a value (在册 for 正常,
注销 for 死亡 or 迁出): staging reads it as the canonical value; it is no value of the vocabulary.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

VOCABULARIES_CSV = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "vocabularies.csv"


@functools.cache
def vocabularies() -> dict[str, tuple[str, ...]]:
    """vocabulary name → its values, in the file's order."""
    out: dict[str, list[str]] = {}
    with open(VOCABULARIES_CSV, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["value"] == row["canonical"]:
                out.setdefault(row["vocabulary"], []).append(row["value"])
    return {k: tuple(v) for k, v in out.items()}


def vocabulary(name: str) -> tuple[str, ...]:
    """The values of one vocabulary; KeyError naming the known ones when there is no such vocabulary."""
    known = vocabularies()
    if name not in known:
        raise KeyError(f"no vocabulary {name!r} in {VOCABULARIES_CSV.name}; vocabularies: {', '.join(known)}")
    return known[name]
