"""Cart snapshots as the widget reads them from the storefront (`/cart.js` shape,
money in minor units), checked and turned into exact Decimals."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from app.chat.priority import priority_at
from app.models import CartSnapshot, Conversation

CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_LINES = 250
MAX_TEXT = 500


class CartError(ValueError):
    """The snapshot is not a cart; the message says what is wrong."""


@dataclass(frozen=True)
class CartLine:
    title: str
    quantity: int
    price: Decimal
    line_price: Decimal
    variant_id: str | None
    product_id: str | None
    url: str | None

    def as_json(self) -> dict:
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


def _minor(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CartError(f"{field} must be a non-negative whole number of minor units")
    return Decimal(value).scaleb(-2)


def _text(value: Any, field: str, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        raise CartError(f"{field} must be text")
    return value[:MAX_TEXT]


def parse_cart(data: Any) -> Cart:
    if not isinstance(data, dict):
        raise CartError("the cart must be a JSON object")
    currency = data.get("currency")
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        raise CartError("currency must be a three-letter ISO code such as EUR")
    items = data.get("items", [])
    if not isinstance(items, list) or len(items) > MAX_LINES:
        raise CartError(f"items must be a list of at most {MAX_LINES} lines")
    lines = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise CartError(f"items[{index}] must be an object")
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise CartError(f"items[{index}].quantity must be a non-negative whole number")
        price = _minor(item.get("price"), f"items[{index}].price")
        line_price = _minor(item.get("line_price", int(price * 100) * quantity), f"items[{index}].line_price")
        lines.append(
            CartLine(
                title=_text(item.get("title") or item.get("product_title") or "", f"items[{index}].title") or "",
                quantity=quantity,
                price=price,
                line_price=line_price,
                variant_id=_text(item.get("variant_id"), f"items[{index}].variant_id"),
                product_id=_text(item.get("product_id"), f"items[{index}].product_id"),
                url=_text(item.get("url"), f"items[{index}].url"),
            )
        )
    total = _minor(data.get("total_price"), "total_price")
    item_count = data.get("item_count", sum(line.quantity for line in lines))
    if isinstance(item_count, bool) or not isinstance(item_count, int) or item_count < 0:
        raise CartError("item_count must be a non-negative whole number")
    token = data.get("token")
    if token is not None and (not isinstance(token, str) or len(token) > 255):
        raise CartError("token must be text of at most 255 characters")
    return Cart(token=token, currency=currency, total=total, item_count=item_count, lines=tuple(lines))


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
        select(CartSnapshot).where(CartSnapshot.shop_id == shop_id, CartSnapshot.cart_token == token).order_by(CartSnapshot.id.desc())
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
    if latest is not None and (latest.total, latest.lines, latest.checkout_url, latest.currency) == (facts.total, lines, checkout_url, currency):
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
