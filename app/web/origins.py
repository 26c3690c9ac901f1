"""CORS for the storefront API: only the shop's own storefront origins may call it.

Shopify: the permanent domain, the custom domain learnt at install, and the
merchant's `storefront_origins`. Saleor: the merchant's `storefront_origins` only."""

from __future__ import annotations

import time

from flask import Response, request
from sqlmodel import select

from app.models import InstallState, Platform, Shop, ShopSetting
from app.platforms.shopify.http import origin_of
from app.web.context import parley
from app.web.errors import APIError

ALLOWED_HEADERS = "Authorization, Content-Type, Last-Event-ID"
ALLOWED_METHODS = "GET, POST, PUT, OPTIONS"
_CACHE_SECONDS = 30.0


def shop_origins(shop: Shop, settings: dict) -> set[str]:
    # A Shopify shop's storefront answers on its permanent domain. A Saleor has no
    # storefront domain at all (its `domain` is the API URL; storefronts are separate
    # apps anywhere), so only the merchant's own list counts.
    origins = {f"https://{shop.domain}"} if shop.platform == Platform.shopify else set()
    origins.update(o.rstrip("/") for o in settings.get("storefront_origins") or [] if isinstance(o, str))
    if isinstance(settings.get("primary_origin"), str):
        origins.add(settings["primary_origin"])
    standin = parley().settings.shopify_standin_url
    if standin:  # development: the stand-in serves the demo storefront
        origins.add(origin_of(standin))
    return origins


class _KnownOrigins:
    """Every installed shop's origins, for preflights (which carry no token to tell the shop)."""

    def __init__(self):
        self._at = 0.0
        self._origins: set[str] = set()

    def get(self) -> set[str]:
        if time.monotonic() - self._at > _CACHE_SECONDS:
            services = parley()
            with services.db.session() as session:
                shops = session.exec(
                    select(Shop).where(Shop.install_state == InstallState.installed, Shop.platform == Platform.shopify)
                ).all()
                rows = session.exec(
                    select(ShopSetting).where(ShopSetting.key.in_(("storefront_origins", "primary_origin")))
                ).all()
            extra = {o for row in rows for o in (row.value if isinstance(row.value, list) else [row.value]) if isinstance(o, str)}
            origins = {f"https://{s.domain}" for s in shops} | {o.rstrip("/") for o in extra}
            if services.settings.shopify_standin_url:
                origins.add(origin_of(services.settings.shopify_standin_url))
            self._origins, self._at = origins, time.monotonic()
        return self._origins


def known_origins() -> _KnownOrigins:
    from flask import current_app

    return current_app.extensions.setdefault("parley.known_origins", _KnownOrigins())


def check_origin(shop: Shop, settings: dict) -> None:
    """Refuse a browser call from a page that is not this shop's storefront."""
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") not in shop_origins(shop, settings):
        raise APIError(403, "origin_not_allowed", f"{origin} is not a storefront of this shop")


def add_cors_headers(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") in known_origins().get():
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers.add("Vary", "Origin")
    return response
