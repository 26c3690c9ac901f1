"""Which conversation produced an order: marked on the order itself, not guessed.

Platforms translate their payloads into `OrderFacts` (app/platforms/<name>/…) and
call `attribute_order`. The rules, strongest first:

1. `conversation`: the order carries the conversation id (Shopify: the cart
   attribute the widget wrote, arriving as a note attribute; Saleor: the checkout
   metadata Parley stamped, copied onto the order).
2. `cart_token`: the order's cart (or Saleor checkout) token matches a cart
   snapshot taken during a conversation.
3. `customer`: the order's customer is a visitor identified in a conversation
   active within the attribution window before the order.

Above them, the agent's own part (app/commerce/offers.py): `agent_code` when the order
used a code the agent offered, `agent_cart` when it came through a checkout the agent
built or holds an item the agent sent; a code also finds its conversation on its own.

A link, once made, keeps its conversation and rule; later deliveries of the same
order only update its money and status, and only when they are newer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.commerce import offers
from app.models import CartSnapshot, Conversation, OrderLink, Visitor

RULES = ("agent_code", "agent_cart", "conversation", "cart_token", "customer")
CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class OrderFacts:
    """An order as attribution needs it, whatever platform it came from."""

    order_id: str
    name: str | None = None
    ordered_at: datetime | None = None
    updated_at: datetime | None = None
    # The conversation id the order says it came from (unverified: checked against the shop).
    conversation_hint: str | None = None
    # Without any `?key=` part.
    cart_token: str | None = None
    customer_id: str | None = None
    email: str | None = None
    total: Decimal | None = None
    refunded: Decimal = Decimal(0)
    currency: str | None = None
    financial_status: str | None = None
    cancelled_at: datetime | None = None
    # What the agent may have offered: the discount codes used, the variants bought,
    # and the discount the order was given in all.
    discount_codes: tuple[str, ...] = ()
    variant_ids: tuple[str, ...] = ()
    discount: Decimal | None = None


def flag_for(facts: OrderFacts) -> str | None:
    """Why an order must not be counted, though it is kept; None when it counts."""
    if not facts.currency or not CURRENCY.match(facts.currency):
        return "missing_currency"
    if facts.total is None:
        return "missing_amount"
    if facts.total < 0 or facts.refunded < 0:
        return "negative_amount"
    return None


def counts(link: OrderLink) -> bool:
    """An order counts towards revenue unless flagged, cancelled or fully refunded."""
    if link.flag or link.cancelled_at is not None or link.total is None:
        return False
    return net_revenue(link) > 0


def net_revenue(link: OrderLink) -> Decimal:
    return (link.total or Decimal(0)) - (link.refunded or Decimal(0))


def find_conversation(
    session: Session, shop_id: int, facts: OrderFacts, window: timedelta
) -> tuple[Conversation, str] | None:
    """The conversation the order came from and the rule that says so, strongest first."""
    if facts.conversation_hint:
        conversation = session.get(Conversation, facts.conversation_hint[:36])
        # A conversation of another shop named in an order is ignored, never linked.
        if conversation is not None and conversation.shop_id == shop_id:
            return conversation, "conversation"
    if facts.cart_token:
        conversation = session.exec(
            select(Conversation)
            .join(CartSnapshot, col(CartSnapshot.conversation_id) == Conversation.id)
            .where(CartSnapshot.shop_id == shop_id, CartSnapshot.cart_token == facts.cart_token)
            .order_by(col(CartSnapshot.id).desc())
            .limit(1)
        ).first()
        if conversation is not None:
            return conversation, "cart_token"
    if facts.customer_id or facts.email:
        when = facts.ordered_at
        # One indexed look-up per way of knowing the customer, (shop_id, customer_id) and
        # (shop_id, lower(email)) (migration 0008): an OR of the two in one query makes
        # both databases read every visitor of the shop.
        visitor_ids: set[str] = set()
        if facts.customer_id:
            visitor_ids |= set(
                session.exec(
                    select(Visitor.id).where(Visitor.shop_id == shop_id, Visitor.customer_id == facts.customer_id)
                )
            )
        if facts.email:
            visitor_ids |= set(
                session.exec(
                    select(Visitor.id).where(
                        Visitor.shop_id == shop_id, sa.func.lower(Visitor.email) == facts.email.lower()
                    )
                )
            )
        if not visitor_ids:
            return None
        query = (
            select(Conversation)
            .where(col(Conversation.visitor_id).in_(visitor_ids))
            .order_by(col(Conversation.created_at).desc())
            .limit(1)
        )
        if when is not None:
            # Active within the window before the order: its last message (or its start) is recent enough.
            active = sa.func.coalesce(Conversation.last_message_at, Conversation.created_at)
            query = query.where(active >= when - window, Conversation.created_at <= when)
        conversation = session.exec(query).first()
        if conversation is not None:
            return conversation, "customer"
    return None


def attribution_window(settings: Mapping[str, Any]) -> timedelta:
    """The shop's window for the `customer` rule and for calling a cart abandoned
    (Settings → Sales from chat; checked when saved, defaulted by the shop's settings)."""
    return timedelta(days=int(settings["attribution_window_days"]))


def attribute_order(session: Session, shop_id: int, facts: OrderFacts, window: timedelta) -> str:
    """Link or update the order; returns what happened: linked, updated, stale or unattributed.
    `window` is the shop's attribution window (attribution_window)."""
    link = session.exec(
        select(OrderLink).where(OrderLink.shop_id == shop_id, OrderLink.order_id == facts.order_id)
    ).first()
    if link is not None:
        if (
            facts.updated_at is not None
            and link.source_updated_at is not None
            and facts.updated_at <= link.source_updated_at
        ):
            return "stale"
        _apply(link, facts)
        session.add(link)
        session.flush()
        return "updated"
    found = offers.credit(
        session,
        shop_id,
        find_conversation(session, shop_id, facts, window),
        codes=facts.discount_codes,
        variant_ids=facts.variant_ids,
        checkout_token=facts.cart_token,
    )
    if found is None:
        return "unattributed"
    conversation, rule = found
    link = OrderLink(shop_id=shop_id, conversation_id=conversation.id, order_id=facts.order_id, rule=rule)
    _apply(link, facts)
    try:
        # Two deliveries of the same new order may race; the unique key keeps one link.
        with session.begin_nested():
            session.add(link)
    except sa.exc.IntegrityError:
        return "duplicate"
    return f"linked:{rule}"


def _apply(link: OrderLink, facts: OrderFacts) -> None:
    link.order_name = facts.name or link.order_name
    link.customer_id = facts.customer_id or link.customer_id
    link.total = facts.total
    link.refunded = facts.refunded
    link.currency = facts.currency
    link.financial_status = facts.financial_status
    link.cancelled_at = facts.cancelled_at
    link.ordered_at = facts.ordered_at or link.ordered_at
    link.source_updated_at = facts.updated_at
    link.flag = flag_for(facts)
    link.discount = facts.discount if facts.discount is not None else link.discount
