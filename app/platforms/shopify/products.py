"""The shop's catalogue from the Admin GraphQL API (`read_products`): search for the
agent's product panel, one variant for a card, and the cart permalink a checkout link is.

Cached per shop and query, and polite about the bucket like the customer panel
(app/platforms/shopify/customer_context.py): throttled or down, the panel gets what we
had (or nothing) and a sentence saying so.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode

from app.commerce.catalogue import Product, Variant
from app.errors import ParleyError
from app.platforms.shopify.admin_api import (
    AdminAPI,
    AdminAPIError,
    AdminAPIThrottled,
    AdminAPIUnauthorized,
    AdminAPIUnavailable,
)

_PRODUCT_FIELDS = """
  id title handle onlineStoreUrl
  featuredMedia { preview { image { url } } }
  variants(first: 10) { nodes { id title sku price inventoryQuantity availableForSale image { url } } }
"""
SEARCH_QUERY = (
    "query ParleyProductSearch($query: String!, $first: Int!) { shop { currencyCode } "
    "products(first: $first, query: $query) { nodes {" + _PRODUCT_FIELDS + "} } }"
)
VARIANT_QUERY = (
    "query ParleyVariant($id: ID!) { shop { currencyCode } productVariant(id: $id) {"
    " id title sku price inventoryQuantity availableForSale image { url } product {" + _PRODUCT_FIELDS + "} } }"
)
FRESH_SECONDS = 60  # stock moves; a minute-old search is still worth showing
LOW_WATER = 100.0
MAX_QUERY = 100
RESULTS = 10
CONVERSATION_ATTRIBUTE = "parley_conversation"  # as the widget stamps carts (commerce.py)


@dataclass
class _Entry:
    fetched_at: float
    value: list[Product]


def numeric_id(gid_or_number: str, kind: str) -> str | None:
    """ "gid://shopify/ProductVariant/44" or "44" → "44"; None for anything else."""
    value = gid_or_number.strip()
    prefix = f"gid://shopify/{kind}/"
    if value.startswith(prefix):
        value = value[len(prefix) :]
    return value if value.isdigit() and len(value) < 20 else None


def search_terms(query: str) -> str:
    """Shopify's search syntax (shopify.dev/docs/api/usage/search-syntax) for title, SKU or
    handle: each word a prefix query on any of the three, the words ANDed. Characters the
    grammar gives a meaning (quotes, backslash, parentheses, colon, star) are dropped."""
    words = [re.sub(r"[\\\"'():*]", "", w) for w in query.split()]
    return " ".join(f"(title:{w}* OR sku:{w}* OR handle:{w}*)" for w in words[:6] if w)


class ShopifyProducts:
    def __init__(self, api_for: Callable[[str], AdminAPI], clock: Callable[[], float] = time.monotonic):
        self._api_for = api_for
        self._clock = clock
        self._cache: dict[tuple[str, str], _Entry] = {}
        self._paused_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def search(self, shop: str, query: str) -> dict[str, Any]:
        """{products, source: live|cache|none, notice}; never raises for Shopify's troubles."""
        terms = search_terms(query)
        if not terms:  # an empty query would list the whole catalogue
            return {"products": [], "source": "none", "notice": None}
        key = (shop, query.strip().lower())
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            paused = self._paused_until.get(shop, 0.0)
        if cached and now - cached.fetched_at < FRESH_SECONDS:
            return {"products": cached.value, "source": "cache", "notice": None}
        if now < paused:
            return _fallback(cached, f"Shopify asked us to slow down; trying again in {int(paused - now) + 1} s.")
        try:
            result = self._api_for(shop).execute(SEARCH_QUERY, {"query": terms, "first": RESULTS})
        except AdminAPIThrottled as exc:
            with self._lock:
                self._paused_until[shop] = now + exc.retry_after
            return _fallback(cached, f"Shopify asked us to slow down; trying again in {int(exc.retry_after)} s.")
        except AdminAPIUnauthorized:
            return _fallback(cached, "Shopify refused Parley's access token; reinstalling the app fixes this.")
        except AdminAPIUnavailable:
            return _fallback(cached, "Shopify could not be reached just now.")
        except AdminAPIError:
            return _fallback(cached, "Shopify's answer could not be read.")
        currency = (result.data.get("shop") or {}).get("currencyCode") or "USD"
        products = [
            p for p in (_product(n, currency) for n in (result.data.get("products") or {}).get("nodes") or []) if p
        ]
        self._respect_bucket(shop, result.cost, now)
        with self._lock:
            if len(self._cache) > 2000:  # a bound, not an LRU: searches are cheap to redo
                self._cache.clear()
            self._cache[key] = _Entry(now, products)
        return {"products": products, "source": "live", "notice": None}

    def variant(self, shop: str, variant_id: str) -> tuple[Product, Variant]:
        """The product and variant now, for a card or a cart line; 404 when the shop has no
        such variant (deleted, or another shop's), 503 when Shopify cannot say."""
        number = numeric_id(variant_id, "ProductVariant")
        if number is None:
            raise ParleyError(404, "product_not_found", "no such product variant in this shop")
        try:
            result = self._api_for(shop).execute(VARIANT_QUERY, {"id": f"gid://shopify/ProductVariant/{number}"})
        except AdminAPIThrottled as exc:
            raise ParleyError(
                503, "shopify_busy", f"Shopify asked us to slow down; try again in {int(exc.retry_after)} s"
            ) from None
        except AdminAPIUnauthorized:
            raise ParleyError(
                502, "platform_refused", "Shopify refused Parley's access token; reinstalling the app fixes this"
            ) from None
        except AdminAPIError:
            raise ParleyError(
                503, "shopify_unavailable", "Shopify could not be asked about the product just now"
            ) from None
        node = result.data.get("productVariant")
        currency = (result.data.get("shop") or {}).get("currencyCode") or "USD"
        product = _product((node or {}).get("product"), currency) if node else None
        found = product.variant(number) if product else None
        if product is None or found is None:
            raise ParleyError(404, "product_not_found", "no such product variant in this shop")
        return product, found

    def _respect_bucket(self, shop: str, cost: dict[str, Any], now: float) -> None:
        status = (cost or {}).get("throttleStatus") or {}
        available, rate = status.get("currentlyAvailable"), status.get("restoreRate") or 50
        if available is not None and available < LOW_WATER:
            with self._lock:
                self._paused_until[shop] = now + (LOW_WATER - float(available)) / float(rate)


def _fallback(cached: _Entry | None, notice: str) -> dict[str, Any]:
    if cached is None:
        return {"products": [], "source": "none", "notice": notice}
    return {"products": cached.value, "source": "cache", "notice": notice}


def _price(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _product(node: dict[str, Any] | None, currency: str) -> Product | None:
    if not isinstance(node, dict) or not node.get("id"):
        return None
    image = (((node.get("featuredMedia") or {}).get("preview") or {}).get("image") or {}).get("url")
    variants = []
    for v in (node.get("variants") or {}).get("nodes") or []:
        number = numeric_id(str(v.get("id") or ""), "ProductVariant")
        price = _price(v.get("price"))
        if number is None or price is None:
            continue  # a variant we cannot price is not one to offer
        quantity = v.get("inventoryQuantity")
        variants.append(
            Variant(
                id=number,
                title=v.get("title"),
                sku=v.get("sku") or None,
                price=price,
                currency=currency,
                available=quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None,
                image=(v.get("image") or {}).get("url") or image,
                for_sale=bool(v.get("availableForSale", True)),
            )
        )
    return Product(
        id=numeric_id(str(node["id"]), "Product") or str(node["id"]),
        title=str(node.get("title") or ""),
        handle=node.get("handle"),
        url=node.get("onlineStoreUrl"),
        image=image,
        variants=tuple(variants),
    )


def cart_permalink(storefront: str, lines: Sequence[tuple[str, int]], conversation_id: str, code: str | None) -> str:
    """Shopify's cart permalink: /cart/<variant>:<qty>,… opens checkout with exactly that
    cart; the attribute carries the conversation onto the order, `discount` applies the code."""
    items = ",".join(f"{variant}:{quantity}" for variant, quantity in lines)
    params = {f"attributes[{CONVERSATION_ATTRIBUTE}]": conversation_id}
    if code:
        params["discount"] = code
    return f"{storefront.rstrip('/')}/cart/{quote(items, safe=':,')}?{urlencode(params)}"
