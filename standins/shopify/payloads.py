"""Order, cart and checkout webhook bodies as Shopify sends them (REST-shaped JSON,
API version 2026-10), for the stand-in's demo checkout, the tests and the bench.

Field names and types follow Shopify's REST Order / Checkout resources and the
`orders/create`, `carts/update`, `checkouts/update` webhook examples: ids are
integers, money is a decimal string, times carry the shop's UTC offset, cart
attributes travel as `note_attributes: [{name, value}]`, refunds carry their
money in `transactions` of kind `refund`. Development and tests only.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

_ids = itertools.count(820982911946154508)


def _stamp(when: datetime) -> str:
    # Shopify writes times in the shop's zone with an offset, e.g. 2026-11-20T10:15:00-05:00.
    return when.astimezone(timezone(timedelta(hours=-5))).isoformat(timespec="seconds")


def _money(amount: Decimal | str) -> str:
    return f"{Decimal(amount):.2f}"


def _set(amount: Decimal | str, currency: str) -> dict:
    value = _money(amount)
    return {
        "shop_money": {"amount": value, "currency_code": currency},
        "presentment_money": {"amount": value, "currency_code": currency},
    }


def line_item(
    title: str,
    price: Decimal | str,
    quantity: int = 1,
    *,
    currency: str = "EUR",
    variant_id: int = 808950810,
    product_id: int = 632910392,
) -> dict:
    line_id = next(_ids)
    return {
        "id": line_id,
        "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
        "fulfillable_quantity": quantity,
        "fulfillment_service": "manual",
        "fulfillment_status": None,
        "gift_card": False,
        "grams": 200,
        "name": title,
        "price": _money(price),
        "price_set": _set(price, currency),
        "product_exists": True,
        "product_id": product_id,
        "properties": [],
        "quantity": quantity,
        "requires_shipping": True,
        "sku": f"SKU-{variant_id}",
        "taxable": True,
        "title": title,
        "total_discount": "0.00",
        "total_discount_set": _set("0", currency),
        "variant_id": variant_id,
        "variant_title": None,
        "vendor": "Fjord Gear",
        "tax_lines": [],
        "discount_allocations": [],
    }


def customer(customer_id: int, email: str, first_name: str = "Kari", last_name: str = "Nordmann") -> dict:
    return {
        "id": customer_id,
        "email": email,
        "created_at": "2026-01-12T09:00:00-05:00",
        "updated_at": "2026-11-01T09:00:00-05:00",
        "first_name": first_name,
        "last_name": last_name,
        "state": "enabled",
        "note": None,
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "phone": None,
        "currency": "EUR",
        "tax_exemptions": [],
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
        "default_address": None,
    }


def order_payload(
    *,
    order_id: int | None = None,
    number: int = 1001,
    lines: list[dict] | None = None,
    currency: str | None = "EUR",
    total: Decimal | str | None = None,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
    note_attributes: dict[str, str] | None = None,
    cart_token: str | None = None,
    buyer: dict | None = None,
    cancelled_at: datetime | None = None,
    refunds: Sequence[Decimal | str] = (),
    financial_status: str = "paid",
    discount_codes: Sequence[dict] = (),
) -> dict[str, Any]:
    """An `orders/create` / `orders/updated` body. `refunds` lists refunded amounts;
    `discount_codes` [{code, amount, type}] come off the total (total_discounts)."""
    order_id = order_id or next(_ids)
    created = created_at or datetime.now(UTC)
    lines = lines if lines is not None else [line_item("Fjord parka", "249.00", currency=currency or "EUR")]
    subtotal = sum((Decimal(line["price"]) * line["quantity"] for line in lines), Decimal(0))
    discounts = sum((Decimal(c["amount"]) for c in discount_codes), Decimal(0))
    amount = Decimal(total) if total is not None else subtotal - discounts
    refunded = sum((Decimal(r) for r in refunds), Decimal(0))
    money_currency = currency or "EUR"
    email = buyer["email"] if buyer else None
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "app_id": 580111,
        "browser_ip": "203.0.113.7",
        "buyer_accepts_marketing": False,
        "cancel_reason": "customer" if cancelled_at else None,
        "cancelled_at": _stamp(cancelled_at) if cancelled_at else None,
        "cart_token": cart_token,
        "checkout_id": order_id + 7,
        "checkout_token": f"{order_id:x}chk",
        "client_details": {"accept_language": "en-GB", "browser_ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
        "closed_at": None,
        "confirmation_number": f"CONF{number}",
        "confirmed": True,
        "contact_email": email,
        "created_at": _stamp(created),
        "currency": currency,
        "current_subtotal_price": _money(subtotal - refunded),
        "current_total_discounts": _money(discounts),
        "current_total_price": _money(amount - refunded),
        "current_total_price_set": _set(amount - refunded, money_currency),
        "current_total_tax": "0.00",
        "customer_locale": "en",
        "discount_codes": list(discount_codes),
        "email": email or "",
        "financial_status": financial_status,
        "fulfillment_status": None,
        "landing_site": "/products/fjord-parka",
        "name": f"#{number}",
        "note": None,
        "note_attributes": [{"name": k, "value": v} for k, v in (note_attributes or {}).items()],
        "number": number - 1000,
        "order_number": number,
        "order_status_url": f"https://fjord-gear.myshopify.com/7/orders/{order_id:x}/authenticate",
        "payment_gateway_names": ["bogus"],
        "phone": None,
        "presentment_currency": currency,
        "processed_at": _stamp(created),
        "referring_site": "",
        "source_name": "web",
        "subtotal_price": _money(subtotal),
        "subtotal_price_set": _set(subtotal, money_currency),
        "tags": "",
        "tax_lines": [],
        "taxes_included": True,
        "test": False,
        "token": f"{order_id:x}tok",
        "total_discounts": _money(discounts),
        "total_line_items_price": _money(subtotal),
        "total_price": _money(amount),
        "total_price_set": _set(amount, money_currency),
        "total_tax": "0.00",
        "total_weight": 200,
        "updated_at": _stamp(updated_at or created),
        "user_id": None,
        "billing_address": None,
        "customer": buyer,
        "line_items": lines,
        "refunds": [_refund(order_id, Decimal(r), money_currency, created) for r in refunds],
        "shipping_lines": [],
    }


def _refund(order_id: int, amount: Decimal, currency: str, created: datetime) -> dict:
    refund_id = next(_ids)
    return {
        "id": refund_id,
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "created_at": _stamp(created + timedelta(days=1)),
        "note": "Returned",
        "order_id": order_id,
        "processed_at": _stamp(created + timedelta(days=1)),
        "restock": True,
        "user_id": 548380009,
        "order_adjustments": [],
        "refund_line_items": [],
        "transactions": [
            {
                "id": next(_ids),
                "admin_graphql_api_id": "gid://shopify/OrderTransaction/1",
                "amount": _money(amount),
                "currency": currency,
                "gateway": "bogus",
                "kind": "refund",
                "order_id": order_id,
                "parent_id": None,
                "status": "success",
                "test": False,
            }
        ],
    }


def cart_payload(token: str, lines: list[dict], *, updated_at: datetime | None = None) -> dict[str, Any]:
    """A `carts/create` / `carts/update` body: the token without `?key=`, lines with line_price."""
    when = updated_at or datetime.now(UTC)
    items = []
    for line in lines:
        price = Decimal(line["price"])
        items.append(
            {
                "id": line["variant_id"],
                "properties": {},
                "quantity": line["quantity"],
                "variant_id": line["variant_id"],
                "key": f"{line['variant_id']}:{abs(hash(token)) % 10**8:x}",
                "discounted_price": _money(price),
                "discounts": [],
                "gift_card": False,
                "grams": 200,
                "line_price": _money(price * line["quantity"]),
                "original_line_price": _money(price * line["quantity"]),
                "original_price": _money(price),
                "price": _money(price),
                "product_id": line["product_id"],
                "sku": line["sku"],
                "taxable": True,
                "title": line["title"],
                "total_discount": "0.00",
                "vendor": "Fjord Gear",
            }
        )
    return {
        "id": token,
        "token": token,
        "line_items": items,
        "note": None,
        "updated_at": when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "created_at": when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def checkout_payload(
    token: str,
    cart_token: str | None,
    lines: list[dict],
    *,
    currency: str = "EUR",
    email: str | None = None,
    updated_at: datetime | None = None,
    note_attributes: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A `checkouts/create` / `checkouts/update` body (abandoned checkout)."""
    when = updated_at or datetime.now(UTC)
    total = sum((Decimal(line["price"]) * line["quantity"] for line in lines), Decimal(0))
    checkout_id = next(_ids)
    return {
        "id": checkout_id,
        "token": token,
        "cart_token": cart_token,
        "email": email,
        "gateway": None,
        "buyer_accepts_marketing": False,
        "created_at": _stamp(when),
        "updated_at": _stamp(when),
        "landing_site": "/",
        "note": None,
        "note_attributes": [{"name": k, "value": v} for k, v in (note_attributes or {}).items()],
        "referring_site": "",
        "shipping_lines": [],
        "taxes_included": True,
        "total_weight": 200,
        "currency": currency,
        "completed_at": None,
        "closed_at": None,
        "user_id": None,
        "location_id": None,
        "source_identifier": None,
        "source_url": None,
        "device_id": None,
        "phone": None,
        "customer_locale": "en",
        "name": f"#{checkout_id}",
        "source": None,
        "abandoned_checkout_url": f"https://fjord-gear.myshopify.com/74/checkouts/{token}/recover?key=abc",
        "discount_codes": [],
        "tax_lines": [],
        "source_name": "web",
        "presentment_currency": currency,
        "buyer_accepts_sms": False,
        "sms_marketing_phone": None,
        "total_discounts": "0.00",
        "total_line_items_price": _money(total),
        "total_price": _money(total),
        "total_tax": "0.00",
        "subtotal_price": _money(total),
        "total_duties": None,
        "reservation_token": None,
        "line_items": [
            {
                "applied_discounts": [],
                "discount_allocations": [],
                "key": f"k{line['variant_id']}",
                "destination_location_id": None,
                "fulfillment_service": "manual",
                "gift_card": False,
                "grams": 200,
                "origin_location_id": None,
                "presentment_title": line["title"],
                "presentment_variant_title": "",
                "product_id": line["product_id"],
                "properties": None,
                "quantity": line["quantity"],
                "requires_shipping": True,
                "sku": line["sku"],
                "tax_lines": [],
                "taxable": True,
                "title": line["title"],
                "variant_id": line["variant_id"],
                "variant_title": "",
                "variant_price": _money(line["price"]),
                "vendor": "Fjord Gear",
                "user_id": None,
                "unit_price_measurement": None,
                "rank": None,
                "compare_at_price": None,
                "line_price": _money(Decimal(line["price"]) * line["quantity"]),
                "price": _money(line["price"]),
            }
            for line in lines
        ],
        "customer": None,
    }


def simple_lines(*items: tuple[str, str, int]) -> list[dict]:
    """(title, price, quantity) → the line dicts cart_payload/checkout_payload take."""
    return [
        {
            "title": title,
            "price": price,
            "quantity": quantity,
            "variant_id": 40000 + i,
            "product_id": 7000 + i,
            "sku": f"SKU-{i}",
        }
        for i, (title, price, quantity) in enumerate(items)
    ]
