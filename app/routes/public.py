"""The public shop page (一店一码 / 汇商码), no login: `/shops/<shop_code>`, the URL every QR code encodes.

Read from the `public` role's publication (sharing/roles.yml): names, credit code, address, licence,
registration status, inspections; no personal data. A mistyped code (its check character fails) gets
a page saying so, with the shops one character away; an unknown code gets 404.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.pages import render
from app.published import NotPublished
from app.queries import shops
from app.queries.report_status import public_status

router = APIRouter()


@router.get("/shops/{code}")
def shop_page(request: Request, code: str):
    store = request.app.state.store
    code = shops.normalise_code(code)
    try:
        store.tables(shops.PUBLIC_ROLE)
    except NotPublished:
        return render(
            request, "error.html", None, 503, with_csrf=False, status=503, message="商铺信息暂未发布，请稍后再试"
        )
    if shops.check(code) == "mistyped":
        near = store.query(shops.PUBLIC_ROLE, ("near", code), lambda cur, t: shops.near_codes(cur, t, code))
        return render(request, "public/mistyped.html", None, 400, with_csrf=False, code=code, near=near)
    s = store.query(shops.PUBLIC_ROLE, ("shop", code), lambda cur, t: shops.shop(cur, t, code))
    if s is None:
        return render(
            request, "error.html", None, 404, with_csrf=False, status=404, message=f"没有编码为 {code} 的商铺"
        )
    response = render(request, "public/shop.html", None, with_csrf=False, s=s)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@router.get("/status")
def report_status_lookup(request: Request, no: str = ""):
    """The citizen's form: type the 编号 the app or hotline gave (no login)."""
    no = no.strip()
    if no:
        return RedirectResponse(f"/status/{quote(no[:64])}", status_code=303)
    return render(request, "public/report_status.html", None, with_csrf=False, s=None, no="")


@router.get("/status/{report_no}")
def report_status(request: Request, report_no: str):
    """A report's public status by its 编号: the problem, its state, the department's public notes.
    No personal data: no reporter, no photo, no coordinates; what a citizen or officer typed is masked
    (sharing/masking.py)."""
    with request.app.state.session_factory() as db:
        s = public_status(db, request.app, report_no.strip()[:64])
    if s is None:
        return render(
            request,
            "public/report_status.html",
            None,
            404,
            with_csrf=False,
            s=None,
            no=report_no[:64],
        )
    return render(request, "public/report_status.html", None, with_csrf=False, s=s, no=s["report_no"])
