"""Saleor checkouts beside conversations: the cart snapshot, and the conversation id
stamped onto the checkout's metadata so the order made from it names the
conversation (Saleor copies checkout metadata onto the order).

Stamping is idempotent: the checkout is read first and written only when our key
does not already hold this conversation. That matters because every metadata write
fires CHECKOUT_UPDATED on a default 3.23 (useLegacyUpdateWebhookEmission), and
that webhook leads back here.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.chat.conversations import Chat, shop_channel
from app.commerce.carts import CURRENCY, Cart, CartLine, cart_json, store_cart
from app.commerce.money import amount_text
from app.commerce.priority import priority_at
from app.models import CartSnapshot, Conversation, OrderLink, Shop
from app.platforms.saleor.api import SaleorAPI, SaleorAPIError, SaleorTokenRefused, money, permission_denied
from app.platforms.saleor.apps import SaleorApps
from app.platforms.saleor.errors import SaleorRequestError
from app.platforms.saleor.global_ids import checkout_id as to_checkout_id
from app.platforms.saleor.global_ids import checkout_token
from app.platforms.saleor.metadata import CONVERSATION_KEY, metadata_value
from app.realtime.broker import Event

log = logging.getLogger(__name__)

# `app { id }` rides along: a revoked token makes Saleor answer anonymously (checkout
# metadata is public), so only this field tells us the installation is gone.
STAMP_CHECK = """
query ParleyStampCheck($id: ID!, $key: String!) {
  app { id }
  checkout(id: $id) { id metafield(key: $key) }
}
"""
STAMP = """
mutation ParleyStamp($id: ID!, $input: [MetadataInput!]!) {
  updateMetadata(id: $id, input: $input) { errors { field code message } }
}
"""
CHECKOUT_QUERY = """
query ParleyCheckout($id: ID!) {
  app { id }
  checkout(id: $id) {
    id token email updatedAt
    user { id email }
    metadata { key value }
    totalPrice { gross { amount currency } }
    lines { id quantity variant { id name sku product { name } } totalPrice { gross { amount currency } } }
  }
}
"""


# What the storefront is told when its checkout cannot be tied: its own input, a
# checkout Saleor no longer has, or Saleor itself (5xx: worth retrying; the widget
# tries again on its next sync).
CHECKOUT_STATUS = {"invalid_checkout": 400, "checkout_not_found": 404, "uninstalled": 404, "saleor_unavailable": 503}


class CheckoutUnavailable(SaleorRequestError):
    """The checkout could not be read (gone, Saleor down, or Parley uninstalled); the message says which."""

    def __init__(self, code: str, message: str):
        super().__init__(CHECKOUT_STATUS.get(code, 502), code, message)


class SaleorCheckouts:
    """Checkouts beside conversations: snapshots through the chat actions, stamps through Saleor's API."""

    def __init__(self, apps: SaleorApps, chat: Chat):
        self.apps = apps
        self.chat = chat

    def stamp(
        self, shop: Shop, checkout_token_or_id: str, conversation_id: str, *, session: Session | None = None
    ) -> bool:
        """Write the conversation id onto the checkout unless it is already there; True when written.

        A refused token marks the shop uninstalled (in `session` when given, so the
        event worker's transaction carries it). Saleor being down raises SaleorAPIError.
        """
        gid = to_checkout_id(checkout_token_or_id)
        if gid is None:
            raise ValueError("not a Saleor checkout id or token")
        api = self.apps.api(shop)
        try:
            result = api.execute(STAMP_CHECK, {"id": gid, "key": CONVERSATION_KEY}, partial_ok=True)
            if _token_refused(result.data, result.errors):
                raise SaleorTokenRefused("the app token no longer answers app { id }")
        except SaleorTokenRefused:
            log.info("Saleor %s refused Parley's token; marking it uninstalled", shop.domain)
            self.apps.mark_uninstalled(shop, session)
            return False
        checkout = result.data.get("checkout")
        if not isinstance(checkout, dict):
            return False  # completed or deleted: the order already carries what it carried
        if checkout.get("metafield") == conversation_id:
            return False
        return _write_stamp(api, gid, conversation_id)

    def remember(self, shop: Shop, conversation_id: str, checkout_id: str) -> dict[str, Any]:
        """The widget reported its checkout: snapshot it beside the conversation, stamp it,
        and return the cart JSON. Raises CheckoutUnavailable."""
        gid = to_checkout_id(checkout_id)
        if gid is None:
            raise CheckoutUnavailable("invalid_checkout", "checkout_id is not a Saleor checkout id or token")
        api = self.apps.api(shop)
        try:
            result = api.execute(CHECKOUT_QUERY, {"id": gid}, partial_ok=True)
            if _token_refused(result.data, result.errors):
                raise SaleorTokenRefused("the app token no longer answers app { id }")
        except SaleorTokenRefused:
            log.info("Saleor %s refused Parley's token; marking it uninstalled", shop.domain)
            self.apps.mark_uninstalled(shop)
            raise CheckoutUnavailable("uninstalled", "Saleor refused Parley's app token; the app was removed") from None
        except SaleorAPIError as exc:
            raise CheckoutUnavailable(
                "saleor_unavailable", f"Saleor could not be asked for the checkout ({exc})"
            ) from None
        checkout = result.data.get("checkout")
        if not isinstance(checkout, dict):
            raise CheckoutUnavailable("checkout_not_found", "Saleor knows no such checkout")
        cart = cart_from_checkout(checkout)
        if cart is None:
            raise CheckoutUnavailable("invalid_checkout", "the checkout has no readable total or currency")
        assert shop.id is not None  # a shop read from the database has its id
        self.chat.record_conversation_cart(shop.id, conversation_id, cart)
        if metadata_value(checkout.get("metadata")) != conversation_id:
            try:
                _write_stamp(api, gid, conversation_id)
            except SaleorAPIError as exc:  # the snapshot still links the order by its checkout token
                log.warning("stamping checkout for %s failed: %s", shop.domain, exc)
        return cart_json(cart)

    def record_snapshot(self, session: Session, conversation: Conversation, checkout: dict[str, Any]) -> bool:
        """Keep a webhook's view of the checkout beside the conversation (deduplicated)."""
        cart = cart_from_checkout(checkout)
        if cart is None:
            return False
        return store_cart(session, conversation, cart, self.apps.now())

    def order_recorded(self, session: Session, shop_id: int, order_id: str, checkout: str | None) -> str | None:
        """An order of a conversation was linked or updated (in the event worker's
        `session`): the checkout it was placed from is done, so the conversation's cart is
        shown as checked out, and the Support page hears of it once `session` commits
        (store first, then publish) through the shop's `cart` event. The conversation id,
        or None when the order is not one of a conversation's."""
        link = session.exec(
            select(OrderLink).where(OrderLink.shop_id == shop_id, OrderLink.order_id == order_id)
        ).first()
        if link is None:
            return None
        conversation = session.get(Conversation, link.conversation_id)
        if conversation is None:
            return None
        if checkout:
            _check_out(session, conversation, checkout, self.apps.now())
        data = {"conversation_id": conversation.id, "order": link.order_name or link.order_id}
        broker = self.chat.broker
        # After the commit, never before: a listener woken early would read the old state.
        sa.event.listen(
            session,
            "after_commit",
            lambda _session: broker.publish(Event(shop_channel(shop_id), "cart", data)),
            once=True,
        )
        return conversation.id


def _check_out(session: Session, conversation: Conversation, token: str, now: datetime) -> None:
    """The conversation's latest cart became this order: keep an empty cart after it, so
    the Cart panel and the inbox no longer show what was bought as still in the cart."""
    latest = session.exec(
        select(CartSnapshot)
        .where(CartSnapshot.conversation_id == conversation.id)
        .order_by(col(CartSnapshot.id).desc())
        .limit(1)
    ).first()
    if latest is None or latest.cart_token != token or not (latest.item_count or latest.lines):
        return
    session.add(
        CartSnapshot(
            shop_id=conversation.shop_id,
            conversation_id=conversation.id,
            cart_token=token,
            currency=latest.currency,
            total=Decimal(0),
            item_count=0,
            lines=[],
            created_at=now,
        )
    )
    conversation.cart_value = None
    conversation.cart_currency = None
    conversation.priority_at = priority_at(conversation.waiting_since, None)
    session.add(conversation)
    session.flush()


def conversation_for_checkout(session: Session, shop_id: int, token: str) -> Conversation | None:
    """The latest conversation that saw this checkout (a cart snapshot with its token)."""
    return session.exec(
        select(Conversation)
        .join(CartSnapshot, col(CartSnapshot.conversation_id) == Conversation.id)
        .where(CartSnapshot.shop_id == shop_id, CartSnapshot.cart_token == token)
        .order_by(col(CartSnapshot.id).desc())
        .limit(1)
    ).first()


def cart_from_checkout(checkout: dict[str, Any]) -> Cart | None:
    """A Saleor `Checkout` (API answer or webhook payload, amounts as Decimal) as a Parley Cart."""
    gross = ((checkout.get("totalPrice") or {}).get("gross")) or {}
    total, currency = money(gross.get("amount")), gross.get("currency")
    if total is None or not isinstance(currency, str) or not CURRENCY.match(currency):
        return None
    lines = []
    for line in checkout.get("lines") or []:
        if not isinstance(line, dict):
            continue
        quantity = line.get("quantity")
        if not isinstance(quantity, int):
            quantity = 0
        line_total = money((((line.get("totalPrice") or {}).get("gross")) or {}).get("amount")) or Decimal(0)
        variant = line.get("variant") or {}
        product = (variant.get("product") or {}).get("name") or ""
        title = product if variant.get("name") in (None, "", product) else f"{product} – {variant['name']}"
        unit = (line_total / quantity).quantize(Decimal("0.0001")) if quantity else line_total
        lines.append(
            CartLine(
                title=title[:500],
                quantity=quantity,
                # With the currency's decimals, as totals are: "25.00", never "25.0".
                price=Decimal(amount_text(unit, currency)),
                line_price=Decimal(amount_text(line_total, currency)),
                variant_id=variant.get("id"),
                product_id=None,
                url=None,
            )
        )
    return Cart(
        token=checkout_token(checkout.get("token") or checkout.get("id")),
        currency=currency,
        total=total,
        item_count=sum(line.quantity for line in lines),
        lines=tuple(lines),
    )


def _write_stamp(api: SaleorAPI, gid: str, conversation_id: str) -> bool:
    result = api.execute(STAMP, {"id": gid, "input": [{"key": CONVERSATION_KEY, "value": conversation_id}]})
    errors = ((result.data.get("updateMetadata") or {}).get("errors")) or []
    if errors:
        raise SaleorAPIError(f"updateMetadata refused: {errors[0].get('message') or errors[0].get('code')}")
    return True


def _token_refused(data: dict[str, Any], errors: list[dict[str, Any]]) -> bool:
    return data.get("app") is None and permission_denied(errors)
