"""Installing Parley into a Saleor: the token POST to `tokenTargetUrl`.

The POST is unsigned, so its claim is proven the way Saleor's app-sdk does it
(saleor.md A2): the API URL may be checked against an allow-list, the token must
answer `{ app { id } }` at that API URL, and the JWKS of that Saleor must be
fetchable. Only then is anything stored. Any refusal answers non-2xx, which makes
Saleor delete the app and show our message to the installer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from app import shops
from app.config import Settings
from app.models import Platform, Shop
from app.platforms.saleor.api import SaleorAPI, SaleorAPIError, SaleorUnavailable
from app.platforms.saleor.apps import SaleorApps
from app.platforms.saleor.errors import SaleorRequestError
from app.platforms.saleor.keys import JWKSUnavailable
from app.platforms.saleor.manifest import PERMISSIONS

log = logging.getLogger(__name__)

WHOAMI_WITH_PERMISSIONS = "query ParleyRegister { app { id permissions { code } } }"
MAX_TOKEN = 255


class RegisterError(SaleorRequestError):
    """A token POST Parley refuses; Saleor shows the message to the installing user."""


@dataclass(frozen=True)
class Registration:
    api_url: str
    token: str
    domain: str | None = None


def allowed_api_urls(settings: Settings) -> set[str]:
    return {url.strip() for url in settings.saleor_allowed_api_urls.split(",") if url.strip()}


def check_api_url(settings: Settings, api_url: str) -> str:
    """The API URL as Saleor sent it (it is the tenant key), or RegisterError."""
    parts = urlsplit(api_url or "")
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or len(api_url) > 255
    ):  # the API URL is the shop's `domain` column
        raise RegisterError(400, "INVALID_API_URL", "The Saleor-Api-Url header must be the URL of a Saleor GraphQL API")
    allowed = allowed_api_urls(settings)
    if allowed and api_url not in allowed:
        raise RegisterError(403, "API_URL_NOT_ALLOWED", f"{api_url} is not allowed to install this Parley")
    # In production an http:// API URL would carry the app token (and every Admin call)
    # in clear text; a deliberately listed one (an internal network) is the operator's call.
    if settings.production and parts.scheme == "http" and api_url not in allowed:
        raise RegisterError(403, "INSECURE_API_URL", "Parley only installs into Saleor served over https")
    return api_url


def parse_registration(settings: Settings, api_url: str | None, body: object, domain: str | None) -> Registration:
    if not api_url:
        raise RegisterError(400, "MISSING_SALEOR_API_URL", "The Saleor-Api-Url header is missing")
    checked = check_api_url(settings, api_url.strip())
    token = body.get("auth_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        raise RegisterError(400, "MISSING_AUTH_TOKEN", "The body must be JSON with an auth_token")
    return Registration(checked, token.strip(), (domain or "").strip()[:255] or None)


def register(apps: SaleorApps, registration: Registration, transport: httpx.BaseTransport | None = None) -> Shop:
    """Prove the token, fetch the keys, then store the installation; RegisterError otherwise."""
    api = SaleorAPI(registration.api_url, registration.token, transport)
    try:
        result = api.execute(WHOAMI_WITH_PERMISSIONS, partial_ok=True)
    except SaleorUnavailable as exc:
        raise RegisterError(
            502, "SALEOR_UNREACHABLE", f"Parley could not reach {registration.api_url} to verify the token ({exc})"
        ) from None
    except SaleorAPIError as exc:  # refused or unreadable: the claim is unproven
        log.info("Saleor register: token check failed for %s: %s", registration.api_url, exc)
        result = None
    app = (result.data.get("app") if result else None) or {}
    app_id = app.get("id") if isinstance(app, dict) else None
    if not isinstance(app_id, str) or not app_id:
        raise RegisterError(401, "UNKNOWN_APP_ID", "The auth token is not an app token of this Saleor")
    granted = sorted({p["code"] for p in app.get("permissions") or [] if isinstance(p, dict) and p.get("code")})
    try:
        jwks = apps.fetch(registration.api_url)
    except JWKSUnavailable:
        raise RegisterError(
            502, "JWKS_NOT_AVAILABLE", "Parley could not fetch this Saleor's signing keys (/.well-known/jwks.json)"
        ) from None
    grant = shops.TokenGrant(access_token=registration.token, scopes=",".join(granted or PERMISSIONS))
    with apps.db.transaction() as session:
        shop = shops.record_install(
            session, apps.cipher, Platform.saleor, registration.api_url, grant, apps.now(), name=registration.domain
        )
        shop.app_id = app_id
        shop.jwks = jwks
        session.add(shop)
    log.info("Saleor installed: %s (app %s)", registration.api_url, app_id)
    return shop
