"""A card's "Add to cart" on a storefront whose cart Parley keeps through the platform
(Saleor: the shopper's checkout, with the app token). Shopify storefronts add the item
themselves through their Ajax Cart API and never call this."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.chat import conversations as chat
from app.errors import ParleyError
from app.web.context import parley
from app.web.origins import add_cors_headers
from app.web.rate_limits import limited_by_visitor_and_ip
from app.web.requests import json_body
from app.web.storefront import API_PATH, caller

bp = Blueprint("storefront_cart", __name__, url_prefix=API_PATH)
MAX_QUANTITY = 99


@bp.after_request
def _cors(response: Response) -> Response:
    return add_cors_headers(response)


@bp.post("/cart/lines")
@limited_by_visitor_and_ip
def add_line() -> Response:
    """{variant_id, quantity, checkout_id?}: the item into the shopper's checkout (a new one
    when they have none), tied to their conversation; `{checkout_id, cart}`."""
    who = caller()
    body = json_body()
    variant_id = body.get("variant_id")
    if not isinstance(variant_id, str) or not variant_id or len(variant_id) > 200:
        raise ParleyError(400, "invalid_variant", "variant_id must be the card's variant id")
    quantity = body.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise ParleyError(400, "invalid_quantity", f"quantity must be a whole number from 1 to {MAX_QUANTITY}")
    platform = parley().platforms.of(who.shop)
    checkout = body.get("checkout_id")
    checkout_id = platform.checkout_reference(checkout) if checkout not in (None, "") else None
    with parley().db.session() as session:
        conversation = chat.latest_conversation(session, who.claim.visitor_id)
    if conversation is None or conversation.shop_id != who.shop_id:
        raise ParleyError(409, "no_conversation", "there is no conversation this card came from")
    added = platform.add_to_cart(who.shop, conversation.id, checkout_id, variant_id, quantity)
    return jsonify(added)
