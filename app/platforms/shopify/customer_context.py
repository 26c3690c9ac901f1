"""The customer beside a conversation: who they are and their last orders, from
the Admin GraphQL API, cached, and polite about Shopify's rate limits.

When Shopify is throttled or down the panel gets what we had (or nothing) and a
sentence saying so, never an error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.commerce.orders import status_words
from app.platforms.shopify.admin_api import (
    AdminAPI,
    AdminAPIError,
    AdminAPIThrottled,
    AdminAPIUnauthorized,
    AdminAPIUnavailable,
)

CUSTOMER_QUERY = """
query CustomerContext($id: ID!) {
  customer(id: $id) {
    id displayName firstName lastName numberOfOrders
    defaultEmailAddress { emailAddress }
    orders(first: 5, sortKey: CREATED_AT, reverse: true) {
      nodes {
        id name createdAt displayFinancialStatus displayFulfillmentStatus
        totalPriceSet { shopMoney { amount currencyCode } }
      }
    }
  }
}
"""
FRESH_SECONDS = 300
# Below this many points left in the bucket we pause before asking again.
LOW_WATER = 100.0


@dataclass
class _Entry:
    fetched_at: float
    value: dict[str, Any]


class CustomerContext:
    def __init__(self, api_for: Callable[[str], AdminAPI], clock: Callable[[], float] = time.monotonic):
        self._api_for = api_for
        self._clock = clock
        self._cache: dict[tuple[str, str], _Entry] = {}
        self._paused_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def lookup(self, shop: str, customer_id: str) -> dict[str, Any]:
        key = (shop, customer_id)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            paused = self._paused_until.get(shop, 0.0)
        if cached and now - cached.fetched_at < FRESH_SECONDS:
            return {**cached.value, "source": "cache", "notice": None}
        if now < paused:
            return self._fallback(cached, f"Shopify asked us to slow down; trying again in {int(paused - now) + 1} s.")
        try:
            result = self._api_for(shop).execute(CUSTOMER_QUERY, {"id": f"gid://shopify/Customer/{customer_id}"})
        except AdminAPIThrottled as exc:
            with self._lock:
                self._paused_until[shop] = now + exc.retry_after
            return self._fallback(cached, f"Shopify asked us to slow down; trying again in {int(exc.retry_after)} s.")
        except AdminAPIUnauthorized:
            return self._fallback(cached, "Shopify refused Parley's access token; reinstalling the app fixes this.")
        except AdminAPIUnavailable:
            return self._fallback(cached, "Shopify could not be reached just now.")
        except AdminAPIError:
            return self._fallback(cached, "Shopify's answer could not be read.")
        value = _shape(result.data.get("customer"))
        self._respect_bucket(shop, result.cost, now)
        with self._lock:
            self._cache[key] = _Entry(now, value)
        return {**value, "source": "live", "notice": None}

    def _respect_bucket(self, shop: str, cost: dict[str, Any], now: float) -> None:
        status = (cost or {}).get("throttleStatus") or {}
        available, rate = status.get("currentlyAvailable"), status.get("restoreRate") or 50
        if available is not None and available < LOW_WATER:
            with self._lock:
                self._paused_until[shop] = now + (LOW_WATER - float(available)) / float(rate)

    @staticmethod
    def _fallback(cached: _Entry | None, notice: str) -> dict[str, Any]:
        if cached is None:
            return {"customer": None, "orders": [], "source": "none", "notice": notice}
        return {**cached.value, "source": "cache", "notice": notice}


def _shape(customer: dict[str, Any] | None) -> dict[str, Any]:
    if not customer:
        return {"customer": None, "orders": []}
    orders = [
        {
            "id": node["id"],
            "name": node.get("name"),
            "created_at": node.get("createdAt"),
            "financial_status": node.get("displayFinancialStatus"),
            "fulfillment_status": node.get("displayFulfillmentStatus"),
            "status_label": status_words(node.get("displayFinancialStatus"), node.get("displayFulfillmentStatus")),
            "total": ((node.get("totalPriceSet") or {}).get("shopMoney") or {}).get("amount"),
            "currency": ((node.get("totalPriceSet") or {}).get("shopMoney") or {}).get("currencyCode"),
        }
        for node in ((customer.get("orders") or {}).get("nodes") or [])
    ]
    return {
        "customer": {
            "id": customer.get("id"),
            "name": customer.get("displayName"),
            "email": (customer.get("defaultEmailAddress") or {}).get("emailAddress"),
            "orders_count": customer.get("numberOfOrders"),
        },
        "orders": orders,
    }
