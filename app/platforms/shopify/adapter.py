"""Shopify as the web layer and the core see it (app/platforms/port.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app import shops
from app.answers.importer import ImportRecord
from app.answers.order_status import OrderRecord
from app.config import Settings
from app.db import Database
from app.errors import ParleyError
from app.models import Platform, Shop, Visitor
from app.platforms.port import RequestFacts, SignedShopper, Staff
from app.platforms.shopify.admin_api import AdminAPIError
from app.platforms.shopify.customer_context import CustomerContext
from app.platforms.shopify.install import ShopifyInstaller
from app.platforms.shopify.selling import ShopifySelling
from app.platforms.shopify.session_tokens import RETRY_HEADER, verify_bearer
from app.platforms.shopify.store_answers import ShopifyOrders, answer_records


def _checkouts_not_reported() -> ParleyError:
    return ParleyError(
        400, "not_supported", "only Saleor storefronts report a checkout; Shopify carts come with each message"
    )


class ShopifyPlatform(ShopifySelling):
    kind = Platform.shopify
    display_name = "Shopify"
    answer_sources: tuple[str, ...] = ("shopify_policy", "shopify_page")

    def __init__(self, settings: Settings, db: Database, installer: ShopifyInstaller, customers: CustomerContext):
        self.settings = settings
        self.db = db
        self.installer = installer
        self.customers = customers
        self.orders = ShopifyOrders(installer.admin_api)

    def authenticate_staff(self, request: RequestFacts) -> Staff:
        # Judged last: any admin call that names no other platform is Shopify's to refuse.
        token = verify_bearer(self.installer.app, request)
        with self.db.session() as session:
            shop = shops.find_installed_shop(session, Platform.shopify, token.shop)
        if shop is None:
            raise ParleyError(
                401,
                "not_installed",
                "Parley is not installed on this shop; open it from the Shopify admin",
                headers=RETRY_HEADER,
            )
        return Staff(shop=shop, user_id=token.user_id)

    def storefront_origins(self, shop: Shop) -> set[str]:
        # The permanent domain; the custom domain learnt at install is the `primary_origin` setting.
        return {f"https://{shop.domain}"}

    def signed_shopper(self, shop: Shop, token: object) -> SignedShopper | None:
        if token is None or token == "":
            return None
        raise ParleyError(
            400, "customer_token_not_supported", "this shop identifies its customers through its app proxy, not a token"
        )

    def customer_panel(self, shop: Shop, visitor: Visitor) -> dict[str, Any]:
        if not visitor.customer_id:
            return {"customer": None, "orders": [], "source": "none", "notice": None}
        return self.customers.lookup(shop.domain, visitor.customer_id)

    def live_checkout(self, shop: Shop, cart_token: str) -> dict[str, Any] | None:
        return None  # Shopify's cart comes with each message and by cart webhooks

    def checkout_reference(self, raw: object) -> str:
        raise _checkouts_not_reported()

    def report_checkout(self, shop: Shop, conversation_id: str, checkout_id: str) -> dict[str, Any]:
        raise _checkouts_not_reported()

    def embed_status(self, shop: Shop, last_seen: str | None) -> dict[str, Any]:
        editor = (
            f"/admin/themes/current/editor?context=apps&template=index"
            f"&activateAppId={self.settings.shopify_api_key}/parley-embed"
        )
        return {
            "active": bool(last_seen),
            "last_seen": last_seen,
            "activate_url": self.installer.http.browser_url(shop.domain, editor),
        }

    def storefront_url(self, shop: Shop, settings: Mapping[str, Any]) -> str | None:
        # The custom domain learnt at install, else the permanent domain (Shopify redirects it).
        primary = settings.get("primary_origin")
        return (
            f"{primary}/" if isinstance(primary, str) and primary else self.installer.http.browser_url(shop.domain, "/")
        )

    def admin_link(self, shop: Shop, conversation_id: str) -> str | None:
        return self.installer.http.browser_url(
            shop.domain, f"/admin/apps/{self.settings.shopify_api_key}/app/conversations/{conversation_id}"
        )

    def answer_records(self, shop: Shop, language: str) -> list[ImportRecord]:
        try:
            api = self.installer.admin_api(shop.domain)
        except AdminAPIError:
            raise ParleyError(
                502, "platform_refused", "Shopify refused Parley's access token; reinstalling the app fixes this"
            ) from None
        return answer_records(api, language)

    def recent_orders(self, shop: Shop, customer_id: str, limit: int) -> list[OrderRecord]:
        return self.orders.recent_orders(shop.domain, customer_id, limit)

    def find_order(self, shop: Shop, number: str) -> OrderRecord | None:
        return self.orders.find_order(shop.domain, number)
