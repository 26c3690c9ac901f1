"""Demo-only pages: registered only when the demo is on, which production refuses."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlmodel import select

from app.demo import DEMO_SHOP, SECOND_SHOP
from app.models import Shop
from app.web.context import parley
from app.web.errors import APIError

bp = Blueprint("demo", __name__, url_prefix="/demo")


def _standin():
    standin = current_app.extensions.get("parley.demo_standin")
    if standin is None:
        raise APIError(404, "no_standin", "the demo stand-in is not running in this process")
    return standin


@bp.get("")
def index():
    with parley().db.session() as session:
        shops = session.exec(select(Shop).order_by(Shop.id)).all()
    return render_template("demo.html", shops=shops, demo_shop=DEMO_SHOP, second_shop=SECOND_SHOP)


@bp.get("/admin")
def open_admin():
    """What the Shopify admin does when a merchant opens the app: load App Home with a fresh ID token."""
    shop = request.args.get("shop", DEMO_SHOP)
    token = _standin().mint_id_token(shop)
    return redirect(url_for("shopify_auth.app_home", embedded="1", shop=shop, id_token=token))


@bp.post("/data-request")
def send_data_request():
    """Have the stand-in deliver a signed customers/data_request webhook, as Shopify would."""
    standin = _standin()
    body = json.dumps(
        {
            "shop_id": 1,
            "shop_domain": DEMO_SHOP,
            "orders_requested": [],
            "customer": {"id": 1001, "email": "shopper@example.com", "phone": None},
            "data_request": {"id": str(uuid.uuid4())},
        }
    ).encode()
    headers = standin.webhook_headers("customers/data_request", DEMO_SHOP, body)
    response = current_app.test_client().post("/webhooks/compliance", data=body, headers=headers)
    if response.status_code != 200:
        raise APIError(502, "webhook_failed", f"the webhook was refused with {response.status_code}")
    return redirect(url_for("demo.open_admin"))
