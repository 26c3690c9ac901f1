"""Renders a due outbox row and sends it: a merchant alert, a shopper's reply e-mail with
a resume link, a fresh resume link, or the shop's webhook. Decides at send time whether
the row is still wanted (the merchant answered, the shopper read the reply in the chat)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlmodel import Session, col, select

from app.chat.shop_settings import get_settings
from app.chat.visitors import visitor_label
from app.clock import Clock
from app.commerce.money import format_money
from app.config import Settings
from app.db import Database
from app.models import AuthorKind, Conversation, Message, Outbox, ResumeLink, Shop, Visitor
from app.notify import compose, i18n
from app.notify.followup import shopper_address, unseen_replies
from app.notify.mailer import Mailer, MailRefused, MailUnavailable
from app.notify.outbox import Outcome
from app.notify.settings import notify_settings
from app.notify.tokens import NotifyTokens
from app.platforms.port import Platforms

log = logging.getLogger(__name__)
EARLIER_LINES = 6
ALERT_MESSAGES = 20


@dataclass(frozen=True)
class AlertThread:
    label: str
    cart: str | None
    messages: list[Message]
    link: str


class NotifyCourier:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        tokens: NotifyTokens,
        mailer: Mailer,
        platforms: Platforms,
        http: Callable[[], httpx.Client] | None = None,
    ):
        self.settings = settings
        self.db = db
        self.clock = clock
        self.tokens = tokens
        self.mailer = mailer
        self.platforms = platforms
        self.http = http or (lambda: httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0)))
        self.domain = settings.mail_inbound_domain or (urlsplit(settings.app_url).hostname or "localhost")

    def deliver(self, row: Outbox) -> Outcome:
        if row.channel == "webhook":
            return self._webhook(row)
        built = {"alert": self._alert, "reply": self._reply, "resume_link": self._resume_link}[row.kind](row)
        if isinstance(built, Outcome):
            return built
        message, envelope = built
        try:
            self.mailer.send(message, envelope_from=envelope)
        except MailRefused as exc:
            return Outcome("failed", str(exc))
        except MailUnavailable as exc:
            return Outcome("retry", str(exc))
        return Outcome("sent")

    # -- addresses ----------------------------------------------------------------

    def sender(self, display_name: str) -> Address:
        address = compose.address_of(self.settings.mail_from)
        return Address(display_name=display_name, username=address.username, domain=address.domain)

    def _envelope(self, **owner: Any) -> str:
        return f"{self.tokens.bounce_local_part(**owner)}@{self.domain}"

    def reply_address(self, conversation_id: str) -> str:
        return f"{self.tokens.reply_local_part(conversation_id)}@{self.domain}"

    # -- merchant alerts -----------------------------------------------------------

    def _alert(self, row: Outbox) -> Outcome | tuple[Any, str]:
        ids = [int(i) for i in row.payload.get("messages") or []]
        with self.db.session() as session:
            shop = session.get(Shop, row.shop_id)
            messages = list(session.exec(select(Message).where(col(Message.id).in_(ids)).order_by(col(Message.id))))
            conversations = {
                c.id: c
                for c in session.exec(
                    select(Conversation).where(col(Conversation.id).in_({m.conversation_id for m in messages}))
                )
            }
            visitors = {
                v.id: v
                for v in session.exec(
                    select(Visitor).where(col(Visitor.id).in_({c.visitor_id for c in conversations.values()}))
                )
            }
            language = notify_settings(session, row.shop_id)["alert_language"] if shop is not None else "en"
        if shop is None:
            return Outcome("cancelled", "the shop is gone")
        # Answered or read on the Support page since: the alert has nothing left to say.
        waiting = [c for c in conversations.values() if c.unread_by_agent > 0]
        if not waiting:
            return Outcome("cancelled", "answered before the alert went out")
        threads = []
        for conversation in sorted(waiting, key=lambda c: c.last_message_at or c.created_at):
            visitor = visitors.get(conversation.visitor_id)
            cart = (
                format_money(conversation.cart_value, conversation.cart_currency, language)
                if conversation.cart_value and conversation.cart_currency
                else None
            )
            threads.append(
                AlertThread(
                    label=_label(visitor, language),
                    cart=cart,
                    messages=[m for m in messages if m.conversation_id == conversation.id][-ALERT_MESSAGES:],
                    link=self.platforms.of(shop).admin_link(shop, conversation.id) or self.settings.app_url,
                )
            )
        count = sum(len(t.messages) for t in threads)
        shop_name = shop.name or shop.domain
        if count == 1:
            heading = i18n.text("alert_one", language, shop=shop_name)
        else:
            heading = i18n.text("alert_many", language, shop=shop_name, count=f"{count}")
        first = threads[0].messages[0].body.splitlines()[0][:60] if threads[0].messages else ""
        subject = f"{heading}: “{first}”" if count == 1 else heading
        texts = {key: i18n.text(f"alert_{key}", language) for key in ("cart", "open", "why")}
        message = compose.build(
            template="alert",
            context={
                "heading": heading,
                "threads": threads,
                "texts": texts,
                "lang": i18n.language_of(language),
                "dir": i18n.direction(language),
            },
            subject=subject,
            sender=self.sender("Parley"),
            to=row.recipient.split(","),
            domain=self.domain,
            when=self.clock(),
        )
        return message, self._envelope(shop_id=shop.id)

    # -- the shopper's copy of a reply ------------------------------------------------

    def _reply(self, row: Outbox) -> Outcome | tuple[Any, str]:
        assert row.conversation_id is not None  # reply rows are queued for a conversation
        with self.db.transaction() as session:
            found = self._shopper_context(session, row)
            if isinstance(found, Outcome):
                return found
            shop, conversation, visitor, address = found
            replies = unseen_replies(session, conversation.id, [int(i) for i in row.payload.get("messages") or []])
            if not replies:
                return Outcome("cancelled", "read in the chat before the e-mail went out")
            link = self._new_link(session, shop, conversation, visitor)
            earlier = list(
                session.exec(
                    select(Message)
                    .where(
                        Message.conversation_id == conversation.id,
                        col(Message.id) < replies[0].id,
                        col(Message.internal).is_(False),
                    )
                    .order_by(col(Message.id).desc())
                    .limit(EARLIER_LINES)
                )
            )[::-1]
            settings = get_settings(session, conversation.shop_id)
        return self._shopper_mail(shop, conversation, visitor, address, link, replies, earlier, settings)

    def _resume_link(self, row: Outbox) -> Outcome | tuple[Any, str]:
        """A fresh link, asked for from a page where an old one no longer worked."""
        with self.db.transaction() as session:
            found = self._shopper_context(session, row)
            if isinstance(found, Outcome):
                return found
            shop, conversation, visitor, address = found
            link = self._new_link(session, shop, conversation, visitor)
            earlier = list(
                session.exec(
                    select(Message)
                    .where(Message.conversation_id == conversation.id, col(Message.internal).is_(False))
                    .order_by(col(Message.id).desc())
                    .limit(EARLIER_LINES)
                )
            )[::-1]
            settings = get_settings(session, conversation.shop_id)
        return self._shopper_mail(shop, conversation, visitor, address, link, [], earlier, settings)

    def _shopper_context(self, session: Session, row: Outbox) -> Outcome | tuple[Shop, Conversation, Visitor, str]:
        conversation = session.get(Conversation, row.conversation_id)
        shop = session.get(Shop, row.shop_id)
        visitor = session.get(Visitor, conversation.visitor_id) if conversation is not None else None
        if shop is None or conversation is None or visitor is None:
            return Outcome("cancelled", "the conversation is gone")
        address = shopper_address(visitor)
        if address is None:
            return Outcome("cancelled", "the shopper unsubscribed, or their address bounced")
        return shop, conversation, visitor, address

    def _new_link(self, session: Session, shop: Shop, conversation: Conversation, visitor: Visitor) -> ResumeLink:
        assert shop.id is not None
        days = notify_settings(session, shop.id)["resume_link_days"]
        now = self.clock()
        link = ResumeLink(
            shop_id=shop.id,
            visitor_id=visitor.id,
            conversation_id=conversation.id,
            expires_at=now + timedelta(days=days),
            created_at=now,
        )
        session.add(link)
        session.flush()
        return link

    def _shopper_mail(
        self,
        shop: Shop,
        conversation: Conversation,
        visitor: Visitor,
        address: str,
        link: ResumeLink,
        replies: list[Message],
        earlier: list[Message],
        settings: dict[str, Any],
    ) -> tuple[Any, str]:
        locale = visitor.locale
        shop_name = shop.name or shop.domain
        texts = {
            key: i18n.text(key, locale, shop=shop_name)
            for key in ("continue", "reply_hint", "earlier", "why", "unsubscribe")
        }
        texts["intro"] = i18n.text("reply_intro", locale, shop=shop_name)
        you = i18n.text("you", locale)
        lines = [{"who": you if m.author_kind == AuthorKind.shopper else shop_name, "body": m.body} for m in earlier]
        unsubscribe = f"{self.settings.app_url}/u/{self.tokens.unsubscribe_token(visitor.id)}"
        message = compose.build(
            template="reply",
            context={
                "t": texts,
                "replies": replies,
                "earlier": lines,
                "lang": i18n.language_of(locale),
                "dir": i18n.direction(locale),
                "accent": settings.get("accent") or "#008060",
                "resume_url": f"{self.settings.app_url}/r/{self.tokens.resume_token(link.id)}",
                "unsubscribe_url": unsubscribe,
            },
            subject=i18n.text("reply_subject", locale, shop=shop_name),
            sender=self.sender(shop_name),
            to=[address],
            domain=self.domain,
            when=self.clock(),
            reply_to=f"{shop_name} <{self.reply_address(conversation.id)}>",
            conversation_id=conversation.id,
            unsubscribe_url=unsubscribe,
        )
        return message, self._envelope(visitor_id=visitor.id)

    # -- the shop's webhook -----------------------------------------------------------

    def _webhook(self, row: Outbox) -> Outcome:
        from app.notify.webhooks_out import signature

        with self.db.session() as session:
            secret = notify_settings(session, row.shop_id)["webhook_secret"]
        if not secret:
            return Outcome("cancelled", "the webhook was switched off")
        body = json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Parley-Timestamp": stamp,
            "X-Parley-Signature": signature(secret, stamp, body),
            "X-Parley-Delivery": str(row.id),
        }
        try:
            with self.http() as client:
                answer = client.post(row.recipient, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome("retry", f"the webhook could not be reached ({type(exc).__name__})")
        if answer.is_success:
            return Outcome("sent")
        if answer.status_code in (408, 429) or answer.status_code >= 500:
            return Outcome("retry", f"the webhook answered {answer.status_code}")
        return Outcome("failed", f"the webhook answered {answer.status_code}")


def _label(visitor: Visitor | None, language: str) -> str:
    """Who wrote: their name or address when known, else the label the inbox shows them by."""
    if visitor is None:
        return visitor_label("", language)
    return visitor.name or visitor.contact_email or visitor.email or visitor_label(visitor.id, language)
