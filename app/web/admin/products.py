"""The Support page's selling tools (docs/admin-api.md, "Selling from the thread"):
product search, product cards, a checkout link with a cart built for the shopper, and
discount codes. Every view starts with `staff()`; product and variant ids are checked
against the shop's platform before anything is sent, so another shop's or a deleted
item is a 404 and no message."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlmodel import Session, select

from app.chat import conversations as chat
from app.chat.shop_settings import get_settings
from app.commerce import offers
from app.commerce.catalogue import (
    MAX_CARDS,
    MAX_CART_LINES,
    MAX_QUANTITY,
    Variant,
    card,
    card_text,
    product_json,
)
from app.commerce.discounts import check_code, new_code
from app.commerce.money import amount_text, format_money
from app.errors import ParleyError
from app.models import Conversation, Visitor
from app.platforms.port import Staff
from app.web.admin.auth import staff
from app.web.context import parley
from app.web.requests import json_body

bp = Blueprint("admin_products", __name__, url_prefix="/admin/api")

MAX_QUERY = 100
ResponseValue = Response | tuple[Response, int]


def _shopper_locale(session: Session, shop_id: int, conversation_id: str) -> str | None:
    """The shopper's language, for prices on cards; 404 for a conversation of another shop."""
    conversation = session.exec(
        select(Conversation).where(Conversation.id == conversation_id, Conversation.shop_id == shop_id)
    ).first()
    if conversation is None:
        raise ParleyError(404, "not_found", "no such conversation in this shop")
    visitor = session.get(Visitor, conversation.visitor_id)
    return visitor.locale if visitor else None


def _locale_of(who: Staff, conversation_id: str) -> str | None:
    with parley().db.session() as session:
        return _shopper_locale(session, who.shop_id, conversation_id)


def _variant_ids(value: object, limit: int, field: str) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > limit:
        raise ParleyError(400, "invalid_products", f"{field} must list 1 to {limit} variant ids")
    ids = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item.strip() or len(item) > 200:
            raise ParleyError(400, "invalid_products", f"each of {field} must be a variant id")
        ids.append(item.strip())
    return ids


def _note(body: dict[str, Any]) -> str:
    """The agent's words above the cards (optional)."""
    note = body.get("body")
    if note is None:
        return ""
    if not isinstance(note, str) or len(note) > 1000:
        raise ParleyError(400, "invalid_body", "body must be text of at most 1000 characters")
    return note.strip()


def _client_id(body: dict[str, Any]) -> str:
    return chat.check_client_id(body.get("client_id"))


@bp.get("/products")
def search() -> Response:
    who = staff()
    query = request.args.get("q", "").strip()
    if not query or len(query) > MAX_QUERY:
        raise ParleyError(400, "invalid_query", f"q must be 1 to {MAX_QUERY} characters")
    found = parley().platforms.of(who.shop).search_products(who.shop, query, None)
    return jsonify(
        products=[product_json(p) for p in found["products"]], source=found["source"], notice=found["notice"]
    )


@bp.post("/conversations/<conversation_id>/cards")
def send_cards(conversation_id: str) -> ResponseValue:
    """Send products as cards: {variant_ids: [...], client_id, body?}."""
    who = staff()
    body = json_body()
    client_id = _client_id(body)
    wanted = _variant_ids(body.get("variant_ids"), MAX_CARDS, "variant_ids")
    locale = _locale_of(who, conversation_id)
    platform = parley().platforms.of(who.shop)
    # Every variant is checked first: one that is gone sends nothing at all.
    cards = [card(*platform.product_variant(who.shop, v), locale) for v in wanted]
    note = _note(body)
    text = (note + "\n" if note else "") + card_text(cards)

    def remember(session: Session, conversation: Conversation) -> None:
        offers.record(session, conversation, "item", [c["variant_id"] for c in cards])

    sent = parley().chat.send_agent_message(
        who.shop_id,
        conversation_id,
        who.user_id,
        text,
        client_id,
        meta={"cards": cards, "note": note},
        on_store=remember,
    )
    return jsonify(message=chat.message_json(sent.message)), (201 if sent.created else 200)


def _lines(value: object) -> list[tuple[str, int]]:
    if not isinstance(value, list) or not value or len(value) > MAX_CART_LINES:
        raise ParleyError(400, "invalid_lines", f"lines must list 1 to {MAX_CART_LINES} items")
    lines: dict[str, int] = {}
    for line in value:
        if not isinstance(line, dict):
            raise ParleyError(400, "invalid_lines", "each line must be {variant_id, quantity}")
        variant = _variant_ids([line.get("variant_id")], 1, "variant_id")[0]
        quantity = line.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise ParleyError(400, "invalid_quantity", f"quantity must be a whole number from 1 to {MAX_QUANTITY}")
        lines[variant] = min(lines.get(variant, 0) + quantity, MAX_QUANTITY)
    return list(lines.items())


@bp.post("/conversations/<conversation_id>/checkout-link")
def send_checkout_link(conversation_id: str) -> ResponseValue:
    """A cart built for the shopper: {lines: [{variant_id, quantity}], code?, client_id}."""
    who = staff()
    body = json_body()
    client_id = _client_id(body)
    wanted = _lines(body.get("lines"))
    code = check_code(body["code"]) if body.get("code") not in (None, "") else None
    locale = _locale_of(who, conversation_id)
    platform = parley().platforms.of(who.shop)
    picked: list[tuple[Variant, int, dict[str, Any]]] = []
    for variant_id, quantity in wanted:
        product, variant = platform.product_variant(who.shop, variant_id)
        if card(product, variant, None)["stock"] == "sold_out":
            raise ParleyError(409, "sold_out", f"{product.title} is sold out; take it out of the cart")
        picked.append((variant, quantity, card(product, variant, locale)))
    link = platform.checkout_link(who.shop, conversation_id, [(v, q) for v, q, _ in picked], code)
    currency = picked[0][0].currency
    total = sum((v.price * q for v, q, _ in picked), picked[0][0].price * 0)
    checkout = {
        "url": link.url,
        "code": code,
        "lines": [{**c, "quantity": q} for _, q, c in picked],
        "total": amount_text(total, currency),
        "currency": currency,
        "total_text": format_money(total, currency, locale),
    }
    note = _note(body)
    text = "\n".join(
        ([note] if note else [])
        + [f"{q} × {c['title']}: {c['price_text']}" for _, q, c in picked]
        + ([f"Code: {code}"] if code else [])
        + [link.url]
    )

    def remember(session: Session, conversation: Conversation) -> None:
        offers.record(session, conversation, "item", [v.id for v, _, _ in picked])
        if code:
            offers.record(session, conversation, "code", [code])
        if link.checkout_token:
            offers.record(session, conversation, "checkout", [link.checkout_token])

    sent = parley().chat.send_agent_message(
        who.shop_id,
        conversation_id,
        who.user_id,
        text,
        client_id,
        meta={"checkout": checkout, "note": note},
        on_store=remember,
    )
    return jsonify(message=chat.message_json(sent.message)), (201 if sent.created else 200)


@bp.get("/discounts")
def list_discounts() -> Response:
    """The shop's codes and the limits; the platform failing leaves the list empty with a
    notice (a new code can still be asked for), never an error page in the panel."""
    who = staff()
    notice = None
    try:
        codes = parley().platforms.of(who.shop).discount_codes(who.shop)
    except ParleyError as exc:
        if exc.status < 500:
            raise
        codes, notice = [], exc.message
    with parley().db.session() as session:
        settings = get_settings(session, who.shop_id)
    limits = {k: settings[k] for k in ("discount_max_percent", "discount_max_amount", "discount_max_days")}
    return jsonify(codes=[c.json() for c in codes], limits=limits, notice=notice)


@bp.post("/conversations/<conversation_id>/discounts")
def create_discount(conversation_id: str) -> ResponseValue:
    """A single-use code within the merchant's limits: {kind: percent|amount, value, days?, code?}."""
    who = staff()
    body = json_body()
    platform = parley().platforms.of(who.shop)
    with parley().db.session() as session:
        _shopper_locale(session, who.shop_id, conversation_id)
        settings = get_settings(session, who.shop_id)
    currency = platform.shop_currency(who.shop) if body.get("kind") == "amount" else "XXX"
    wanted = new_code(body, settings, currency, parley().now(), conversation_id)
    created = platform.create_discount(who.shop, wanted)
    with parley().db.transaction() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None  # checked above, and conversations are not deleted under a request
        offers.record(session, conversation, "code", [created])
    return jsonify(code=created, summary=wanted.describe(), ends_at=wanted.ends_at.isoformat()), 201
