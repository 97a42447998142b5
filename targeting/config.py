"""The scenarios of targeted aid and alerts (targeting/scenarios.yml), validated on load.

A scenario is a single SELECT over the master data and the targeting facts, returning one row per
(entity, reason) with the columns in REQUIRED_COLUMNS, plus a reason template (Chinese) per reason
code. Everything a district can get wrong in the file is reported with the scenario's name and
the field, before anything runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
import yaml
from sqlglot import exp

DEFAULT_PATH = Path(__file__).with_name("scenarios.yml")
ENTITIES = ("person", "household")
ALLOWED_SCHEMAS = ("master", "targeting", "staging")
REQUIRED_COLUMNS = ("entity_id", "person_id", "household_id", "reason_code")
BUILTIN_PARAMS = ("delivery", "year")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,50}$")
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ROLES = ("full", "committee", "masked")


class ScenarioConfigError(ValueError):
    """The scenario file is not usable; the message names the file, the scenario and the field."""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    owner: str
    entity: str
    sql: str
    reasons: dict[str, str]
    description: str = ""
    params: dict[str, object] = field(default_factory=dict)
    sensitive: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # what the query returns, in order

    def query_params(self, delivery: str) -> dict[str, object]:
        """The named parameters of the query for one delivery (only those it uses)."""
        values = {"delivery": delivery, "year": int(delivery[:4]), **self.params}
        used = _placeholders(sqlglot.parse_one(self.sql, read="duckdb"))
        return {k: v for k, v in values.items() if k in used}


@dataclass(frozen=True)
class ScenarioSet:
    scenarios: tuple[Scenario, ...]
    delivery_role: str = "committee"
    path: Path | None = None

    def get(self, name: str) -> Scenario:
        for s in self.scenarios:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.scenarios)
        raise ScenarioConfigError(f"unknown scenario {name!r}; the scenarios are: {known}")

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]


def _placeholders(tree: exp.Expression) -> set[str]:
    return {p.this for p in tree.find_all(exp.Placeholder) if isinstance(p.this, str)}


def check_sql(sql: str, where: str) -> tuple[str, ...]:
    """Validate a scenario query; return its output column names.

    Rejects anything but one SELECT (or UNION of SELECTs), tables outside the allowed schemas, and
    `select *` at the top (the returned columns must be known to check the reason templates).
    """
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as e:
        first = str(e).splitlines()[0]
        raise ScenarioConfigError(f"{where}: sql does not parse: {first}") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise ScenarioConfigError(f"{where}: sql must be exactly one query, found {len(trees)} statements")
    tree = trees[0]
    if not isinstance(tree, exp.Query):
        raise ScenarioConfigError(f"{where}: sql must be a SELECT, not {tree.key.upper()}")
    for node in tree.walk():
        if isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Alter, exp.Command)):
            raise ScenarioConfigError(f"{where}: sql may only read; found {node.key.upper()}")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not table.name:
            continue  # table functions such as unnest
        if not table.db:
            if table.name in ctes:
                continue
            raise ScenarioConfigError(f"{where}: table {table.name!r} needs its schema ({', '.join(ALLOWED_SCHEMAS)})")
        if table.db not in ALLOWED_SCHEMAS:
            raise ScenarioConfigError(
                f"{where}: table {table.db}.{table.name} is outside the schemas a scenario may read "
                f"({', '.join(ALLOWED_SCHEMAS)})"
            )
    columns = tuple(tree.named_selects)
    if any(c == "*" or not c for c in columns) or tree.is_star:
        raise ScenarioConfigError(f"{where}: name every returned column (no select *)")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ScenarioConfigError(f"{where}: sql must return the column(s) {', '.join(missing)}")
    return columns


def _parse_scenario(raw: object, index: int, source: str) -> Scenario:
    where = f"{source}: scenarios[{index}]"
    if not isinstance(raw, dict):
        raise ScenarioConfigError(f"{where}: must be a mapping with name, title, owner, entity, sql, reasons")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ScenarioConfigError(f"{where}: name must be lowercase letters, digits and _ (got {name!r})")
    where = f"{source}: scenario {name!r}"
    known = {"name", "title", "owner", "entity", "sql", "reasons", "description", "params", "sensitive"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ScenarioConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key in ("title", "owner", "sql"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ScenarioConfigError(f"{where}: {key} is required (text)")
    entity = raw.get("entity")
    if entity not in ENTITIES:
        raise ScenarioConfigError(f"{where}: entity must be one of {', '.join(ENTITIES)} (got {entity!r})")
    reasons = raw.get("reasons")
    if not isinstance(reasons, dict) or not reasons:
        raise ScenarioConfigError(f"{where}: reasons must map each reason_code to a template")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise ScenarioConfigError(f"{where}: params must be a mapping of name to value")
    for p in params:
        if p in BUILTIN_PARAMS or not NAME_RE.match(str(p)):
            raise ScenarioConfigError(f"{where}: params: {p!r} is not a usable parameter name")
    sensitive = raw.get("sensitive") or []
    if not isinstance(sensitive, list) or not all(isinstance(s, str) for s in sensitive):
        raise ScenarioConfigError(f"{where}: sensitive must be a list of column names")
    columns = check_sql(raw["sql"], f"{where}: sql")
    used = _placeholders(sqlglot.parse_one(raw["sql"], read="duckdb"))
    undefined = sorted(used - set(params) - set(BUILTIN_PARAMS))
    if undefined:
        raise ScenarioConfigError(f"{where}: sql uses ${', $'.join(undefined)} but params does not define it")
    for code, template in reasons.items():
        if not isinstance(template, str) or not template.strip():
            raise ScenarioConfigError(f"{where}: reasons.{code} must be a text template")
        for placeholder in PLACEHOLDER_RE.findall(template):
            if placeholder not in columns:
                raise ScenarioConfigError(
                    f"{where}: reasons.{code} uses {{{placeholder}}} but the sql returns no such column "
                    f"(it returns {', '.join(columns)})"
                )
    for s in sensitive:
        if s not in columns:
            raise ScenarioConfigError(f"{where}: sensitive column {s!r} is not returned by the sql")
    return Scenario(
        name=name,
        title=raw["title"].strip(),
        owner=raw["owner"].strip(),
        entity=entity,
        sql=raw["sql"],
        reasons={str(k): v for k, v in reasons.items()},
        description=str(raw.get("description") or "").strip(),
        params=dict(params),
        sensitive=tuple(sensitive),
        columns=columns,
    )


def parse_scenarios(data: object, source: str = "scenarios.yml") -> ScenarioSet:
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list) or not data["scenarios"]:
        raise ScenarioConfigError(f"{source}: expected a top-level 'scenarios:' list with at least one scenario")
    scenarios = tuple(_parse_scenario(raw, i, source) for i, raw in enumerate(data["scenarios"]))
    seen: set[str] = set()
    for s in scenarios:
        if s.name in seen:
            raise ScenarioConfigError(f"{source}: scenario {s.name!r} is defined twice")
        seen.add(s.name)
    role = (data.get("delivery") or {}).get("role", "committee")
    if role not in ROLES:
        raise ScenarioConfigError(f"{source}: delivery.role must be one of {', '.join(ROLES)} (got {role!r})")
    return ScenarioSet(scenarios=scenarios, delivery_role=role)


def load_scenarios(path: Path | str | None = None) -> ScenarioSet:
    path = Path(path) if path else DEFAULT_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        raise ScenarioConfigError(f"{path}: not valid YAML: {e}") from None
    result = parse_scenarios(data, str(path))
    return ScenarioSet(scenarios=result.scenarios, delivery_role=result.delivery_role, path=path)
