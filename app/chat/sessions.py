"""A widget's session: which visitor this browser is, their latest conversation and
unread count, and what the widget should say about the team right now.

Shared by every way a storefront starts one (the direct call, Shopify's signed app
proxy); the customer comes only from the platform's signed word.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlmodel import Session

from app.chat.conversations import conversation_json, latest_conversation, unread_for_shopper
from app.chat.hours import team_status_for
from app.chat.response_times import ReplyTimes
from app.chat.shop_settings import get_settings, put_setting, text_for
from app.chat.visitor_tokens import InvalidVisitorToken, VisitorTokens
from app.chat.visitors import remember_customer, resume_visitor, visit_facts
from app.clock import Clock
from app.commerce.periods import shop_zone
from app.db import Database
from app.models import Shop

# The Support page's first-run check wants to know the widget is live, not every page view.
SEEN_EVERY = timedelta(hours=1)


class CustomerLearner(Protocol):
    """Finds out who a signed-in shopper is from their platform, off the shopper's
    request (app/chat/visitors.py's CustomerNames)."""

    def learn(self, shop: Shop, visitor_id: str) -> None: ...


class Sessions:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        tokens: VisitorTokens,
        customers: CustomerLearner | None = None,
        reply_times: ReplyTimes | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.tokens = tokens
        # Without one, a signed-in shopper is named once a merchant opens their conversation.
        self.customers = customers
        # Without one, "usually replies within" is the merchant's setting, never measured.
        self.reply_times = reply_times

    def start(
        self,
        shop: Shop,
        visitor_token: object,
        locale: object,
        customer_id: str | None = None,
        customer_email: str | None = None,
        *,
        page: object = None,
        timezone: object = None,
    ) -> dict[str, Any]:
        """`customer_id` and `customer_email` come only from a signed channel; a visitor
        token of another shop, or one that does not verify, starts a fresh visitor.
        `page` (origin and path) and `timezone` (an IANA name) are what the widget tells
        without asking; a value that is not one is ignored, never an error."""
        assert shop.id is not None  # the shop was read from the database
        visitor_id = None
        if isinstance(visitor_token, str) and visitor_token:
            try:
                claim = self.tokens.read(visitor_token)
                visitor_id = claim.visitor_id if claim.shop_id == shop.id else None
            except InvalidVisitorToken:
                visitor_id = None  # a fresh anonymous visitor, as if none was sent
        now = self.clock()
        facts = visit_facts(locale, page, timezone)
        with self.db.transaction() as session:
            visitor = resume_visitor(session, shop.id, visitor_id, customer_id, facts.locale, now)
            facts.apply(visitor)
            if customer_id and customer_email:
                remember_customer(visitor, None, customer_email)
            session.add(visitor)
            conversation = latest_conversation(session, visitor.id)
            unread = unread_for_shopper(session, visitor.id)
            settings = get_settings(session, shop.id)
            _note_widget_seen(session, shop.id, settings, now)
            team = team_status_for(settings, now)
            if self.reply_times is not None:
                zone, _ = shop_zone(settings)  # a stored zone that does not read is UTC, never an error
                measured = self.reply_times.minutes(session, shop.id, now, zone)
                if measured is not None:
                    # What the shop's own answers at this hour of the week say, not a promise typed once.
                    team = replace(team, replies_in_minutes=measured)
        if visitor.customer_id and not visitor.name and self.customers is not None:
            # The name is asked for after the answer is on its way, never in the shopper's wait.
            self.customers.learn(shop, visitor.id)
        return {
            "visitor_token": self.tokens.issue(visitor.id, shop.id),
            "visitor_id": visitor.id,
            "identified": bool(visitor.customer_id),
            # The widget offers answers by e-mail only to a shopper without an address on file.
            "email_on_file": bool(visitor.contact_email or visitor.email) and visitor.unsubscribed_at is None,
            "conversation": conversation_json(conversation),
            "unread": unread,
            "settings": {
                # The merchant's text in the shopper's language; null: the widget's own translation.
                "greeting": text_for(settings.get("greeting"), facts.locale),
                # Null unless the merchant chose one in Settings, where it wins over the theme's.
                "accent": settings.get("accent"),
                "away_message": text_for(settings.get("away_message"), facts.locale),
                "team": team.as_json(),
            },
        }


def _note_widget_seen(session: Session, shop_id: int, settings: dict[str, Any], now: datetime) -> None:
    seen = settings.get("widget_last_seen")
    if not seen or datetime.fromisoformat(seen) < now - SEEN_EVERY:
        put_setting(session, shop_id, "widget_last_seen", now.isoformat(), now)
