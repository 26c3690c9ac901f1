"""Shopify's app proxy: storefront requests Shopify signs and forwards to us.
The only way a logged-in customer's id reaches Parley on Shopify."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app import shops
from app.models import Platform
from app.web.context import parley
from app.web.errors import APIError
from app.web.shopify_session import request_input
from app.web.storefront import json_body, start_session

bp = Blueprint("app_proxy", __name__, url_prefix="/proxy")

_REFUSALS = {
    "timestamp_too_old": "the proxy request is stale (timestamp more than 90 seconds away)",
    "invalid_timestamp": "the proxy request's timestamp is not a number",
    "missing_timestamp": "the proxy request carries no timestamp",
    "missing_signature": "the proxy request is not signed",
    "multiple_shop_parameters": "the proxy request names more than one shop",
}


def verified_proxy_request() -> tuple[str, str | None]:
    """(shop domain, logged-in customer id or None), or 401."""
    result = parley().shopify.app.verify_app_proxy_req(request_input())
    if not result.ok or not result.shop:
        code = result.log.code
        raise APIError(401, code, _REFUSALS.get(code, "the proxy signature does not match the request"))
    return f"{result.shop}.myshopify.com", (result.logged_in_customer_id or None)


@bp.post("/session")
def session():
    domain, customer_id = verified_proxy_request()
    with parley().db.session() as db_session:
        shop = shops.find_installed_shop(db_session, Platform.shopify, domain)
    if shop is None:
        raise APIError(404, "unknown_shop", "this shop does not use Parley")
    return jsonify(start_session(shop, json_body(), customer_id=customer_id))
