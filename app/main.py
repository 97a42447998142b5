"""The application factory: `create_app(settings)` builds the FastAPI app with its middleware and routers.

    settings = AppSettings.from_hub_db("data/civichub.duckdb")
    app = create_app(settings)          # uvicorn app.main:app_from_env --factory (or `civichub serve`)

What every response gets here: security headers (a strict Content-Security-Policy: scripts and styles
from /static only; no framing; no caching of pages with personal data), error pages in Chinese for
401/403/404/CSRF, and the CSRF check on every state-changing request (app/auth/deps.py).
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.auth.deps import CsrfFailed, Forbidden, NotAuthenticated, NotFound, csrf_protect, load_principal
from app.auth.sessions import SessionManager
from app.config import AppSettings
from app.db import make_engine, make_session_factory
from app.pages import home_for, make_templates, render
from app.published import NotPublished, PublishedStore
from app.routes import admin, auth, committee, open311, public, reports, scenarios, sharing, shop_visits, street, tasks

HERE = Path(__file__).resolve().parent
log = logging.getLogger("civichub.app")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def create_app(settings: AppSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # open every published file once at start, so the first visitors do not pay for it
        await run_in_threadpool(_warm, app.state.store)
        yield
        app.state.store.close()
        app.state.engine.dispose()

    app = FastAPI(
        title="civichub 街道轻应用",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.sessions = SessionManager(settings)
    app.state.store = PublishedStore(settings.paths.published_root)
    app.state.templates = make_templates()

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith(("/static/", "/shops/", "/open311/v2/services")):
            h.setdefault("Cache-Control", "no-store")  # pages with personal data stay off shared phones' disks
        return response

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (auth, committee, street, sharing, scenarios, public, admin, reports, open311, tasks, shop_visits):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def index(request: Request):
        principal = load_principal(request)
        return RedirectResponse(home_for(principal) if principal else "/login", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request):
        store: PublishedStore = request.app.state.store
        return {"ok": True, "published_roles": len(store.roles())}

    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(request: Request, exc: NotAuthenticated):
        if request.method == "GET" and "hx-request" not in request.headers:
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        return _error(request, 401, "请先登录")

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return _error(request, 403, exc.message)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):
        return _error(request, 404, exc.message)

    @app.exception_handler(NotPublished)
    async def _not_published(request: Request, exc: NotPublished):
        return _error(request, 503, "数据中心尚未发布本角色的数据（请先运行 civichub run），请稍后再试")

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed):
        return _error(request, 403, "页面已过期或请求来源不明（CSRF 校验失败），请刷新页面后重试")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        fields = "、".join(str(e.get("loc", ["", "?"])[-1]) for e in exc.errors()[:5])
        return _error(request, 422, f"输入有误（{fields}），请检查后重试")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        message = {404: "没有找到这个页面", 405: "不支持这种请求方式"}.get(exc.status_code, str(exc.detail))
        return _error(request, exc.status_code, message)

    return app


def _warm(store: PublishedStore) -> None:
    for role in store.roles():
        try:
            store.tables(role)
        except Exception as e:  # noqa: BLE001 - a broken publication is reported by its pages, not here
            log.warning("published files of %s cannot be opened: %s", role, type(e).__name__)


def _error(request: Request, status: int, message: str) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    if principal is None and status != 401:
        try:
            principal = load_principal(request)
        except Exception:  # noqa: BLE001 - an error page must render whatever the session state
            principal = None
    # an anonymous error page has no form: it sets no cookie
    return render(request, "error.html", principal, status_code=status, with_csrf=False, status=status, message=message)


def app_from_env() -> FastAPI:
    """For `uvicorn --factory app.main:app_from_env` (CIVICHUB_DB names the hub database)."""
    db = os.environ.get("CIVICHUB_DB")
    if not db:
        raise SystemExit("set CIVICHUB_DB to the hub database (its folder holds out/published/)")
    return create_app(AppSettings.from_hub_db(db))
