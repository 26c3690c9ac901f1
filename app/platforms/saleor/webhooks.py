"""Saleor webhooks: verify, record once, acknowledge; process later.

The `Saleor-Signature` JWS is checked over the raw body bytes against the keys of
the Saleor named by `Saleor-Api-Url` before anything is parsed. A delivery of an
unknown Saleor or with a bad signature is 401; a malformed one 400 (Saleor never
retries a 4xx); when *we* are broken (JWKS unreachable, database down) it is 503,
so Saleor retries.

Saleor sends no event id. The id we record is a hash of the API URL, the event name
and the raw body: a retry resends the same bytes, so it hashes alike and is recorded
once. Two genuinely different events cannot share a body because every subscription
asks for `issuedAt`; and if they ever did, processing is idempotent anyway (newer
`updatedAt` wins on orders, stamping reads before it writes, uninstalling twice is
uninstalling once).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Mapping

import sqlalchemy as sa
from sqlmodel import Session, select

from app import shops, webhook_events
from app.commerce.attribution import OrderFacts, attribute_order
from app.event_worker import PermanentError
from app.models import Conversation, InstallState, Platform, Shop, Visitor, WebhookEvent
from app.platforms.saleor.api import SaleorAPIError, money
from app.platforms.saleor.checkouts import conversation_for_checkout, record_snapshot, stamp_checkout
from app.platforms.saleor.errors import SaleorRequestError
from app.platforms.saleor.global_ids import checkout_token
from app.platforms.saleor.keys import JWKSUnavailable, SignatureError
from app.platforms.saleor.manifest import EVENTS
from app.platforms.saleor.metadata import metadata_value

if TYPE_CHECKING:
    from app.services import Parley

log = logging.getLogger(__name__)

# Which object each event carries, and its GraphQL type name.
SUBJECT = {"CHECKOUT": "checkout", "ORDER": "order", "CUSTOMER": "user", "APP": "app"}


class WebhookError(SaleorRequestError):
    """A webhook delivery Parley refuses (4xx) or cannot take now (5xx, retried)."""


@dataclass(frozen=True)
class Delivery:
    event: str  # upper case, as in the manifest: ORDER_CREATED
    api_url: str
    event_id: str
    body: str
    payload: dict[str, Any]


def delivery_id(api_url: str, event: str, raw_body: bytes) -> str:
    return hashlib.sha256(api_url.encode() + b"\n" + event.encode() + b"\n" + raw_body).hexdigest()


def subject_key(event: str) -> str:
    return SUBJECT[event.split("_", 1)[0]]


def verify_delivery(parley: "Parley", headers: Mapping[str, str], raw_body: bytes) -> Delivery:
    """Authenticate and parse one delivery; raise WebhookError with the status to answer."""
    api_url = (headers.get("Saleor-Api-Url") or "").strip()
    signature = (headers.get("Saleor-Signature") or "").strip()
    event = (headers.get("Saleor-Event") or "").strip().upper()
    try:
        with parley.db.session() as session:
            shop = parley.saleor.find(session, api_url) if api_url else None
        if shop is None:
            raise WebhookError(401, "unknown_saleor", "Saleor-Api-Url names no Saleor where Parley is installed")
        if not signature:
            raise WebhookError(401, "invalid_signature", "the Saleor-Signature header is missing")
        parley.saleor.keyring(shop).verify_webhook(signature, raw_body)
    except SignatureError as exc:
        raise WebhookError(401, "invalid_signature", str(exc)) from None
    except JWKSUnavailable:
        raise WebhookError(503, "keys_unavailable", "Parley could not fetch this Saleor's signing keys; retry later") from None
    except (sa.exc.OperationalError, sa.exc.InterfaceError):
        raise WebhookError(503, "database_unavailable", "Parley's database is unavailable; retry later") from None
    if event not in EVENTS:
        raise WebhookError(400, "unknown_event", f"Parley does not subscribe to {event.lower() or 'this event'}")
    try:
        body = raw_body.decode("utf-8")
        payload = json.loads(body, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookError(400, "malformed_json", "the webhook body is not valid JSON") from None
    _check_payload(event, payload)
    return Delivery(event, api_url, delivery_id(api_url, event, raw_body), body, payload)


def _check_payload(event: str, payload: Any) -> None:
    if not isinstance(payload, dict):
        raise WebhookError(400, "malformed_json", "the webhook body must be a JSON object")
    typename = payload.get("__typename")
    expected = "".join(part.capitalize() for part in event.split("_"))
    if typename is not None and typename != expected:
        raise WebhookError(400, "event_mismatch", f"the body is a {typename}, but Saleor-Event says {event.lower()}")
    key = subject_key(event)
    subject = payload.get(key)
    if not isinstance(subject, dict) or not isinstance(subject.get("id"), str) or not subject["id"]:
        raise WebhookError(400, "missing_field", f"the payload has no {key} with an id")


def store(parley: "Parley", delivery: Delivery) -> str:
    """Record the delivery once; returns stored or duplicate. Database trouble is a 503."""
    try:
        with parley.db.write() as connection:
            fresh = webhook_events.insert_once(connection, Platform.saleor, delivery.event_id, delivery.event,
                                               delivery.api_url, delivery.body, parley.now())
    except (sa.exc.OperationalError, sa.exc.InterfaceError):
        raise WebhookError(503, "database_unavailable", "Parley's database is unavailable; retry later") from None
    return "stored" if fresh else "duplicate"


# ---- processing (app/event_worker.py calls process_event in its claiming transaction) ----

Handler = Callable[["Parley", Session, Shop, dict], None]


def process_event(parley: "Parley", session: Session, event: WebhookEvent) -> None:
    shop = shops.find_shop(session, Platform.saleor, event.shop_domain)
    if shop is None or shop.install_state != InstallState.installed:
        return  # uninstalled (or erased) since: nothing of it to update
    try:
        payload = json.loads(event.payload, parse_float=Decimal)
    except json.JSONDecodeError:
        raise PermanentError("the stored payload is not JSON") from None
    handler = HANDLERS.get(event.topic)
    if handler is None:
        raise PermanentError(f"no handler for Saleor event {event.topic}")
    if not isinstance(payload, dict) or not isinstance(payload.get(subject_key(event.topic)), dict):
        raise PermanentError(f"the {event.topic} payload has no {subject_key(event.topic)}")
    handler(parley, session, shop, payload)


def _on_app_deleted(parley: "Parley", session: Session, shop: Shop, payload: dict) -> None:
    # Up to Saleor 3.23.4 an APP_DELETED reaches the *other* apps: only ours uninstalls us.
    if payload["app"].get("id") == shop.app_id:
        shops.mark_uninstalled(session, shop, parley.now())


def _on_order(parley: "Parley", session: Session, shop: Shop, payload: dict) -> None:
    facts = order_facts(payload["order"])
    outcome = attribute_order(session, shop.id, facts)
    log.info("Saleor order %s for %s: %s", facts.name, shop.domain, outcome)


def _on_checkout(parley: "Parley", session: Session, shop: Shop, payload: dict) -> None:
    checkout = payload["checkout"]
    token = checkout_token(checkout.get("token") or checkout.get("id"))
    if token is None:
        raise PermanentError("the checkout has neither a token nor a Checkout id")
    stamped = metadata_value(checkout.get("metadata"))
    conversation = None
    if stamped:
        candidate = session.get(Conversation, stamped[:36])
        conversation = candidate if candidate is not None and candidate.shop_id == shop.id else None
    conversation = conversation or conversation_for_checkout(session, shop.id, token)
    if conversation is None:
        return  # a checkout no conversation saw
    record_snapshot(parley, session, conversation, checkout)
    if stamped:
        return  # already carries a conversation: writing again would fire CHECKOUT_UPDATED again
    try:
        stamp_checkout(parley, shop, token, conversation.id, session=session)
    except SaleorAPIError as exc:
        # Raising leaves the event for the next sweep; the snapshot alone still links the order.
        raise RuntimeError(f"stamping the checkout failed: {exc}") from None


def _on_customer(parley: "Parley", session: Session, shop: Shop, payload: dict) -> None:
    user = payload["user"]
    email = user.get("email") if isinstance(user.get("email"), str) else None
    name = " ".join(p for p in (user.get("firstName"), user.get("lastName")) if isinstance(p, str) and p) or None
    for visitor in session.exec(select(Visitor).where(Visitor.shop_id == shop.id, Visitor.customer_id == user["id"])):
        visitor.email = email[:320] if email else visitor.email
        visitor.name = name[:255] if name else visitor.name
        session.add(visitor)
    session.flush()


HANDLERS: dict[str, Handler] = {
    "APP_DELETED": _on_app_deleted,
    "ORDER_CREATED": _on_order,
    "ORDER_UPDATED": _on_order,
    "ORDER_FULLY_PAID": _on_order,
    "ORDER_CANCELLED": _on_order,
    "CHECKOUT_CREATED": _on_checkout,
    "CHECKOUT_UPDATED": _on_checkout,
    "CUSTOMER_UPDATED": _on_customer,
}


def order_facts(order: dict) -> OrderFacts:
    """A Saleor `Order` (webhook payload, amounts parsed as Decimal) as attribution's OrderFacts."""
    gross = ((order.get("total") or {}).get("gross")) or {}
    user = order.get("user") if isinstance(order.get("user"), dict) else {}
    updated_at = _time(order.get("updatedAt"))
    return OrderFacts(
        order_id=order["id"],
        name=f"#{order['number']}" if order.get("number") else None,
        ordered_at=_time(order.get("created")),
        updated_at=updated_at,
        conversation_hint=metadata_value(order.get("metadata")),
        cart_token=checkout_token(order.get("checkoutId")),
        customer_id=user.get("id") if isinstance(user.get("id"), str) else None,
        email=order.get("userEmail") or user.get("email") or None,
        total=money(gross.get("amount")),
        refunded=money((order.get("totalRefunded") or {}).get("amount")) or Decimal(0),
        currency=gross.get("currency") if isinstance(gross.get("currency"), str) else None,
        financial_status=str(order["chargeStatus"])[:30] if order.get("chargeStatus") else None,
        # Saleor keeps no cancellation time on the order; the update that cancelled it is the closest.
        cancelled_at=(updated_at or _time(order.get("created"))) if order.get("status") == "CANCELED" else None,
    )


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
