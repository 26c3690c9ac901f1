"""Shopify webhooks: verify, record once, then act, on one path for every topic.

The HMAC is checked over the raw body bytes before anything is parsed. Each
delivery is recorded by its `X-Shopify-Event-Id` first (app/inbound), so a
redelivery is answered 200 and changes nothing. Commerce topics are processed by
the event worker after the acknowledgement; lifecycle and compliance topics are
processed at once, through the same processor, so the answer says what happened.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopify_app import ShopifyApp
from sqlmodel import Session

from app import shops
from app.chat import privacy
from app.chat.shop_settings import get_settings
from app.commerce.attribution import attribute_order, attribution_window
from app.commerce.carts import follow_cart
from app.inbound.errors import PermanentError
from app.inbound.worker import Inbound
from app.models import Platform, Shop, WebhookEvent
from app.platforms.shopify import commerce
from app.platforms.shopify.requests import SHOP_DOMAIN, ShopifyRequestError

log = logging.getLogger(__name__)

# The columns a delivery's facts are stored in (app/models.py): webhook_event.event_id,
# shop.domain, visitor.customer_id, visitor.email, shop.scopes.
MAX_EVENT_ID = 128
MAX_SHOP_DOMAIN = 255
MAX_CUSTOMER_ID = 64
MAX_EMAIL = 320
MAX_SCOPES = 1000


@dataclass(frozen=True)
class Delivery:
    topic: str
    shop: str
    event_id: str
    body: str
    payload: dict[str, Any]


def parse_delivery(app: ShopifyApp, method: str, url: str, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
    """Verify and parse a webhook request; raise ShopifyRequestError with the status to answer."""
    try:
        body = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        # Shopify signs UTF-8 JSON; bytes that are not UTF-8 cannot carry a valid signature.
        raise ShopifyRequestError(
            401, "invalid_hmac", "the X-Shopify-Hmac-Sha256 header does not match the body"
        ) from None
    signature = next((v for k, v in headers.items() if k.lower() == "x-shopify-hmac-sha256"), "")
    if not signature.isascii():
        # Base64 never is anything else, and shopifyapp's constant-time compare raises on it.
        raise ShopifyRequestError(401, "invalid_hmac", "the X-Shopify-Hmac-Sha256 header does not match the body")
    result = app.verify_webhook_req({"method": method, "headers": dict(headers), "url": url, "body": body})
    if not result.ok:
        if result.log.code == "post_method_expected":
            raise ShopifyRequestError(405, "method_not_allowed", "webhooks are delivered with POST")
        # A missing header is as untrustworthy as a wrong one: Shopify's review expects 401 for both.
        raise ShopifyRequestError(401, "invalid_hmac", "the X-Shopify-Hmac-Sha256 header does not match the body")
    lowered = {k.lower(): v for k, v in headers.items()}
    topic = lowered.get("x-shopify-topic", "")
    shop = lowered.get("x-shopify-shop-domain", "").lower()
    event_id = lowered.get("x-shopify-event-id") or lowered.get("x-shopify-webhook-id", "")
    if not topic or not event_id:
        raise ShopifyRequestError(400, "missing_header", "X-Shopify-Topic and X-Shopify-Event-Id are required")
    # Refused, not stored: a delivery that cannot be recorded must not become a 500,
    # which Shopify would retry for 48 hours.
    if len(event_id) > MAX_EVENT_ID or not event_id.isprintable():
        raise ShopifyRequestError(
            400, "invalid_header", f"X-Shopify-Event-Id must be printable text of at most {MAX_EVENT_ID} characters"
        )
    if len(shop) > MAX_SHOP_DOMAIN or not SHOP_DOMAIN.match(shop):
        raise ShopifyRequestError(400, "invalid_shop", "X-Shopify-Shop-Domain is not a myshopify.com domain")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError, and numbers longer than Python reads
        raise ShopifyRequestError(400, "malformed_json", "the webhook body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ShopifyRequestError(400, "malformed_json", "the webhook body must be a JSON object")
    return Delivery(topic=topic, shop=shop, event_id=event_id, body=body, payload=payload)


Handler = Callable[[Session, Shop, WebhookEvent, dict[str, Any], datetime], None]


def _customer_of(payload: dict[str, Any]) -> tuple[str | None, str | None]:
    customer = payload.get("customer")
    if not isinstance(customer, dict):
        raise ShopifyRequestError(400, "missing_field", "the payload has no customer object")
    customer_id = customer.get("id")
    email = customer.get("email") or None
    if customer_id is None and not email:
        raise ShopifyRequestError(400, "missing_field", "the customer object has neither id nor email")
    if customer_id is not None and not (
        (isinstance(customer_id, int) and not isinstance(customer_id, bool) and 0 <= customer_id < 2**63)
        or (isinstance(customer_id, str) and 0 < len(customer_id) <= MAX_CUSTOMER_ID)
    ):
        raise ShopifyRequestError(400, "invalid_field", "customer.id must be the customer's id")
    if email is not None and (not isinstance(email, str) or len(email) > MAX_EMAIL):
        raise ShopifyRequestError(400, "invalid_field", "customer.email must be an e-mail address")
    return (str(customer_id) if customer_id is not None else None), email


def _on_uninstalled(session: Session, shop: Shop, event: WebhookEvent, payload: dict[str, Any], now: datetime) -> None:
    shops.mark_uninstalled(session, shop, now)


def _on_scopes_update(
    session: Session, shop: Shop, event: WebhookEvent, payload: dict[str, Any], now: datetime
) -> None:
    current = payload.get("current")
    if isinstance(current, list):
        scopes = ",".join(str(s) for s in current)
        if len(scopes) > MAX_SCOPES:
            raise PermanentError(f"the granted scopes are longer than {MAX_SCOPES} characters")
        shops.update_scopes(session, shop, scopes)


def _on_data_request(session: Session, shop: Shop, event: WebhookEvent, payload: dict[str, Any], now: datetime) -> None:
    customer_id, email = _customer_of(payload)
    request = payload.get("data_request")
    if not isinstance(request, dict):
        request = {}
    assert shop.id is not None  # a shop read from the database has its id
    request_id = str(request.get("id") or "")[:MAX_CUSTOMER_ID] or None
    privacy.export_customer(session, shop.id, customer_id, email, now, request_id=request_id)


def _on_customer_redact(
    session: Session, shop: Shop, event: WebhookEvent, payload: dict[str, Any], now: datetime
) -> None:
    customer_id, email = _customer_of(payload)
    assert shop.id is not None  # a shop read from the database has its id
    orders = payload.get("orders_to_redact")
    order_ids = (
        [str(o) for o in orders if isinstance(o, int | str) and not isinstance(o, bool)]
        if isinstance(orders, list)
        else []
    )
    privacy.erase_customer(session, shop.id, customer_id, email, order_ids=order_ids, now=now)


def _on_shop_redact(session: Session, shop: Shop, event: WebhookEvent, payload: dict[str, Any], now: datetime) -> None:
    privacy.erase_shop(session, shop, keep_event_id=event.id)


# Topics about the installation itself: they reach a shop that is no longer installed
# too (shop/redact comes 48 hours after the uninstall).
LIFECYCLE: dict[str, Handler] = {
    "app/uninstalled": _on_uninstalled,
    "app/scopes_update": _on_scopes_update,
    "customers/data_request": _on_data_request,
    "customers/redact": _on_customer_redact,
    "shop/redact": _on_shop_redact,
}
APP_TOPICS = {"app/uninstalled", "app/scopes_update"}
COMPLIANCE_TOPICS = {"customers/data_request", "customers/redact", "shop/redact"}


def validate_payload(delivery: Delivery) -> None:
    """Reject a payload that the topic's processing could not act on, before storing it."""
    if delivery.topic in ("customers/data_request", "customers/redact"):
        _customer_of(delivery.payload)
    commerce.validate(delivery.topic, delivery.payload)


def receive(inbound: Inbound, delivery: Delivery, topics: set[str]) -> str:
    """Store a verified delivery of one of `topics`; process a lifecycle topic at once.

    Returns what to answer: stored or duplicate (commerce topics, processed later),
    or what processing did (processed, unknown_shop). A lifecycle delivery whose
    processing failed stays stored for the worker and is answered `stored`.
    """
    if delivery.topic not in topics:
        raise ShopifyRequestError(400, "unexpected_topic", f"{delivery.topic} is not delivered to this address")
    validate_payload(delivery)
    event_id = inbound.store(Platform.shopify, delivery.event_id, delivery.topic, delivery.shop, delivery.body)
    if event_id is None:
        return "duplicate"
    if delivery.topic not in LIFECYCLE:
        return "stored"
    outcome = inbound.process_one(event_id)
    return (outcome.detail or "processed") if outcome.state == "processed" else "stored"


def process_event(session: Session, event: WebhookEvent, now: datetime) -> str:
    """The processor of every stored Shopify event, in the worker's claiming transaction."""
    try:
        payload = json.loads(event.payload)
    except (ValueError, RecursionError):
        raise PermanentError("the stored payload is not JSON") from None
    if not isinstance(payload, dict):
        raise PermanentError("the stored payload is not a JSON object")
    try:
        outcome = _dispatch(session, event, payload, now)
    except ShopifyRequestError as exc:
        raise PermanentError(exc.message) from None
    log.info("%s %s for %s: %s", event.topic, event.event_id, event.shop_domain, outcome)
    return outcome


def _dispatch(session: Session, event: WebhookEvent, payload: dict[str, Any], now: datetime) -> str:
    handler = LIFECYCLE.get(event.topic)
    if handler is not None:
        shop = shops.find_shop(session, Platform.shopify, event.shop_domain)
        if shop is None:
            return "unknown_shop"  # never installed, or already erased: nothing of it is stored
        handler(session, shop, event, payload, now)
        return "processed"
    installed = shops.find_installed_shop(session, Platform.shopify, event.shop_domain)
    if installed is None:
        return "not_installed"  # uninstalled or erased since: nothing of this shop to update
    assert installed.id is not None  # a shop read from the database has its id
    if event.topic in commerce.ORDER_TOPICS:
        window = attribution_window(get_settings(session, installed.id))
        return attribute_order(session, installed.id, commerce.order_facts(payload), window)
    if event.topic in commerce.CART_TOPICS:
        return follow_cart(session, installed.id, commerce.cart_facts(payload), now)
    if event.topic in commerce.CHECKOUT_TOPICS:
        facts = commerce.checkout_facts(payload)
        return follow_cart(session, installed.id, facts, now) if facts else "no_cart"
    raise PermanentError(f"Parley does not process {event.topic}")
