"""The Support page's JSON API (docs/admin-api.md). Every view starts with `staff()`:
the admin's token names the shop and the staff member, and every query is scoped to
that shop. What a platform knows (the customer, the live checkout, how to turn the
widget on) comes from the shop's platform adapter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session, col, select

from app.chat import conversations as chat
from app.chat import inbox
from app.chat.shop_settings import get_settings, public, put_settings, validate_settings
from app.chat.visitors import label_language
from app.commerce.carts import snapshot_json
from app.commerce.money import amount_text
from app.commerce.orders import money_list, order_json, revenue_by_currency
from app.errors import ParleyError
from app.models import CartSnapshot, Conversation, InstallState, Message, OrderLink, Shop, Visitor
from app.web.admin.auth import staff
from app.web.context import parley
from app.web.event_streams import sse_response
from app.web.origins import known_origins
from app.web.queries import INBOX_MESSAGES, THREAD_MESSAGES, InboxQuery, ThreadQuery, read_query
from app.web.requests import json_body
from app.web.storefront import message_id

bp = Blueprint("admin_support", __name__, url_prefix="/admin/api")

TICKET_SECONDS = 60
# A refused stream ticket asks the page to fetch a fresh one (App Bridge retries on it).
RETRY_HEADER = {"X-Shopify-Retry-Invalid-Session-Request": "1"}

ResponseValue = Response | tuple[Response, int]


# -- inbox -----------------------------------------------------------------------


def merchant_language() -> str:
    """The staff member's language (their browser's), for the names of anonymous shoppers."""
    return label_language(request.headers.get("Accept-Language"))


@bp.get("/inbox")
def list_inbox() -> Response:
    who = staff()
    query = read_query(InboxQuery, INBOX_MESSAGES)
    with parley().db.session() as session:
        result = inbox.page(
            session,
            who.shop_id,
            query.tab,
            parley().now(),
            q=query.q,
            cursor=query.cursor,
            limit=query.limit,
            language=merchant_language(),
            # "due": soonest first answer due first (inbox.page refuses anything else with a 400).
            sort=request.args.get("sort") or "recent",
        )
    return jsonify(conversations=result.rows, next_cursor=result.next_cursor, counts=result.counts)


# -- one conversation ----------------------------------------------------------------


def _conversation_of(session: Session, shop_id: int, conversation_id: str) -> Conversation:
    conversation = session.exec(
        select(Conversation).where(Conversation.id == conversation_id, Conversation.shop_id == shop_id)
    ).first()
    if conversation is None:
        raise ParleyError(404, "not_found", "no such conversation in this shop")
    return conversation


def _conversation_row(session: Session, shop_id: int, conversation_id: str) -> dict[str, Any]:
    conversation = _conversation_of(session, shop_id, conversation_id)
    return inbox.summaries(session, [conversation], parley().now(), merchant_language())[0]


def _priced(cart: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored cart with its line prices in the currency's decimals, as its total is
    ("25.00", not "25.0"), whatever the snapshot was stored with."""
    if not cart or not cart.get("lines"):
        return cart
    currency = cart.get("currency")
    lines = []
    for line in cart["lines"]:
        line = dict(line) if isinstance(line, dict) else {}
        for key in ("price", "line_price"):
            try:
                line[key] = amount_text(Decimal(str(line[key])), currency)
            except (KeyError, ArithmeticError, ValueError, TypeError):
                pass  # shown as stored
        lines.append(line)
    return {**cart, "lines": lines}


@bp.get("/conversations/<conversation_id>")
def show_conversation(conversation_id: str) -> Response:
    who = staff()
    with parley().db.session() as session:
        row = _conversation_row(session, who.shop_id, conversation_id)
        snapshot = session.exec(
            select(CartSnapshot)
            .where(CartSnapshot.conversation_id == conversation_id)
            .order_by(col(CartSnapshot.id).desc())
            .limit(1)
        ).first()
        orders = list(
            session.exec(
                select(OrderLink)
                .where(OrderLink.conversation_id == conversation_id, OrderLink.shop_id == who.shop_id)
                .order_by(col(OrderLink.id))
            ).all()
        )
    messages, has_more = parley().chat.thread(who.shop_id, conversation_id, None, 50)
    return jsonify(
        conversation=row,
        messages=[chat.message_json(m) for m in messages],
        has_more=has_more,
        cart=_priced(snapshot_json(snapshot)),
        orders=[order_json(o) for o in orders],
        revenue=money_list(revenue_by_currency(orders)),
    )


@bp.get("/conversations/<conversation_id>/messages")
def thread_page(conversation_id: str) -> Response:
    who = staff()
    query = read_query(ThreadQuery, THREAD_MESSAGES)
    messages, has_more = parley().chat.thread(who.shop_id, conversation_id, query.before, 50)
    return jsonify(messages=[chat.message_json(m) for m in messages], has_more=has_more)


@bp.post("/conversations/<conversation_id>/messages")
def reply(conversation_id: str) -> ResponseValue:
    who = staff()
    body = json_body()
    # A missing field reads as empty text, which the chat refuses as it refuses any bad one.
    sent = parley().chat.send_agent_message(
        who.shop_id,
        conversation_id,
        who.user_id,
        body.get("body", ""),
        body.get("client_id", ""),
        internal=bool(body.get("internal")),
    )
    return jsonify(message=chat.message_json(sent.message)), (201 if sent.created else 200)


@bp.post("/conversations/<conversation_id>/status")
def change_status(conversation_id: str) -> Response:
    who = staff()
    # A missing field reads as empty text, which the chat refuses as it refuses any bad one.
    parley().chat.set_status(who.shop_id, conversation_id, json_body().get("status", ""))
    with parley().db.session() as session:
        return jsonify(conversation=_conversation_row(session, who.shop_id, conversation_id))


@bp.post("/conversations/<conversation_id>/assign")
def assign(conversation_id: str) -> Response:
    who = staff()
    to = json_body().get("to")
    if to not in ("me", None):
        raise ParleyError(400, "invalid_assignee", 'to must be "me" or null')
    parley().chat.assign(who.shop_id, conversation_id, who.user_id if to == "me" else None)
    with parley().db.session() as session:
        return jsonify(conversation=_conversation_row(session, who.shop_id, conversation_id))


@bp.post("/conversations/<conversation_id>/typing")
def typing(conversation_id: str) -> Response:
    who = staff()
    parley().chat.agent_typing(who.shop_id, conversation_id, bool(json_body().get("typing")))
    return Response(status=204)


@bp.post("/conversations/<conversation_id>/read")
def read(conversation_id: str) -> Response:
    who = staff()
    parley().chat.agent_read(who.shop_id, conversation_id, message_id(json_body().get("up_to")))
    return Response(status=204)


@bp.get("/conversations/<conversation_id>/customer")
def customer(conversation_id: str) -> Response:
    who = staff()
    services = parley()
    platform = services.platforms.of(who.shop)
    with services.db.session() as session:
        conversation = _conversation_of(session, who.shop_id, conversation_id)
        visitor = session.get(Visitor, conversation.visitor_id)
        token = session.exec(
            select(CartSnapshot.cart_token)
            .where(CartSnapshot.conversation_id == conversation_id, CartSnapshot.shop_id == who.shop_id)
            .order_by(col(CartSnapshot.id).desc())
            .limit(1)
        ).first()
    if visitor is None or not visitor.customer_id:
        notice = f"The shopper has not signed in, so {platform.display_name} cannot tell who they are."
        found: dict[str, Any] = {"customer": None, "orders": [], "source": "none", "notice": notice}
    else:
        found = platform.customer_panel(who.shop, visitor)
        person = found.get("customer")
        if found["source"] == "live" and person:
            # Kept beside the visitor so the inbox and search can show them.
            services.chat.remember_customer(who.shop_id, visitor.id, person.get("name"), person.get("email"))
    # The cart as the platform has it now, where it keeps one Parley can read (Saleor's checkout).
    found["checkout"] = platform.live_checkout(who.shop, token) if token else None
    return jsonify(found)


# -- settings --------------------------------------------------------------------------


def _settings_answer(shop: Shop, settings: dict[str, Any]) -> Response:
    embed = parley().platforms.of(shop).embed_status(shop, settings.get("widget_last_seen"))
    return jsonify(settings=public(settings), embed=embed)


@bp.get("/settings")
def show_settings() -> Response:
    who = staff()
    with parley().db.session() as session:
        settings = get_settings(session, who.shop_id)
    return _settings_answer(who.shop, settings)


@bp.put("/settings")
def update_settings() -> Response:
    who = staff()
    changes = validate_settings(request.get_json(silent=True))
    with parley().db.transaction() as session:
        settings = put_settings(session, who.shop_id, changes, parley().now())
    if "storefront_origins" in changes:
        known_origins().forget()
    return _settings_answer(who.shop, settings)


# -- live updates ------------------------------------------------------------------------


def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(parley().settings.secret_key, salt="parley-admin-stream")


def latest_message_id(shop_id: int) -> int:
    """The newest message of the shop (an index lookup): where a fresh page's stream
    starts, so it is not sent the shop's history."""
    with parley().db.session() as session:
        latest = session.exec(select(sa.func.max(Message.id)).where(Message.shop_id == shop_id)).one()
    return int(latest or 0)


@bp.post("/stream-ticket")
def stream_ticket() -> Response:
    """EventSource cannot send the admin's token, so it presents this short-lived ticket instead."""
    who = staff()
    ticket = _tickets().dumps({"s": who.shop_id, "u": who.user_id})
    return jsonify(ticket=ticket, expires_in=TICKET_SECONDS, last_event_id=latest_message_id(who.shop_id))


@bp.get("/stream")
def stream() -> Response:
    try:
        claim = _tickets().loads(request.args.get("ticket", ""), max_age=TICKET_SECONDS)
    except SignatureExpired:
        raise ParleyError(
            401, "expired_ticket", "the stream ticket has expired; ask for a new one", headers=RETRY_HEADER
        ) from None
    except BadSignature:
        raise ParleyError(401, "invalid_ticket", "the stream ticket is not valid", headers=RETRY_HEADER) from None
    services = parley()
    shop_id = claim["s"]
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or shop.install_state != InstallState.installed:
            raise ParleyError(401, "not_installed", "Parley is not installed on this shop", headers=RETRY_HEADER)

    def fetch_after(after: int) -> list[tuple[int, dict[str, Any]]]:
        rows = []
        for m in services.chat.shop_messages_after(shop_id, after):
            assert m.id is not None  # a stored message has its id
            rows.append((m.id, chat.message_json(m)))
        return rows

    return sse_response([chat.shop_channel(shop_id)], fetch_after)
