"""Shopify webhooks: verify, record once, act.

The HMAC is checked over the raw body bytes before anything is parsed. Each
delivery is recorded by its `X-Shopify-Event-Id` first, so a redelivery is
answered 200 and changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping

from sqlmodel import Session

from app import shops, webhook_events
from app.chat import privacy
from app.commerce.attribution import attribute_order
from app.commerce.carts import follow_cart
from app.db import Database
from app.models import Platform, Shop, WebhookEvent
from app.platforms.shopify import commerce
from app.platforms.shopify.requests import SHOP_DOMAIN, ShopifyRequestError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    topic: str
    shop: str
    event_id: str
    body: str
    payload: dict[str, Any]


def parse_delivery(app, method: str, url: str, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
    """Verify and parse a webhook request; raise ShopifyRequestError with the status to answer."""
    try:
        body = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        # Shopify signs UTF-8 JSON; bytes that are not UTF-8 cannot carry a valid signature.
        raise ShopifyRequestError(401, "invalid_hmac", "the X-Shopify-Hmac-Sha256 header does not match the body") from None
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
    if not SHOP_DOMAIN.match(shop):
        raise ShopifyRequestError(400, "invalid_shop", "X-Shopify-Shop-Domain is not a myshopify.com domain")
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        raise ShopifyRequestError(400, "malformed_json", "the webhook body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ShopifyRequestError(400, "malformed_json", "the webhook body must be a JSON object")
    return Delivery(topic=topic, shop=shop, event_id=event_id, body=body, payload=payload)


Handler = Callable[[Session, Shop, WebhookEvent, dict, datetime], None]


def _customer_of(payload: dict) -> tuple[str | None, str | None]:
    customer = payload.get("customer")
    if not isinstance(customer, dict):
        raise ShopifyRequestError(400, "missing_field", "the payload has no customer object")
    customer_id = customer.get("id")
    email = customer.get("email") or None
    if customer_id is None and not email:
        raise ShopifyRequestError(400, "missing_field", "the customer object has neither id nor email")
    return (str(customer_id) if customer_id is not None else None), email


def _on_uninstalled(session, shop, event, payload, now) -> None:
    shops.mark_uninstalled(session, shop, now)


def _on_scopes_update(session, shop, event, payload, now) -> None:
    current = payload.get("current")
    if isinstance(current, list):
        shops.update_scopes(session, shop, ",".join(str(s) for s in current))


def _on_data_request(session, shop, event, payload, now) -> None:
    customer_id, email = _customer_of(payload)
    request = payload.get("data_request") if isinstance(payload.get("data_request"), dict) else {}
    privacy.export_customer(session, shop.id, customer_id, email, now, request_id=str(request.get("id") or "") or None)


def _on_customer_redact(session, shop, event, payload, now) -> None:
    customer_id, email = _customer_of(payload)
    privacy.erase_customer(session, shop.id, customer_id, email)


def _on_shop_redact(session, shop, event, payload, now) -> None:
    privacy.erase_shop(session, shop, keep_event_id=event.id)


HANDLERS: dict[str, Handler] = {
    "app/uninstalled": _on_uninstalled,
    "app/scopes_update": _on_scopes_update,
    "customers/data_request": _on_data_request,
    "customers/redact": _on_customer_redact,
    "shop/redact": _on_shop_redact,
}


def validate_payload(delivery: Delivery) -> None:
    """Reject a payload that the topic's handler could not act on, before storing it."""
    if delivery.topic in ("customers/data_request", "customers/redact"):
        _customer_of(delivery.payload)
    commerce.validate(delivery.topic, delivery.payload)


def store(db: Database, delivery: Delivery, now: datetime) -> str:
    """Commerce topics: record the delivery for the event worker and nothing else, so
    the acknowledgement costs one INSERT. Returns stored or duplicate."""
    if delivery.topic not in commerce.TOPICS:
        raise ShopifyRequestError(400, "unknown_topic", f"{delivery.topic} is not delivered to this address")
    validate_payload(delivery)
    with db.write() as connection:
        fresh = webhook_events.insert_once(
            connection, Platform.shopify, delivery.event_id, delivery.topic, delivery.shop, delivery.body, now
        )
    return "stored" if fresh else "duplicate"


def process_event(parley, session: Session, event: WebhookEvent) -> None:
    """The event worker's entry for Shopify events (app/event_worker.py)."""
    from app.event_worker import PermanentError

    try:
        payload = json.loads(event.payload)
    except json.JSONDecodeError:
        raise PermanentError("the stored payload is not JSON") from None
    shop = shops.find_installed_shop(session, Platform.shopify, event.shop_domain)
    if shop is None:
        return  # uninstalled or erased since: nothing of this shop to update
    now = parley.now()
    try:
        if event.topic in commerce.ORDER_TOPICS:
            outcome = attribute_order(session, shop.id, commerce.order_facts(payload))
        elif event.topic in commerce.CART_TOPICS:
            outcome = follow_cart(session, shop.id, commerce.cart_facts(payload), now)
        elif event.topic in commerce.CHECKOUT_TOPICS:
            facts = commerce.checkout_facts(payload)
            outcome = follow_cart(session, shop.id, facts, now) if facts else "no_cart"
        elif event.topic in HANDLERS:
            HANDLERS[event.topic](session, shop, event, payload, now)
            outcome = "processed"
        else:
            raise PermanentError(f"Parley does not process {event.topic}")
    except ShopifyRequestError as exc:
        raise PermanentError(exc.message) from None
    log.info("%s %s for %s: %s", event.topic, event.event_id, event.shop_domain, outcome)


def handle(db: Database, delivery: Delivery, now: datetime) -> str:
    """Record and process one delivery; returns what happened, for the log and the tests."""
    handler = HANDLERS.get(delivery.topic)
    if handler is None:
        raise ShopifyRequestError(400, "unknown_topic", f"Parley does not subscribe to {delivery.topic}")
    validate_payload(delivery)
    with db.transaction() as session:
        event = webhook_events.record_once(
            session, Platform.shopify, delivery.event_id, delivery.topic, delivery.shop, delivery.body, now
        )
        if event is None:
            return "duplicate"
        shop = shops.find_shop(session, Platform.shopify, delivery.shop)
        if shop is None:
            # Nothing of this shop is stored (never installed, or already erased): nothing to do.
            webhook_events.mark_processed(session, event, now)
            return "unknown_shop"
        handler(session, shop, event, delivery.payload, now)
        webhook_events.mark_processed(session, event, now)
    log.info("processed %s for %s", delivery.topic, delivery.shop)
    return "processed"
