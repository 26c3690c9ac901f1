"""CORS for the storefront API: only the shop's own storefront origins may call it.

A shop's origins are what its platform says (Shopify: the permanent domain), the
custom domain learnt at install (`primary_origin`), the merchant's own
`storefront_origins`, and in development the DEV_STOREFRONT_ORIGINS setting."""

from __future__ import annotations

import time
from typing import Any

from flask import Response, current_app, request
from sqlmodel import col, select

from app.errors import ParleyError
from app.models import InstallState, Shop, ShopSetting
from app.web.context import parley

ALLOWED_HEADERS = "Authorization, Content-Type, Last-Event-ID"
ALLOWED_METHODS = "GET, POST, PUT, OPTIONS"
_CACHE_SECONDS = 30.0
_ORIGIN_KEYS = ("storefront_origins", "primary_origin")


def _from_settings(values: list[Any]) -> set[str]:
    found: set[str] = set()
    for value in values:
        for origin in value if isinstance(value, list) else [value]:
            if isinstance(origin, str):
                found.add(origin.rstrip("/"))
    return found


def shop_origins(shop: Shop, settings: dict[str, Any]) -> set[str]:
    services = parley()
    origins = services.platforms.of(shop).storefront_origins(shop)
    origins |= _from_settings([settings.get(key) for key in _ORIGIN_KEYS])
    return origins | services.settings.extra_storefront_origins


class KnownOrigins:
    """Every installed shop's origins, for preflights (which carry no token to tell the shop)."""

    def __init__(self) -> None:
        self._at = 0.0
        self._origins: set[str] = set()

    def get(self) -> set[str]:
        if time.monotonic() - self._at > _CACHE_SECONDS:
            services = parley()
            with services.db.session() as session:
                installed = session.exec(select(Shop).where(Shop.install_state == InstallState.installed)).all()
                rows = session.exec(select(ShopSetting).where(col(ShopSetting.key).in_(_ORIGIN_KEYS))).all()
            origins = {o for shop in installed for o in services.platforms.of(shop).storefront_origins(shop)}
            origins |= _from_settings([row.value for row in rows]) | services.settings.extra_storefront_origins
            self._origins, self._at = origins, time.monotonic()
        return self._origins

    def forget(self) -> None:
        """Read the origins again on the next preflight (a shop's list just changed)."""
        self._at = 0.0


def known_origins() -> KnownOrigins:
    origins: KnownOrigins = current_app.extensions.setdefault("parley.known_origins", KnownOrigins())
    return origins


def check_origin(shop: Shop, settings: dict[str, Any]) -> None:
    """Refuse a browser call from a page that is not this shop's storefront."""
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") not in shop_origins(shop, settings):
        raise ParleyError(403, "origin_not_allowed", f"{origin} is not a storefront of this shop")


def add_cors_headers(response: Response) -> Response:
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") in known_origins().get():
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers.add("Vary", "Origin")
    return response
