"""The Support page's documents: Inbox, Conversation, Settings, Insights.

Each document load is an App Home load: the `id_token` on the URL is verified
(or the browser is bounced for a fresh one), and the answer carries Shopify's
frame-ancestors CSP. The pages then talk to the JSON API (app/web/admin_support.py)
with `Authorization: Bearer <ID token>` on every fetch; nothing private is rendered
into the HTML beyond the shop's domain.
"""

from __future__ import annotations

from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, make_response, redirect, render_template, request, url_for
from sqlmodel import select

from app import shops
from app.models import Conversation, Message, Platform, Shop
from app.web.context import parley
from app.web.errors import APIError
from app.web.shopify_session import verify_document_load

bp = Blueprint(
    "admin_pages",
    __name__,
    static_folder="static/admin",
    static_url_path="/static/admin",
)

APP_BRIDGE_PRELOAD = '<https://cdn.shopify.com/shopifycloud/app-bridge.js>; rel="preload"; as="script"'
# The query parameters Shopify puts on an App Home URL that a page keeps when it
# moves to another page of the app (the id_token is replaced by a fresh one).
CARRIED_PARAMS = ("shop", "host", "embedded", "locale")


def loads_app_bridge() -> bool:
    """App Bridge comes from Shopify's CDN; the demo and the stand-in run without it."""
    settings = parley().settings
    return not (settings.demo or settings.shopify_standin_url)


def carried_query() -> str:
    # Another host (the Saleor Dashboard) names the parameters its pages carry in `g`.
    params = g.get("admin_carried_params", CARRIED_PARAMS)
    return urlencode([(k, request.args[k]) for k in params if request.args.get(k)])


def latest_event_id(shop_id: int) -> int:
    """Where the page's event stream starts: the newest message of the shop when the
    page was rendered (an index lookup), so a fresh page is not sent the shop's history."""
    with parley().db.session() as session:
        latest = session.exec(select(sa.func.max(Message.id)).where(Message.shop_id == shop_id)).one()
    return int(latest or 0)


def admin_boot(shop: Shop) -> dict:
    """What the page's scripts start from; rendered as JSON into the document."""
    if g.get("admin_boot") is not None:
        return g.admin_boot  # another host's glue (app/web/saleor_dashboard.py)
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
        "appBridge": loads_app_bridge(),
        "demo": bool(settings.demo),
        # The token this document was loaded with: the first fetches use it when neither
        # App Bridge nor the demo sign-in can mint another.
        "idToken": request.args.get("id_token", ""),
        "lastEventId": latest_event_id(shop.id),
        "query": carried_query(),
    }


@bp.app_context_processor
def _admin_helpers() -> dict:
    # A function, not a value: App Home (templates/app_home.html) renders the inbox too,
    # and only pages that extend admin/layout.html call it.
    return {"admin_boot": admin_boot, "admin_query": carried_query}


def _bounce(location: str):
    """Where a load without a usable token goes: the patch-ID-token page, where App Bridge
    puts a fresh token on the URL. The demo has no App Bridge; its sign-in mints one."""
    if parley().settings.demo and "demo" in current_app.blueprints:
        kept = urlencode([(k, v) for k, v in request.args.items(multi=True) if k not in ("id_token", "shop", "embedded")])
        return redirect(url_for("demo.support", shop=request.args.get("shop") or None, next=request.path + (f"?{kept}" if kept else "")))
    return redirect(location)


def _document(template: str, **context):
    visit = verify_document_load()
    if visit.redirect:
        return _bounce(visit.redirect)
    with parley().db.session() as session:
        shop = shops.find_installed_shop(session, Platform.shopify, visit.id_token.shop)
        if shop is None or shop.access_token_enc is None:
            # App Home installs by token exchange; it then renders the inbox.
            return redirect("/?" + request.query_string.decode())
        if "conversation_id" in context:
            found = session.exec(
                select(Conversation.id).where(Conversation.id == context["conversation_id"], Conversation.shop_id == shop.id)
            ).first()
            if found is None:
                raise APIError(404, "not_found", "There is no such conversation in this shop.")
    return render_document(template, shop, visit.headers, **context)


def render_document(template: str, shop: Shop, headers: dict[str, str], **context) -> Response:
    """A Support page for whichever admin hosts it: same templates, the host's headers."""
    response = make_response(render_template(template, shop=shop, **context))
    response.headers.update(headers)
    response.headers["Cache-Control"] = "no-store"  # the URL may carry a token; the page is per staff member
    return response


@bp.after_app_request
def _preload_only_what_the_page_loads(response):
    """shopifyapp's document headers hint a preload of app-bridge.js and polaris.js. The
    pages load no Polaris script, and in the demo not even App Bridge: an offline browser
    should not be sent to the CDN. Applies to App Home (`/`) as well as the pages here."""
    if "frame-ancestors" in response.headers.get("Content-Security-Policy", "") and "Link" in response.headers:
        del response.headers["Link"]
        if loads_app_bridge():
            response.headers["Link"] = APP_BRIDGE_PRELOAD
    return response


@bp.get("/app")
def inbox():
    return _document("admin/inbox.html")


@bp.get("/app/conversations/<conversation_id>")
def conversation(conversation_id: str):
    return _document("admin/conversation.html", conversation_id=conversation_id)


@bp.get("/app/settings")
def settings_page():
    return _document("admin/settings.html")


@bp.get("/app/insights")
def insights():
    return _document("admin/insights.html")
