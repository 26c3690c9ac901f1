"""What the web layer and the core need of a store platform.

Shopify and Saleor each implement `StorePlatform` (app/platforms/<name>/adapter.py);
the composition root puts one of each into a `Platforms` table keyed by
`models.Platform`, and nothing outside a platform's own package asks which one a
shop is on. A new platform is a new package that implements this Protocol and one
event processor (app/inbound/worker.py), and a line in app/wiring.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from app.answers.importer import ImportRecord
from app.answers.order_status import OrderRecord
from app.commerce.catalogue import Product, Variant
from app.commerce.discounts import ExistingCode, NewCode
from app.models import Platform, Shop, Visitor


class RequestInput(TypedDict):
    """The request dict shopifyapp's verifiers take (the same shape as shopify_app.types.RequestInput)."""

    method: str
    headers: dict[str, str]
    url: str
    body: str


@dataclass(frozen=True)
class RequestFacts:
    """A request as the platforms' verification libraries take it, without Flask."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: str

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def bearer(self) -> str | None:
        value = self.header("Authorization") or ""
        return (value[7:].strip() or None) if value.startswith("Bearer ") else None

    def as_shopifyapp_input(self) -> RequestInput:
        return {"method": self.method, "headers": dict(self.headers), "url": self.url, "body": self.body}


@dataclass(frozen=True)
class Staff:
    """Who is using the Support page: the shop, and the staff member the platform vouches for."""

    shop: Shop
    user_id: str | None

    @property
    def shop_id(self) -> int:
        assert self.shop.id is not None  # a shop read from the database has its id
        return self.shop.id


@dataclass(frozen=True)
class SignedShopper:
    """A storefront customer the platform has vouched for (a verified token, a signed proxy call)."""

    customer_id: str
    email: str | None = None


@dataclass(frozen=True)
class CheckoutLink:
    url: str
    # The checkout the platform created for it (Saleor), remembered for attribution.
    checkout_token: str | None = None


class StorePlatform(Protocol):
    kind: Platform
    # How the merchant calls it, in sentences ("Shopify", "Saleor").
    display_name: str
    # Where its answers are imported from (app/answers/store.py SOURCES): a re-import
    # removes the answers of these sources the store no longer has.
    answer_sources: tuple[str, ...]

    def authenticate_staff(self, request: RequestFacts) -> Staff | None:
        """The staff member of a Support page API call, or None when the request is not
        this platform's to judge. Raise ParleyError (401/503) for one that is and fails."""
        ...

    def storefront_origins(self, shop: Shop) -> set[str]:
        """Origins the platform itself says the shop's storefront answers on (beyond the
        merchant's own list)."""
        ...

    def signed_shopper(self, shop: Shop, token: object) -> SignedShopper | None:
        """The customer a storefront's sign-in token names; None without a token.
        Raise ParleyError for a token that does not hold up or is not how this platform signs."""
        ...

    def customer_panel(self, shop: Shop, visitor: Visitor) -> dict[str, Any]:
        """The signed-in shopper and their last orders: `{customer, orders, source, notice}`,
        never an exception (a notice says what went wrong)."""
        ...

    def live_checkout(self, shop: Shop, cart_token: str) -> dict[str, Any] | None:
        """The cart behind a token as the platform has it now, in the one cart shape; None
        when the platform keeps no such live cart for Parley to read."""
        ...

    def checkout_reference(self, raw: object) -> str:
        """A checkout id a storefront reported, checked; ParleyError(400) when it is not one,
        or when this platform's storefronts do not report checkouts."""
        ...

    def report_checkout(self, shop: Shop, conversation_id: str, checkout_id: str) -> dict[str, Any]:
        """Tie the checkout (from checkout_reference) to the conversation; the cart JSON.
        Raise ParleyError when the checkout cannot be read."""
        ...

    def embed_status(self, shop: Shop, last_seen: str | None) -> dict[str, Any]:
        """Whether the widget is live on the storefront, and how to turn it on."""
        ...

    # -- selling from the thread (issue 15) --------------------------------------------

    def search_products(self, shop: Shop, query: str, locale: str | None) -> dict[str, Any]:
        """The agent's product search (title, SKU, handle): `{products: [Product], source,
        notice}`, cached and rate-limit aware; never an exception (a notice says what failed)."""
        ...

    def product_variant(self, shop: Shop, variant_id: str) -> tuple[Product, Variant]:
        """One variant as the platform has it now; ParleyError(404) when the shop has no such
        variant (deleted, or another shop's), 503 when the platform cannot say."""
        ...

    def checkout_link(
        self, shop: Shop, conversation_id: str, lines: list[tuple[Variant, int]], code: str | None
    ) -> CheckoutLink:
        """A link that opens checkout with exactly these lines (and the code), carrying the
        conversation id so the order comes back to it."""
        ...

    def discount_codes(self, shop: Shop) -> list[ExistingCode]:
        """The shop's active codes an agent may pick; ParleyError(503) when it cannot be asked."""
        ...

    def create_discount(self, shop: Shop, new: NewCode) -> str:
        """Create a single-use code; the code. ParleyError(400) with the platform's refusal."""
        ...

    def shop_currency(self, shop: Shop) -> str:
        """The currency an amount-off code is in."""
        ...

    def add_to_cart(
        self, shop: Shop, conversation_id: str, checkout_id: str | None, variant_id: str, quantity: int
    ) -> dict[str, Any]:
        """Put a card's item into the shopper's cart through Parley (Saleor's checkout, with
        the app token): `{checkout_id, cart}`. ParleyError(400) where the storefront adds
        it itself (Shopify's Ajax Cart API), 409 sold out, 404 gone."""
        ...

    def storefront_url(self, shop: Shop, settings: Mapping[str, Any]) -> str | None:
        """The shop's storefront home page, where a resume link sends the shopper back."""
        ...

    def admin_link(self, shop: Shop, conversation_id: str) -> str | None:
        """A link into the store admin that opens the conversation in the Support page."""
        ...

    def answer_records(self, shop: Shop, language: str) -> list[ImportRecord]:
        """What the store has written for shoppers (policies, pages) as answers to import in
        `language`. Raise ParleyError (502/503) when the platform cannot be asked."""
        ...

    def recent_orders(self, shop: Shop, customer_id: str, limit: int) -> list[OrderRecord]:
        """The newest orders of a customer the platform vouched for (SignedShopper).
        Raise app.answers.order_status.LookupUnavailable when the platform fails."""
        ...

    def find_order(self, shop: Shop, number: str) -> OrderRecord | None:
        """The shop's order with this number, with its e-mail for the proof check; None
        when there is none. Raise LookupUnavailable when the platform fails."""
        ...


class Platforms:
    """One adapter per platform, looked up by the shop it is asked about."""

    def __init__(self, adapters: list[StorePlatform]):
        self._by_kind = {adapter.kind: adapter for adapter in adapters}
        self._order = list(adapters)

    def of(self, shop: Shop) -> StorePlatform:
        return self._by_kind[shop.platform]

    def __getitem__(self, kind: Platform) -> StorePlatform:
        return self._by_kind[kind]

    def __iter__(self) -> Iterator[StorePlatform]:
        """In the order the composition root gave: the order staff requests are judged in."""
        return iter(self._order)
