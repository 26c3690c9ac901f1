"""Who is asking, for requests from the Saleor Dashboard: the Dashboard token.

The Dashboard hands its app a short-lived RS256 JWT (by postMessage to the iframe,
or as the `accessToken` field of a WIDGET/NEW_TAB form POST). Saleor signs it with
the key that signs its webhooks (saleor.md §A4). Its claims name the Saleor (`iss`
= the API URL), the app (`app` = our App's global id there), the staff member
(`user_id`) and their permissions. The check follows @saleor/app-sdk's
`verify-jwt.ts` and adds `iss`, so a token from one Saleor never opens another.

Platform code: no Flask. The web layer turns DashboardTokenError into a 401 and
JWKSUnavailable into a 503.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from app.models import Shop
from app.platforms.saleor.apps import SaleorApps
from app.platforms.saleor.keys import SignatureError, check_claims

# A Support page shows shoppers' names, e-mails, carts and order history, and lets
# staff answer them. In Saleor, reading a customer needs MANAGE_USERS (or MANAGE_STAFF)
# and reading a customer's orders needs MANAGE_ORDERS (saleor.md §A5). A staff member
# without both would see through Parley what Saleor itself hides from them, so both are
# required of the *user* (`user_permissions`: everything the person may do), not just
# of the app (`permissions` is app ∩ user and would say the same for an extension token).
REQUIRED_PERMISSIONS = frozenset({"MANAGE_USERS", "MANAGE_ORDERS"})
# Dashboard tokens are "thirdparty"; a shopper's access token ("access") signed by the
# same key must never pass as staff, even though it would also fail the `app` check.
DASHBOARD_TOKEN_TYPE = "thirdparty"


class DashboardTokenError(Exception):
    """The Dashboard token does not hold up; `code` and `message` are safe to show."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DashboardUser:
    shop: Shop
    user_id: str
    email: str | None
    claims: dict[str, Any]


def verify_dashboard_token(apps: SaleorApps, api_url: str | None, token: str | None, now: float) -> DashboardUser:
    """The installed Saleor named by `api_url` and the staff member its token names.

    Order matters: the tenant comes from our database (an unknown API URL is refused
    before any key is fetched, so nobody can make Parley fetch arbitrary URLs), the
    keys come from that tenant's JWKS, and only a verified token's claims are read.
    Raises DashboardTokenError, or JWKSUnavailable when the keys cannot be had.
    """
    if not api_url:
        raise DashboardTokenError("missing_api_url", "send the Saleor API URL as the Saleor-Api-Url header")
    if not token:
        raise DashboardTokenError("missing_session_token", "send the Dashboard token as Authorization: Bearer")
    with apps.db.session() as session:
        shop = apps.find(session, api_url)
    if shop is None or not shop.app_id:
        # Without a stored app id there is nothing to hold the token's `app` claim to.
        raise DashboardTokenError(
            "not_installed", "Parley is not installed in this Saleor; install it from the Dashboard"
        )
    # The claims are checked before the signature too (as the SDK does): a token meant
    # for another Saleor or app, or long expired, is refused without asking for keys, so
    # presenting one cannot make Parley refetch a JWKS. They are checked again once verified.
    _check(_unverified_claims(token), shop, now)
    try:
        claims = apps.keyring(shop).verify_jwt(token)
    except SignatureError as exc:
        raise DashboardTokenError("invalid_token", str(exc)) from None
    _check(claims, shop, now)
    granted = claims.get("user_permissions")
    if not isinstance(granted, list):
        raise DashboardTokenError("invalid_token", "the token does not list the staff member's permissions")
    missing = sorted(REQUIRED_PERMISSIONS - {str(p) for p in granted})
    if missing:
        raise DashboardTokenError(
            "missing_permission", f"your Saleor account needs {' and '.join(missing)} to use Parley; ask a store owner"
        )
    user_id = claims.get("user_id")
    if not isinstance(user_id, str) or not user_id or len(user_id) > 64:
        raise DashboardTokenError("invalid_token", "the token does not name a staff member")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    return DashboardUser(shop=shop, user_id=user_id, email=email, claims=claims)


def _check(claims: dict[str, Any], shop: Shop, now: float) -> None:
    try:
        check_claims(claims, now, iss=shop.domain, app=shop.app_id, type=DASHBOARD_TOKEN_TYPE)
    except SignatureError as exc:
        expired = "expired" in str(exc).lower()
        raise DashboardTokenError("expired_token" if expired else "invalid_token", str(exc)) from None


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a compact JWT, read without trusting it."""
    parts = token.split(".")
    if len(parts) != 3:
        raise DashboardTokenError("invalid_token", "the token is not a JWT")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        raise DashboardTokenError("invalid_token", "the token is not a JWT") from None
    if not isinstance(claims, dict):
        raise DashboardTokenError("invalid_token", "the token is not a JWT")
    return claims
