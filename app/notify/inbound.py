"""Replies by e-mail, back into the thread: a shopper answers the e-mail copy of a
reply and their answer lands in the conversation as a shopper message (channel
"email"), quoted history and signatures stripped (mail-parser-reply).

One path for both ways in (`parley mail-in`, the SMTP listener, and a provider's
inbound webhook): `InboundMail.receive(raw bytes, envelope recipients)`. What is not
a shopper writing never becomes a message: unknown or forged reply addresses are
refused, auto-replies dropped, bounces mark the address undeliverable.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from typing import Any, cast

from mailparser_reply import EmailReplyParser
from sqlmodel import Session

from app.chat.conversations import MAX_BODY, Chat
from app.chat.shop_settings import put_setting
from app.clock import Clock
from app.db import Database
from app.models import Conversation, Visitor
from app.notify import i18n
from app.notify.settings import PREFIX, notify_settings
from app.notify.tokens import NotifyTokens

log = logging.getLogger(__name__)

MAX_BYTES = 512 * 1024
# mail-parser-reply knows these of the widget's languages; English is always tried too.
_PARSER_LANGUAGES = {"en", "pl", "ru", "de", "fr", "es", "it", "nl", "sv", "da", "no", "fi", "pt", "cs", "ja"}
_AUTO_SUBJECT = re.compile(r"^(auto(matic)?[ -]?reply|out of (the )?office|autosvar|abwesenheit|automaattinen)", re.I)


class MailRefusal(Exception):
    """Refused at SMTP time (`code`), or with a 4xx from the webhook."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Received:
    # message, duplicate, auto_reply, bounce, empty
    outcome: str
    conversation_id: str | None = None


class InboundMail:
    def __init__(self, db: Database, clock: Clock, tokens: NotifyTokens, chat: Chat):
        self.db = db
        self.clock = clock
        self.tokens = tokens
        self.chat = chat

    def accepts(self, address: str) -> bool:
        """An envelope recipient we take mail for: a reply address or a bounce address we made."""
        return self.tokens.conversation_of(address) is not None or self.tokens.bounced(address) is not None

    def receive(self, raw: bytes, recipients: list[str]) -> Received:
        if len(raw) > MAX_BYTES:
            raise MailRefusal(552, f"messages to this address can be at most {MAX_BYTES // 1024} KB")
        targets = [r for r in recipients if self.accepts(r)]
        if not targets:
            raise MailRefusal(550, "no such mailbox here")
        message = BytesParser(policy=policy.default).parsebytes(raw)
        bounce_for = next((self.tokens.bounced(r) for r in targets if self.tokens.bounced(r)), None)
        if bounce_for is not None or _is_bounce(message):
            self._bounce(bounce_for, message)
            return Received("bounce")
        conversation_id = next(c for c in (self.tokens.conversation_of(r) for r in targets) if c)
        if _is_auto_reply(message):
            return Received("auto_reply", conversation_id)
        with self.db.session() as session:
            conversation = session.get(Conversation, conversation_id)
            visitor = session.get(Visitor, conversation.visitor_id) if conversation is not None else None
        if conversation is None or visitor is None:
            raise MailRefusal(550, "this conversation no longer exists")
        body = self._text_of(message, visitor.locale)
        if not body:
            return Received("empty", conversation_id)
        message_id = str(message.get("Message-ID") or "") or hashlib.sha256(raw).hexdigest()
        client_id = "email:" + hashlib.sha256(message_id.encode()).hexdigest()[:40]
        sent = self.chat.send_shopper_message(conversation.shop_id, visitor.id, client_id, body, channel="email")
        return Received("message" if sent.created else "duplicate", sent.conversation.id)

    def _text_of(self, message: EmailMessage, locale: str | None) -> str:
        part = message.get_body(preferencelist=("plain", "html"))
        text = ""
        if part is not None:
            content = cast(EmailMessage, part).get_content()
            text = _html_to_text(content) if part.get_content_type() == "text/html" else str(content)
        language = i18n.language_of(locale)
        languages = [language] if language in _PARSER_LANGUAGES else []
        # read(): the latest reply's body without its signature (parse_reply keeps "--\nName").
        parser = EmailReplyParser(languages=languages or ["en"])
        parsed = parser.read(text.replace("\r\n", "\n"))
        reply = (parsed.replies[0].body if parsed.replies else "").strip()
        if not reply:
            # A reply that is all sign-off ("Thanks, Mari") is still the shopper writing.
            reply = (parser.parse_reply(text.replace("\r\n", "\n")) or "").strip()
        if any(p.is_attachment() for p in message.iter_attachments()):
            reply = (reply + "\n\n" if reply else "") + i18n.text("attachments_dropped", locale)
        if len(reply) > MAX_BODY:
            # Never silently: the cut is said in the message itself.
            reply = reply[: MAX_BODY - 2].rstrip() + " …"
        return reply

    def _bounce(self, owner: tuple[str, str | int] | None, message: EmailMessage) -> None:
        failed = _failed_recipients(message)
        now = self.clock()
        with self.db.transaction() as session:
            if owner is not None and owner[0] == "visitor":
                visitor = session.get(Visitor, str(owner[1]))
                if visitor is not None:
                    visitor.email_undeliverable_at = now
                    session.add(visitor)
            elif owner is not None and owner[0] == "shop":
                self._note_alert_bounce(session, int(owner[1]), failed, now)
        log.info("a bounce for %s (%d failed recipient(s))", owner[0] if owner else "nobody we know", len(failed))

    @staticmethod
    def _note_alert_bounce(session: Session, shop_id: int, failed: list[str], now: datetime) -> None:
        settings = notify_settings(session, shop_id)
        wanted = {address.lower() for address in settings["alert_emails"]}
        bounced = sorted({*settings["alert_bounces"], *[a for a in failed if a in wanted]})
        # Recorded beside the settings for Settings to show; not a setting a merchant sends.
        put_setting(session, shop_id, PREFIX + "alert_bounces", bounced, now)


def _is_auto_reply(message: EmailMessage) -> bool:
    auto = str(message.get("Auto-Submitted") or "no").strip().lower()
    precedence = str(message.get("Precedence") or "").strip().lower()
    return (
        auto != "no"
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or message.get("X-Autoreply") is not None
        or message.get("X-Autorespond") is not None
        or bool(_AUTO_SUBJECT.match(str(message.get("Subject") or "")))
    )


def _is_bounce(message: EmailMessage) -> bool:
    sender = str(message.get("From") or "").lower()
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type") or "").lower() == "delivery-status"
    ) or ("mailer-daemon@" in sender or sender.startswith("postmaster@"))


def _failed_recipients(message: EmailMessage) -> list[str]:
    """`Final-Recipient: rfc822; someone@example.com` lines of a delivery status report."""
    found = re.findall(r"^Final-Recipient:\s*rfc822;\s*(\S+)", message.as_string(), re.I | re.M)
    return [address.strip("<>").lower() for address in found]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\n{3,}", "\n\n", "".join(parser.parts)).strip()
