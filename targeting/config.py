"""The scenarios of targeted aid and alerts (targeting/scenarios.yml), validated on load.

A scenario is a single SELECT over the master data and the targeting facts, returning one row per
(entity, reason) with the columns in REQUIRED_COLUMNS, plus a reason template (Chinese) per reason
code. The file is read into pydantic models (`ScenarioFile`): everything a district can get wrong is
reported with the file, the scenario's name and the key, before anything runs; unknown keys are
refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlglot
from pydantic import Field, StringConstraints, ValidationError, field_validator, model_validator
from sqlglot import exp

from normalize.domain_rules import load_domain_rules
from pipelines.yaml_models import StrictModel, error_lines, read_yaml

DEFAULT_PATH = Path(__file__).with_name("scenarios.yml")
ENTITIES = ("person", "household")
ALLOWED_SCHEMAS = ("master", "targeting", "staging")
REQUIRED_COLUMNS = ("entity_id", "person_id", "household_id", "reason_code")
BUILTIN_PARAMS = ("delivery", "year")  # and the domain rules (normalize/domain_rules.yml): $elderly_min_age …
NAME_PATTERN = r"^[a-z][a-z0-9_]{1,50}$"
NAME_RE = re.compile(NAME_PATTERN)
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
ROLES = ("full", "committee", "masked")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


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
        values = {
            "delivery": delivery,
            "year": int(delivery[:4]),
            **load_domain_rules().scenario_params(),
            **self.params,
        }
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


def builtin_params() -> tuple[str, ...]:
    """The parameters every scenario may use without defining them: the delivery, its year and the
    domain rules (a scenario restating a rule as its own parameter would be a second copy of it)."""
    return (*BUILTIN_PARAMS, *load_domain_rules().scenario_params())


def _placeholders(tree: exp.Expression) -> set[str]:
    return {p.this for p in tree.find_all(exp.Placeholder) if isinstance(p.this, str)}


def check_sql(sql: str, where: str = "sql") -> tuple[str, ...]:
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


class ScenarioSpec(StrictModel):
    """One scenario of scenarios.yml."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    title: Text
    owner: Text
    entity: Literal["person", "household"]
    sql: Text
    reasons: dict[str, Text] = Field(min_length=1)
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    sensitive: list[str] = Field(default_factory=list)

    @field_validator("params")
    @classmethod
    def _param_names(cls, params: dict[str, Any]) -> dict[str, Any]:
        for p in params:
            if p in builtin_params() or not NAME_RE.match(str(p)):
                raise ValueError(f"{p!r} is not a usable parameter name")
        return params

    @model_validator(mode="after")
    def _sql_fits_the_reasons(self):
        columns = check_sql(self.sql)
        used = _placeholders(sqlglot.parse_one(self.sql, read="duckdb"))
        undefined = sorted(used - set(self.params) - set(builtin_params()))
        if undefined:
            raise ValueError(f"sql uses ${', $'.join(undefined)} but params does not define it")
        for code, template in self.reasons.items():
            for placeholder in PLACEHOLDER_RE.findall(template):
                if placeholder not in columns:
                    raise ValueError(
                        f"reasons.{code} uses {{{placeholder}}} but the sql returns no such column "
                        f"(it returns {', '.join(columns)})"
                    )
        for s in self.sensitive:
            if s not in columns:
                raise ValueError(f"sensitive column {s!r} is not returned by the sql")
        return self

    def scenario(self) -> Scenario:
        return Scenario(
            name=self.name,
            title=self.title,
            owner=self.owner,
            entity=self.entity,
            sql=self.sql,
            reasons=dict(self.reasons),
            description=self.description.strip(),
            params=dict(self.params),
            sensitive=tuple(self.sensitive),
            columns=check_sql(self.sql),
        )


class DeliverySpec(StrictModel):
    role: Literal["full", "committee", "masked"] = "committee"


class ScenarioFile(StrictModel):
    scenarios: list[ScenarioSpec] = Field(min_length=1)
    delivery: DeliverySpec = Field(default_factory=DeliverySpec)

    @field_validator("scenarios")
    @classmethod
    def _distinct_names(cls, scenarios: list[ScenarioSpec]) -> list[ScenarioSpec]:
        seen: set[str] = set()
        for s in scenarios:
            if s.name in seen:
                raise ValueError(f"scenario {s.name!r} is defined twice")
            seen.add(s.name)
        return scenarios


def _describe(data: Any):
    """`('scenarios', 2, 'title')` → `scenario 'aid_screening': title` (the name says more than the index)."""

    def describe(loc: tuple) -> str:
        if len(loc) >= 2 and loc[0] == "scenarios" and isinstance(loc[1], int):
            try:
                name = data["scenarios"][loc[1]]["name"]
            except (KeyError, IndexError, TypeError):
                name = None
            label = f"scenario {name!r}" if isinstance(name, str) else f"scenarios[{loc[1]}]"
            rest = ".".join(str(p) for p in loc[2:])
            return f"{label}: {rest}" if rest else label
        return ".".join(str(p) for p in loc)

    return describe


def parse_scenarios(data: object, source: str = "scenarios.yml") -> ScenarioSet:
    if not isinstance(data, dict) or "scenarios" not in data:
        raise ScenarioConfigError(f"{source}: expected a top-level 'scenarios:' list with at least one scenario")
    try:
        parsed = ScenarioFile.model_validate(data)
    except ValidationError as e:
        raise ScenarioConfigError("\n".join(error_lines(e, source, _describe(data)))) from None
    return ScenarioSet(scenarios=tuple(s.scenario() for s in parsed.scenarios), delivery_role=parsed.delivery.role)


def load_scenarios(path: Path | str | None = None) -> ScenarioSet:
    path = Path(path) if path else DEFAULT_PATH
    result = parse_scenarios(read_yaml(path, ScenarioConfigError), str(path))
    return ScenarioSet(scenarios=result.scenarios, delivery_role=result.delivery_role, path=path)
