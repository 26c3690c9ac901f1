"""The shopper's side of e-mail continuity: the address they give when it helps, the
resume link that hands a conversation to another device, and unsubscribing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.chat.visitor_tokens import VisitorTokens
from app.clock import Clock
from app.db import Database
from app.errors import ParleyError
from app.models import Conversation, Outbox, ResumeLink, Visitor
from app.notify import outbox
from app.notify.tokens import NotifyTokens

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# Devices one link may hand the conversation to, and how often a fresh link may be asked for.
MAX_CLAIMS = 5
RENEW_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class Claim:
    visitor_token: str
    conversation_id: str


class ShopperMail:
    def __init__(self, db: Database, clock: Clock, tokens: NotifyTokens, visitor_tokens: VisitorTokens):
        self.db = db
        self.clock = clock
        self.tokens = tokens
        self.visitor_tokens = visitor_tokens

    def give_address(self, shop_id: int, visitor_id: str, email: object, consent: object) -> str:
        """The shopper asked for answers by e-mail: keep the address and when they agreed."""
        if consent is not True:
            raise ParleyError(400, "consent_required", "agree to get the answer by e-mail first", field="consent")
        if not isinstance(email, str) or len(email) > 320 or not _EMAIL.match(email.strip()):
            raise ParleyError(400, "invalid_email", "that does not look like an e-mail address", field="email")
        with self.db.transaction() as session:
            visitor = session.get(Visitor, visitor_id)
            if visitor is None or visitor.shop_id != shop_id:
                raise ParleyError(401, "invalid_token", "the visitor token is not valid")
            visitor.contact_email = email.strip()
            visitor.contact_consent_at = self.clock()
            # A new address starts clean: it has not bounced, and asking again is consent again.
            visitor.email_undeliverable_at = None
            visitor.unsubscribed_at = None
            session.add(visitor)
        return email.strip()

    def link_state(self, token: str) -> tuple[str, ResumeLink | None]:
        """What a resume link is now: valid, expired, revoked, or unknown (forged or erased)."""
        link_id = self.tokens.link_of(token)
        if link_id is None:
            return "unknown", None
        with self.db.session() as session:
            link = session.get(ResumeLink, link_id)
        if link is None:
            return "unknown", None
        if link.revoked_at is not None:
            return "revoked", link
        if link.expires_at <= self.clock() or link.claims >= MAX_CLAIMS:
            return "expired", link
        return "valid", link

    def claim(self, shop_id: int, token: object) -> Claim:
        """A device opened the link: it gets the visitor's token, and with it the thread."""
        state, link = self.link_state(token if isinstance(token, str) else "")
        if link is None or link.shop_id != shop_id:
            raise ParleyError(404, "unknown_link", "this link was not sent by this shop")
        if state != "valid":
            raise ParleyError(410, f"{state}_link", "this link no longer opens the conversation")
        with self.db.transaction() as session:
            row = session.get(ResumeLink, link.id)
            assert row is not None  # just read, and links go only with their visitor
            row.claims += 1
            session.add(row)
        return Claim(self.visitor_tokens.issue(link.visitor_id, link.shop_id), link.conversation_id)

    def renew(self, link: ResumeLink, now: datetime | None = None) -> bool:
        """Send a fresh link to the address on file; False when one went out moments ago."""
        now = now or self.clock()
        bucket = int(now.timestamp() // RENEW_EVERY.total_seconds())
        with self.db.transaction() as session:
            visitor = session.get(Visitor, link.visitor_id)
            conversation = session.get(Conversation, link.conversation_id)
            address = visitor and (visitor.contact_email or visitor.email)
            if visitor is None or conversation is None or not address or visitor.unsubscribed_at is not None:
                return False
            key = f"resume:{visitor.id}:{bucket}"
            if outbox.pending(session, link.shop_id, key) is not None:
                return False
            outbox.queue(
                session,
                shop_id=link.shop_id,
                channel="email",
                kind="resume_link",
                recipient=address,
                dedupe_key=key,
                payload={},
                not_before=now,
                conversation_id=conversation.id,
            )
        return True

    def revoke_links(self, session: Session, visitor_id: str, now: datetime) -> int:
        links = session.exec(
            select(ResumeLink).where(ResumeLink.visitor_id == visitor_id, col(ResumeLink.revoked_at).is_(None))
        ).all()
        for link in links:
            link.revoked_at = now
            session.add(link)
        return len(links)

    def unsubscribe(self, token: str) -> Visitor | None:
        visitor_id = self.tokens.visitor_of(token)
        if visitor_id is None:
            return None
        now = self.clock()
        with self.db.transaction() as session:
            visitor = session.get(Visitor, visitor_id)
            if visitor is None:
                return None
            visitor.unsubscribed_at = visitor.unsubscribed_at or now
            session.add(visitor)
            # Nothing queued for them goes out after this.
            for row in session.exec(
                select(Outbox)
                .join(Conversation, col(Conversation.id) == Outbox.conversation_id)
                .where(
                    Conversation.visitor_id == visitor_id,
                    Outbox.status == "pending",
                    col(Outbox.kind).in_(("reply", "resume_link")),
                )
            ):
                row.status = "cancelled"
                session.add(row)
        return visitor
