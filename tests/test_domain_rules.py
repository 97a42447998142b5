"""The domain rules with a number in them live once (normalize/domain_rules.yml, and one age rule):
every dbt run gets them as vars, the scenarios and `civichub find` read the same numbers, and no
model or module writes one of them again."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import jinja2
import pytest

from matching.config import dbt_vars
from normalize.dates import age_at, register_age_at
from normalize.domain_rules import DomainRulesError, load_domain_rules
from targeting.config import load_scenarios
from targeting.search import FindCriteria, build_find_query

ROOT = Path(__file__).resolve().parents[1]


def test_every_dbt_run_gets_the_domain_rules():
    rules = load_domain_rules()
    v = dbt_vars("2026-11")
    assert v["elderly_min_age"] == rules.elderly_min_age == 60
    assert v["meter_empty_below_share"] == rules.electricity.empty_below_share
    assert v["meter_lived_in_from_share"] == rules.electricity.lived_in_from_share
    assert v["power_drop_ratio"] == rules.electricity.drop_ratio
    assert v["power_drop_min_history"] == rules.electricity.drop_min_history


def test_the_scenario_and_find_read_the_same_elderly_age():
    alert = load_scenarios().get("elderly_power_alert")
    params = alert.query_params("2026-11")
    assert params["elderly_min_age"] == load_domain_rules().elderly_min_age
    assert params["power_drop_ratio"] == load_domain_rules().electricity.drop_ratio
    assert "elderly_min_age" not in alert.params  # not restated by the scenario
    sql, params = build_find_query(FindCriteria(flags=["elderly_alone"]))
    assert "$elderly_min_age" in sql and params["elderly_min_age"] == load_domain_rules().elderly_min_age


def test_a_bad_rule_file_is_refused_naming_the_key(tmp_path):
    bad = tmp_path / "rules.yml"
    electricity = "empty_below_share: 0.15, lived_in_from_share: 0.3, drop_ratio: 0.3, drop_min_history: 3"
    bad.write_text(f"elderly_min_age: 60\nelectricity: {{{electricity}, drop_ration: 1}}\n", encoding="utf-8")
    with pytest.raises(DomainRulesError, match=r"rules.yml: electricity.drop_ration: unknown key"):
        load_domain_rules(bad)
    # a meter cannot read empty and lived in at once
    bad.write_text(f"elderly_min_age: 60\nelectricity: {{{electricity.replace('0.15', '0.4')}}}\n", encoding="utf-8")
    with pytest.raises(DomainRulesError, match="empty_below_share <= lived_in_from_share"):
        load_domain_rules(bad)


def _dbt_macros(dialect: str = "default"):
    """The macros of cross_engine.sql rendered as dbt would for DuckDB (adapter.dispatch -> default__)."""
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    holder = {}

    class Adapter:
        def dispatch(self, name, _namespace):
            return getattr(holder["m"], f"{dialect}__{name}", None) or getattr(holder["m"], f"default__{name}")

    env.globals.update(adapter=Adapter(), **{"return": lambda v: v})
    source = (ROOT / "dbt_project/macros/cross_engine.sql").read_text(encoding="utf-8")
    holder["m"] = env.from_string(source).module
    return holder["m"]


BIRTHS = [date(1966, 11, 30), date(1966, 12, 1), date(1964, 2, 29), date(2000, 1, 1), date(1990, 3, 1)]
AS_OF = [date(2026, 11, 30), date(2026, 2, 28), date(2026, 3, 1), date(2028, 2, 29), date(2025, 12, 31)]


def test_the_sql_age_is_the_python_age():
    sql = str(_dbt_macros().age_at("b", "d"))
    con = duckdb.connect()
    register_age_at(con)
    for b in BIRTHS:
        for d in AS_OF:
            got_sql, got_udf = con.execute(
                f"select {sql}, age_at($b, $d) from (select $b::date as b, $d::date as d)", {"b": b, "d": d}
            ).fetchone()
            assert got_sql == got_udf == age_at(b, d), (b, d)
    assert age_at(date(1966, 12, 1), date(2026, 11, 30)) == 59 and age_at(date(1966, 11, 30), date(2026, 11, 30)) == 60
    assert age_at(date(1964, 2, 29), date(2026, 2, 28)) == 61 and age_at(date(1964, 2, 29), date(2026, 3, 1)) == 62
    assert age_at(None, date(2026, 11, 30)) is None


# A second copy of a rule: an age computed from a birth date by hand, the elderly age, a share of a
# median meter reading, a power drop ratio.
SECOND_COPY = re.compile(
    r"""'%m%d'|'MMDD'\s*\)\s*\}\}\s*>|interval\s+60\s+year|age\s*>=\s*60\b|"""
    r"""\b0\.(15|3)0?\s*\*\s*(median|\(|e\.|j\.)|\$(min_age|drop_ratio|min_history|very_old)\b|"""
    r"""age\s*(>=\s*80|<\s*18|between\s+18\s+and\s+59)\b"""
)
ALLOWED = {"dbt_project/macros/cross_engine.sql", "normalize/dates.py"}


def test_each_threshold_and_the_age_rule_are_written_once():
    offenders = []
    # the project's own files (git's list): not a demo's logs, dbt's target/ or the venv
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for rel in tracked.splitlines():
        if not (
            rel.endswith((".py", ".yml")) and "/" in rel or rel.startswith("dbt_project/") and rel.endswith(".sql")
        ):
            continue
        if rel in ALLOWED or rel.startswith(("tests/", "synthetic/", "bench/")) or not (ROOT / rel).is_file():
            continue
        for n, line in enumerate((ROOT / rel).read_text(encoding="utf-8").splitlines(), 1):
            if SECOND_COPY.search(line) and not line.lstrip().startswith(("#", "--")):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert not offenders, "read normalize/domain_rules.yml or the age_at rule instead:\n" + "\n".join(offenders)


def test_a_vacant_flat_is_one_whose_meter_does_not_read_lived_in():
    # The two meter cut-offs are two rules, not two copies of one: a flat "reads empty" under
    # empty_below_share of the median (a move is read off it only then) and "reads lived in" from
    # lived_in_from_share; the account_vacant finding needs a flat with nobody on file whose meter does
    # not read lived in (under lived_in_from_share), as the rule's comment and the README catalogue say.
    models = ROOT / "dbt_project/models"
    vacant = (models / "quality/qc_electricity.sql").read_text(encoding="utf-8")
    start = vacant.index("\nvacant as (")
    vacant = vacant[start : re.compile(r"\n[a-z_]+ as \(").search(vacant, start + 1).start()]  # the CTE alone
    assert "var('meter_lived_in_from_share')" in vacant and "meter_empty_below_share" not in vacant
    # the move rules read a dwelling's meter off int_dwelling_meter_use (a table of its own for Spark)
    moves = (models / "matching/int_dwelling_meter_use.sql").read_text(encoding="utf-8")
    assert "var('meter_empty_below_share')" in moves and "var('meter_lived_in_from_share')" in moves
    rules = load_domain_rules().electricity
    assert (rules.empty_below_share, rules.lived_in_from_share) == (0.15, 0.3)
