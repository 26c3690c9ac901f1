"""Carts beside conversations: the widget's snapshot (`/cart.js` shape, money in minor
units) checked and turned into exact Decimals, the platforms' word on a cart
(CartFacts), and the one JSON shape both are shown in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlmodel import Session, col, select

from app.clock import iso
from app.commerce.money import amount_text
from app.commerce.priority import priority_at
from app.inputs import Refusal, parse
from app.models import CartSnapshot, Conversation

CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_LINES = 250
MAX_TEXT = 500
# Ten trillion in a currency's units: beyond any real cart, and well inside what a Money
# column holds (2**63 ten-thousandths); sums of a few such lines still fit.
MAX_MINOR_UNITS = 10**15
# Items in a cart, or of one line: beyond any real cart, inside a 32-bit count column.
MAX_COUNT = 1_000_000


def _minor_units(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("not minor units")
    if value > MAX_MINOR_UNITS:
        raise Refusal(f"{{field}} must be at most {MAX_MINOR_UNITS:,} minor units")
    return Decimal(value).scaleb(-2)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("not text")
    return value[:MAX_TEXT]


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("not a count")
    if value > MAX_COUNT:
        raise Refusal(f"{{field}} must be at most {MAX_COUNT:,}")
    return value


# Money as the storefront sends it: whole minor units (cents), never a float.
MinorUnits = Annotated[Decimal, BeforeValidator(_minor_units)]
Count = Annotated[int, BeforeValidator(_count)]
# Ids and titles arrive as text or as numbers; kept as text, cut to a sane length.
Text = Annotated[str | None, BeforeValidator(_text)]


@dataclass(frozen=True)
class CartLine:
    title: str
    quantity: int
    price: Decimal
    line_price: Decimal
    variant_id: str | None
    product_id: str | None
    url: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "quantity": self.quantity,
            "price": str(self.price),
            "line_price": str(self.line_price),
            "variant_id": self.variant_id,
            "product_id": self.product_id,
            "url": self.url,
        }


@dataclass(frozen=True)
class Cart:
    token: str | None
    currency: str
    total: Decimal
    item_count: int
    lines: tuple[CartLine, ...]


def strip_cart_key(token: str | None) -> str | None:
    """Cart tokens carry `?key=…` in Ajax answers; orders carry the token without it."""
    if not token:
        return None
    return token.split("?", 1)[0] or None


class _Line(BaseModel):
    model_config = ConfigDict(extra="ignore")

    quantity: Count
    price: MinorUnits
    line_price: MinorUnits | None = None
    title: Text = None
    product_title: Text = None
    variant_id: Text = None
    product_id: Text = None
    url: Text = None


class _Cart(BaseModel):
    """The widget's snapshot of `/cart.js` (Shopify's Ajax cart shape), money in minor units."""

    model_config = ConfigDict(extra="ignore")

    currency: Annotated[str, Field(strict=True, pattern=r"^[A-Z]{3}$")]
    items: Annotated[list[_Line], Field(max_length=MAX_LINES)] = []
    total_price: MinorUnits
    item_count: Count | None = None
    token: Annotated[str, Field(strict=True, max_length=255)] | None = None


CART_MESSAGES = {
    "": "the cart must be a JSON object",
    "currency": "currency must be a three-letter ISO code such as EUR",
    "items": f"items must be a list of at most {MAX_LINES} lines",
    "items[*]": "{field} must be an object",
    "items[*].quantity": "{field} must be a non-negative whole number",
    "items[*].price": "{field} must be a non-negative whole number of minor units",
    "items[*].line_price": "{field} must be a non-negative whole number of minor units",
    "items[*].title": "{field} must be text",
    "items[*].product_title": "{field} must be text",
    "items[*].variant_id": "{field} must be text",
    "items[*].product_id": "{field} must be text",
    "items[*].url": "{field} must be text",
    "total_price": "total_price must be a non-negative whole number of minor units",
    "item_count": "item_count must be a non-negative whole number",
    "token": "token must be text of at most 255 characters",
}


def parse_cart(data: Any) -> Cart:
    """A cart snapshot from the widget, or ParleyError(400, invalid_cart) naming what is wrong."""
    cart = parse(_Cart, data, code="invalid_cart", messages=CART_MESSAGES)
    lines = tuple(
        CartLine(
            title=item.title or item.product_title or "",
            quantity=item.quantity,
            price=item.price,
            line_price=item.line_price if item.line_price is not None else item.price * item.quantity,
            variant_id=item.variant_id,
            product_id=item.product_id,
            url=item.url,
        )
        for item in cart.items
    )
    item_count = cart.item_count if cart.item_count is not None else sum(line.quantity for line in lines)
    return Cart(token=cart.token, currency=cart.currency, total=cart.total_price, item_count=item_count, lines=lines)


def cart_json(cart: Cart) -> dict[str, Any]:
    """The one shape of a cart in Parley's JSON, wherever it came from."""
    return {
        "token": cart.token,
        "currency": cart.currency,
        "total": amount_text(cart.total, cart.currency),
        "item_count": cart.item_count,
        "lines": [line.as_json() for line in cart.lines],
    }


def snapshot_json(snapshot: CartSnapshot | None) -> dict[str, Any] | None:
    """A stored cart in the same shape, with when it was seen."""
    if snapshot is None:
        return None
    return {
        "token": snapshot.cart_token,
        "currency": snapshot.currency,
        "total": amount_text(snapshot.total, snapshot.currency) if snapshot.total is not None else None,
        "item_count": snapshot.item_count,
        "lines": snapshot.lines or [],
        "at": iso(snapshot.created_at),
    }


def store_cart(session: Session, conversation: Conversation, cart: Cart, now: datetime) -> bool:
    """Keep the cart beside the conversation, inside the caller's transaction; False when unchanged."""
    lines = [line.as_json() for line in cart.lines]
    token = strip_cart_key(cart.token)
    latest = session.exec(
        select(CartSnapshot)
        .where(CartSnapshot.conversation_id == conversation.id)
        .order_by(col(CartSnapshot.id).desc())
        .limit(1)
    ).first()
    if latest is not None and (latest.cart_token, latest.currency, latest.total, latest.lines) == (
        token,
        cart.currency,
        cart.total,
        lines,
    ):
        return False
    session.add(
        CartSnapshot(
            shop_id=conversation.shop_id,
            conversation_id=conversation.id,
            cart_token=token,
            currency=cart.currency,
            total=cart.total,
            item_count=cart.item_count,
            lines=lines,
            created_at=now,
        )
    )
    conversation.cart_value = cart.total
    conversation.cart_currency = cart.currency
    conversation.priority_at = priority_at(conversation.waiting_since, conversation.cart_value)
    session.add(conversation)
    return True


@dataclass(frozen=True)
class CartFacts:
    """A cart or checkout as a platform webhook reports it (money already Decimal)."""

    token: str
    currency: str | None
    total: Decimal | None
    item_count: int
    lines: tuple[CartLine, ...]
    updated_at: datetime | None = None
    conversation_hint: str | None = None
    checkout_url: str | None = None


def follow_cart(session: Session, shop_id: int, facts: CartFacts, now: datetime) -> str:
    """Keep a chatter's cart current from the platform's own word on it.

    Only carts already seen in a conversation (by token, or named by the cart
    attribute) are followed: Parley is not a cart tracker for every visitor.
    Returns what happened: stored, unchanged, stale or unknown.
    """
    token = strip_cart_key(facts.token)
    known = session.exec(
        select(CartSnapshot)
        .where(CartSnapshot.shop_id == shop_id, CartSnapshot.cart_token == token)
        .order_by(col(CartSnapshot.id).desc())
    ).all()
    conversation = None
    if facts.conversation_hint:
        found = session.get(Conversation, facts.conversation_hint[:36])
        conversation = found if found is not None and found.shop_id == shop_id else None
    if conversation is None and known:
        conversation = session.get(Conversation, known[0].conversation_id)
    if conversation is None:
        return "unknown"
    newest = max((s.source_updated_at for s in known if s.source_updated_at), default=None)
    if facts.updated_at is not None and newest is not None and facts.updated_at <= newest:
        return "stale"
    lines = [line.as_json() for line in facts.lines]
    latest = next((s for s in known if s.conversation_id == conversation.id), None)
    checkout_url = facts.checkout_url or (latest.checkout_url if latest else None)
    currency = facts.currency or (latest.currency if latest else None)
    if latest is not None and (latest.total, latest.lines, latest.checkout_url, latest.currency) == (
        facts.total,
        lines,
        checkout_url,
        currency,
    ):
        latest.source_updated_at = facts.updated_at or latest.source_updated_at
        session.add(latest)
        return "unchanged"
    session.add(
        CartSnapshot(
            shop_id=shop_id,
            conversation_id=conversation.id,
            cart_token=token,
            currency=currency,
            total=facts.total,
            item_count=facts.item_count,
            lines=lines,
            checkout_url=checkout_url,
            source_updated_at=facts.updated_at,
            created_at=now,
        )
    )
    if currency:
        conversation.cart_value = facts.total
        conversation.cart_currency = currency
        conversation.priority_at = priority_at(conversation.waiting_since, conversation.cart_value)
        session.add(conversation)
    session.flush()
    return "stored"
