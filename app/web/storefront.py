"""The storefront API the widget speaks (docs/storefront-api.md). Thin: each
view reads the request, calls app/chat, and shapes the answer."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, jsonify, request, send_from_directory
from markupsafe import escape
from sqlmodel import Session, select

from app.chat import conversations as chat
from app.chat.hours import HoursError, parse_hours, team_status
from app.chat.shop_settings import get_settings
from app.chat.visitor_tokens import InvalidVisitorToken, VisitorClaim
from app.commerce.carts import CartError, parse_cart
from app.config import ROOT
from app.models import Conversation, InstallState, Platform, Shop
from app.platforms.saleor.customer_tokens import CustomerTokenError, SaleorCustomer, verify_customer_token
from app.platforms.saleor.keys import JWKSUnavailable
from app.web.context import parley
from app.web.errors import APIError
from app.web.event_streams import sse_response
from app.web.origins import add_cors_headers, check_origin
from app.web.rate_limits import limited_by_visitor_and_ip, limiter

bp = Blueprint("storefront", __name__, url_prefix="/api/storefront/v1")
API_PATH = "/api/storefront/v1"
# Shopify's CDN serves the widget from the theme app extension; other storefronts load
# the very same files from Parley (nested into a blueprint without a prefix; see
# app/web/saleor_dashboard.py). One source, two hosts: nothing is forked.
widget_bp = Blueprint("widget", __name__)
WIDGET_DIR = ROOT / "extensions" / "parley-chat" / "assets"
WIDGET_FILES = {"parley.js": "parley-loader.js", "parley-loader.js": "parley-loader.js",
                "parley-panel.js": "parley-panel.js", "parley.css": "parley.css"}
WIDGET_MAX_AGE = 300  # unhashed names: a short cache lets a new version reach storefronts soon


@bp.after_request
def _cors(response: Response) -> Response:
    return add_cors_headers(response)


@bp.route("/<path:_any>", methods=["OPTIONS"])
def _preflight(_any: str):
    return Response(status=204)


# -- who is asking --------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    claim: VisitorClaim
    shop: Shop
    settings: dict


def _installed(session: Session, shop_id: int) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None or shop.install_state != InstallState.installed:
        raise APIError(404, "unknown_shop", "this shop does not use Parley")
    return shop


def caller(token: str | None = None) -> Caller:
    if token is None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
    try:
        claim = parley().visitor_tokens.read(token)
    except InvalidVisitorToken as exc:
        raise APIError(401, "invalid_token", exc.message) from None
    with parley().db.session() as session:
        shop = _installed(session, claim.shop_id)
        settings = get_settings(session, shop.id)
    check_origin(shop, settings)
    return Caller(claim=claim, shop=shop, settings=settings)


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise APIError(400, "invalid_json", "the request body must be a JSON object")
    return data


# -- sessions -------------------------------------------------------------------


def start_session(shop: Shop, body: dict, customer_id: str | None, customer_email: str | None = None) -> dict:
    """Shared by the direct session call and the app proxy's signed one. `customer_id`
    and `customer_email` come only from a signed channel."""
    services = parley()
    visitor_id = None
    token = body.get("visitor_token")
    if isinstance(token, str) and token:
        try:
            claim = services.visitor_tokens.read(token)
            visitor_id = claim.visitor_id if claim.shop_id == shop.id else None
        except InvalidVisitorToken:
            visitor_id = None  # a fresh anonymous visitor, as if none was sent
    locale = body.get("locale") if isinstance(body.get("locale"), str) else None
    now = services.now()
    with services.db.transaction() as session:
        visitor = chat.resume_visitor(session, shop.id, visitor_id, customer_id, locale, now)
        if customer_id and customer_email and visitor.email != customer_email:
            visitor.email = customer_email
            session.add(visitor)
        conversation = chat.latest_conversation(session, visitor.id)
        unread = chat.unread_for_shopper(session, visitor.id)
        settings = get_settings(session, shop.id)
        _note_widget_seen(session, shop.id, settings, now)
    try:
        status = team_status(parse_hours(settings.get("hours")), now, int(settings.get("replies_in_minutes") or 5))
    except HoursError:
        status = team_status(parse_hours(None), now)
    return {
        "visitor_token": services.visitor_tokens.issue(visitor.id, shop.id),
        "visitor_id": visitor.id,
        "api_base": services.settings.app_url + API_PATH,
        "identified": bool(visitor.customer_id),
        "conversation": chat.conversation_json(conversation),
        "unread": unread,
        "settings": {
            "greeting": settings.get("greeting"),
            "accent": settings.get("accent"),
            "away_message": settings.get("away_message"),
            "team": status.as_json(),
        },
    }


def _note_widget_seen(session: Session, shop_id: int, settings: dict, now) -> None:
    """Remember that the widget is live on a storefront, for the Support page's first-run check."""
    from datetime import datetime, timedelta

    from app.chat.shop_settings import put_setting

    seen = settings.get("widget_last_seen")
    if not seen or datetime.fromisoformat(seen) < now - timedelta(hours=1):
        put_setting(session, shop_id, "widget_last_seen", now.isoformat())


@bp.post("/session")
@limiter.limit(lambda: parley().settings.rate_limit_ip, scope="session")
def direct_session():
    """Sessions for storefronts without a signed proxy (Saleor, plain pages): anonymous,
    unless a Saleor storefront sends its customer's access token, which is verified."""
    body = json_body()
    domain = body.get("shop")
    if not isinstance(domain, str) or not domain:
        raise APIError(400, "missing_shop", "name the shop this widget belongs to")
    services = parley()
    # A Saleor is named by its API URL, kept as Saleor sends it; Shopify domains are lowercase.
    names = {domain.strip(), domain.strip().lower()}
    with services.db.session() as session:
        shop = session.exec(
            select(Shop).where(Shop.domain.in_(names), Shop.install_state == InstallState.installed).order_by(Shop.id)
        ).first()
        if shop is None:
            raise APIError(404, "unknown_shop", "this shop does not use Parley")
        settings = get_settings(session, shop.id)
    check_origin(shop, settings)
    customer = saleor_customer(shop, body.get("customer_access_token"))
    return jsonify(
        start_session(shop, body, customer_id=customer.customer_id if customer else None,
                      customer_email=customer.email if customer else None)
    )


def saleor_customer(shop: Shop, token: object) -> SaleorCustomer | None:
    """The signed-in customer of a Saleor storefront, from their access token; None without one."""
    if token is None or token == "":
        return None
    if not isinstance(token, str) or len(token) > 8192:
        raise APIError(400, "invalid_customer_token", "customer_access_token must be the customer's Saleor access token")
    if shop.platform != Platform.saleor:
        raise APIError(400, "customer_token_not_supported", "this shop identifies its customers through its app proxy, not a token")
    services = parley()
    try:
        return verify_customer_token(services.saleor, shop, token, services.now().timestamp())
    except CustomerTokenError as exc:
        # Refused outright rather than served anonymously: the page asked for this
        # customer, and a silent downgrade would hide a broken (or forged) sign-in.
        raise APIError(401, "invalid_customer_token", f"the customer token is not valid for this shop: {exc}") from None
    except JWKSUnavailable:
        raise APIError(503, "saleor_unavailable", "the shop's signing keys could not be fetched; try again shortly") from None


def saleor_snippet(shop: Shop) -> str:
    """The one line a Saleor storefront pastes into its pages to show the chat."""
    src = parley().settings.app_url + "/widget/parley.js"
    return f'<script src="{escape(src)}" data-shop="{escape(shop.domain)}" async></script>'


@widget_bp.get("/widget/<name>")
def widget_file(name: str):
    if name not in WIDGET_FILES:
        raise APIError(404, "not_found", "no such widget file")
    response = send_from_directory(WIDGET_DIR, WIDGET_FILES[name], max_age=WIDGET_MAX_AGE)
    # Storefronts on any origin load it with a plain <script>/<link> tag.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


# -- messages ----------------------------------------------------------------------


@bp.get("/messages")
def history():
    who = caller()
    try:
        before = int(request.args["before"]) if request.args.get("before") else None
        limit = min(max(int(request.args.get("limit", 50)), 1), 100)
    except ValueError:
        raise APIError(400, "invalid_query", "before and limit must be whole numbers") from None
    conversation_id = request.args.get("conversation_id") or None
    with parley().db.session() as session:
        if conversation_id:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None or conversation.visitor_id != who.claim.visitor_id:
                raise APIError(404, "not_found", "no such conversation")
        else:
            conversation = chat.latest_conversation(session, who.claim.visitor_id)
    messages, has_more = parley().chat.history(who.shop.id, who.claim.visitor_id, before, limit, conversation_id)
    return jsonify(
        conversation=chat.conversation_json(conversation),
        messages=[chat.message_json(m) for m in messages],
        has_more=has_more,
    )


@bp.post("/messages")
@limited_by_visitor_and_ip
def send():
    who = caller()
    body = json_body()
    cart = None
    if body.get("cart") is not None:
        try:
            cart = parse_cart(body["cart"])
        except CartError as exc:
            raise APIError(400, "invalid_cart", str(exc)) from None
    sent = parley().chat.send_shopper_message(who.shop.id, who.claim.visitor_id, body.get("client_id"), body.get("body"), cart)
    return jsonify(message=chat.message_json(sent.message), conversation=chat.conversation_json(sent.conversation)), (
        201 if sent.created else 200
    )


# remember_checkout's refusals: the shopper's input, a checkout Saleor no longer has, or
# Saleor itself (5xx: worth retrying; the widget tries again on its next sync).
CHECKOUT_ERRORS = {"invalid_checkout": 400, "checkout_not_found": 404, "uninstalled": 404, "saleor_unavailable": 503}


@bp.post("/checkout")
@limited_by_visitor_and_ip
def report_checkout():
    """`window.Parley.setCheckout(id)`: ties the shopper's Saleor checkout to their
    conversation (a cart snapshot now, checkout metadata for the order later)."""
    who = caller()
    if who.shop.platform != Platform.saleor:
        raise APIError(400, "not_supported", "only Saleor storefronts report a checkout; Shopify carts come with each message")
    try:
        # Imported here: the Saleor checkout adapter is optional for a Shopify-only deployment.
        from app.platforms.saleor.checkouts import CheckoutUnavailable, remember_checkout
        from app.platforms.saleor.global_ids import checkout_id
    except ImportError:
        raise APIError(503, "not_available", "this Parley cannot read Saleor checkouts") from None
    raw = json_body().get("checkout_id")
    if not isinstance(raw, str) or len(raw) > 200 or checkout_id(raw) is None:
        raise APIError(400, "invalid_checkout", "checkout_id must be a Saleor checkout id (Checkout:…) or checkout token")
    with parley().db.session() as session:
        conversation = chat.latest_conversation(session, who.claim.visitor_id)
    if conversation is None:
        raise APIError(409, "no_conversation", "there is no conversation to tie the checkout to yet; send it after the first message")
    try:
        cart = remember_checkout(parley(), who.shop, conversation.id, raw)
    except CheckoutUnavailable as exc:
        status = CHECKOUT_ERRORS.get(exc.code, 502)
        raise APIError(status, exc.code, exc.message) from None
    except LookupError:
        raise APIError(404, "not_found", "no such conversation") from None
    return jsonify(conversation_id=conversation.id, cart=cart)


@bp.put("/cart")
@limited_by_visitor_and_ip
def put_cart():
    who = caller()
    try:
        cart = parse_cart(request.get_json(silent=True))
    except CartError as exc:
        raise APIError(400, "invalid_cart", str(exc)) from None
    parley().chat.record_cart(who.shop.id, who.claim.visitor_id, cart)
    return Response(status=204)


@bp.post("/typing")
@limited_by_visitor_and_ip
def typing():
    who = caller()
    parley().chat.shopper_typing(who.shop.id, who.claim.visitor_id, bool(json_body().get("typing")))
    return Response(status=204)


@bp.post("/read")
def read():
    who = caller()
    up_to = json_body().get("up_to")
    if isinstance(up_to, bool) or not isinstance(up_to, int) or up_to < 0:
        raise APIError(400, "invalid_up_to", "up_to must be a message id")
    parley().chat.shopper_read(who.shop.id, who.claim.visitor_id, up_to)
    return Response(status=204)


@bp.get("/stream")
def stream():
    who = caller(request.args.get("token") or None)
    services = parley()
    shop_id, visitor_id = who.shop.id, who.claim.visitor_id

    def fetch_after(after: int) -> list[tuple[int, dict]]:
        return [(m.id, chat.message_json(m)) for m in services.chat.shopper_messages_after(shop_id, visitor_id, after)]

    return sse_response([chat.visitor_channel(visitor_id)], fetch_after)
