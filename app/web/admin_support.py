"""The Support page's JSON API (docs/admin-api.md). Every view starts with
`staff()`: the ID token names the shop and the staff member, and every query
is scoped to that shop."""

from __future__ import annotations

import logging
from decimal import Decimal

from flask import Blueprint, Response, jsonify, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import select

import sqlalchemy as sa
from app.chat import conversations as chat
from app.chat import inbox
from app.chat.shop_settings import SettingError, get_settings, put_setting, validate_settings
from app.commerce import attribution
from app.models import CartSnapshot, Conversation, Message, OrderLink, Platform, Shop, Visitor
from app.web.admin_auth import Staff, staff  # noqa: F401  (Staff: re-exported for callers of this module)
from app.web.context import parley
from app.web.errors import APIError, error_response
from app.web.event_streams import sse_response
from app.web.shopify_session import RETRY_HEADER
from app.web.storefront import saleor_snippet

bp = Blueprint("admin_support", __name__, url_prefix="/admin/api")
log = logging.getLogger(__name__)

TICKET_SECONDS = 60


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise APIError(400, "invalid_json", "the request body must be a JSON object")
    return data


@bp.errorhandler(SettingError)
def _setting_error(exc: SettingError):
    response = jsonify(error="invalid_setting", field=exc.field, message=exc.message)
    response.status_code = 400
    return response


# -- inbox -----------------------------------------------------------------------


@bp.get("/inbox")
def list_inbox():
    who = staff()
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), 100)
    except ValueError:
        raise APIError(400, "invalid_query", "limit must be a whole number") from None
    with parley().db.session() as session:
        result = inbox.page(
            session,
            who.shop.id,
            request.args.get("tab", "open"),
            parley().now(),
            q=request.args.get("q"),
            cursor=request.args.get("cursor"),
            limit=limit,
        )
    return jsonify(conversations=result.rows, next_cursor=result.next_cursor, counts=result.counts)


# -- one conversation ----------------------------------------------------------------


def _conversation_row(session, shop_id: int, conversation_id: str) -> dict:
    conversation = session.exec(
        select(Conversation).where(Conversation.id == conversation_id, Conversation.shop_id == shop_id)
    ).first()
    if conversation is None:
        raise APIError(404, "not_found", "no such conversation in this shop")
    return inbox.summaries(session, [conversation], parley().now())[0]


def cart_json(snapshot: CartSnapshot | None) -> dict | None:
    if snapshot is None:
        return None
    return {
        "value": f"{snapshot.total:.2f}" if snapshot.total is not None else None,
        "currency": snapshot.currency,
        "item_count": snapshot.item_count,
        "lines": snapshot.lines or [],
        "at": chat.iso(snapshot.created_at),
    }


FLAG_LABELS = {"missing_currency": "not counted: no currency", "missing_amount": "not counted: no amount",
               "negative_amount": "not counted: negative amount"}


def order_status(link: OrderLink) -> str:
    """What the merchant reads beside an attributed order."""
    if link.flag:
        return FLAG_LABELS.get(link.flag, f"not counted: {link.flag}")
    if link.cancelled_at is not None:
        return "cancelled"
    if link.refunded and not attribution.counts(link):
        return "refunded"
    if link.refunded:
        return "partially refunded"
    return (link.financial_status or "pending").replace("_", " ")


def order_json(link: OrderLink) -> dict:
    return {
        "id": link.order_id,
        "name": link.order_name,
        "total": f"{link.total:.2f}" if link.total is not None else None,
        "refunded": f"{link.refunded:.2f}" if link.refunded else None,
        "net": f"{attribution.net_revenue(link):.2f}" if link.total is not None else None,
        "currency": link.currency,
        "financial_status": link.financial_status,
        "status": order_status(link),
        "counted": attribution.counts(link),
        "cancelled": link.cancelled_at is not None,
        "rule": link.rule,
        "ordered_at": chat.iso(link.ordered_at),
    }


def revenue_json(links: list[OrderLink]) -> list[dict]:
    """Net revenue per currency of the counted orders, summed exactly."""
    totals: dict[str, Decimal] = {}
    for link in links:
        if attribution.counts(link):
            totals[link.currency] = totals.get(link.currency, Decimal(0)) + attribution.net_revenue(link)
    return [{"currency": currency, "amount": f"{amount:.2f}"} for currency, amount in sorted(totals.items())]


@bp.get("/conversations/<conversation_id>")
def show_conversation(conversation_id: str):
    who = staff()
    with parley().db.session() as session:
        row = _conversation_row(session, who.shop.id, conversation_id)
        snapshot = session.exec(
            select(CartSnapshot).where(CartSnapshot.conversation_id == conversation_id).order_by(CartSnapshot.id.desc()).limit(1)
        ).first()
        orders = session.exec(
            select(OrderLink).where(OrderLink.conversation_id == conversation_id, OrderLink.shop_id == who.shop.id).order_by(OrderLink.id)
        ).all()
    messages, has_more = parley().chat.thread(who.shop.id, conversation_id, None, 50)
    return jsonify(
        conversation=row,
        messages=[chat.message_json(m) for m in messages],
        has_more=has_more,
        cart=cart_json(snapshot),
        orders=[order_json(o) for o in orders],
        revenue=revenue_json(list(orders)),
    )


@bp.get("/conversations/<conversation_id>/messages")
def thread_page(conversation_id: str):
    who = staff()
    try:
        before = int(request.args["before"]) if request.args.get("before") else None
    except ValueError:
        raise APIError(400, "invalid_query", "before must be a message id") from None
    messages, has_more = parley().chat.thread(who.shop.id, conversation_id, before, 50)
    return jsonify(messages=[chat.message_json(m) for m in messages], has_more=has_more)


@bp.post("/conversations/<conversation_id>/messages")
def reply(conversation_id: str):
    who = staff()
    body = json_body()
    sent = parley().chat.send_agent_message(
        who.shop.id, conversation_id, who.user_id, body.get("body"), body.get("client_id"), internal=bool(body.get("internal"))
    )
    return jsonify(message=chat.message_json(sent.message)), (201 if sent.created else 200)


@bp.post("/conversations/<conversation_id>/status")
def change_status(conversation_id: str):
    who = staff()
    parley().chat.set_status(who.shop.id, conversation_id, json_body().get("status"))
    with parley().db.session() as session:
        return jsonify(conversation=_conversation_row(session, who.shop.id, conversation_id))


@bp.post("/conversations/<conversation_id>/assign")
def assign(conversation_id: str):
    who = staff()
    to = json_body().get("to")
    if to not in ("me", None):
        raise APIError(400, "invalid_assignee", 'to must be "me" or null')
    parley().chat.assign(who.shop.id, conversation_id, who.user_id if to == "me" else None)
    with parley().db.session() as session:
        return jsonify(conversation=_conversation_row(session, who.shop.id, conversation_id))


@bp.post("/conversations/<conversation_id>/typing")
def typing(conversation_id: str):
    who = staff()
    parley().chat.agent_typing(who.shop.id, conversation_id, bool(json_body().get("typing")))
    return Response(status=204)


@bp.post("/conversations/<conversation_id>/read")
def read(conversation_id: str):
    who = staff()
    up_to = json_body().get("up_to")
    if isinstance(up_to, bool) or not isinstance(up_to, int) or up_to < 0:
        raise APIError(400, "invalid_up_to", "up_to must be a message id")
    parley().chat.agent_read(who.shop.id, conversation_id, up_to)
    return Response(status=204)


@bp.get("/conversations/<conversation_id>/customer")
def customer(conversation_id: str):
    who = staff()
    services = parley()
    with services.db.session() as session:
        conversation = session.exec(
            select(Conversation).where(Conversation.id == conversation_id, Conversation.shop_id == who.shop.id)
        ).first()
        if conversation is None:
            raise APIError(404, "not_found", "no such conversation in this shop")
        visitor = session.get(Visitor, conversation.visitor_id)
    if visitor is None or not visitor.customer_id:
        found = {"customer": None, "orders": [], "source": "none", "notice": _anonymous_notice(who.shop)}
    else:
        found = _customer_context(who.shop, visitor)
        person = found.get("customer")
        if found["source"] == "live" and person:
            # Keep the name and e-mail beside the visitor so the inbox and search can show them.
            with services.db.transaction() as session:
                stored = session.get(Visitor, visitor.id)
                stored.name, stored.email = person.get("name") or stored.name, person.get("email") or stored.email
                session.add(stored)
    if who.shop.platform == Platform.saleor:
        found["checkout"] = _saleor_checkout(who.shop, conversation_id)
    return jsonify(found)


def _anonymous_notice(shop: Shop) -> str:
    platform = "Saleor" if shop.platform == Platform.saleor else "Shopify"
    return f"The shopper has not signed in, so {platform} cannot tell who they are."


def _saleor_checkout(shop: Shop, conversation_id: str) -> dict | None:
    """The live checkout (lines, total) behind the conversation's latest cart, if Saleor has it."""
    with parley().db.session() as session:
        token = session.exec(
            select(CartSnapshot.cart_token)
            .where(CartSnapshot.conversation_id == conversation_id, CartSnapshot.shop_id == shop.id)
            .order_by(CartSnapshot.id.desc())
            .limit(1)
        ).first()
    if not token:
        return None
    try:
        return parley().saleor_context.checkout(shop, token)
    except Exception:  # the adapter's own failures must not take the customer panel down
        log.warning("checkout look-up failed for %s", shop.domain, exc_info=True)
        return None


def _customer_context(shop: Shop, visitor: Visitor) -> dict:
    """The platform's answer about a signed-in shopper, in one shape for both."""
    if shop.platform == Platform.saleor:
        return parley().saleor_context.lookup(shop, visitor.customer_id, visitor.email)
    return parley().customer_context.lookup(shop.domain, visitor.customer_id)


# -- settings --------------------------------------------------------------------------


def _embed_status(shop: Shop, settings: dict) -> dict:
    last_seen = settings.get("widget_last_seen")
    if shop.platform == Platform.saleor:
        # No theme editor to switch an embed on: the storefront pastes one script tag.
        return {"active": bool(last_seen), "last_seen": last_seen, "activate_url": None, "snippet": saleor_snippet(shop)}
    return {
        "active": bool(last_seen),
        "last_seen": last_seen,
        "activate_url": (
            f"https://{shop.domain}/admin/themes/current/editor?context=apps&template=index"
            f"&activateAppId={parley().settings.shopify_api_key}/parley-embed"
        ),
    }


@bp.get("/settings")
def show_settings():
    who = staff()
    with parley().db.session() as session:
        settings = get_settings(session, who.shop.id)
    return jsonify(settings=_public(settings), embed=_embed_status(who.shop, settings))


SYSTEM_KEYS = ("widget_last_seen", "primary_origin")


def _public(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in SYSTEM_KEYS}


@bp.put("/settings")
def update_settings():
    who = staff()
    clean = validate_settings(request.get_json(silent=True))
    with parley().db.transaction() as session:
        for key, value in clean.items():
            put_setting(session, who.shop.id, key, value)
        settings = get_settings(session, who.shop.id)
    return jsonify(settings=_public(settings), embed=_embed_status(who.shop, settings))


# -- live updates ------------------------------------------------------------------------


def _tickets() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(parley().settings.secret_key, salt="parley-admin-stream")


@bp.post("/stream-ticket")
def stream_ticket():
    """EventSource cannot send the ID token, so it presents this short-lived ticket instead."""
    who = staff()
    ticket = _tickets().dumps({"s": who.shop.id, "u": who.user_id})
    with parley().db.session() as session:
        latest = session.exec(select(sa.func.max(Message.id)).where(Message.shop_id == who.shop.id)).one()
    # A page that has just loaded starts its stream here instead of replaying the shop's history.
    return jsonify(ticket=ticket, expires_in=TICKET_SECONDS, last_event_id=latest or 0)


@bp.get("/stream")
def stream():
    try:
        claim = _tickets().loads(request.args.get("ticket", ""), max_age=TICKET_SECONDS)
    except SignatureExpired:
        return error_response(401, "expired_ticket", "the stream ticket has expired; ask for a new one", RETRY_HEADER)
    except BadSignature:
        return error_response(401, "invalid_ticket", "the stream ticket is not valid", RETRY_HEADER)
    services = parley()
    shop_id = claim["s"]
    with services.db.session() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or shop.install_state.value != "installed":
            return error_response(401, "not_installed", "Parley is not installed on this shop", RETRY_HEADER)

    def fetch_after(after: int) -> list[tuple[int, dict]]:
        return [(m.id, chat.message_json(m)) for m in services.chat.shop_messages_after(shop_id, after)]

    return sse_response([chat.shop_channel(shop_id)], fetch_after)
