"""What a caller sees of a scenario or search row.

A `View` says which of the row's personal fields (name, id_number, phone, address, reason) are
shown in clear and, for a street office, which street's rows it sees. Views come from:

- the sharing roles (`view_for_role`, sharing/roles.yml, the same grants `civichub query` and the
  published files use): name, id_number and phone in clear as the role's grant on master.person
  unmasks them; the address as its grant on master.household unmasks full_address; the sensitive
  parts of reasons (aid status: PIPL art. 28) as its grant on scenario.match unmasks reason. A
  street-scoped role (street_<code>) sees the rows of its street only. A role that does not receive
  scenario.match (or master.person, for searches) cannot use `civichub find` for them.
- three built-in views, for the committee workbooks (scenarios.yml `delivery.role`) and as the
  default of `civichub find` when no role is given:
  ``full`` everything; ``committee`` what a neighbourhood committee needs to visit and help (ID
  number masked 6+4); ``masked`` (default) the name keeps its surname (张*), ID number and phone
  masked, the address kept up to the road, and reasons without their sensitive fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from catalog.spec import load_catalog
from sharing.masking import mask_address, mask_id_number, mask_name, mask_phone, mask_text
from sharing.roles import ROLES_PATH, load_roles, streets_from
from targeting.config import ROLES
from targeting.engine import render_reason

DEFAULT_ROLE = "masked"
HIDDEN = "（敏感信息已隐藏）"
FIELDS = ("name", "id_number", "phone", "address", "reason")


class RoleError(ValueError):
    """The role cannot be used for this search; the message says why."""


@dataclass(frozen=True)
class View:
    role: str
    clear: frozenset[str]  # of FIELDS
    street_code: str | None = None  # row scope of a street office
    datasets: frozenset[str] | None = None  # what the role receives (None: built-in view)

    def require(self, dataset: str, what: str) -> None:
        if self.datasets is not None and dataset not in self.datasets:
            raise RoleError(f"role {self.role} does not receive {dataset} (sharing/roles.yml), so it cannot {what}")


BUILTIN_VIEWS = {
    "full": View("full", frozenset(FIELDS)),
    "committee": View("committee", frozenset({"name", "phone", "address", "reason"})),
    "masked": View("masked", frozenset()),
}
assert set(BUILTIN_VIEWS) == set(ROLES)


def view_for_role(con, role: str | None, roles_path: Path | str | None = None) -> View:
    """The view of a sharing role (sharing/roles.yml, street offices expanded from the database's
    divisions); the default `masked` view when no role is given."""
    if role in (None, "", DEFAULT_ROLE):
        return BUILTIN_VIEWS[DEFAULT_ROLE]

    catalog = load_catalog()
    roles = load_roles(catalog, Path(roles_path) if roles_path else ROLES_PATH).expand(streets_from(con))
    r = roles.get(role)
    if r is None:
        departments = ", ".join(k for k in sorted(roles) if not k.startswith("street_"))
        streets = [k for k in sorted(roles) if k.startswith("street_")]
        raise RoleError(
            f"unknown role {role!r}: use a role of sharing/roles.yml ({departments}, or a street "
            f"office such as {streets[0] if streets else 'street_<street code>'}), or leave --role out "
            f"for the masked view"
        )
    person, household = r.unmasked("master.person"), r.unmasked("master.household")
    clear = {f for f in ("name", "id_number", "phone") if f in person}
    if "full_address" in household:
        clear.add("address")
    if "reason" in r.unmasked("scenario.match"):
        clear.add("reason")
    return View(r.id, frozenset(clear), r.street_code if r.scope == "street" else None, frozenset(r.datasets(catalog)))


def _shown(mask):
    return lambda value: mask(value) or ""


# the rules live in sharing/masking.py; here only which field of a row takes which
_MASKS = {
    "name": _shown(mask_name),
    "id_number": _shown(mask_id_number),
    "phone": _shown(mask_phone),
    "address": _shown(mask_address),
}


def mask_row(row: dict, role: str | View = DEFAULT_ROLE, sensitive_reason: str | None = None) -> dict:
    """A copy of `row` as `role` (a built-in view name or a `View`) may see it.

    `row` may hold name, id_number, phone, address, reason; `sensitive_reason` is the reason
    rendered with the sensitive fields hidden (used for views that may not see them).
    """
    if not isinstance(role, View):
        if role not in BUILTIN_VIEWS:
            raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        role = BUILTIN_VIEWS[role]
    out = dict(row)
    for f, mask in _MASKS.items():
        if f in out and f not in role.clear:
            out[f] = mask(out[f])
    if "reason" in out and "reason" not in role.clear:
        out["reason"] = sensitive_reason if sensitive_reason is not None else mask_text(out["reason"])
    return out


def masked_reason(template: str, reason_fields: str | dict, sensitive: tuple[str, ...]) -> str:

    fields = json.loads(reason_fields) if isinstance(reason_fields, str) else reason_fields
    return render_reason(template, fields, hidden=sensitive, mask=HIDDEN)
