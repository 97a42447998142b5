"""最多查一次 on the app (seed 001): the committee's street shops (一店一码) as a list, and one visit form
that fills the three forms at once, pre-filled from the shop file (tasks/shop_visits.py).

    GET  /c/shops                     my committee's shops, last inspection, visits saved in the app
    GET  /c/shops/{shop_code}/visit   the combined form, pre-filled
    POST /c/shops/{shop_code}/visit   saved at once; goes into the next delivery (street_shop_visits_app)

A shop outside the worker's committee is "not found"; every save is audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import audit
from app.auth.deps import NotFound, get_db, require
from app.auth.principal import Principal
from app.db.models import ShopVisit
from app.pages import render
from app.queries import rows
from app.routes.common import read
from tasks import shop_visits as sv

router = APIRouter(prefix="/c/shops")
committee = require("committee")
SHOP_COLUMNS = """shop_code, name, registered_name, uscc, full_address, street_code, community_code, status,
                  licence_no, licence_valid_until, last_visit_date, last_inspection_result"""


def _shops(request: Request, p: Principal) -> list[dict]:
    def reader(cur, tables):
        if "master.shop" not in tables:
            return []
        return rows(
            cur,
            f"""select {SHOP_COLUMNS} from master.shop
                where community_code = ? and street_code = ? and coalesce(in_latest_delivery, true)
                order by full_address, name""",
            [p.community_code, p.street_code],
        )

    return read(request, p, ("shops", p.street_code, p.community_code), reader)


def _shop_or_404(request: Request, p: Principal, code: str) -> dict:
    for s in _shops(request, p):
        if s["shop_code"] == code:
            return s
    raise NotFound("没有找到这家店铺（不存在，或不在本居委）")


@router.get("")
def shops(request: Request, saved: str = "", p: Principal = Depends(committee), db: Session = Depends(get_db)):
    found = _shops(request, p)
    mine = {}
    for v in db.scalars(select(ShopVisit).where(ShopVisit.community_code == p.community_code).order_by(ShopVisit.id)):
        mine[v.shop_code] = v
    audit(request, p, "view", f"shops?community={p.community_code}")
    return render(request, "shops/index.html", p, shops=found, visits=mine, saved=saved)


def _form_page(request, p, shop, values, problems=None, status_code=200):
    return render(request, "shops/visit.html", p, status_code=status_code, shop=shop, v=values,
                  problems=problems or {}, sections=sv.SECTIONS, results=sv.RESULTS, formats=sv.FORMATS)  # fmt: skip


@router.get("/{shop_code}/visit")
def visit_form(request: Request, shop_code: str, p: Principal = Depends(committee)):
    shop = _shop_or_404(request, p, shop_code)
    audit(request, p, "view", f"shop/{shop['shop_code']}/visit")
    return _form_page(request, p, shop, sv.prefilled(shop))


@router.post("/{shop_code}/visit")
async def save(request: Request, shop_code: str, p: Principal = Depends(committee), db: Session = Depends(get_db)):
    shop = _shop_or_404(request, p, shop_code)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in sv.prefilled(shop)}
    visit, problems = sv.save_visit(db, shop, values, p.display_name, p.user_id)
    if problems:
        db.rollback()
        audit(request, p, "submit", f"shop/{shop['shop_code']}/visit", "refused", f"{len(problems)} problem(s)")
        return _form_page(request, p, shop, values, problems, 422)
    db.commit()
    audit(request, p, "submit", f"shop/{shop['shop_code']}/visit", "ok", f"visit {visit.uid}")
    return RedirectResponse(f"/c/shops?saved={shop['shop_code']}", status_code=303)
