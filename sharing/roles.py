"""Roles and grants as configuration: load and validate sharing/roles.yml against the catalog.

    roles = load_roles(catalog)                       # departments, and the street-office template
    all_roles = roles.expand(streets)                 # + one role per street: [(code, name), …]
    role.datasets(catalog)                            # what the role receives: granted + 无条件共享

Checked on load (every problem at once, each naming the role and the key): a dataset without a
catalog entry, a 不予共享 dataset granted, a street-scoped role granted a dataset that cannot be placed
in a street, unknown keys. Field names under `unmasked` are checked against the database when
publishing (the fields live there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from catalog.spec import CONDITIONAL, NOT_SHARED, UNCONDITIONAL, Catalog

ROLES_PATH = Path(__file__).resolve().with_name("roles.yml")
SCOPES = ("district", "street")
_ROLE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_ROLE_KEYS = {"name", "department", "purpose", "scope", "grants"}
_TEMPLATE_KEYS = _ROLE_KEYS | {"id"}
_GRANT_KEYS = {"unmasked"}


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


def _grants(raw, where: str, catalog: Catalog, scope: str, errors: list[str]) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    if raw is None:
        return out
    if not isinstance(raw, dict):
        errors.append(f"{where}: grants must map dataset -> {{unmasked: [fields]}}")
        return out
    for dataset, g in raw.items():
        w = f"{where}: grant {dataset}"
        g = g or {}
        if not isinstance(g, dict) or set(g) - _GRANT_KEYS:
            errors.append(f"{w}: expected {{unmasked: [fields]}}")
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
        fields = g.get("unmasked") or []
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            errors.append(f"{w}: unmasked must be a list of field names")
            continue
        out[dataset] = frozenset(fields)
    return out


def _role_fields(raw: dict, where: str, keys: set[str], errors: list[str]) -> bool:
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected a mapping")
        return False
    unknown = set(raw) - keys
    if unknown:
        errors.append(f"{where}: unknown key(s) {sorted(unknown)} (allowed: {sorted(keys)})")
    ok = True
    for key in ("name", "department", "purpose", "scope"):
        if not str(raw.get(key) or "").strip():
            errors.append(f"{where}: '{key}' is required")
            ok = False
    if raw.get("scope") not in SCOPES:
        errors.append(f"{where}: scope {raw.get('scope')!r} must be one of {', '.join(SCOPES)}")
        ok = False
    return ok


def load_roles(catalog: Catalog, path: Path = ROLES_PATH) -> RolesConfig:
    errors: list[str] = []
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise RolesError([f"{path}: cannot be read: {e}"]) from None
    unknown = set(doc) - {"roles", "street_offices"}
    if unknown:
        errors.append(f"unknown top-level key(s) {sorted(unknown)} (allowed: roles, street_offices)")
    roles: dict[str, Role] = {}
    for rid, raw in (doc.get("roles") or {}).items():
        where = f"role {rid}"
        if not _ROLE_ID.match(str(rid)):
            errors.append(f"{where}: a role id is lower-case letters, digits and _ (it names a folder)")
            continue
        if not _role_fields(raw, where, _ROLE_KEYS, errors):
            continue
        if raw["scope"] == "street":
            errors.append(f"{where}: street-scoped roles come from street_offices (one per street)")
            continue
        grants = _grants(raw.get("grants"), where, catalog, raw["scope"], errors)
        roles[rid] = Role(rid, str(raw["name"]), str(raw["department"]), str(raw["purpose"]), raw["scope"], grants)
    template = doc.get("street_offices")
    if template is not None:
        where = "street_offices"
        if _role_fields(template, where, _TEMPLATE_KEYS, errors):
            if template["scope"] != "street":
                errors.append(f"{where}: scope must be street")
            rid = str(template.get("id") or "")
            if "{street_code}" not in rid or not _ROLE_ID.match(rid.replace("{street_code}", "x")):
                errors.append(
                    f"{where}: id must contain {{street_code}} and otherwise be lower-case letters, digits and _"
                )
            template = {**template, "grants": _grants(template.get("grants"), where, catalog, "street", errors)}
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
