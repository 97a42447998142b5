"""The app's audit hook: every login, every view of a page with personal data, every submission and
download goes to the hub's hash-chained audit log (sharing/audit.py), next to the gateway's queries.

    audit(request, principal, "view", "finding/F123…")
    audit_login(request, login, outcome, reason)

Targets name records by their ids (finding, household, scenario, dataset), never by personal data;
free text is masked by sharing/audit.py all the same. Routes of later issues call the same function.
"""

from __future__ import annotations

from fastapi import Request

from app.auth.principal import Principal
from sharing import audit as hub_audit


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def audit(
    request: Request, principal: Principal, action: str, target: str, outcome: str = "ok", reason: str | None = None
) -> dict:
    return hub_audit.append_event(
        request.app.state.settings.paths.audit_log,
        actor=principal.login,
        role=principal.audit_role,
        action=action,
        target=target,
        outcome=outcome,
        reason=reason,
        ip=client_ip(request),
    )


def audit_login(request: Request, login: str, role: str, outcome: str, reason: str | None = None) -> dict:
    return hub_audit.append_event(
        request.app.state.settings.paths.audit_log,
        actor=login[:64] or "(empty)",
        role=role,
        action="login",
        target="/login",
        outcome=outcome,
        reason=reason,
        ip=client_ip(request),
    )
