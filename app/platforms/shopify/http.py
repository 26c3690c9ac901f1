"""Where Shopify requests go: `https://<shop>` for the APIs and for the merchant's
browser. A test or the demo hands in another transport and browser base at wiring
time (production refuses them); nothing here asks whether it is talking to Shopify.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

TIMEOUT = httpx.Timeout(10.0, connect=3.0)
SHOPIFY_BROWSER_BASE = "https://{shop}"


@dataclass(frozen=True)
class ShopifyHTTP:
    # Makes the transport of each client (a client closes its transport); None: httpx's
    # own, to the real Shopify.
    transport: Callable[[], httpx.BaseTransport] | None = None
    # Where the merchant's browser goes for a shop ({shop} is the permanent domain).
    browser_base: str = SHOPIFY_BROWSER_BASE

    @property
    def is_real(self) -> bool:
        return self.transport is None and self.browser_base == SHOPIFY_BROWSER_BASE

    def client_kwargs(self) -> dict[str, Any]:
        """httpx.Client keyword arguments for talking to Shopify."""
        kwargs: dict[str, Any] = {"timeout": TIMEOUT}
        if self.transport is not None:
            kwargs["transport"] = self.transport()
        return kwargs

    def client(self) -> httpx.Client:
        return httpx.Client(**self.client_kwargs())

    def browser_url(self, shop: str, path: str) -> str:
        """A URL of the shop the merchant's browser is sent to (authorize page, admin)."""
        return self.browser_base.format(shop=shop) + path


REAL_SHOPIFY = ShopifyHTTP()


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
