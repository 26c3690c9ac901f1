"""Shopify install routes: App Home (token exchange), the code grant, the
patch-ID-token page. Thin: the checks live in app/platforms/shopify."""

from __future__ import annotations

import secrets
import time

from flask import Blueprint, Response, redirect, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from app import shops
from app.errors import ParleyError
from app.models import Platform
from app.platforms.shopify.requests import ShopifyRequestError, normalize_shop, verify_query
from app.platforms.shopify.session_tokens import PATCH_ID_TOKEN_PATH
from app.web.context import parley
from app.web.requests import request_facts
from app.web.shopify.pages import render_shopify_document
from app.web.shopify.session import verify_document_load

bp = Blueprint("shopify_auth", __name__)

STATE_MAX_AGE = 600  # seconds a merchant has on Shopify's consent screen
NONCE_COOKIE = "parley_oauth_nonce"


def _state_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(parley().settings.secret_key, salt="shopify-oauth-state")


def _secrets() -> list[str]:
    settings = parley().settings
    return [s for s in (settings.shopify_api_secret, settings.shopify_api_secret_old) if s]


@bp.get("/")
def app_home() -> Response | BaseResponse | str:
    """Shopify's App Home. Embedded loads carry `id_token`; legacy installs carry `hmac`."""
    args = request.args
    if "id_token" in args or args.get("embedded") == "1":
        return _embedded_home()
    if "hmac" in args and "shop" in args:
        shop = verify_query(args.to_dict(), _secrets(), time.time())
        return _begin_code_grant(shop)
    return render_template("landing.html", settings=parley().settings)


def _embedded_home() -> Response | BaseResponse:
    visit = verify_document_load()
    if visit.redirect or visit.id_token is None:
        return redirect(visit.redirect or "/")
    services = parley()
    token = visit.id_token
    with services.db.session() as session:
        shop = shops.find_installed_shop(session, Platform.shopify, token.shop)
    if shop is None or shop.access_token_enc is None:
        shop = services.shopify.installer.install_with_id_token(token)
    return render_shopify_document("app_home.html", shop, visit.headers)


@bp.get(PATCH_ID_TOKEN_PATH)
def patch_id_token() -> Response:
    """The page App Bridge uses to put a fresh ID token on the URL and reload."""
    result = parley().shopify.installer.app.app_home_patch_id_token(request_facts().as_shopifyapp_input())
    if result.response.status >= 400:
        # shopifyapp answers a bare "Bad Request"; say what is missing, as every page does.
        raise ParleyError(
            result.response.status,
            result.log.code or "invalid_request",
            "open the app from the Shopify admin: this page needs the shop and host Shopify adds",
        )
    response = Response(result.response.body, status=result.response.status, mimetype="text/html")
    response.headers.update(result.response.headers or {})
    return response


@bp.get("/auth/install")
def install() -> BaseResponse:
    """Start the authorization-code grant (non-embedded and legacy installs)."""
    args = request.args
    signed = "hmac" in args
    return _begin_code_grant(
        verify_query(args.to_dict(), _secrets(), time.time()) if signed else normalize_shop(args.get("shop"))
    )


def _begin_code_grant(shop: str) -> BaseResponse:
    nonce = secrets.token_urlsafe(16)
    state = _state_serializer().dumps({"shop": shop, "nonce": nonce})
    response = redirect(parley().shopify.installer.authorize_url(shop, state))
    response.set_cookie(
        NONCE_COOKIE,
        nonce,
        max_age=STATE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=parley().settings.app_url.startswith("https://"),
        path="/auth/callback",
    )
    return response


@bp.get("/auth/callback")
def callback() -> BaseResponse:
    args = request.args
    shop = verify_query(args.to_dict(), _secrets(), time.time())
    try:
        state = _state_serializer().loads(args.get("state", ""), max_age=STATE_MAX_AGE)
    except SignatureExpired:
        raise ParleyError(
            400, "expired_state", "the install took too long; start it again from the Shopify admin"
        ) from None
    except BadSignature:
        raise ParleyError(400, "invalid_state", "the state parameter was not issued by Parley") from None
    if not secrets.compare_digest(str(state.get("nonce", "")), request.cookies.get(NONCE_COOKIE, "")):
        raise ParleyError(
            400, "state_mismatch", "the state parameter does not belong to this browser; start the install again"
        )
    if state.get("shop") != shop:
        raise ParleyError(400, "state_mismatch", "the state parameter was issued for another shop")
    code = args.get("code", "")
    if not code:
        raise ShopifyRequestError(400, "missing_code", "the callback carries no authorization code")
    installer = parley().shopify.installer
    installer.install_with_code(shop, code)
    # Back to the app inside the shop's admin, as Shopify's own install flow ends.
    response = redirect(installer.http.browser_url(shop, f"/admin/apps/{parley().settings.shopify_api_key}"))
    response.delete_cookie(NONCE_COOKIE, path="/auth/callback")
    return response
