"""Checks on what Shopify sends us: shop domains, query HMACs, ID tokens.

ID tokens and webhook HMACs are verified by Shopify's `shopifyapp` package; the
few rules it leaves to the app (same shop in `iss` and `dest`, the shop domain
pattern, the install query's HMAC and timestamp window) are here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shopify_app import ShopifyApp

from app.errors import ParleyError

# Shopify's own pattern for permanent shop domains (shared/platforms/shopify.md §3.3).
SHOP_DOMAIN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-]*\.myshopify\.com$")
# Shopify rejects install and callback queries older than this (JSLIB: 90 s).
QUERY_MAX_AGE = 90


class ShopifyRequestError(ParleyError):
    """A request that claims to come from Shopify and does not hold up."""


def normalize_shop(value: str | None) -> str:
    """The permanent `<name>.myshopify.com` domain, or ShopifyRequestError(400)."""
    shop = (value or "").strip().lower()
    if not SHOP_DOMAIN.match(shop):
        raise ShopifyRequestError(400, "invalid_shop", "shop must be a permanent domain like your-store.myshopify.com")
    return shop


def _escape(text: str, key: bool = False) -> str:
    text = text.replace("%", "%25").replace("&", "%26")
    return text.replace("=", "%3D") if key else text


def query_hmac(params: Iterable[tuple[str, str]], secret: str) -> str:
    """HMAC-SHA256 hex over the sorted `key=value` pairs joined by `&`, without `hmac`/`signature`."""
    pairs = sorted((k, v) for k, v in params if k not in ("hmac", "signature"))
    message = "&".join(f"{_escape(k, key=True)}={_escape(v)}" for k, v in pairs)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_query(params: Mapping[str, str], secrets: Iterable[str], now: float) -> str:
    """Check an install/callback query's `hmac` and `timestamp`; return the shop domain."""
    received = params.get("hmac", "")
    if not received:
        raise ShopifyRequestError(400, "missing_hmac", "the request carries no hmac parameter")
    if not received.isascii():  # hex never is anything else; compare_digest raises on it
        raise ShopifyRequestError(401, "invalid_hmac", "the hmac parameter does not match the request")
    items = list(params.items())
    if not any(hmac.compare_digest(received.lower(), query_hmac(items, s)) for s in secrets if s):
        raise ShopifyRequestError(401, "invalid_hmac", "the hmac parameter does not match the request")
    try:
        timestamp = int(params.get("timestamp", ""))
    except ValueError:
        raise ShopifyRequestError(400, "invalid_timestamp", "timestamp must be a Unix time in seconds") from None
    if abs(now - timestamp) > QUERY_MAX_AGE:
        raise ShopifyRequestError(
            401, "stale_request", f"the request's timestamp is more than {QUERY_MAX_AGE} seconds away from now"
        )
    return normalize_shop(params.get("shop"))


@dataclass(frozen=True)
class IdToken:
    shop: str  # permanent domain
    user_id: str | None
    token: str
    claims: dict[str, Any]


def check_id_token_claims(claims: Mapping[str, object]) -> str:
    """The rules shopifyapp leaves to us: `dest` is a shop, and `iss` names the same shop."""
    if "exp" not in claims:
        raise ShopifyRequestError(401, "invalid_id_token", "the ID token has no expiry")
    dest_host = urlsplit(str(claims.get("dest", ""))).hostname or ""
    iss_host = urlsplit(str(claims.get("iss", ""))).hostname or ""
    if not SHOP_DOMAIN.match(dest_host):
        raise ShopifyRequestError(401, "invalid_id_token", "the ID token's dest is not a shop domain")
    if iss_host != dest_host:
        raise ShopifyRequestError(401, "invalid_id_token", "the ID token's iss and dest name different shops")
    return dest_host.lower()


def shopify_app(api_key: str, secret: str, old_secret: str | None) -> ShopifyApp:
    return ShopifyApp(client_id=api_key, client_secret=secret, old_client_secret=old_secret or None)
