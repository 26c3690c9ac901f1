"""The pages an e-mail leads to, and the inbound provider webhook.

- `/r/<token>`: a resume link. Valid: on to the storefront, where the widget takes the
  conversation (`?parley_resume=<token>`). Expired or revoked: a page in the shopper's
  language that offers a fresh link to the address on file. Forged: a page that says so.
- `/u/<token>`: unsubscribe. GET asks (link scanners must not unsubscribe anybody);
  POST does it, the one-click POST of RFC 8058 included.
Replies that come in through an e-mail provider's webhook: app/web/mail_inbound.py.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from app.chat.shop_settings import get_settings
from app.models import ResumeLink, Shop, Visitor
from app.notify import i18n
from app.web.context import parley

bp = Blueprint("email", __name__)


def _page(
    shop: Shop | None,
    locale: str | None,
    message: str,
    status: int = 200,
    *,
    action: str | None = None,
    button: str | None = None,
) -> Response:
    accent = "#008060"
    if shop is not None and shop.id is not None:
        with parley().db.session() as session:
            accent = get_settings(session, shop.id).get("accent") or accent
    html = render_template(
        "shopper/page.html",
        lang=i18n.language_of(locale),
        dir=i18n.direction(locale),
        shop_name=(shop.name or "Parley") if shop else "Parley",
        message=message,
        accent=accent,
        action=action,
        button=button,
        fields=[],
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak onwards
    return response


def _context(link: ResumeLink) -> tuple[Shop | None, Visitor | None]:
    with parley().db.session() as session:
        return session.get(Shop, link.shop_id), session.get(Visitor, link.visitor_id)


def _locale() -> str | None:
    return request.accept_languages.best_match(i18n.LANGUAGES)


@bp.get("/r/<token>")
def resume(token: str) -> Response | BaseResponse:
    services = parley()
    state, link = services.notify.shoppers.link_state(token)
    if link is None:
        return _page(None, _locale(), i18n.text("link_unknown", _locale()), 404)
    shop, visitor = _context(link)
    locale = visitor.locale if visitor else _locale()
    if state != "valid" or shop is None:
        return _page(
            shop,
            locale,
            i18n.text("link_expired", locale),
            410,
            action=f"/r/{token}/renew",
            button=i18n.text("send_new_link", locale),
        )
    with services.db.session() as session:
        settings = get_settings(session, link.shop_id)
    storefront = services.platforms.of(shop).storefront_url(shop, settings)
    if not storefront:
        return _page(shop, locale, i18n.text("link_expired", locale), 410)
    glue = "&" if "?" in storefront else "?"
    return redirect(f"{storefront}{glue}{urlencode({'parley_resume': token})}")


@bp.post("/r/<token>/renew")
def renew(token: str) -> Response:
    services = parley()
    _, link = services.notify.shoppers.link_state(token)
    if link is None:
        return _page(None, _locale(), i18n.text("link_unknown", _locale()), 404)
    shop, visitor = _context(link)
    locale = visitor.locale if visitor else _locale()
    services.notify.shoppers.renew(link)
    services.notify.outbox.notify()
    # The same answer whether or not one went out just now: it says nothing about the address.
    return _page(shop, locale, i18n.text("new_link_sent", locale))


@bp.get("/u/<token>")
def unsubscribe_page(token: str) -> Response:
    visitor_id = parley().notify.tokens.visitor_of(token)
    if visitor_id is None:
        return _page(None, _locale(), i18n.text("link_unknown", _locale()), 404)
    with parley().db.session() as session:
        visitor = session.get(Visitor, visitor_id)
        shop = session.get(Shop, visitor.shop_id) if visitor else None
    locale = visitor.locale if visitor else _locale()
    return _page(
        shop,
        locale,
        i18n.text("why", locale, shop=(shop.name if shop and shop.name else "the shop")),
        action=f"/u/{token}",
        button=i18n.text("unsubscribe", locale),
    )


@bp.post("/u/<token>")
def unsubscribe(token: str) -> Response:
    visitor = parley().notify.shoppers.unsubscribe(token)
    if visitor is None:
        return _page(None, _locale(), i18n.text("link_unknown", _locale()), 404)
    with parley().db.session() as session:
        shop = session.get(Shop, visitor.shop_id)
    return _page(shop, visitor.locale, i18n.text("unsubscribed", visitor.locale))
