"""Selling from the thread on Shopify (the port's selling methods, mixed into
ShopifyPlatform): the catalogue and codes through the Admin API, checkout links as
cart permalinks. The shopper's add-to-cart goes through the storefront's own Ajax Cart
API in the widget, so Parley has no cart call to make here."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from app.commerce.catalogue import Product, Variant
from app.commerce.discounts import ExistingCode, NewCode
from app.errors import ParleyError
from app.models import Shop
from app.platforms.port import CheckoutLink
from app.platforms.shopify.admin_api import SHOP_QUERY, AdminAPIError
from app.platforms.shopify.discounts import ShopifyDiscounts
from app.platforms.shopify.products import ShopifyProducts, cart_permalink

if TYPE_CHECKING:
    from app.platforms.shopify.install import ShopifyInstaller


class ShopifySelling:
    installer: ShopifyInstaller

    def _selling(self) -> tuple[ShopifyProducts, ShopifyDiscounts]:
        # Built on first use, so the adapter's constructor stays as the composition root calls it.
        with _LOCK:
            if not hasattr(self, "_products"):
                self._products = ShopifyProducts(self.installer.admin_api)
                self._discounts = ShopifyDiscounts(self.installer.admin_api)
                self._currencies: dict[str, str] = {}
        return self._products, self._discounts

    def search_products(self, shop: Shop, query: str, locale: str | None) -> dict[str, Any]:
        return self._selling()[0].search(shop.domain, query)

    def product_variant(self, shop: Shop, variant_id: str) -> tuple[Product, Variant]:
        return self._selling()[0].variant(shop.domain, variant_id)

    def checkout_link(
        self, shop: Shop, conversation_id: str, lines: list[tuple[Variant, int]], code: str | None
    ) -> CheckoutLink:
        # The permanent domain always answers (Shopify redirects it to the custom one).
        home = self.installer.http.browser_url(shop.domain, "")
        return CheckoutLink(cart_permalink(home, [(v.id, q) for v, q in lines], conversation_id, code))

    def discount_codes(self, shop: Shop) -> list[ExistingCode]:
        return self._selling()[1].list(shop.domain)

    def create_discount(self, shop: Shop, new: NewCode) -> str:
        return self._selling()[1].create(shop.domain, new)

    def shop_currency(self, shop: Shop) -> str:
        self._selling()
        known = self._currencies.get(shop.domain)
        if known:
            return known
        try:
            result = self.installer.admin_api(shop.domain).execute(SHOP_QUERY)
        except AdminAPIError:
            raise ParleyError(
                503, "shopify_unavailable", "Shopify could not tell the shop's currency just now"
            ) from None
        currency = str((result.data.get("shop") or {}).get("currencyCode") or "")
        if len(currency) != 3:
            raise ParleyError(503, "shopify_unavailable", "Shopify did not tell the shop's currency")
        self._currencies[shop.domain] = currency
        return currency

    def add_to_cart(
        self, shop: Shop, conversation_id: str, checkout_id: str | None, variant_id: str, quantity: int
    ) -> dict[str, Any]:
        raise ParleyError(
            400, "not_supported", "a Shopify storefront adds a card's item itself, through its Ajax Cart API"
        )


_LOCK = threading.Lock()
