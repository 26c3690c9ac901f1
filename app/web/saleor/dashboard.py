"""The Support page inside the Saleor Dashboard, and its two Dashboard extensions.

Pages (`appUrl` = /saleor/app, APP_PAGE on NAVIGATION_CUSTOMERS): the very templates
the Shopify admin shows (templates/admin/*.html); only the host glue differs. The
Dashboard loads the iframe with `?saleorApiUrl=…&id=…&theme=…` and never the token,
which arrives later by postMessage (app/web/static/admin/host-saleor.js). So these
documents render nothing private: the page's fetches to /admin/api carry the token
and `Saleor-Api-Url`, and app/web/admin/auth.py checks both on every call.

Extensions (WIDGET on ORDER_DETAILS_WIDGETS, and the customer "Chat with this
customer" action): the Dashboard form-POSTs `saleorApiUrl`, `accessToken`, `appId` and
the entity id into the iframe or a new tab. There is no handshake and no cookie, so
the token in the form is verified exactly like the bearer before anything is shown,
and it is carried in the reply form (no CSRF token needed: nothing here rides on
ambient credentials; a forged POST would need a valid Dashboard token).

Framing: the Dashboard's origin cannot be known in advance (Saleor Cloud, a
self-hosted Dashboard on any domain, localhost while developing), so the pages allow
any ancestor (`frame-ancestors *`). That is safe here because no page holds a
capability a framing site could click through: the inbox pages show nothing until a
Dashboard token arrives, the extension pages only answer a POST that carries one, and
no cookie or other ambient credential exists to abuse.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, make_response, render_template, request
from sqlmodel import col, select

from app.chat.inbox import customer_label
from app.chat.visitors import label_language
from app.errors import ParleyError
from app.models import Conversation, Message, OrderLink, Shop, Visitor
from app.platforms.saleor.dashboard import DashboardUser
from app.web.admin.pages import render_document
from app.web.context import parley

bp = Blueprint("saleor_dashboard", __name__)

BASE = "/saleor"
# The iframe parameters a page keeps when it moves to another page of the app.
CARRIED_PARAMS = ("saleorApiUrl", "id", "theme")
FRAME_HEADERS = {"Content-Security-Policy": "frame-ancestors *"}
THREAD_PREVIEW = 5
MAX_CONVERSATIONS = 10


# -- the Support page ---------------------------------------------------------------


def _installed(api_url: str | None) -> Shop:
    if not api_url:
        raise ParleyError(
            400, "missing_api_url", "Open Parley from the Saleor Dashboard (the page needs saleorApiUrl)."
        )
    with parley().db.session() as session:
        shop = parley().saleor.apps.find(session, api_url.strip())
    if shop is None:
        raise ParleyError(
            404, "not_installed", "Parley is not installed in this Saleor. Install it from the Dashboard's Apps page."
        )
    return shop


def _boot(shop: Shop) -> dict[str, Any]:
    """What the page's scripts start from. Public facts only: the API URL and app id
    are on the iframe URL already; `lastEventId` is learnt from the stream ticket."""
    return {
        "platform": "saleor",
        "base": BASE,
        "shop": shop.domain,
        "shopName": shop.name or shop.domain,
        "apiUrl": shop.domain,
        "appId": request.args.get("id", ""),
        "theme": "dark" if request.args.get("theme") == "dark" else "light",
        "host": "",
        "apiKey": "",
        "appBridge": False,
        "signIn": None,
        "idToken": "",
        "lastEventId": None,
    }


def _page(template: str, **context: Any) -> Response:
    shop = _installed(request.args.get("saleorApiUrl"))
    return render_document(template, shop, FRAME_HEADERS, _boot(shop), CARRIED_PARAMS, **context)


@bp.get(f"{BASE}/app")
def inbox() -> Response:
    return _page("admin/inbox.html")


@bp.get(f"{BASE}/app/conversations/<conversation_id>")
def conversation(conversation_id: str) -> Response:
    # Not looked up here: without the token, saying whether it exists would tell anyone.
    return _page("admin/conversation.html", conversation_id=conversation_id)


@bp.get(f"{BASE}/app/settings")
def settings_page() -> Response:
    return _page("admin/settings.html")


@bp.get(f"{BASE}/app/insights")
def insights() -> Response:
    return _page("admin/insights.html")


@bp.get(f"{BASE}/app/answers")
def answers_page() -> Response:
    return _page("admin/answers.html")


# -- Dashboard extensions ----------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    who: str
    body: str
    internal: bool


@dataclass(frozen=True)
class ThreadView:
    conversation: Conversation
    name: str
    lines: list[Line]
    link: str


AUTHORS = {"shopper": "Shopper", "agent": "Team", "bot": "Bot", "system": "Parley"}


def _line(message: Message, user_id: str) -> Line:
    who = (
        "You"
        if message.author_kind.value == "agent" and message.author_id == user_id
        else AUTHORS[message.author_kind.value]
    )
    return Line(who=who, body=message.body, internal=message.internal)


def _verified_form() -> DashboardUser:
    return parley().saleor.verify_staff_token(request.form.get("saleorApiUrl"), request.form.get("accessToken"))


def _threads(user: DashboardUser, conversations: list[Conversation]) -> list[ThreadView]:
    assert user.shop.id is not None  # a shop read from the database has its id
    services = parley()
    with services.db.session() as session:
        ids = [c.visitor_id for c in conversations]
        visitors = {v.id: v for v in session.exec(select(Visitor).where(col(Visitor.id).in_(ids)))} if ids else {}
    views = []
    for conversation in conversations:
        messages, _ = services.chat.thread(user.shop.id, conversation.id, None, THREAD_PREVIEW)
        visitor = visitors.get(conversation.visitor_id)
        views.append(
            ThreadView(
                conversation=conversation,
                name=customer_label(visitor, label_language(request.headers.get("Accept-Language"))),
                lines=[_line(m, user.user_id) for m in messages],
                link=services.saleor.dashboard_path(user.shop, conversation.id),
            )
        )
    return views


def _render_extension(kind: str, user: DashboardUser, threads: list[ThreadView], **context: Any) -> Response:
    form = {
        "saleorApiUrl": user.shop.domain,
        "accessToken": request.form.get("accessToken", ""),
        "appId": request.form.get("appId", ""),
    }
    response = make_response(
        render_template(
            "admin/saleor_extension.html",
            kind=kind,
            shop=user.shop,
            threads=threads,
            form=form,
            client_id=str(uuid.uuid4()),
            **context,
        )
    )
    response.headers.update(FRAME_HEADERS)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post(f"{BASE}/extensions/order-widget")
def order_widget() -> Response:
    """ORDER_DETAILS_WIDGETS: the conversation(s) this order is attributed to."""
    user = _verified_form()
    order_id = request.form.get("orderId", "").strip()
    if not order_id:
        raise ParleyError(400, "missing_order", "The Dashboard did not say which order this is (orderId).")
    with parley().db.session() as session:
        conversations = session.exec(
            select(Conversation)
            .join(OrderLink, col(OrderLink.conversation_id) == Conversation.id)
            .where(
                OrderLink.shop_id == user.shop.id, OrderLink.order_id == order_id, Conversation.shop_id == user.shop.id
            )
            .order_by(col(Conversation.created_at).desc())
            .limit(MAX_CONVERSATIONS)
        ).all()
    threads = _threads(user, list(conversations))
    return _render_extension("order", user, threads, order_id=order_id)


@bp.post(f"{BASE}/extensions/customer-chat")
def customer_chat() -> Response:
    """CUSTOMER_DETAILS_MORE_ACTIONS: the customer's conversations, with a reply box.
    The reply form posts back here with the same token, so one route both answers and shows."""
    user = _verified_form()
    customer_id = request.form.get("customerId", "").strip()
    if not customer_id:
        raise ParleyError(400, "missing_customer", "The Dashboard did not say which customer this is (customerId).")
    sent = None
    refused: dict[str, str] | None = None
    if request.form.get("conversationId"):
        try:
            sent = _reply(user, request.form["conversationId"], request.form.get("body"), request.form.get("clientId"))
        except ParleyError as exc:
            if exc.code not in DRAFT_REFUSALS:
                raise
            # Shown beside that reply box with the whole draft back in it, never cut.
            refused = {
                "conversation_id": request.form["conversationId"],
                "message": exc.message,
                "body": request.form.get("body") or "",
                "status": str(exc.status),
            }
    email = _customer_email(user.shop, customer_id)
    who = col(Visitor.customer_id) == customer_id
    if email:
        who = sa.or_(who, col(Visitor.email) == email)
    with parley().db.session() as session:
        conversations = session.exec(
            select(Conversation)
            .join(Visitor, col(Visitor.id) == Conversation.visitor_id)
            .where(Conversation.shop_id == user.shop.id, Visitor.shop_id == user.shop.id, who)
            .order_by(sa.func.coalesce(Conversation.last_message_at, Conversation.created_at).desc())
            .limit(MAX_CONVERSATIONS)
        ).all()
    threads = _threads(user, list(conversations))
    response = _render_extension(
        "customer", user, threads, customer_id=customer_id, email=email, sent=sent, refused=refused
    )
    if refused:
        response.status_code = int(refused["status"])
    return response


# A reply the chat refuses for its text: the page keeps the draft and says why.
DRAFT_REFUSALS = ("empty_message", "message_too_long")


def _reply(user: DashboardUser, conversation_id: str, body: str | None, client_id: str | None) -> str:
    """Send the staff member's reply; the client id rendered into the form makes a double
    submit store once. A refused body or a conversation of another shop raises ParleyError,
    shown as a readable page with its 4xx."""
    assert user.shop.id is not None  # a shop read from the database has its id
    parley().chat.send_agent_message(user.shop.id, conversation_id, user.user_id, body or "", client_id or "")
    return conversation_id


def _customer_email(shop: Shop, customer_id: str) -> str | None:
    """The customer's e-mail from Saleor, so conversations from before they signed in
    (matched by the e-mail they left) are found too. Best effort."""
    try:
        person = (parley().saleor.context.lookup(shop, customer_id, None) or {}).get("customer") or {}
    except Exception:  # noqa: BLE001 - a Saleor outage must not hide the conversations Parley already has
        return None
    email = person.get("email")
    return email if isinstance(email, str) and email else None
