"""Who is asking, for Shopify admin requests: the App Bridge ID token, checked by
shopifyapp and then by the rules it leaves to us (app/platforms/shopify/requests.py).

Two ways it arrives: on the URL of an App Home document load (a stale one is bounced
to the patch-ID-token page, where App Bridge puts a fresh one on the URL), and as
`Authorization: Bearer` on the Support page's fetches (refused with Shopify's retry
header, so App Bridge fetches a fresh token and retries).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from shopify_app import ShopifyApp

from app.platforms.port import RequestFacts, RequestInput
from app.platforms.shopify.requests import IdToken, ShopifyRequestError, check_id_token_claims

PATCH_ID_TOKEN_PATH = "/auth/patch-id-token"
RETRY_HEADER = {"X-Shopify-Retry-Invalid-Session-Request": "1"}


@dataclass(frozen=True)
class AppHomeVisit:
    """A verified document load: the token, plus headers to send back (the CSP)."""

    id_token: IdToken | None
    headers: dict[str, str]
    redirect: str | None = None


def verify_document_load(app: ShopifyApp, request: RequestFacts) -> AppHomeVisit:
    """For App Home document loads: a verified token, or where to bounce for a fresh one."""
    result = app.verify_app_home_req(request.as_shopifyapp_input(), PATCH_ID_TOKEN_PATH)
    if not result.ok:
        location = (result.response.headers or {}).get("Location")
        id_token = (parse_qs(urlsplit(request.url).query).get("id_token") or [""])[0]
        if id_token and location:
            # shopifyapp bounces every bad token; only a stale one deserves the bounce
            # (App Bridge fetches a fresh one). A forged one is refused outright.
            as_fetch: RequestInput = {
                **request.as_shopifyapp_input(),
                "headers": {"Authorization": f"Bearer {id_token}"},
            }
            reason = app.verify_app_home_req(as_fetch, PATCH_ID_TOKEN_PATH).log.code
            if reason not in ("expired_id_token", "verified"):
                raise ShopifyRequestError(
                    401, "invalid_id_token", "the id_token is not a valid session token for this app"
                )
        if result.response.status == 302 and location:
            return AppHomeVisit(id_token=None, headers={}, redirect=location)
        raise ShopifyRequestError(
            401, result.log.code, "the session token is missing or invalid; reload the app from the Shopify admin"
        )
    assert result.id_token is not None  # shopifyapp sets it on every verified (ok) result
    claims = dict(result.id_token.claims)
    shop = check_id_token_claims(claims)
    token = IdToken(shop=shop, user_id=result.user_id, token=result.id_token.token, claims=claims)
    return AppHomeVisit(id_token=token, headers=dict(result.response.headers or {}))


def verify_bearer(app: ShopifyApp, request: RequestFacts) -> IdToken:
    """For fetches from the admin page: `Authorization: Bearer <ID token>`, else 401 with the retry header."""
    if not (request.header("Authorization") or "").startswith("Bearer "):
        raise ShopifyRequestError(
            401, "missing_session_token", "send the App Bridge ID token as Authorization: Bearer", headers=RETRY_HEADER
        )
    result = app.verify_app_home_req(request.as_shopifyapp_input(), PATCH_ID_TOKEN_PATH)
    if not result.ok:
        message = (
            "the session token has expired" if result.log.code == "expired_id_token" else "the session token is invalid"
        )
        raise ShopifyRequestError(401, result.log.code, message, headers=RETRY_HEADER)
    assert result.id_token is not None  # shopifyapp sets it on every verified (ok) result
    claims = dict(result.id_token.claims)
    try:
        shop = check_id_token_claims(claims)
    except ShopifyRequestError as exc:
        raise ShopifyRequestError(401, exc.code, exc.message, headers=RETRY_HEADER) from None
    return IdToken(shop=shop, user_id=result.user_id, token=result.id_token.token, claims=claims)
