"""Products as the agent finds them and the shopper sees them on a card.

Each platform reads its catalogue into `Product`/`Variant` (app/platforms/<name>/products.py);
this module turns one variant into the card a message carries in its meta: ids to add it
to a cart with, the title and picture, the price in the shop's currency written in the
shopper's language, and whether it can still be bought. The card is frozen at sending
time; the widget asks the cart, not the card, whether the item is still there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.commerce.money import amount_text, format_money

# At or below this many in stock a card says "only a few left".
LOW_STOCK = 3
MAX_CARDS = 6  # products in one message: more is a catalogue, not an answer
MAX_CART_LINES = 20
MAX_QUANTITY = 99


@dataclass(frozen=True)
class Variant:
    id: str  # the platform's own id (Shopify: numeric; Saleor: global id)
    title: str | None
    sku: str | None
    price: Decimal
    currency: str
    # Units that can be sold; None when the shop does not track stock for it.
    available: int | None
    image: str | None = None
    # False when the platform says it cannot be bought at all (unpublished, not in the channel).
    for_sale: bool = True


@dataclass(frozen=True)
class Product:
    id: str
    title: str
    handle: str | None
    url: str | None  # the product page on the storefront, where a failing cart sends the shopper
    image: str | None
    variants: tuple[Variant, ...] = field(default_factory=tuple)

    def variant(self, variant_id: str) -> Variant | None:
        return next((v for v in self.variants if v.id == variant_id), None)


def stock_state(variant: Variant) -> str:
    """in_stock, low or sold_out, as the card and the agent's search panel say it."""
    if not variant.for_sale or (variant.available is not None and variant.available <= 0):
        return "sold_out"
    if variant.available is not None and variant.available <= LOW_STOCK:
        return "low"
    return "in_stock"


def variant_json(variant: Variant, locale: str | None = None) -> dict[str, Any]:
    return {
        "id": variant.id,
        "title": variant.title,
        "sku": variant.sku,
        "price": amount_text(variant.price, variant.currency),
        "currency": variant.currency,
        "price_text": format_money(variant.price, variant.currency, locale),
        "available": variant.available,
        "stock": stock_state(variant),
        "image": variant.image,
    }


def product_json(product: Product, locale: str | None = None) -> dict[str, Any]:
    return {
        "id": product.id,
        "title": product.title,
        "handle": product.handle,
        "url": product.url,
        "image": product.image,
        "variants": [variant_json(v, locale) for v in product.variants],
    }


def card(product: Product, variant: Variant, shopper_locale: str | None) -> dict[str, Any]:
    """One product card, as a message's meta carries it (meta.cards[])."""
    shown_title = variant.title if variant.title and variant.title != "Default Title" else None
    return {
        "kind": "product",
        "product_id": product.id,
        "variant_id": variant.id,
        "title": product.title,
        "variant_title": shown_title,
        "image": variant.image or product.image,
        "url": product.url,
        "price": amount_text(variant.price, variant.currency),
        "currency": variant.currency,
        "price_text": format_money(variant.price, variant.currency, shopper_locale),
        "stock": stock_state(variant),
    }


def card_text(cards: list[dict[str, Any]]) -> str:
    """The message body beside the cards: what an e-mail copy or an old widget shows."""
    lines = []
    for c in cards:
        name = c["title"] + (f" ({c['variant_title']})" if c.get("variant_title") else "")
        lines.append(f"{name}: {c['price_text']}" + (f" {c['url']}" if c.get("url") else ""))
    return "\n".join(lines)
