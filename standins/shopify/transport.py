"""How Parley reaches the Shopify stand-in: the seam app.create_app is handed.

Shopify's libraries (shopifyapp, authlib, gql) all build `https://<shop>/...` URLs
themselves, so the rewrite to the stand-in's `/store/<shop>/` happens in the
transport, and the merchant's browser is sent to the same place.
"""

from __future__ import annotations

import httpx

from app.platforms.shopify.http import ShopifyHTTP


class StandinTransport(httpx.BaseTransport):
    """Sends `https://<shop>.myshopify.com/<path>` to `<standin>/store/<shop>.myshopify.com/<path>`."""

    def __init__(self, standin_url: str):
        self._base = httpx.URL(standin_url.rstrip("/"))
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host.endswith(".myshopify.com"):
            request.url = self._base.copy_with(
                path=f"{self._base.path.rstrip('/')}/store/{host}{request.url.path}",
                query=request.url.query,
            )
            request.headers["Host"] = self._base.netloc.decode()
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def standin_http(standin_url: str) -> ShopifyHTTP:
    """Parley's Shopify traffic and the merchant's browser, pointed at the stand-in."""
    base = standin_url.rstrip("/")
    return ShopifyHTTP(transport=lambda: StandinTransport(base), browser_base=base + "/store/{shop}")
