"""The one place that decides where Shopify requests go.

In production every request goes to `https://<shop>.myshopify.com`. In development
and tests SHOPIFY_STANDIN_URL points at the local stand-in, which serves each shop
under `/store/<shop>/`; the libraries we use (shopifyapp, authlib, gql) all build
`https://<shop>/...` URLs themselves, so the rewrite happens in the transport.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


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


def client_kwargs(standin_url: str | None) -> dict:
    """httpx.Client keyword arguments for talking to Shopify (or its stand-in)."""
    kwargs: dict = {"timeout": TIMEOUT}
    if standin_url:
        kwargs["transport"] = StandinTransport(standin_url)
    return kwargs


def make_client(standin_url: str | None) -> httpx.Client:
    return httpx.Client(**client_kwargs(standin_url))


def browser_url(shop: str, path: str, standin_url: str | None) -> str:
    """A Shopify URL the merchant's browser is sent to (the authorize page)."""
    if standin_url:
        return f"{standin_url.rstrip('/')}/store/{shop}{path}"
    return f"https://{shop}{path}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
