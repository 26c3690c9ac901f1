"""Signed-in shoppers on a Saleor storefront: the customer's access token.

A Saleor storefront signs its customers in with `tokenCreate`, which returns an
RS256 JWT from the same key as the Dashboard tokens and webhook signatures. Its
claims carry `type: "access"`, `user_id` (the User's global id), `email`, `iss`
(the API URL) and a short `exp`. The widget may pass that token to Parley; Parley
trusts the customer only after checking it against the shop's JWKS, never because
the browser says who it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models import Shop
from app.platforms.saleor.apps import SaleorApps
from app.platforms.saleor.keys import SignatureError, check_claims

ACCESS_TOKEN_TYPE = "access"


class CustomerTokenError(Exception):
    """The customer token does not hold up; the message is safe to show."""


@dataclass(frozen=True)
class SaleorCustomer:
    customer_id: str
    email: str | None


def verify_customer_token(apps: SaleorApps, shop: Shop, token: str, now: float) -> SaleorCustomer:
    """The customer a storefront access token names; CustomerTokenError, or JWKSUnavailable."""
    if not isinstance(token, str) or not token:
        raise CustomerTokenError("the customer token is empty")
    try:
        claims = apps.keyring(shop).verify_jwt(token)
        check_claims(claims, now, iss=shop.domain, type=ACCESS_TOKEN_TYPE)
    except SignatureError as exc:
        raise CustomerTokenError(str(exc)) from None
    user_id = claims.get("user_id")
    if not isinstance(user_id, str) or not user_id or len(user_id) > 64:
        raise CustomerTokenError("the customer token does not name a customer")
    email = claims.get("email")
    return SaleorCustomer(customer_id=user_id, email=email if isinstance(email, str) and len(email) <= 320 else None)
