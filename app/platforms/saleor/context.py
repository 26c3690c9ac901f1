"""The customer and cart beside a conversation, from a Saleor's GraphQL API.

Same shape as the Shopify CustomerContext (app/platforms/shopify/customer_context.py):
`{customer, orders, source: live|cache|none, notice}`. Saleor being down, our token
refused or an answer we cannot read all become a notice, never an exception.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.commerce.carts import cart_json
from app.commerce.money import amount_text
from app.commerce.orders import status_words
from app.models import Shop
from app.platforms.saleor.api import (
    SaleorAPI,
    SaleorAPIError,
    SaleorTokenRefused,
    SaleorUnavailable,
    money,
    permission_denied,
)
from app.platforms.saleor.apps import SaleorApps
from app.platforms.saleor.checkouts import cart_from_checkout
from app.platforms.saleor.global_ids import checkout_id

_USER_FIELDS = """
  id email firstName lastName
  orders(first: 5) {
    totalCount
    edges { node { id number created status chargeStatus total { gross { amount currency } } } }
  }
"""
BY_EMAIL = "query ParleyCustomerByEmail($email: String!) { user(email: $email) {" + _USER_FIELDS + "} }"
BY_ID = "query ParleyCustomerById($id: ID!) { user(id: $id) {" + _USER_FIELDS + "} }"
CHECKOUT = """
query ParleyCartContext($id: ID!) {
  checkout(id: $id) {
    id token email
    totalPrice { gross { amount currency } }
    lines { id quantity variant { id name sku product { name } } totalPrice { gross { amount currency } } }
  }
}
"""
FRESH_SECONDS = 300
REFUSED = "Saleor refused Parley's app token; reinstalling the app fixes this."
# Saleor's order status says how far fulfilment got; chargeStatus says how far payment got.
FULFILMENT = {
    "UNFULFILLED": "UNFULFILLED",
    "UNCONFIRMED": "UNFULFILLED",
    "PARTIALLY_FULFILLED": "PARTIALLY_FULFILLED",
    "FULFILLED": "FULFILLED",
    "PARTIALLY_RETURNED": "PARTIALLY_RETURNED",
    "RETURNED": "RETURNED",
    "CANCELED": "CANCELED",
    "DRAFT": "DRAFT",
    "EXPIRED": "EXPIRED",
}


@dataclass
class _Entry:
    fetched_at: float
    value: dict[str, Any]


class SaleorCommerceContext:
    def __init__(
        self,
        apps: SaleorApps,
        clock: Callable[[], float] = time.monotonic,
        api_for: Callable[[Shop], SaleorAPI] | None = None,
    ):
        self._clock = clock
        self._api_for = api_for or apps.api
        self._cache: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    def lookup(self, shop: Shop, customer_id: str | None, email: str | None) -> dict[str, Any]:
        """The customer (by Saleor User id, else by e-mail) and their last five orders."""
        if customer_id:
            key = (shop.domain, f"id:{customer_id}")
        elif email:
            key = (shop.domain, f"email:{email.lower()}")
        else:
            return {"customer": None, "orders": [], "source": "none", "notice": None}
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached and now - cached.fetched_at < FRESH_SECONDS:
            return {**cached.value, "source": "cache", "notice": None}
        query, variables = (BY_ID, {"id": customer_id}) if customer_id else (BY_EMAIL, {"email": email})
        try:
            result = self._api_for(shop).execute(query, variables, partial_ok=True)
        except SaleorTokenRefused:
            return _fallback(cached, REFUSED)
        except SaleorUnavailable:
            return _fallback(cached, "Saleor could not be reached just now.")
        except (SaleorAPIError, LookupError):
            return _fallback(cached, "Saleor's answer could not be read.")
        if result.data.get("user") is None and permission_denied(result.errors):
            # A revoked token makes Saleor answer anonymously: `user` is denied, not missing.
            return _fallback(cached, REFUSED)
        value = _shape(result.data.get("user"))
        notice = None
        if permission_denied(result.errors) and value["customer"] is not None and not value["orders"]:
            # User.orders needs MANAGE_ORDERS when the app is not the owner; say why they are missing.
            notice = "Saleor did not share this customer's orders with Parley (it needs the MANAGE_ORDERS permission)."
        with self._lock:
            self._cache[key] = _Entry(now, value)
        return {**value, "source": "live", "notice": notice}

    def checkout(self, shop: Shop, token: str) -> dict[str, Any] | None:
        """The checkout's lines, total and currency; None when unknown or unreachable."""
        gid = checkout_id(token)
        if gid is None:
            return None
        try:
            result = self._api_for(shop).execute(CHECKOUT, {"id": gid}, partial_ok=True)
        except (SaleorAPIError, LookupError):
            return None
        found = result.data.get("checkout")
        cart = cart_from_checkout(found) if isinstance(found, dict) else None
        if cart is None:
            return None
        return cart_json(cart)


def _fallback(cached: _Entry | None, notice: str) -> dict[str, Any]:
    if cached is None:
        return {"customer": None, "orders": [], "source": "none", "notice": notice}
    return {**cached.value, "source": "cache", "notice": notice}


def _shape(user: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(user, dict):
        return {"customer": None, "orders": []}
    connection = user.get("orders") or {}
    orders = []
    for edge in connection.get("edges") or []:
        node = (edge or {}).get("node") or {}
        gross = ((node.get("total") or {}).get("gross")) or {}
        amount = money(gross.get("amount"))
        currency = gross.get("currency")
        status: Any = node.get("status")  # Saleor's OrderStatus name, or null
        orders.append(
            {
                "id": node.get("id"),
                "name": f"#{node['number']}" if node.get("number") else None,
                "created_at": node.get("created"),
                "financial_status": node.get("chargeStatus"),
                "fulfillment_status": FULFILMENT.get(status, status),
                "status_label": status_words(node.get("chargeStatus"), FULFILMENT.get(status, status)),
                "total": amount_text(amount, currency if isinstance(currency, str) else None)
                if amount is not None
                else None,
                "currency": gross.get("currency"),
            }
        )
    name = " ".join(part for part in (user.get("firstName"), user.get("lastName")) if part) or user.get("email")
    return {
        "customer": {
            "id": user.get("id"),
            "name": name,
            "email": user.get("email"),
            "orders_count": connection.get("totalCount", len(orders)) if connection else None,
        },
        "orders": orders,
    }
