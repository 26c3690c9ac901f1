"""The processor of stored Saleor events (app/inbound/worker.py calls it in its
claiming transaction): orders are attributed, checkouts followed and stamped,
customers' names kept, and our own APP_DELETED uninstalls the shop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from app import shops
from app.chat.shop_settings import get_settings
from app.chat.visitors import remember_customer
from app.commerce.attribution import OrderFacts, attribute_order, attribution_window
from app.inbound.errors import PermanentError
from app.models import Conversation, InstallState, Platform, Shop, Visitor, WebhookEvent
from app.platforms.saleor.api import SaleorAPIError, money
from app.platforms.saleor.checkouts import SaleorCheckouts, conversation_for_checkout
from app.platforms.saleor.global_ids import checkout_token
from app.platforms.saleor.metadata import metadata_value
from app.platforms.saleor.webhooks import subject_key

log = logging.getLogger(__name__)

Handler = Callable[[Session, Shop, dict[str, Any], datetime], str]


class SaleorEvents:
    def __init__(self, checkouts: SaleorCheckouts):
        self.checkouts = checkouts
        self._handlers: dict[str, Handler] = {
            "APP_DELETED": self._on_app_deleted,
            "ORDER_CREATED": self._on_order,
            "ORDER_UPDATED": self._on_order,
            "ORDER_FULLY_PAID": self._on_order,
            "ORDER_CANCELLED": self._on_order,
            "CHECKOUT_CREATED": self._on_checkout,
            "CHECKOUT_UPDATED": self._on_checkout,
            "CUSTOMER_UPDATED": self._on_customer,
        }

    def __call__(self, session: Session, event: WebhookEvent, now: datetime) -> str:
        shop = shops.find_shop(session, Platform.saleor, event.shop_domain)
        if shop is None or shop.install_state != InstallState.installed:
            return "not_installed"  # uninstalled (or erased) since: nothing of it to update
        try:
            payload = json.loads(event.payload, parse_float=Decimal)
        except json.JSONDecodeError:
            raise PermanentError("the stored payload is not JSON") from None
        handler = self._handlers.get(event.topic)
        if handler is None:
            raise PermanentError(f"no handler for Saleor event {event.topic}")
        if not isinstance(payload, dict) or not isinstance(payload.get(subject_key(event.topic)), dict):
            raise PermanentError(f"the {event.topic} payload has no {subject_key(event.topic)}")
        return handler(session, shop, payload, now)

    def _on_app_deleted(self, session: Session, shop: Shop, payload: dict[str, Any], now: datetime) -> str:
        # Up to Saleor 3.23.4 an APP_DELETED reaches the *other* apps: only ours uninstalls us.
        if payload["app"].get("id") != shop.app_id:
            return "another_app"
        shops.mark_uninstalled(session, shop, now)
        return "uninstalled"

    def _on_order(self, session: Session, shop: Shop, payload: dict[str, Any], now: datetime) -> str:
        facts = order_facts(payload["order"])
        assert shop.id is not None  # a shop read from the database has its id
        outcome = attribute_order(session, shop.id, facts, attribution_window(get_settings(session, shop.id)))
        log.info("Saleor order %s for %s: %s", facts.name, shop.domain, outcome)
        if outcome.startswith("linked") or outcome == "updated":
            # A new order also ends the checkout it was placed from; either way the
            # conversation's Support page is told, so "Orders from this chat" is live.
            checkout = facts.cart_token if outcome.startswith("linked") else None
            self.checkouts.order_recorded(session, shop.id, facts.order_id, checkout)
        return outcome

    def _on_checkout(self, session: Session, shop: Shop, payload: dict[str, Any], now: datetime) -> str:
        checkout = payload["checkout"]
        token = checkout_token(checkout.get("token") or checkout.get("id"))
        if token is None:
            raise PermanentError("the checkout has neither a token nor a Checkout id")
        stamped = metadata_value(checkout.get("metadata"))
        assert shop.id is not None  # a shop read from the database has its id
        conversation = None
        if stamped:
            candidate = session.get(Conversation, stamped[:36])
            conversation = candidate if candidate is not None and candidate.shop_id == shop.id else None
        conversation = conversation or conversation_for_checkout(session, shop.id, token)
        if conversation is None:
            return "no_conversation"  # a checkout no conversation saw
        self.checkouts.record_snapshot(session, conversation, checkout)
        if stamped:
            return "followed"  # already carries a conversation: writing again would fire CHECKOUT_UPDATED again
        try:
            self.checkouts.stamp(shop, token, conversation.id, session=session)
        except SaleorAPIError as exc:
            # Raising leaves the event for the next sweep; the snapshot alone still links the order.
            raise RuntimeError(f"stamping the checkout failed: {exc}") from None
        return "stamped"

    def _on_customer(self, session: Session, shop: Shop, payload: dict[str, Any], now: datetime) -> str:
        user = payload["user"]
        email = user.get("email") if isinstance(user.get("email"), str) else None
        name = " ".join(p for p in (user.get("firstName"), user.get("lastName")) if isinstance(p, str) and p) or None
        for visitor in session.exec(
            select(Visitor).where(Visitor.shop_id == shop.id, Visitor.customer_id == user["id"])
        ):
            if remember_customer(visitor, name, email):
                session.add(visitor)
        session.flush()
        return "customer_updated"


def order_facts(order: dict[str, Any]) -> OrderFacts:
    """A Saleor `Order` (webhook payload, amounts parsed as Decimal) as attribution's OrderFacts."""
    gross = ((order.get("total") or {}).get("gross")) or {}
    user = order.get("user")
    if not isinstance(user, dict):
        user = {}
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
        discount_codes=(order["voucherCode"],) if isinstance(order.get("voucherCode"), str) else (),
        variant_ids=tuple(
            line["variant"]["id"]
            for line in order.get("lines") or []
            if isinstance(line, dict)
            and isinstance(line.get("variant"), dict)
            and isinstance(line["variant"].get("id"), str)
        ),
        discount=_discount(order),
    )


def _discount(order: dict[str, Any]) -> Decimal | None:
    """What the voucher (or any discount) took off: the undiscounted total less the total."""
    before = money((((order.get("undiscountedTotal") or {}).get("gross")) or {}).get("amount"))
    after = money((((order.get("total") or {}).get("gross")) or {}).get("amount"))
    return before - after if before is not None and after is not None and before > after else None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
