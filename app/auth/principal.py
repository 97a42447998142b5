"""Who is asking, and what they may reach: the one place the app's access rules are written.

A user has a kind and, except the district administrator, a hub role of sharing/roles.yml whose
published data they read:

    kind        hub role                 scope                      pages
    committee   street_<street code>     one committee of a street  my findings (verify), roster, scenario lists
    street      street_<street code>     the street                 progress, findings, rosters, Excel; catalog,
                                                                    query, downloads; scenario lists
    department  minzheng, gongan, …      the district               catalog, query, Parquet downloads; scenario
                                                                    lists when the role receives scenario.match
    admin       (none)                   the district               users, progress of every street (counts only);
                                                                    排摸 tasks (upload, queue, report)
    (排摸 tasks: a department manages its own tasks; committee workers answer their committee's rows;
     a street sees the progress of its committees — app/routes/tasks.py)

What a user sees within a page is what the role's published data holds (masked as the role's grants
say), filtered to their street or committee on the server; a record outside the scope is "not found".
"""

from __future__ import annotations

from dataclasses import dataclass

KIND_LABELS = {"admin": "区管理员", "department": "部门", "street": "街道", "committee": "居委"}

# area → kinds allowed (routes declare their area; app/auth/deps.py enforces it)
AREAS: dict[str, frozenset[str]] = {
    "committee": frozenset({"committee"}),
    "street": frozenset({"street"}),
    "sharing": frozenset({"department", "street"}),  # catalog, query page, Parquet downloads
    "scenarios": frozenset({"department", "street", "committee"}),
    "admin": frozenset({"admin"}),
    "reports": frozenset({"department", "street", "admin"}),  # citizen reports (app/reports.py scopes them)
    "tasks": frozenset(
        {"admin", "department"}
    ),  # 排摸 tasks: upload, the district's queue, report (app/routes/tasks.py)
    "account": frozenset({"admin", "department", "street", "committee"}),
}


def street_of(community_code: str) -> str:
    """The street (township) code of a 12-digit committee code: district 6 + township 3 + 000."""
    return community_code[:9] + "000"


def street_role(street_code: str) -> str:
    return f"street_{street_code}"


@dataclass(frozen=True)
class Principal:
    user_id: int
    login: str
    display_name: str
    kind: str
    hub_role: str | None
    street_code: str | None
    community_code: str | None
    session_id: str
    csrf_token: str

    def may(self, area: str) -> bool:
        return self.kind in AREAS.get(area, frozenset())

    @property
    def scope_label(self) -> str:
        if self.kind == "committee":
            return f"居委 {self.community_code}"
        if self.kind == "street":
            return f"街道 {self.street_code}"
        if self.kind == "department":
            return f"部门 {self.hub_role}"
        return "全区"

    @property
    def audit_role(self) -> str:
        """How the user appears in the audit log's role column."""
        if self.kind == "committee":
            return f"{self.hub_role}/committee_{self.community_code}"
        return self.hub_role or self.kind
