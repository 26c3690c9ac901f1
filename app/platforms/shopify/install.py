"""Getting and keeping a shop's offline access token.

Two ways in, as Shopify supports them:
- token exchange of the App Bridge ID token (Shopify-managed install), through
  `shopifyapp`, always asking for an expiring offline token;
- the authorization-code grant for non-embedded and legacy installs, through
  authlib's OAuth 2 client.
Expiring tokens are refreshed `token_refresh_margin` seconds before they lapse.
"""

from __future__ import annotations

import logging
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # authlib 1.9 nudges towards httpx2; shopifyapp and gql speak httpx, and one HTTP
    # stack (one transport, one stand-in rewrite) is worth more than the nudge.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from shopify_app import IdTokenDetails, TokenExchangeAccessToken

from app import shops
from app.chat.shop_settings import put_setting
from app.clock import Clock
from app.config import Settings
from app.db import Database
from app.encryption import TokenCipher
from app.errors import ParleyError
from app.models import Platform, Shop
from app.platforms.shopify.admin_api import SHOP_QUERY, AdminAPI, AdminAPIError, AdminAPIUnauthorized
from app.platforms.shopify.http import ShopifyHTTP, origin_of
from app.platforms.shopify.requests import IdToken, shopify_app

log = logging.getLogger(__name__)


class InstallError(ParleyError):
    """An install or token refresh that did not work; the message says what to do."""


class ShopifyInstaller:
    def __init__(self, settings: Settings, db: Database, cipher: TokenCipher, clock: Clock, http: ShopifyHTTP):
        self.settings = settings
        self.db = db
        self.cipher = cipher
        self.clock = clock
        self.http = http
        self.app = shopify_app(settings.shopify_api_key, settings.shopify_api_secret, settings.shopify_api_secret_old)

    # -- token exchange ---------------------------------------------------------

    def install_with_id_token(self, id_token: IdToken) -> Shop:
        """Exchange a verified ID token for an expiring offline token and store it."""
        details = IdTokenDetails(exchangeable=True, token=id_token.token, claims=id_token.claims)
        with self.http.client() as http:
            result = self.app.exchange_using_token_exchange(
                access_mode="offline", id_token=details, expiring=True, http_client=http
            )
        if not result.ok or result.access_token is None:
            status = 401 if result.log.code in ("invalid_subject_token", "invalid_client") else 502
            raise InstallError(status, result.log.code, f"Shopify refused the token exchange ({result.log.code})")
        grant = _grant_from_shopifyapp(result.access_token)
        return self._store_install(id_token.shop, grant)

    # -- authorization-code grant --------------------------------------------

    def _oauth_client(self) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.settings.shopify_api_key,
            client_secret=self.settings.shopify_api_secret,
            token_endpoint_auth_method="client_secret_post",
            redirect_uri=f"{self.settings.app_url}/auth/callback",
            scope=self.settings.shopify_scopes,
            **self.http.client_kwargs(),
        )

    def authorize_url(self, shop: str, state: str) -> str:
        url: str
        with self._oauth_client() as client:
            url, _ = client.create_authorization_url(self.http.browser_url(shop, "/admin/oauth/authorize"), state=state)
        return url

    def install_with_code(self, shop: str, code: str) -> Shop:
        with self._oauth_client() as client:
            try:
                token = client.fetch_token(
                    f"https://{shop}/admin/oauth/access_token",
                    grant_type="authorization_code",
                    code=code,
                    expiring="1",
                )
            except OAuthError as exc:
                raise InstallError(
                    400, "code_exchange_failed", f"Shopify refused the authorization code ({exc.error})"
                ) from exc
            except Exception as exc:  # network trouble: nothing stored, the merchant may retry
                raise InstallError(
                    502, "shopify_unreachable", "Shopify could not be reached; try the install again"
                ) from exc
        now = self.clock()
        grant = shops.TokenGrant(
            access_token=token["access_token"],
            scopes=token.get("scope", ""),
            expires_at=_after(now, token.get("expires_in")),
            refresh_token=token.get("refresh_token"),
            refresh_expires_at=_after(now, token.get("refresh_token_expires_in")),
        )
        return self._store_install(shop, grant)

    # -- keeping the token fresh ----------------------------------------------

    def access_token(self, shop: Shop) -> str:
        """A usable access token for the shop, refreshed first when it is about to lapse."""
        margin = timedelta(seconds=self.settings.token_refresh_margin)
        if shop.access_token_expires_at is None or shop.access_token_expires_at - margin > self.clock():
            token = shops.access_token_of(shop, self.cipher)
            if token is None:
                raise InstallError(401, "not_installed", f"{shop.domain} has no access token; reinstall the app")
            return token
        return self.refresh(shop)

    def refresh(self, shop: Shop) -> str:
        refresh_token = shops.refresh_token_of(shop, self.cipher)
        if not refresh_token:
            raise InstallError(401, "not_installed", f"{shop.domain} has no refresh token; reinstall the app")
        version = shop.token_version
        with self.http.client() as http:
            result = self.app.refresh_token_exchanged_access_token(
                {
                    "shop": shop.domain.removesuffix(".myshopify.com"),
                    "refresh_token": refresh_token,
                    # No expiry given: the decision to refresh is ours (see access_token()).
                    "expires": None,
                    "refresh_token_expires": _iso(shop.refresh_token_expires_at),
                    "access_mode": "offline",
                },
                http_client=http,
            )
        if not result.ok or result.access_token is None:
            raise InstallError(401, result.log.code, f"Shopify refused the token refresh ({result.log.code})")
        grant = _grant_from_shopifyapp(result.access_token)
        with self.db.transaction() as session:
            current = session.get(Shop, shop.id)
            if current is None:
                raise InstallError(404, "unknown_shop", f"{shop.domain} is no longer installed")
            if not shops.store_rotated_tokens(session, self.cipher, current, version, grant):
                # Another worker rotated first; its pair is as good as ours and already stored.
                session.refresh(current)
                return shops.access_token_of(current, self.cipher) or grant.access_token
            _copy_tokens(current, shop)
        return grant.access_token

    def admin_api(self, shop_domain: str) -> AdminAPI:
        """An Admin GraphQL client for the shop, with a fresh token (refreshed if about to lapse)."""
        with self.db.session() as session:
            shop = shops.find_installed_shop(session, Platform.shopify, shop_domain)
        if shop is None:
            raise AdminAPIUnauthorized(f"{shop_domain} is not installed")
        return AdminAPI(shop_domain, self.access_token(shop), self.settings.shopify_api_version, self.http)

    # -- shared ---------------------------------------------------------------

    def _store_install(self, domain: str, grant: shops.TokenGrant) -> Shop:
        name, primary_origin = self._fetch_shop_basics(domain, grant.access_token)
        with self.db.transaction() as session:
            shop = shops.record_install(session, self.cipher, Platform.shopify, domain, grant, self.clock(), name=name)
            if primary_origin:
                assert shop.id is not None  # record_install flushes, so the row has its id
                # Shoppers browse the custom domain; the widget's API calls come from there.
                put_setting(session, shop.id, "primary_origin", primary_origin, self.clock())
        log.info("installed %s (scopes %s)", domain, grant.scopes)
        return shop

    def _fetch_shop_basics(self, domain: str, access_token: str) -> tuple[str | None, str | None]:
        """The shop's name and its storefront's primary origin (custom domain)."""
        api = AdminAPI(domain, access_token, self.settings.shopify_api_version, self.http)
        try:
            shop = api.execute(SHOP_QUERY).data.get("shop") or {}
        except AdminAPIError as exc:
            # The install stands without them; both are fetched again on the next install.
            log.warning("could not read the basics of %s: %s", domain, exc)
            return None, None
        url = (shop.get("primaryDomain") or {}).get("url")
        return shop.get("name"), (origin_of(url) if isinstance(url, str) and url.startswith("https://") else None)


def _grant_from_shopifyapp(token: TokenExchangeAccessToken) -> shops.TokenGrant:
    return shops.TokenGrant(
        access_token=token.token,
        scopes=token.scope or "",
        expires_at=_parse_iso(token.expires),
        refresh_token=token.refresh_token,
        refresh_expires_at=_parse_iso(token.refresh_token_expires),
    )


def _copy_tokens(source: Shop, target: Shop) -> None:
    for column in (
        "access_token_enc",
        "access_token_expires_at",
        "refresh_token_enc",
        "refresh_token_expires_at",
        "token_version",
        "scopes",
    ):
        setattr(target, column, getattr(source, column))


def _after(now: datetime, seconds: Any) -> datetime | None:
    # `seconds` is the token response's expires_in as the JSON carried it: a number, or text.
    return now + timedelta(seconds=int(seconds)) if seconds not in (None, "") else None


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
