"""Shopify's app proxy: storefront requests Shopify signs and forwards to us.
The only way a logged-in customer's id reaches Parley on Shopify."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app import shops
from app.errors import ParleyError
from app.models import Platform
from app.web.context import parley
from app.web.rate_limits import limited_sessions
from app.web.requests import json_body, request_facts
from app.web.storefront import session_answer

bp = Blueprint("app_proxy", __name__, url_prefix="/proxy")

_REFUSALS = {
    "timestamp_too_old": "the proxy request is stale (timestamp more than 90 seconds away)",
    "invalid_timestamp": "the proxy request's timestamp is not a number",
    "missing_timestamp": "the proxy request carries no timestamp",
    "missing_signature": "the proxy request is not signed",
    "multiple_shop_parameters": "the proxy request names more than one shop",
    "invalid_signature": "the proxy signature does not match the request",
}


def verified_proxy_request() -> tuple[str, str | None]:
    """(shop domain, logged-in customer id or None), or 401."""
    if not all(value.isascii() for value in request.args.getlist("signature")):
        # A hex signature never is anything else, and the constant-time compare raises on it.
        raise ParleyError(401, "invalid_signature", _REFUSALS["invalid_signature"])
    result = parley().shopify.installer.app.verify_app_proxy_req(request_facts().as_shopifyapp_input())
    if not result.ok or not result.shop:
        code = result.log.code
        raise ParleyError(401, code, _REFUSALS.get(code, "the proxy signature does not match the request"))
    customer_id = result.logged_in_customer_id or None
    if customer_id is not None and not (customer_id.isascii() and customer_id.isdigit() and len(customer_id) <= 64):
        # Shopify's customer ids are numbers; anything else cannot name a customer.
        raise ParleyError(400, "invalid_customer", "logged_in_customer_id is not a Shopify customer id")
    return f"{result.shop}.myshopify.com", customer_id


@bp.post("/session")
@limited_sessions
def session() -> Response:
    domain, customer_id = verified_proxy_request()
    with parley().db.session() as db_session:
        shop = shops.find_installed_shop(db_session, Platform.shopify, domain)
    if shop is None:
        raise ParleyError(404, "unknown_shop", "this shop does not use Parley")
    return jsonify(session_answer(shop, json_body(), customer_id=customer_id))
