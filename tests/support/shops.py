"""Installed shops and the admin's signed requests."""

from __future__ import annotations

import secrets
import uuid

from app import shops
from app.clock import utcnow
from app.models import Platform

API_KEY = "parley-test-client-id"
API_SECRET = "parley-test-secret-" + secrets.token_hex(8)
SHOP = "fjord-gear.myshopify.com"
OTHER = "other-shop.myshopify.com"


def install(services, domain: str = SHOP) -> int:
    """A Shopify shop installed with a token the stand-in does not know (no Admin API calls)."""
    with services.db.transaction() as session:
        return shops.record_install(
            session,
            services.cipher,
            Platform.shopify,
            domain,
            shops.TokenGrant("shpat_" + uuid.uuid4().hex, "read_orders"),
            utcnow(),
        ).id


def installed_id(services, domain: str = SHOP) -> int:
    with services.db.session() as session:
        return shops.find_shop(session, Platform.shopify, domain).id


def bearer(standin, shop: str = SHOP, sub: str = "42") -> dict[str, str]:
    """The Support page's fetch headers inside the Shopify admin: a fresh App Bridge ID token."""
    return {"Authorization": f"Bearer {standin.mint_id_token(shop, sub=sub)}"}


def app_home(client, standin, shop: str = SHOP, **token_args):
    """The Shopify admin opening the app: App Home with a fresh ID token (installs by token exchange)."""
    token = standin.mint_id_token(shop, **token_args)
    return client.get("/", query_string={"embedded": "1", "shop": shop, "host": "YWRtaW4", "id_token": token})
