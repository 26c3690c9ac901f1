"""The storefront API the widget speaks (docs/storefront-api.md). Thin: each view
reads the request, calls the core or the shop's platform, and shapes the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlmodel import col, select

from app.chat import conversations as chat
from app.chat.shop_settings import get_settings
from app.chat.visitor_tokens import VisitorClaim
from app.commerce.carts import parse_cart
from app.errors import ParleyError
from app.models import Conversation, InstallState, Shop, Visitor
from app.web.context import parley
from app.web.event_streams import sse_response
from app.web.origins import add_cors_headers, check_origin
from app.web.queries import HISTORY_MESSAGES, HistoryQuery, read_query
from app.web.rate_limits import limited_by_visitor_and_ip, limited_sessions
from app.web.requests import bearer, json_body

bp = Blueprint("storefront", __name__, url_prefix="/api/storefront/v1")
API_PATH = "/api/storefront/v1"

ResponseValue = Response | tuple[Response, int]


@bp.after_request
def _cors(response: Response) -> Response:
    return add_cors_headers(response)


@bp.route("/<path:_any>", methods=["OPTIONS"])
def _preflight(_any: str) -> Response:
    return Response(status=204)


# -- who is asking --------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    claim: VisitorClaim
    shop: Shop
    settings: dict[str, Any]

    @property
    def shop_id(self) -> int:
        assert self.shop.id is not None  # a shop read from the database has its id
        return self.shop.id


def _unknown_shop() -> ParleyError:
    return ParleyError(404, "unknown_shop", "this shop does not use Parley")


def caller(token: str | None = None) -> Caller:
    claim = parley().visitor_tokens.read(token if token is not None else bearer())
    with parley().db.session() as session:
        shop = session.get(Shop, claim.shop_id)
        if shop is None or shop.install_state != InstallState.installed:
            raise _unknown_shop()
        assert shop.id is not None  # a shop read from the database has its id
        # A signed token outlives its visitor when a sign-in merged it into the customer's,
        # or the customer was erased: 401, and the widget starts a new session.
        visitor = session.get(Visitor, claim.visitor_id)
        if visitor is None or visitor.shop_id != shop.id:
            raise chat.GoneVisitor()
        settings = get_settings(session, shop.id)
    check_origin(shop, settings)
    return Caller(claim=claim, shop=shop, settings=settings)


# -- sessions -------------------------------------------------------------------


def session_answer(
    shop: Shop, body: dict[str, Any], customer_id: str | None = None, customer_email: str | None = None
) -> dict[str, Any]:
    """A started session as the widget reads it; the app proxy's signed session shares it."""
    services = parley()
    started = services.sessions.start(
        shop,
        body.get("visitor_token"),
        body.get("locale"),
        customer_id,
        customer_email,
        page=body.get("page"),
        timezone=body.get("timezone"),
    )
    return {**started, "api_base": services.settings.app_url + API_PATH}


@bp.post("/session")
@limited_sessions
def direct_session() -> Response:
    """Sessions for storefronts without a signed proxy (Saleor, plain pages): anonymous,
    unless the storefront sends its platform's sign-in token, which the platform verifies."""
    body = json_body()
    domain = body.get("shop")
    if not isinstance(domain, str) or not domain:
        raise ParleyError(400, "missing_shop", "name the shop this widget belongs to")
    services = parley()
    # A Saleor is named by its API URL, kept as Saleor sends it; Shopify domains are lowercase.
    names = {domain.strip(), domain.strip().lower()}
    with services.db.session() as session:
        shop = session.exec(
            select(Shop)
            .where(col(Shop.domain).in_(names), Shop.install_state == InstallState.installed)
            .order_by(col(Shop.id))
        ).first()
        if shop is None:
            raise _unknown_shop()
        assert shop.id is not None  # a shop read from the database has its id
        settings = get_settings(session, shop.id)
    check_origin(shop, settings)
    token = body.get("customer_access_token")
    if token is not None and token != "" and (not isinstance(token, str) or len(token) > 8192):
        raise ParleyError(
            400, "invalid_customer_token", "customer_access_token must be the customer's Saleor access token"
        )
    shopper = services.platforms.of(shop).signed_shopper(shop, token)
    return jsonify(
        session_answer(shop, body, shopper.customer_id if shopper else None, shopper.email if shopper else None)
    )


# -- messages ----------------------------------------------------------------------


@bp.get("/messages")
def history() -> Response:
    who = caller()
    query = read_query(HistoryQuery, HISTORY_MESSAGES)
    with parley().db.session() as session:
        if query.conversation_id:
            conversation = session.get(Conversation, query.conversation_id)
            if conversation is None or conversation.visitor_id != who.claim.visitor_id:
                raise ParleyError(404, "not_found", "no such conversation")
        else:
            conversation = chat.latest_conversation(session, who.claim.visitor_id)
    messages, has_more = parley().chat.history(
        who.shop_id, who.claim.visitor_id, query.before, query.limit, query.conversation_id
    )
    return jsonify(
        conversation=chat.conversation_json(conversation),
        messages=[chat.message_json(m) for m in messages],
        has_more=has_more,
    )


@bp.post("/messages")
@limited_by_visitor_and_ip
def send() -> ResponseValue:
    who = caller()
    body = json_body()
    cart = parse_cart(body["cart"]) if body.get("cart") is not None else None
    # A missing field reads as empty text, which the chat refuses as it refuses any bad one.
    sent = parley().chat.send_shopper_message(
        who.shop_id, who.claim.visitor_id, body.get("client_id", ""), body.get("body", ""), cart
    )
    answer = jsonify(message=chat.message_json(sent.message), conversation=chat.conversation_json(sent.conversation))
    return answer, (201 if sent.created else 200)


@bp.post("/checkout")
@limited_by_visitor_and_ip
def report_checkout() -> Response:
    """`window.Parley.setCheckout(id)`: ties the shopper's checkout to their conversation
    (a cart snapshot now, the platform's checkout metadata for the order later)."""
    who = caller()
    platform = parley().platforms.of(who.shop)
    checkout = platform.checkout_reference(json_body().get("checkout_id"))
    with parley().db.session() as session:
        conversation = chat.latest_conversation(session, who.claim.visitor_id)
    if conversation is None:
        raise ParleyError(
            409,
            "no_conversation",
            "there is no conversation to tie the checkout to yet; send it after the first message",
        )
    cart = platform.report_checkout(who.shop, conversation.id, checkout)
    return jsonify(conversation_id=conversation.id, cart=cart)


@bp.put("/cart")
@limited_by_visitor_and_ip
def put_cart() -> Response:
    who = caller()
    parley().chat.record_cart(who.shop_id, who.claim.visitor_id, parse_cart(request.get_json(silent=True)))
    return Response(status=204)


@bp.post("/typing")
@limited_by_visitor_and_ip
def typing() -> Response:
    who = caller()
    parley().chat.shopper_typing(who.shop_id, who.claim.visitor_id, bool(json_body().get("typing")))
    return Response(status=204)


@bp.post("/read")
def read() -> Response:
    who = caller()
    parley().chat.shopper_read(who.shop_id, who.claim.visitor_id, message_id(json_body().get("up_to")))
    return Response(status=204)


def message_id(value: Any) -> int:
    """A message id from a JSON body (read receipts), or 400."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ParleyError(400, "invalid_up_to", "up_to must be a message id")
    return value


@bp.get("/stream")
def stream() -> Response:
    who = caller(request.args.get("token") or None)
    services = parley()
    shop_id, visitor_id = who.shop_id, who.claim.visitor_id

    def fetch_after(after: int) -> list[tuple[int, dict[str, Any]]]:
        rows = []
        for m in services.chat.shopper_messages_after(shop_id, visitor_id, after):
            assert m.id is not None  # a stored message has its id
            rows.append((m.id, chat.message_json(m)))
        return rows

    return sse_response([chat.visitor_channel(visitor_id)], fetch_after)
