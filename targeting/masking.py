"""What a caller sees of a scenario or search row, by role.

One function for now (`mask_row`), so that the roles of the sharing issue can replace the three
built-in ones in one place:

- ``full``: everything (the scenario's owner department);
- ``committee``: what a neighbourhood committee needs to visit and help: name, address, phone and
  the whole reason; the ID number masked (first 6 + last 4);
- ``masked`` (default): the name keeps its surname (张*), ID number and phone masked, and the
  reason rendered again without the scenario's sensitive fields (aid status: PIPL art. 28).
"""

from __future__ import annotations

import json

from connectors.masking import mask_text
from targeting.config import ROLES

DEFAULT_ROLE = "masked"
HIDDEN = "（敏感信息已隐藏）"


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    name = str(name)
    if len(name) >= 4 and name[:2] in _COMPOUND_SURNAMES:
        return name[:2] + "*" * (len(name) - 2)
    return name[0] + "*" * max(1, len(name) - 1)


_COMPOUND_SURNAMES = {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "宇文", "长孙", "夏侯", "端木", "司徒"}


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    v = str(value)
    return f"{v[:6]}{'*' * (len(v) - 10)}{v[-4:]}" if len(v) >= 15 else mask_text(v)


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    v = str(value)
    return f"{v[:3]}****{v[-4:]}" if len(v) == 11 and v.isdigit() else mask_text(v)


def mask_row(row: dict, role: str = DEFAULT_ROLE, sensitive_reason: str | None = None) -> dict:
    """A copy of `row` as `role` may see it.

    `row` may hold name, id_number, phone, reason; `sensitive_reason` is the reason rendered with
    the sensitive fields hidden (used for roles that may not see them).
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    out = dict(row)
    if role == "full":
        return out
    if "id_number" in out:
        out["id_number"] = mask_id_number(out["id_number"])
    if role == "committee":
        return out
    if "name" in out:
        out["name"] = mask_name(out["name"])
    if "phone" in out:
        out["phone"] = mask_phone(out["phone"])
    if "reason" in out:
        out["reason"] = sensitive_reason if sensitive_reason is not None else mask_text(out["reason"])
    return out


def masked_reason(template: str, reason_fields: str | dict, sensitive: tuple[str, ...]) -> str:
    from targeting.engine import render_reason

    fields = json.loads(reason_fields) if isinstance(reason_fields, str) else reason_fields
    return render_reason(template, fields, hidden=sensitive, mask=HIDDEN)
