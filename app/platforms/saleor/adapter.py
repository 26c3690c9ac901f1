"""Saleor as the web layer and the core see it (app/platforms/port.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from markupsafe import escape

from app.answers.importer import ImportRecord
from app.answers.order_status import OrderRecord
from app.config import Settings
from app.errors import ParleyError
from app.models import Platform, Shop, Visitor
from app.platforms.port import RequestFacts, SignedShopper, Staff
from app.platforms.saleor.apps import SaleorApps
from app.platforms.saleor.checkouts import SaleorCheckouts
from app.platforms.saleor.context import SaleorCommerceContext
from app.platforms.saleor.customer_tokens import CustomerTokenError, verify_customer_token
from app.platforms.saleor.dashboard import DashboardTokenError, DashboardUser, verify_dashboard_token
from app.platforms.saleor.global_ids import checkout_id
from app.platforms.saleor.keys import JWKSUnavailable
from app.platforms.saleor.selling import SaleorSelling
from app.platforms.saleor.store_answers import SaleorOrders, answer_records

log = logging.getLogger(__name__)

# The Support page's fetches name their Saleor in this header; the bearer is the Dashboard token.
API_URL_HEADER = "Saleor-Api-Url"
MAX_CUSTOMER_TOKEN = 8192


class SaleorPlatform(SaleorSelling):
    kind = Platform.saleor
    display_name = "Saleor"
    answer_sources: tuple[str, ...] = ("saleor_page",)

    def __init__(
        self, settings: Settings, apps: SaleorApps, context: SaleorCommerceContext, checkouts: SaleorCheckouts
    ):
        self.settings = settings
        self.apps = apps
        self.context = context
        self.checkouts = checkouts
        self.orders = SaleorOrders(apps.api)

    def verify_staff_token(self, api_url: str | None, token: str | None) -> DashboardUser:
        """A Dashboard token for the Saleor at `api_url`: from a header or from a form POST."""
        try:
            return verify_dashboard_token(self.apps, (api_url or "").strip(), token, self.apps.now().timestamp())
        except DashboardTokenError as exc:
            raise ParleyError(401, exc.code, exc.message) from None
        except JWKSUnavailable:
            # Our side or Saleor's is down: not the caller's fault, and worth retrying.
            raise ParleyError(
                503, "saleor_unavailable", "Saleor's signing keys could not be fetched just now; try again"
            ) from None

    def authenticate_staff(self, request: RequestFacts) -> Staff | None:
        api_url = request.header(API_URL_HEADER)
        if api_url is None:
            return None
        user = self.verify_staff_token(api_url, request.bearer)
        return Staff(shop=user.shop, user_id=user.user_id)

    def storefront_origins(self, shop: Shop) -> set[str]:
        # A Saleor has no storefront domain (its `domain` is the API URL; storefronts are
        # separate apps anywhere), so only the merchant's own list counts.
        return set()

    def signed_shopper(self, shop: Shop, token: object) -> SignedShopper | None:
        if token is None or token == "":
            return None
        if not isinstance(token, str) or len(token) > MAX_CUSTOMER_TOKEN:
            raise ParleyError(
                400, "invalid_customer_token", "customer_access_token must be the customer's Saleor access token"
            )
        try:
            customer = verify_customer_token(self.apps, shop, token, self.apps.now().timestamp())
        except CustomerTokenError as exc:
            # Refused outright rather than served anonymously: the page asked for this
            # customer, and a silent downgrade would hide a broken (or forged) sign-in.
            raise ParleyError(
                401, "invalid_customer_token", f"the customer token is not valid for this shop: {exc}"
            ) from None
        except JWKSUnavailable:
            raise ParleyError(
                503, "saleor_unavailable", "the shop's signing keys could not be fetched; try again shortly"
            ) from None
        return SignedShopper(customer_id=customer.customer_id, email=customer.email)

    def customer_panel(self, shop: Shop, visitor: Visitor) -> dict[str, Any]:
        return self.context.lookup(shop, visitor.customer_id, visitor.email)

    def live_checkout(self, shop: Shop, cart_token: str) -> dict[str, Any] | None:
        try:
            return self.context.checkout(shop, cart_token)
        except Exception:  # the adapter's own failures must not take the customer panel down
            log.warning("checkout look-up failed for %s", shop.domain, exc_info=True)
            return None

    def checkout_reference(self, raw: object) -> str:
        if not isinstance(raw, str) or len(raw) > 200 or checkout_id(raw) is None:
            raise ParleyError(
                400, "invalid_checkout", "checkout_id must be a Saleor checkout id (Checkout:…) or checkout token"
            )
        return raw

    def report_checkout(self, shop: Shop, conversation_id: str, checkout_id: str) -> dict[str, Any]:
        return self.checkouts.remember(shop, conversation_id, checkout_id)

    def embed_status(self, shop: Shop, last_seen: str | None) -> dict[str, Any]:
        # No theme editor to switch an embed on: the storefront pastes one script tag.
        return {"active": bool(last_seen), "last_seen": last_seen, "activate_url": None, "snippet": self.snippet(shop)}

    def snippet(self, shop: Shop) -> str:
        """The one line a Saleor storefront pastes into its pages to show the chat."""
        src = self.settings.app_url + "/widget/parley.js"
        return f'<script src="{escape(src)}" data-shop="{escape(shop.domain)}" async></script>'

    def storefront_url(self, shop: Shop, settings: Mapping[str, Any]) -> str | None:
        # A Saleor storefront is any app anywhere: the first origin the merchant listed.
        origins = settings.get("storefront_origins") or []
        return f"{origins[0]}/" if origins and isinstance(origins[0], str) else None

    def dashboard_path(self, shop: Shop, conversation_id: str) -> str:
        """The Dashboard path of our app page for one conversation, for the `redirect`
        action from inside the Dashboard (the Dashboard appends the part after /app to
        the app's URL; it still routes this legacy /apps/ path, LegacyAppPaths)."""
        return f"/apps/{shop.app_id or ''}/app/conversations/{conversation_id}"

    def admin_link(self, shop: Shop, conversation_id: str) -> str | None:
        """An absolute link that opens the conversation in the Saleor Dashboard, for alert
        e-mails (a path means nothing in a mail client). Saleor names no Dashboard URL to
        an app; Saleor Cloud serves it at /dashboard/ beside /graphql/, and Saleor's own
        apps build their Dashboard links the same way. The app page is
        /extensions/app/<app id><sub path> (saleor-dashboard src/extensions/urls.ts,
        resolveAppDeepPath); the Dashboard appends the sub path to our appUrl."""
        api = urlsplit(shop.domain or "")
        if api.scheme not in ("http", "https") or not api.netloc or not shop.app_id:
            return None
        app = quote(shop.app_id, safe="")
        return f"{api.scheme}://{api.netloc}/dashboard/extensions/app/{app}/conversations/{quote(conversation_id)}"

    def answer_records(self, shop: Shop, language: str) -> list[ImportRecord]:
        try:
            api = self.apps.api(shop)
        except LookupError:
            raise ParleyError(
                502, "platform_refused", "Parley holds no app token for this Saleor; reinstalling the app fixes this"
            ) from None
        return answer_records(api, language)

    def recent_orders(self, shop: Shop, customer_id: str, limit: int) -> list[OrderRecord]:
        return self.orders.recent_orders(shop, customer_id, limit)

    def find_order(self, shop: Shop, number: str) -> OrderRecord | None:
        return self.orders.find_order(shop, number)
