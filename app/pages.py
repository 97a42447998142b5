"""Rendering pages: the Jinja2 environment (autoescaped), and `render` which gives every page the user,
the CSRF token for its forms and the navigation of the base layout (templates/base.html).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi import Request
from starlette.templating import Jinja2Templates

from app.auth.principal import KIND_LABELS, Principal
from app.auth.sessions import SessionManager
from app.queries import text
from quality.worklists import RULE_LABELS

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,  # every value is escaped; nothing in the templates is marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    env.filters["t"] = text
    env.globals["KIND_LABELS"] = KIND_LABELS

    env.globals["RULE_LABELS"] = RULE_LABELS
    return Jinja2Templates(env=env)


def render(
    request: Request,
    name: str,
    principal: Principal | None = None,
    status_code: int = 200,
    with_csrf: bool = True,
    **context,
):
    """A page: the template with the user, the CSRF token for its forms and the navigation.
    Anonymous pages with a form (login) bind the token to a signed anonymous cookie; pages without
    forms (the public shop page) pass with_csrf=False and set no cookie."""
    templates: Jinja2Templates = request.app.state.templates
    csrf = principal.csrf_token if principal is not None else ""
    new_anon_cookie = None
    if principal is None and with_csrf:
        sessions: SessionManager = request.app.state.sessions
        value, new_anon_cookie = sessions.anon_value(request)
        csrf = sessions.anon_csrf(value)
    response = templates.TemplateResponse(
        request,
        name,
        {"principal": principal, "csrf_token": csrf, **context},
        status_code=status_code,
    )
    if new_anon_cookie is not None:
        request.app.state.sessions.set_anon_cookie(response, request, new_anon_cookie)
    return response


def home_for(principal: Principal) -> str:
    return {
        "committee": "/c/findings",
        "street": "/s/progress",
        "department": "/d/catalog",
        "admin": "/admin/users",
    }.get(principal.kind, "/login")
