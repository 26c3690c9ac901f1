"""Who is asking, for Shopify admin requests: the App Bridge ID token, checked
by shopifyapp and then by the rules it leaves to us."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from sqlmodel import Session

from app import shops
from app.models import Platform, Shop
from app.platforms.shopify.requests import IdToken, ShopifyRequestError, check_id_token_claims
from app.web.context import parley
from app.web.errors import APIError

PATCH_ID_TOKEN_PATH = "/auth/patch-id-token"
RETRY_HEADER = {"X-Shopify-Retry-Invalid-Session-Request": "1"}


def request_input() -> dict:
    return {
        "method": request.method,
        "headers": dict(request.headers),
        "url": request.url,
        "body": request.get_data(as_text=True),
    }


@dataclass(frozen=True)
class AppHomeVisit:
    """A verified document load: the token, plus headers to send back (the CSP)."""

    id_token: IdToken | None
    headers: dict[str, str]
    redirect: str | None = None


def verify_document_load() -> AppHomeVisit:
    """For App Home document loads: a verified token, or where to bounce for a fresh one."""
    verifier = parley().shopify.app
    result = verifier.verify_app_home_req(request_input(), PATCH_ID_TOKEN_PATH)
    if not result.ok:
        location = (result.response.headers or {}).get("Location")
        id_token = request.args.get("id_token", "")
        if id_token and location:
            # shopifyapp bounces every bad token; only a stale one deserves the bounce
            # (App Bridge fetches a fresh one). A forged one is refused outright.
            as_fetch = dict(request_input(), headers={"Authorization": f"Bearer {id_token}"})
            reason = verifier.verify_app_home_req(as_fetch, PATCH_ID_TOKEN_PATH).log.code
            if reason not in ("expired_id_token", "verified"):
                raise APIError(401, "invalid_id_token", "the id_token is not a valid session token for this app")
        if result.response.status == 302 and location:
            return AppHomeVisit(id_token=None, headers={}, redirect=location)
        raise APIError(401, result.log.code, "the session token is missing or invalid; reload the app from the Shopify admin")
    claims = dict(result.id_token.claims)
    shop = check_id_token_claims(claims)
    token = IdToken(shop=shop, user_id=result.user_id, token=result.id_token.token, claims=claims)
    return AppHomeVisit(id_token=token, headers=dict(result.response.headers or {}))


def verify_bearer() -> IdToken:
    """For fetches from the admin page: `Authorization: Bearer <ID token>`, else 401 with the retry header."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        raise APIError(401, "missing_session_token", "send the App Bridge ID token as Authorization: Bearer", RETRY_HEADER)
    result = parley().shopify.app.verify_app_home_req(request_input(), PATCH_ID_TOKEN_PATH)
    if not result.ok:
        message = "the session token has expired" if result.log.code == "expired_id_token" else "the session token is invalid"
        raise APIError(401, result.log.code, message, RETRY_HEADER)
    claims = dict(result.id_token.claims)
    try:
        shop = check_id_token_claims(claims)
    except ShopifyRequestError as exc:
        raise APIError(401, exc.code, exc.message, RETRY_HEADER) from None
    return IdToken(shop=shop, user_id=result.user_id, token=result.id_token.token, claims=claims)


def installed_shop(session: Session, token: IdToken) -> Shop:
    shop = shops.find_installed_shop(session, Platform.shopify, token.shop)
    if shop is None:
        raise APIError(401, "not_installed", "Parley is not installed on this shop; open it from the Shopify admin", RETRY_HEADER)
    return shop
