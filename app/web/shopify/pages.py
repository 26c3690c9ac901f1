"""The Support page inside the Shopify admin: Inbox, Conversation, Settings, Insights.

Each document load is an App Home load: the `id_token` on the URL is verified (or the
browser is bounced for a fresh one), and the answer carries Shopify's
frame-ancestors CSP. The shared templates are rendered by app/web/admin/pages.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request
from sqlmodel import select
from werkzeug.wrappers import Response as BaseResponse

from app import shops
from app.errors import ParleyError
from app.models import Conversation, Platform, Shop
from app.web.admin.pages import render_document
from app.web.admin.support import latest_message_id
from app.web.context import parley
from app.web.shopify.session import verify_document_load

bp = Blueprint("shopify_pages", __name__)

APP_BRIDGE_PRELOAD = '<https://cdn.shopify.com/shopifycloud/app-bridge.js>; rel="preload"; as="script"'
# The query parameters Shopify puts on an App Home URL that a page keeps when it
# moves to another page of the app (the id_token is replaced by a fresh one).
CARRIED_PARAMS = ("shop", "host", "embedded", "locale")


def shopify_boot(shop: Shop) -> dict[str, Any]:
    """What the page's scripts start from inside the Shopify admin."""
    assert shop.id is not None  # an installed shop has been stored, so it has its id
    settings = parley().settings
    return {
        # Which admin hosts the page, so the scripts pick the matching glue; `base` is
        # where this host mounts the pages (Saleor's live under /saleor).
        "platform": "shopify",
        "base": "",
        "shop": shop.domain,
        "shopName": shop.name or shop.domain,
        "host": request.args.get("host", ""),
        "apiKey": settings.shopify_api_key,
        "appBridge": settings.shopify_app_bridge,
        # Without App Bridge (a local admin), where the page gets fresh ID tokens instead.
        "signIn": settings.dev_sign_in_url,
        # The token this document was loaded with: the first fetches use it when neither
        # App Bridge nor a sign-in can mint another.
        "idToken": request.args.get("id_token", ""),
        "lastEventId": latest_message_id(shop.id),
    }


def render_shopify_document(template: str, shop: Shop, headers: dict[str, str], **context: Any) -> Response:
    return render_document(template, shop, headers, shopify_boot(shop), CARRIED_PARAMS, **context)


def _bounce(location: str) -> BaseResponse:
    """Where a load without a usable token goes: the patch-ID-token page, where App Bridge
    puts a fresh token on the URL; without App Bridge, the development sign-in."""
    sign_in = parley().settings.dev_sign_in_url
    if sign_in and not parley().settings.shopify_app_bridge:
        kept = urlencode(
            [(k, v) for k, v in request.args.items(multi=True) if k not in ("id_token", "shop", "embedded")]
        )
        query = urlencode(
            [
                (k, v)
                for k, v in (("shop", request.args.get("shop")), ("next", request.path + (f"?{kept}" if kept else "")))
                if v
            ]
        )
        return redirect(f"{sign_in}/support?{query}")
    return redirect(location)


def _document(template: str, **context: Any) -> Response | BaseResponse:
    visit = verify_document_load()
    if visit.redirect or visit.id_token is None:
        return _bounce(visit.redirect or "/")
    with parley().db.session() as session:
        shop = shops.find_installed_shop(session, Platform.shopify, visit.id_token.shop)
        if shop is None or shop.access_token_enc is None:
            # App Home installs by token exchange; it then renders the inbox.
            return redirect("/?" + request.query_string.decode())
        if "conversation_id" in context:
            found = session.exec(
                select(Conversation.id).where(
                    Conversation.id == context["conversation_id"], Conversation.shop_id == shop.id
                )
            ).first()
            if found is None:
                raise ParleyError(404, "not_found", "There is no such conversation in this shop.")
    return render_shopify_document(template, shop, visit.headers, **context)


@bp.after_app_request
def _preload_only_what_the_page_loads(response: Response) -> Response:
    """shopifyapp's document headers hint a preload of app-bridge.js and polaris.js. The
    pages load no Polaris script, and without App Bridge not even that: an offline browser
    should not be sent to the CDN. Applies to App Home (`/`) as well as the pages here."""
    if "frame-ancestors" in response.headers.get("Content-Security-Policy", "") and "Link" in response.headers:
        del response.headers["Link"]
        if parley().settings.shopify_app_bridge:
            response.headers["Link"] = APP_BRIDGE_PRELOAD
    return response


@bp.get("/app")
def inbox() -> Response | BaseResponse:
    return _document("admin/inbox.html")


@bp.get("/app/conversations/<conversation_id>")
def conversation(conversation_id: str) -> Response | BaseResponse:
    return _document("admin/conversation.html", conversation_id=conversation_id)


@bp.get("/app/settings")
def settings_page() -> Response | BaseResponse:
    return _document("admin/settings.html")


@bp.get("/app/insights")
def insights() -> Response | BaseResponse:
    return _document("admin/insights.html")


@bp.get("/app/answers")
def answers_page() -> Response | BaseResponse:
    return _document("admin/answers.html")
