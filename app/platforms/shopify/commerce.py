"""Shopify's order, cart and checkout webhooks, read into the platform-neutral
facts that app/commerce attributes and follows.

Payloads are REST-shaped JSON (API version pinned in shopify.app.toml). Money
arrives as decimal strings ("129.90") and is read with Decimal, never float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from app.commerce.attribution import OrderFacts
from app.commerce.carts import CartFacts, CartLine, strip_cart_key
from app.platforms.shopify.requests import ShopifyRequestError

# The cart attribute the widget writes (extensions/parley-chat/assets/parley-panel.js);
# Shopify copies cart attributes onto the order and checkout as note_attributes.
CONVERSATION_ATTRIBUTE = "parley_conversation"

ORDER_TOPICS = {"orders/create", "orders/updated"}
CART_TOPICS = {"carts/create", "carts/update"}
CHECKOUT_TOPICS = {"checkouts/create", "checkouts/update"}
TOPICS = ORDER_TOPICS | CART_TOPICS | CHECKOUT_TOPICS


def _missing(field: str) -> ShopifyRequestError:
    return ShopifyRequestError(400, "missing_field", f"the payload has no usable {field}")


def _time(payload: dict[str, Any], field: str, required: bool = False) -> datetime | None:
    value = payload.get(field)
    if value in (None, ""):
        if required:
            raise _missing(field)
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ShopifyRequestError(400, "invalid_field", f"{field} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise ShopifyRequestError(400, "invalid_field", f"{field} has no UTC offset")
    return parsed


def _id(payload: dict[str, Any], *fields: str) -> str:
    for field in fields:
        value = payload.get(field)
        if isinstance(value, bool):
            continue
        if isinstance(value, int) or (isinstance(value, str) and value.strip()):
            return str(value).strip()[:255]
    raise _missing(" or ".join(fields))


def _money(value: Any) -> Decimal | None:
    """A decimal string or number as Decimal; None when absent or unreadable (the order is flagged, not refused)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _conversation_hint(payload: dict[str, Any]) -> str | None:
    attributes = payload.get("note_attributes")
    if not isinstance(attributes, list):
        return None
    for attribute in attributes:
        if (
            isinstance(attribute, dict)
            and attribute.get("name") == CONVERSATION_ATTRIBUTE
            and isinstance(attribute.get("value"), str)
        ):
            return attribute["value"].strip() or None
    return None


def _refunded(payload: dict[str, Any]) -> Decimal:
    """Money given back: the successful refund transactions of every refund on the order."""
    total = Decimal(0)
    for refund in payload.get("refunds") or []:
        if not isinstance(refund, dict):
            continue
        for transaction in refund.get("transactions") or []:
            if not isinstance(transaction, dict) or transaction.get("kind") != "refund":
                continue
            if transaction.get("status") not in (None, "success"):
                continue
            amount = _money(transaction.get("amount"))
            if amount is not None:
                total += amount
    return total


def order_facts(payload: dict[str, Any]) -> OrderFacts:
    order_id = _id(payload, "id")
    customer = payload.get("customer")
    if not isinstance(customer, dict):
        customer = {}
    customer_id = customer.get("id")
    email = payload.get("email") or customer.get("email")
    currency = payload.get("currency")
    return OrderFacts(
        order_id=order_id,
        name=str(payload.get("name"))[:64] if payload.get("name") else None,
        ordered_at=_time(payload, "created_at", required=True),
        updated_at=_time(payload, "updated_at", required=True),
        conversation_hint=_conversation_hint(payload),
        cart_token=strip_cart_key(payload.get("cart_token") if isinstance(payload.get("cart_token"), str) else None),
        customer_id=str(customer_id) if isinstance(customer_id, int) and not isinstance(customer_id, bool) else None,
        email=email[:320] if isinstance(email, str) and email else None,
        total=_money(payload.get("total_price")),
        refunded=_refunded(payload),
        currency=currency.upper() if isinstance(currency, str) and currency else None,
        financial_status=str(payload.get("financial_status"))[:30] if payload.get("financial_status") else None,
        cancelled_at=_time(payload, "cancelled_at"),
        discount_codes=_discount_codes(payload),
        variant_ids=_variant_ids(payload),
        discount=_money(payload.get("total_discounts")),
    )


def _discount_codes(payload: dict[str, Any]) -> tuple[str, ...]:
    """discount_codes: [{code, amount, type}] on the order."""
    codes = payload.get("discount_codes")
    if not isinstance(codes, list):
        return ()
    return tuple(
        str(c["code"])[:255] for c in codes if isinstance(c, dict) and isinstance(c.get("code"), str) and c["code"]
    )


def _variant_ids(payload: dict[str, Any]) -> tuple[str, ...]:
    items = payload.get("line_items")
    if not isinstance(items, list):
        return ()
    return tuple(
        str(item["variant_id"])
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("variant_id"), int)
        and not isinstance(item["variant_id"], bool)
    )


def _lines(payload: dict[str, Any]) -> tuple[CartLine, ...]:
    items = payload.get("line_items")
    if not isinstance(items, list):
        raise _missing("line_items")
    lines = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ShopifyRequestError(400, "invalid_field", f"line_items[{index}] is not an object")
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ShopifyRequestError(400, "invalid_field", f"line_items[{index}].quantity is not a whole number")
        price = _money(item.get("price")) or Decimal(0)
        line_price = _money(item.get("line_price"))
        lines.append(
            CartLine(
                title=str(item.get("title") or item.get("name") or "")[:500],
                quantity=quantity,
                price=price,
                line_price=line_price if line_price is not None else price * quantity,
                variant_id=str(item["variant_id"]) if item.get("variant_id") is not None else None,
                product_id=str(item["product_id"]) if item.get("product_id") is not None else None,
                url=None,
            )
        )
    return tuple(lines)


def cart_facts(payload: dict[str, Any]) -> CartFacts:
    """carts/create, carts/update: the cart token is `token` (also `id`); no currency is sent."""
    token = _id(payload, "token", "id")
    lines = _lines(payload)
    return CartFacts(
        token=token,
        currency=None,
        total=sum((line.line_price for line in lines), Decimal(0)),
        item_count=sum(line.quantity for line in lines),
        lines=lines,
        updated_at=_time(payload, "updated_at"),
        conversation_hint=_conversation_hint(payload),
    )


def checkout_facts(payload: dict[str, Any]) -> CartFacts | None:
    """checkouts/create, checkouts/update: followed through their `cart_token`; a checkout
    without one (created through the API) cannot belong to a chatter's cart."""
    _id(payload, "token", "id")
    lines = _lines(payload)
    cart_token = payload.get("cart_token")
    if not isinstance(cart_token, str) or not cart_token:
        return None
    currency = payload.get("currency") or payload.get("presentment_currency")
    url = payload.get("abandoned_checkout_url")
    return CartFacts(
        token=cart_token,
        currency=currency.upper() if isinstance(currency, str) and len(currency) == 3 else None,
        total=_money(payload.get("total_price")),
        item_count=sum(line.quantity for line in lines),
        lines=lines,
        updated_at=_time(payload, "updated_at"),
        conversation_hint=_conversation_hint(payload),
        checkout_url=url if isinstance(url, str) and url.startswith("https://") else None,
    )


def validate(topic: str, payload: dict[str, Any]) -> None:
    """Refuse (400) a payload the topic's processing could not use, before it is stored."""
    if topic in ORDER_TOPICS:
        order_facts(payload)
    elif topic in CART_TOPICS:
        cart_facts(payload)
    elif topic in CHECKOUT_TOPICS:
        checkout_facts(payload)
