"""Selling from the thread on Saleor (the port's selling methods, mixed into
SaleorPlatform), with the app token:

- search: `products(first:, channel:, filter: {search:})`, priced in the shop's channel;
- a checkout link: `checkoutCreate(input: {channel, lines, metadata})` with the
  conversation id in the checkout's metadata (copied onto the order), a voucher added
  with `checkoutAddPromoCode`, and a link to the storefront's checkout page (Settings:
  `checkout_url`, `{checkout_id}` standing for the checkout's id);
- a card's add-to-cart: `checkoutLinesAdd` on the shopper's checkout (or a new one),
  then the checkout is tied to the conversation as a reported one is;
- vouchers: `vouchers`, `voucherCreate` (single use) and `voucherChannelListingUpdate`
  for its value in the channel (MANAGE_DISCOUNTS).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from app.chat.shop_settings import get_settings
from app.commerce.catalogue import Product, Variant
from app.commerce.discounts import ExistingCode, NewCode
from app.errors import ParleyError
from app.models import Shop
from app.platforms.port import CheckoutLink
from app.platforms.saleor.api import SaleorAPIError, SaleorTokenRefused, money
from app.platforms.saleor.metadata import CONVERSATION_KEY

if TYPE_CHECKING:
    from app.platforms.saleor.apps import SaleorApps
    from app.platforms.saleor.checkouts import SaleorCheckouts

_VARIANT = "id name sku quantityAvailable pricing { price { gross { amount currency } } }"
_PRODUCT = "id name slug thumbnail { url } variants { " + _VARIANT + " }"
SEARCH = (
    "query ParleyProductSearch($search: String!, $channel: String!) {"
    " products(first: 10, channel: $channel, filter: {search: $search}) { edges { node { " + _PRODUCT + " } } } }"
)
VARIANT = (
    "query ParleyVariant($id: ID!, $channel: String!) {"
    " productVariant(id: $id, channel: $channel) { " + _VARIANT + " product { " + _PRODUCT + " } } }"
)
_CHECKOUT = "checkout { id token } errors { field code message }"
CREATE_CHECKOUT = (
    "mutation ParleyCheckoutCreate($input: CheckoutCreateInput!) { checkoutCreate(input: $input) { "
    + _CHECKOUT
    + " } }"
)
ADD_LINES = (
    "mutation ParleyLinesAdd($id: ID!, $lines: [CheckoutLineInput!]!) {"
    " checkoutLinesAdd(id: $id, lines: $lines) { " + _CHECKOUT + " } }"
)
ADD_CODE = (
    "mutation ParleyPromo($id: ID!, $code: String!) {"
    " checkoutAddPromoCode(id: $id, promoCode: $code) { " + _CHECKOUT + " } }"
)
VOUCHERS = (
    "query ParleyVouchers { vouchers(first: 25) { edges { node {"
    " id name code endDate discountValueType discountValue currency } } } }"
)
CREATE_VOUCHER = (
    "mutation ParleyVoucherCreate($input: VoucherInput!) {"
    " voucherCreate(input: $input) { voucher { id code } errors { field code message } } }"
)
LIST_VOUCHER = (
    "mutation ParleyVoucherListing($id: ID!, $input: VoucherChannelListingInput!) {"
    " voucherChannelListingUpdate(id: $id, input: $input) { voucher { id } errors { field code message } } }"
)
CHANNEL = "query ParleyChannel($slug: String!) { channel(slug: $slug) { id currencyCode } }"
FRESH_SECONDS = 60


class SaleorSelling:
    apps: SaleorApps
    checkouts: SaleorCheckouts

    def _product_cache(self) -> dict[tuple[str, str], tuple[float, list[Product]]]:
        # Per adapter (one per app), made on first use so the constructor stays as it is.
        with _LOCK:
            if not hasattr(self, "_searches"):
                self._searches: dict[tuple[str, str], tuple[float, list[Product]]] = {}
            return self._searches

    def _settings(self, shop: Shop) -> dict[str, Any]:
        with self.apps.db.session() as session:
            assert shop.id is not None
            return get_settings(session, shop.id)

    def _channel(self, shop: Shop) -> str:
        return str(self._settings(shop).get("saleor_channel") or "default-channel")

    def _api_call(self, shop: Shop, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            return self.apps.api(shop).execute(query, variables).data
        except SaleorTokenRefused:
            raise ParleyError(
                502, "platform_refused", "Saleor refused Parley's app token; reinstalling fixes this"
            ) from None
        except SaleorAPIError:
            raise ParleyError(503, "saleor_unavailable", "Saleor could not be asked just now; try again") from None

    def search_products(self, shop: Shop, query: str, locale: str | None) -> dict[str, Any]:
        key = (shop.domain, query.strip().lower())
        now = time.monotonic()
        cache = self._product_cache()
        with _LOCK:
            cached = cache.get(key)
        if cached and now - cached[0] < FRESH_SECONDS:
            return {"products": cached[1], "source": "cache", "notice": None}
        try:
            data = self._api_call(shop, SEARCH, {"search": query, "channel": self._channel(shop)})
        except ParleyError as exc:
            return {
                "products": cached[1] if cached else [],
                "source": "cache" if cached else "none",
                "notice": exc.message,
            }
        edges = (data.get("products") or {}).get("edges") or []
        products = [p for p in (_product(e.get("node")) for e in edges) if p]
        with _LOCK:
            if len(cache) > 2000:  # a bound, not an LRU: searches are cheap to redo
                cache.clear()
            cache[key] = (now, products)
        return {"products": products, "source": "live", "notice": None}

    def product_variant(self, shop: Shop, variant_id: str) -> tuple[Product, Variant]:
        if not variant_id or len(variant_id) > 200:
            raise ParleyError(404, "product_not_found", "no such product variant in this shop")
        data = self._api_call(shop, VARIANT, {"id": variant_id, "channel": self._channel(shop)})
        node = data.get("productVariant")
        product = _product((node or {}).get("product")) if isinstance(node, dict) else None
        found = product.variant(variant_id) if product else None
        if product is None or found is None:
            raise ParleyError(404, "product_not_found", "no such product variant in this shop")
        return product, found

    def _new_checkout(self, shop: Shop, conversation_id: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
        data = self._api_call(
            shop,
            CREATE_CHECKOUT,
            {
                "input": {
                    "channel": self._channel(shop),
                    "lines": [{"variantId": v, "quantity": q} for v, q in lines],
                    "metadata": [{"key": CONVERSATION_KEY, "value": conversation_id}],
                }
            },
        )
        return _checkout_or_refusal(data.get("checkoutCreate"))

    def checkout_link(
        self, shop: Shop, conversation_id: str, lines: list[tuple[Variant, int]], code: str | None
    ) -> CheckoutLink:
        checkout = self._new_checkout(shop, conversation_id, [(v.id, q) for v, q in lines])
        if code:
            _checkout_or_refusal(
                self._api_call(shop, ADD_CODE, {"id": checkout["id"], "code": code}).get("checkoutAddPromoCode")
            )
        settings = self._settings(shop)
        template = settings.get("checkout_url")
        if not template:
            origins = settings.get("storefront_origins") or []
            if not origins:
                raise ParleyError(
                    409,
                    "no_storefront",
                    "Settings names no storefront for this Saleor shop, so there is no checkout page to link to",
                )
            template = f"{origins[0]}/checkout?checkout={{checkout_id}}"
        url = str(template).replace("{checkout_id}", quote(str(checkout["id"]), safe=""))
        return CheckoutLink(url, checkout_token=str(checkout.get("token") or "") or None)

    def discount_codes(self, shop: Shop) -> list[ExistingCode]:
        data = self._api_call(shop, VOUCHERS, {})
        codes = []
        for edge in (data.get("vouchers") or {}).get("edges") or []:
            node = edge.get("node") or {}
            if not node.get("code"):
                continue
            value = money(node.get("discountValue"))
            kind = node.get("discountValueType")
            summary = (
                f"{value.normalize():f}% off"
                if kind == "PERCENTAGE" and value is not None
                else f"{value} {node.get('currency') or ''} off".strip()
                if value is not None
                else ""
            )
            codes.append(
                ExistingCode(
                    str(node.get("id")), node["code"], node.get("name") or node["code"], summary, node.get("endDate")
                )
            )
        return codes

    def create_discount(self, shop: Shop, new: NewCode) -> str:
        data = self._api_call(
            shop,
            CREATE_VOUCHER,
            {
                "input": {
                    "type": "ENTIRE_ORDER",
                    "name": new.title,
                    "addCodes": [new.code],
                    "startDate": new.starts_at.isoformat(),
                    "endDate": new.ends_at.isoformat(),
                    "discountValueType": "PERCENTAGE" if new.kind == "percent" else "FIXED",
                    "singleUse": True,
                    "usageLimit": 1,
                    "applyOncePerCustomer": True,
                }
            },
        )
        made = data.get("voucherCreate") or {}
        if made.get("errors") or not made.get("voucher"):
            raise ParleyError(400, "discount_refused", "Saleor refused the voucher: " + _words(made.get("errors")))
        channel = (self._api_call(shop, CHANNEL, {"slug": self._channel(shop)}).get("channel")) or {}
        listed = (
            self._api_call(
                shop,
                LIST_VOUCHER,
                {
                    "id": made["voucher"]["id"],
                    "input": {"addChannels": [{"channelId": channel.get("id"), "discountValue": str(new.value)}]},
                },
            ).get("voucherChannelListingUpdate")
            or {}
        )
        if listed.get("errors"):
            raise ParleyError(
                400, "discount_refused", "Saleor refused the voucher's value: " + _words(listed.get("errors"))
            )
        return new.code

    def shop_currency(self, shop: Shop) -> str:
        channel = (self._api_call(shop, CHANNEL, {"slug": self._channel(shop)}).get("channel")) or {}
        currency = channel.get("currencyCode")
        if not isinstance(currency, str) or len(currency) != 3:
            raise ParleyError(503, "saleor_unavailable", "Saleor did not tell the channel's currency")
        return currency

    def add_to_cart(
        self, shop: Shop, conversation_id: str, checkout_id: str | None, variant_id: str, quantity: int
    ) -> dict[str, Any]:
        if checkout_id:
            data = self._api_call(
                shop, ADD_LINES, {"id": checkout_id, "lines": [{"variantId": variant_id, "quantity": quantity}]}
            )
            checkout = _checkout_or_refusal(data.get("checkoutLinesAdd"))
        else:
            checkout = self._new_checkout(shop, conversation_id, [(variant_id, quantity)])
        cart = self.checkouts.remember(shop, conversation_id, str(checkout["id"]))
        return {"checkout_id": checkout["id"], "cart": cart}


def _words(errors: Any) -> str:
    return "; ".join(str(e.get("message")) for e in errors or [] if isinstance(e, dict)) or "no reason given"


def _checkout_or_refusal(payload: Any) -> dict[str, Any]:
    payload = payload if isinstance(payload, dict) else {}
    errors = payload.get("errors") or []
    codes = {e.get("code") for e in errors if isinstance(e, dict)}
    if "INSUFFICIENT_STOCK" in codes:
        raise ParleyError(409, "sold_out", "that item is sold out")
    if "NOT_FOUND" in codes:
        raise ParleyError(404, "product_not_found", "no such product variant or checkout in this shop")
    if errors or not isinstance(payload.get("checkout"), dict):
        raise ParleyError(400, "checkout_refused", "Saleor refused the checkout: " + _words(errors))
    checkout: dict[str, Any] = payload["checkout"]
    return checkout


def _product(node: Any) -> Product | None:
    if not isinstance(node, dict) or not isinstance(node.get("id"), str):
        return None
    image = (node.get("thumbnail") or {}).get("url")
    variants = []
    for v in node.get("variants") or []:
        gross = (((v.get("pricing") or {}).get("price")) or {}).get("gross") or {}
        price = money(gross.get("amount"))
        if not isinstance(v.get("id"), str) or price is None or not isinstance(gross.get("currency"), str):
            continue  # not sold in this channel
        quantity = v.get("quantityAvailable")
        variants.append(
            Variant(
                id=v["id"],
                title=v.get("name") or None,
                sku=v.get("sku") or None,
                price=price,
                currency=gross["currency"],
                available=quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else None,
                image=image,
            )
        )
    return Product(
        id=node["id"],
        title=str(node.get("name") or ""),
        handle=node.get("slug"),
        url=None,
        image=image,
        variants=tuple(variants),
    )


_LOCK = threading.Lock()
