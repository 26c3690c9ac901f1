"""The widget's side of e-mail continuity (docs/storefront-api.md): the address a
shopper gives to get answers by e-mail, and taking a conversation over from a resume
link on another device. Same API root, CORS and visitor tokens as the storefront API."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.web.context import parley
from app.web.origins import add_cors_headers
from app.web.rate_limits import limited_by_visitor_and_ip, limiter
from app.web.requests import json_body
from app.web.storefront import caller

bp = Blueprint("shopper_email", __name__, url_prefix="/api/storefront/v1")


@bp.after_request
def _cors(response: Response) -> Response:
    return add_cors_headers(response)


@bp.post("/contact")
@limited_by_visitor_and_ip
def give_address() -> Response:
    who = caller()
    body = json_body()
    email = parley().notify.shoppers.give_address(
        who.shop_id, who.claim.visitor_id, body.get("email"), body.get("consent")
    )
    return jsonify(contact_email=email)


@bp.post("/resume")
@limiter.limit(lambda: parley().settings.rate_limit_visitor, scope="resume")
def resume() -> Response:
    """The widget found `parley_resume` on the page: this device takes the conversation.
    The current visitor token (any, or none) only says which shop's storefront asks."""
    who = caller()
    claim = parley().notify.shoppers.claim(who.shop_id, json_body().get("token"))
    return jsonify(visitor_token=claim.visitor_token, conversation_id=claim.conversation_id)
