"""The public shop page of 一店一码 (汇商码): read from the `public` role's publication only.

A shop code carries a check character (matching/stable_ids.py): a code that fails it was mistyped
(and the codes one character away that exist are offered); a well-formed code that is not in the
register is unknown.
"""

from __future__ import annotations

from app.queries import rows
from matching.stable_ids import ALPHABET, is_valid_id

PUBLIC_ROLE = "public"
MAX_CODE = 20


def normalise_code(code: str) -> str:
    return (code or "").strip().upper()


def check(code: str) -> str:
    """'ok' when the code is well formed with a matching check character, 'mistyped' otherwise."""
    if not code or len(code) > MAX_CODE:
        return "mistyped"
    return "ok" if is_valid_id(code) else "mistyped"


def near_codes(cur, tables: frozenset[str], code: str) -> list[dict]:
    """Existing shops whose code is one character (or one swap of neighbours) away from a mistyped code."""
    if "master.shop" not in tables or not code or len(code) > MAX_CODE:
        return []
    candidates = set()
    for i in range(len(code)):
        for c in ALPHABET:
            cand = code[:i] + c + code[i + 1 :]
            if cand != code and is_valid_id(cand):
                candidates.add(cand)
        if i + 1 < len(code):
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            if swapped != code and is_valid_id(swapped):
                candidates.add(swapped)
    if not candidates:
        return []
    marks = ",".join("?" for _ in candidates)
    return rows(
        cur,
        f"select shop_code, name from master.shop where shop_code in ({marks}) order by shop_code limit 5",
        sorted(candidates),
    )


def shop(cur, tables: frozenset[str], code: str) -> dict | None:
    if "master.shop" not in tables:
        return None
    found = rows(
        cur,
        """select shop_code, name, registered_name, uscc, entity_type, full_address, status, registration_status,
                  licence_no, licence_valid_until, last_visit_date, last_inspection_result, first_seen, last_seen,
                  in_latest_delivery
           from master.shop where shop_code = ?""",
        [code],
    )
    if not found:
        return None
    s = found[0]
    inspections = []
    if "master.shop_inspection" in tables:
        inspections = rows(
            cur,
            """select distinct visited_on, inspection_result from master.shop_inspection
               where shop_code = ? and visited_on is not null order by visited_on desc limit 20""",
            [code],
        )
    s["inspections"] = inspections
    closed_on = None
    if s.get("status") == "已关闭":
        closed = [i["visited_on"] for i in inspections if i.get("inspection_result") == "已停业"]
        closed_on = max(closed) if closed else s.get("last_visit_date")
    s["closed"] = s.get("status") == "已关闭"
    s["closed_on"] = closed_on
    return s
