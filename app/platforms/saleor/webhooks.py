"""Saleor webhooks: verify, record once, acknowledge; processed later (events.py).

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
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from app.inbound.worker import Inbound
from app.models import Platform
from app.platforms.saleor.apps import SaleorApps
from app.platforms.saleor.errors import SaleorRequestError
from app.platforms.saleor.keys import JWKSUnavailable, SignatureError
from app.platforms.saleor.manifest import EVENTS

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


def verify_delivery(apps: SaleorApps, headers: Mapping[str, str], raw_body: bytes) -> Delivery:
    """Authenticate and parse one delivery; raise WebhookError with the status to answer."""
    # Header names are case-insensitive on the wire, whatever mapping carried them here.
    lowered = {name.lower(): value for name, value in headers.items()}
    api_url = (lowered.get("saleor-api-url") or "").strip()
    signature = (lowered.get("saleor-signature") or "").strip()
    event = (lowered.get("saleor-event") or "").strip().upper()
    try:
        with apps.db.session() as session:
            shop = apps.find(session, api_url) if api_url else None
        if shop is None:
            raise WebhookError(401, "unknown_saleor", "Saleor-Api-Url names no Saleor where Parley is installed")
        if not signature:
            raise WebhookError(401, "invalid_signature", "the Saleor-Signature header is missing")
        apps.keyring(shop).verify_webhook(signature, raw_body)
    except SignatureError as exc:
        raise WebhookError(401, "invalid_signature", str(exc)) from None
    except JWKSUnavailable:
        raise WebhookError(
            503, "keys_unavailable", "Parley could not fetch this Saleor's signing keys; retry later"
        ) from None
    except (sa.exc.OperationalError, sa.exc.InterfaceError):
        raise WebhookError(503, "database_unavailable", "Parley's database is unavailable; retry later") from None
    if event not in EVENTS:
        raise WebhookError(400, "unknown_event", f"Parley does not subscribe to {event.lower() or 'this event'}")
    try:
        body = raw_body.decode("utf-8")
        payload = json.loads(body, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError, numbers too long to read
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


def store(inbound: Inbound, delivery: Delivery) -> str:
    """Record the delivery once for the event worker; returns stored or duplicate.
    Database trouble is a 503, so Saleor retries."""
    try:
        stored = inbound.store(Platform.saleor, delivery.event_id, delivery.event, delivery.api_url, delivery.body)
    except (sa.exc.OperationalError, sa.exc.InterfaceError):
        raise WebhookError(503, "database_unavailable", "Parley's database is unavailable; retry later") from None
    return "stored" if stored is not None else "duplicate"
