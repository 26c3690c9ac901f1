"""The demo's own pages on Parley's server (/demo): where to start, the development
sign-in that mints the Support page's ID tokens (Parley's DEV_SIGN_IN_URL points here),
and a minimal merchant inbox. Registered by standins.demo.build_demo only."""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from sqlmodel import Session, col, select

from app import shops
from app.commerce.money import amount_text
from app.errors import ParleyError
from app.models import CartSnapshot, Conversation, Message, Platform, Shop, Visitor
from app.platforms.shopify.requests import normalize_shop
from app.web.context import parley
from standins.demo.names import DEMO_SHOP, SECOND_SHOP, saleor_pages, storefront_url

bp = Blueprint("demo", __name__, url_prefix="/demo", template_folder="templates")

SUPPORT_PAGE = re.compile(r"/app(/[A-Za-z0-9_-]+)*")  # where the demo sign-in may lead


def _standin():
    standin = current_app.extensions.get("parley.demo_standin")
    if standin is None:
        raise ParleyError(404, "no_standin", "the demo stand-in is not running in this process")
    return standin


@bp.get("")
def index():
    with parley().db.session() as session:
        installed = session.exec(select(Shop).order_by(col(Shop.id))).all()
    standin_url = _standin().url
    saleor = current_app.extensions.get("parley.demo_saleor")
    return render_template(
        "demo.html",
        shops=installed,
        demo_shop=DEMO_SHOP,
        second_shop=SECOND_SHOP,
        storefront_url=storefront_url(standin_url) if standin_url else None,
        saleor_pages=saleor_pages(saleor.url) if saleor is not None and getattr(saleor, "url", None) else None,
    )


@bp.get("/admin")
def open_admin():
    """What the Shopify admin does when a merchant opens the app: load App Home with a fresh ID token."""
    shop = request.args.get("shop", DEMO_SHOP)
    token = _standin().mint_id_token(shop)
    return redirect(url_for("shopify_auth.app_home", embedded="1", shop=shop, id_token=token))


@bp.get("/id-token")
def id_token():
    """The demo's stand-in for `shopify.idToken()`: a fresh ID token for the Support page's fetches."""
    token = _standin().mint_id_token(normalize_shop(request.args.get("shop", DEMO_SHOP)))
    return Response(token, mimetype="text/plain", headers={"Cache-Control": "no-store"})


@bp.get("/support")
def support():
    """Open the Support page as the demo shop's merchant, without Shopify: a fresh ID token
    on the URL, as the admin would load it. `next` is a page of the app (default: the inbox)."""
    shop = normalize_shop(request.args.get("shop") or DEMO_SHOP)
    path, _, query = (request.args.get("next") or "/app").partition("?")
    if not SUPPORT_PAGE.fullmatch(path):
        raise ParleyError(400, "invalid_next", "next must be a page of the Support app, such as /app/settings")
    params = [(k, v) for k, v in parse_qsl(query) if k not in ("id_token", "shop", "embedded")]
    params += [("embedded", "1"), ("shop", shop), ("id_token", _standin().mint_id_token(shop))]
    return redirect(f"{path}?{urlencode(params)}")


@bp.post("/data-request")
def send_data_request():
    """Have the stand-in deliver a signed customers/data_request webhook, as Shopify would."""
    standin = _standin()
    body = json.dumps(
        {
            "shop_id": 1,
            "shop_domain": DEMO_SHOP,
            "orders_requested": [],
            "customer": {"id": 1001, "email": "shopper@example.com", "phone": None},
            "data_request": {"id": str(uuid.uuid4())},
        }
    ).encode()
    headers = standin.webhook_headers("customers/data_request", DEMO_SHOP, body)
    response = current_app.test_client().post("/webhooks/compliance", data=body, headers=headers)
    if response.status_code != 200:
        raise ParleyError(502, "webhook_failed", f"the webhook was refused with {response.status_code}")
    return redirect(url_for("demo.open_admin"))


# -- a minimal merchant inbox, so the demo can answer shoppers without the admin ---------

INBOX_LIMIT = 50


def _inbox_shop(session: Session) -> Shop:
    domain = request.args.get("shop", DEMO_SHOP)
    shop = shops.find_installed_shop(session, Platform.shopify, domain)
    if shop is None:
        raise ParleyError(404, "unknown_shop", f"{domain} is not installed; open the demo page first")
    return shop


def _threads(session: Session, shop_id: int) -> list[dict]:
    """The shop's latest conversations, newest activity first, each with its messages
    (oldest first, as a thread reads) and its latest cart. Three queries, whatever the count."""
    conversations = session.exec(
        select(Conversation, Visitor)
        .join(Visitor, col(Visitor.id) == Conversation.visitor_id)
        .where(Conversation.shop_id == shop_id)
        .order_by(sa.func.coalesce(Conversation.last_message_at, Conversation.created_at).desc())
        .limit(INBOX_LIMIT)
    ).all()
    ids = [conversation.id for conversation, _ in conversations]
    messages: dict[str, list[Message]] = {conversation_id: [] for conversation_id in ids}
    carts: dict[str, CartSnapshot] = {}
    if ids:
        for message in session.exec(
            select(Message).where(col(Message.conversation_id).in_(ids)).order_by(col(Message.id))
        ):
            messages[message.conversation_id].append(message)
        for snapshot in session.exec(
            select(CartSnapshot).where(col(CartSnapshot.conversation_id).in_(ids)).order_by(col(CartSnapshot.id))
        ):
            carts[snapshot.conversation_id] = snapshot  # the last one wins
    return [
        {
            "conversation": conversation,
            "visitor": visitor,
            "messages": messages[conversation.id],
            "cart": carts.get(conversation.id),
            "cart_total": _money(carts[conversation.id].total, carts[conversation.id].currency)
            if conversation.id in carts
            else "",
            # A fresh id per rendered form: a double-submitted reply is stored once.
            "reply_client_id": str(uuid.uuid4()),
        }
        for conversation, visitor in conversations
    ]


def _money(amount: Decimal | None, currency: str | None) -> str:
    return "" if amount is None else amount_text(amount, currency)


@bp.get("/inbox")
def inbox():
    with parley().db.session() as session:
        shop = _inbox_shop(session)
        assert shop.id is not None  # a shop read from the database has its id
        threads = _threads(session, shop.id)
    latest = max((m.id for thread in threads for m in thread["messages"]), default=0)
    template = "demo_inbox_threads.html" if request.args.get("fragment") else "demo_inbox.html"
    return render_template(template, shop=shop, threads=threads, latest=latest)


@bp.get("/inbox/latest")
def inbox_latest():
    """What the inbox page polls: the newest message id of the shop."""
    with parley().db.session() as session:
        shop = _inbox_shop(session)
        latest = session.exec(select(sa.func.max(Message.id)).where(Message.shop_id == shop.id)).one()
    return jsonify(latest=latest or 0)


@bp.post("/inbox/<conversation_id>/reply")
def inbox_reply(conversation_id: str):
    with parley().db.session() as session:
        shop = _inbox_shop(session)
    assert shop.id is not None  # a shop read from the database has its id
    client_id = request.form.get("client_id") or str(uuid.uuid4())
    parley().chat.send_agent_message(shop.id, conversation_id, "demo-agent", request.form.get("body", ""), client_id)
    return redirect(url_for("demo.inbox", shop=shop.domain, _anchor=f"c-{conversation_id}"), 303)


# -- the mail Parley sent (the console mailer keeps the last messages) --------------------


@bp.get("/mail")
def mail():
    """What `make demo`'s console mailer sent: merchant alerts, replies with resume links."""
    mailer = parley().notify.mailer
    kept = list(getattr(mailer, "sent", []))[::-1]
    letters = []
    for message in kept:
        plain = message.get_body(("plain",))
        letters.append(
            {
                "subject": str(message["Subject"]),
                "to": str(message["To"]),
                "from": str(message["From"]),
                "reply_to": str(message.get("Reply-To") or ""),
                "date": str(message["Date"]),
                "text": plain.get_content() if plain is not None else "",
            }
        )
    return render_template("demo_mail.html", letters=letters, console=hasattr(mailer, "sent"))


@bp.post("/mail/run")
def mail_run():
    """Send what is due now instead of waiting for the outbox's next round."""
    parley().notify.outbox.run_due()
    return redirect(url_for("demo.mail"), 303)
