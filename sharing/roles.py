"""Roles and grants as configuration: load and validate sharing/roles.yml against the catalog.

    roles = load_roles(catalog)                       # departments, and the street-office template
    all_roles = roles.expand(streets)                 # + one role per street: [(code, name), …]
    role.datasets(catalog)                            # what the role receives: granted + 无条件共享

Checked on load (pydantic models, unknown keys refused; then every grant against the catalog, each
problem naming the role and the key): a dataset without a catalog entry, a 不予共享 dataset granted,
a street-scoped role granted a dataset that cannot be placed in a street. Field names under `unmasked` are checked against the database when
publishing (the fields live there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, StringConstraints, ValidationError, field_validator

from catalog.spec import CONDITIONAL, NOT_SHARED, UNCONDITIONAL, Catalog
from pipelines.yaml_models import StrictModel, error_lines

ROLES_PATH = Path(__file__).resolve().with_name("roles.yml")
SCOPES = ("district", "street")
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_ROLE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class RolesError(ValueError):
    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"roles.yml: {len(self.errors)} problem(s):\n{lines}")


@dataclass
class Role:
    id: str
    name: str
    department: str
    purpose: str
    scope: str
    grants: dict[str, frozenset[str]]  # dataset -> fields unmasked
    street_code: str | None = None

    def datasets(self, catalog: Catalog) -> list[str]:
        """Every dataset this role receives: those granted, and every 无条件共享 table."""
        out = set(self.grants)
        out |= {d for d, e in catalog.entries.items() if e.sharing_class == UNCONDITIONAL and e.kind == "table"}
        return sorted(d for d in out if catalog.entries[d].kind == "table")

    def unmasked(self, dataset: str) -> frozenset[str]:
        return self.grants.get(dataset, frozenset())


@dataclass
class RolesConfig:
    roles: dict[str, Role]
    street_template: dict | None

    def expand(self, streets: list[tuple[str, str]]) -> dict[str, Role]:
        """Departments plus one role per (street_code, street_name)."""
        out = dict(self.roles)
        t = self.street_template
        if t:
            for code, name in sorted(set(streets)):
                fill = {"street_code": code, "street_name": name}
                rid = t["id"].format(**fill)
                if rid in out:
                    raise RolesError([f"street office role {rid} collides with a role of the same id"])
                out[rid] = Role(
                    rid,
                    t["name"].format(**fill),
                    t["department"],
                    t["purpose"],
                    "street",
                    dict(t["grants"]),
                    street_code=code,
                )
        return out


class GrantSpec(StrictModel):
    unmasked: list[str] = Field(default_factory=list)


class RoleSpec(StrictModel):
    """A department's role: who, why (PIPL art. 6), which rows (scope) and what it is granted."""

    name: Text
    department: Text
    purpose: Text
    scope: Literal["district", "street"]
    grants: dict[str, Any] = Field(default_factory=dict)  # each checked on its own (GrantSpec)


class StreetOfficeSpec(RoleSpec):
    """The template of the street offices' roles: one per street, {street_code} and {street_name} filled in."""

    id: str
    scope: Literal["street"]

    @field_validator("id")
    @classmethod
    def _id_holds_the_street_code(cls, rid: str) -> str:
        if "{street_code}" not in rid or not _ROLE_ID.match(rid.replace("{street_code}", "x")):
            raise ValueError("must contain {street_code} and otherwise be lower-case letters, digits and _")
        return rid


class RolesFile(StrictModel):
    roles: dict[str, Any] = Field(default_factory=dict)  # each checked on its own (RoleSpec)
    street_offices: Any = None  # StreetOfficeSpec


def _check(model: type[StrictModel], raw: Any, where: str, errors: list[str]):
    """`raw` as `model`, or None with its problems added to `errors` (each naming `where` and the key)."""
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as e:
        errors.extend(line.replace(": (top level)", "") for line in error_lines(e, where))
        return None


def _grants(
    raw: dict[str, Any], where: str, catalog: Catalog, scope: str, errors: list[str]
) -> dict[str, frozenset[str]]:
    """The grants that the catalog allows; a problem with each other one, naming the role and dataset."""
    out: dict[str, frozenset[str]] = {}
    for dataset, raw_grant in raw.items():
        w = f"{where}: grant {dataset}"
        g = _check(GrantSpec, raw_grant, w, errors)
        if g is None:
            continue
        entry = catalog.entries.get(dataset)
        if entry is None:
            errors.append(f"{w}: no catalog entry for {dataset}")
            continue
        if entry.kind != "table":
            errors.append(f"{w}: {dataset} is a {entry.kind}, not a table that can be published")
            continue
        if entry.sharing_class == NOT_SHARED:
            errors.append(f"{w}: {dataset} is 不予共享 ({entry.legal_basis}); it can never be granted")
            continue
        if entry.sharing_class not in (CONDITIONAL, UNCONDITIONAL):
            errors.append(f"{w}: unknown sharing class {entry.sharing_class}")
            continue
        if scope == "street" and not entry.street_scope:
            errors.append(f"{w}: the role sees its street only, but {dataset} has no street_scope in the catalog")
            continue
        out[dataset] = frozenset(g.unmasked)
    return out


def load_roles(catalog: Catalog, path: Path = ROLES_PATH) -> RolesConfig:
    """Read roles.yml (unknown keys refused) and check its grants against the catalog."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise RolesError([f"{path}: cannot be read: {e}"]) from None
    errors: list[str] = []
    doc = _check(RolesFile, raw, "top level", errors)
    if doc is None:
        raise RolesError(errors)
    roles: dict[str, Role] = {}
    for rid, raw_role in doc.roles.items():
        where = f"role {rid}"
        if not _ROLE_ID.match(str(rid)):
            errors.append(f"{where}: a role id is lower-case letters, digits and _ (it names a folder)")
            continue
        spec = _check(RoleSpec, raw_role, where, errors)
        if spec is None:
            continue
        if spec.scope == "street":
            errors.append(f"{where}: street-scoped roles come from street_offices (one per street)")
            continue
        grants = _grants(spec.grants, where, catalog, spec.scope, errors)
        roles[rid] = Role(rid, spec.name, spec.department, spec.purpose, spec.scope, grants)
    template = None
    t = _check(StreetOfficeSpec, doc.street_offices, "street_offices", errors) if doc.street_offices else None
    if t is not None:
        grants = _grants(t.grants, "street_offices", catalog, "street", errors)
        template = {
            "id": t.id,
            "name": t.name,
            "department": t.department,
            "purpose": t.purpose,
            "scope": t.scope,
            "grants": grants,
        }
    if errors:
        raise RolesError(errors)
    return RolesConfig(roles, template)


def streets_from(con) -> list[tuple[str, str]]:
    """Every street and town of the district, from the reference divisions."""
    for table in ("staging.stg_divisions", "raw.divisions"):
        try:
            rows = con.execute(
                f"select distinct street_code, street_name from {table} where street_code is not null order by 1"
            ).fetchall()
        except Exception:  # noqa: BLE001 - table not built yet
            continue
        if rows:
            return [(str(c), str(n or c)) for c, n in rows]
    return []
