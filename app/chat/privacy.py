"""What privacy law asks of a chat app: export a customer's data, erase a
customer, erase a shop. Platform-neutral; the compliance webhooks call these."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from app.chat import search
from app.clock import utcnow
from app.models import (
    AgentOffer,
    Attachment,
    CartSnapshot,
    Conversation,
    DataExport,
    Message,
    OrderLink,
    Outbox,
    ResumeLink,
    Shop,
    StaffPresence,
    Visitor,
    WebhookEvent,
)


def _customer_visitors(session: Session, shop_id: int, customer_id: str | None, email: str | None) -> list[Visitor]:
    conditions: list[sa.ColumnElement[bool]] = []
    if customer_id:
        conditions.append(col(Visitor.customer_id) == customer_id)
    if email:
        conditions.append(sa.func.lower(Visitor.email) == email.lower())
    if not conditions:
        return []
    return list(session.exec(select(Visitor).where(Visitor.shop_id == shop_id, sa.or_(*conditions))).all())


def export_customer(
    session: Session,
    shop_id: int,
    customer_id: str | None,
    email: str | None,
    now: datetime,
    request_id: str | None = None,
) -> DataExport:
    """Gather every conversation of the customer into a stored, downloadable export."""
    visitors = _customer_visitors(session, shop_id, customer_id, email)
    visitor_ids = [v.id for v in visitors]
    conversations = (
        session.exec(
            select(Conversation)
            .where(Conversation.shop_id == shop_id, col(Conversation.visitor_id).in_(visitor_ids))
            .order_by(col(Conversation.created_at))
        ).all()
        if visitor_ids
        else []
    )
    conversation_ids = [c.id for c in conversations]
    by_conversation: dict[str, dict[str, list[dict[str, Any]]]] = {
        cid: {"messages": [], "carts": [], "orders": [], "pictures": [], "resume_links": []} for cid in conversation_ids
    }
    if conversation_ids:
        for m in session.exec(
            select(Message)
            .where(col(Message.conversation_id).in_(conversation_ids), Message.internal == sa.false())
            .order_by(col(Message.id))
        ):
            exported = {"author": m.author_kind.value, "body": m.body, "sent_at": m.created_at.isoformat()}
            picture = (m.meta or {}).get("attachment") if isinstance(m.meta, dict) else None
            if isinstance(picture, dict) and picture.get("id"):
                exported["picture"] = picture["id"]  # one of the conversation's "pictures"
            by_conversation[m.conversation_id]["messages"].append(exported)
        for c in session.exec(select(CartSnapshot).where(col(CartSnapshot.conversation_id).in_(conversation_ids))):
            by_conversation[c.conversation_id]["carts"].append(
                {"total": _money(c.total), "currency": c.currency, "lines": c.lines, "at": c.created_at.isoformat()}
            )
        for o in session.exec(select(OrderLink).where(col(OrderLink.conversation_id).in_(conversation_ids))):
            by_conversation[o.conversation_id]["orders"].append(
                {"order": o.order_name or o.order_id, "total": _money(o.total), "currency": o.currency}
            )
        for a in session.exec(
            select(Attachment)
            .where(col(Attachment.conversation_id).in_(conversation_ids))
            .order_by(col(Attachment.created_at))
        ):
            by_conversation[a.conversation_id]["pictures"].append(_picture(a))
        for r in session.exec(select(ResumeLink).where(col(ResumeLink.conversation_id).in_(conversation_ids))):
            by_conversation[r.conversation_id]["resume_links"].append(
                {
                    "created_at": r.created_at.isoformat(),
                    "expires_at": r.expires_at.isoformat(),
                    "revoked_at": _when(r.revoked_at),
                    "devices": r.claims,
                }
            )
    # E-mail Parley sent or is to send the customer (the shop's own alerts are the shop's).
    addresses = {e.lower() for e in [email, *(v.email for v in visitors), *(v.contact_email for v in visitors)] if e}
    emails = (
        session.exec(
            select(Outbox)
            .where(Outbox.shop_id == shop_id, sa.func.lower(Outbox.recipient).in_(addresses))
            .order_by(col(Outbox.id))
        ).all()
        if addresses
        else []
    )
    content = {
        "customer": {"id": customer_id, "email": email},
        "generated_at": now.isoformat(),
        "visitors": [
            {
                "name": v.name,
                "email": v.email,
                "locale": v.locale,
                "first_seen": v.created_at.isoformat(),
                "contact_email": v.contact_email,
                "contact_consent_at": _when(v.contact_consent_at),
                "page_url": v.page_url,
                "timezone": v.timezone,
                "unsubscribed_at": _when(v.unsubscribed_at),
                "email_undeliverable_at": _when(v.email_undeliverable_at),
            }
            for v in visitors
        ],
        "emails": [
            {
                "kind": o.kind,
                "to": o.recipient,
                "status": o.status,
                "created_at": o.created_at.isoformat(),
                "sent_at": _when(o.sent_at),
            }
            for o in emails
        ],
        "conversations": [
            {
                "id": c.id,
                "started_at": c.created_at.isoformat(),
                "status": c.status.value,
                **by_conversation[c.id],
            }
            for c in conversations
        ],
    }
    export = DataExport(
        shop_id=shop_id,
        request_id=request_id,
        customer_id=customer_id,
        customer_email=email,
        content=content,
        created_at=now,
    )
    session.add(export)
    session.flush()
    return export


def erase_customer(
    session: Session,
    shop_id: int,
    customer_id: str | None,
    email: str | None,
    order_ids: Sequence[str] = (),
    now: datetime | None = None,
) -> int:
    """Delete the customer's visitors and everything hanging off them, and the copies of
    their data in the shop's stored webhook deliveries; returns conversations erased.

    `order_ids` are orders the platform names as theirs (Shopify's `orders_to_redact`)."""
    visitors = _customer_visitors(session, shop_id, customer_id, email)
    visitor_ids = [v.id for v in visitors]
    conversation_ids = (
        list(
            session.exec(
                select(Conversation.id).where(
                    Conversation.shop_id == shop_id, col(Conversation.visitor_id).in_(visitor_ids)
                )
            )
        )
        if visitor_ids
        else []
    )
    marks = _Marks(
        emails={e.lower() for e in [email, *(v.email for v in visitors), *(v.contact_email for v in visitors)] if e},
        customer_ids={c for c in [customer_id, *(v.customer_id for v in visitors)] if c},
        order_ids=set(order_ids),
        texts=set(conversation_ids),
    )
    # A platform's global id (Saleor's `VXNlcjo1MDE=`) is the customer's wherever it stands.
    marks.texts |= {c for c in marks.customer_ids if not c.isdigit()}
    if conversation_ids:
        marks.texts |= {
            token
            for token in session.exec(
                select(CartSnapshot.cart_token).where(col(CartSnapshot.conversation_id).in_(conversation_ids))
            )
            if token
        }
    orders = [col(OrderLink.conversation_id).in_(conversation_ids)] if conversation_ids else []
    if marks.customer_ids:
        orders.append(col(OrderLink.customer_id).in_(marks.customer_ids))
    if marks.order_ids:
        orders.append(col(OrderLink.order_id).in_(marks.order_ids))
    if orders:
        marks.order_ids |= set(
            session.exec(select(OrderLink.order_id).where(OrderLink.shop_id == shop_id, sa.or_(*orders)))
        )
        session.execute(sa.delete(OrderLink).where(col(OrderLink.shop_id) == shop_id, sa.or_(*orders)))
    # Children first: cascades are a second line, not the first.
    if conversation_ids:
        for table in (Message, CartSnapshot, AgentOffer, Outbox, ResumeLink):
            session.execute(sa.delete(table).where(col(table.conversation_id).in_(conversation_ids)))
        # A picture's bytes live in its row (the database storage): deleting the row deletes them.
        session.execute(sa.delete(Attachment).where(col(Attachment.conversation_id).in_(conversation_ids)))
        session.execute(
            sa.update(StaffPresence)
            .where(col(StaffPresence.conversation_id).in_(conversation_ids))
            .values(conversation_id=None)
        )
        session.execute(sa.delete(Conversation).where(col(Conversation.id).in_(conversation_ids)))
    if marks.emails:
        # What was to be sent to the customer and is not tied to a conversation (a resume link's e-mail).
        session.execute(
            sa.delete(Outbox).where(col(Outbox.shop_id) == shop_id, sa.func.lower(Outbox.recipient).in_(marks.emails))
        )
    if visitor_ids:
        session.execute(sa.delete(ResumeLink).where(col(ResumeLink.visitor_id).in_(visitor_ids)))
        session.execute(sa.delete(Visitor).where(col(Visitor.id).in_(visitor_ids)))
    _erase_exports(session, shop_id, customer_id, email)
    scrub_deliveries(session, shop_id, marks, now or utcnow())
    session.flush()
    if visitor_ids:
        search.forget_deleted(session)
    return len(conversation_ids)


@dataclass
class _Marks:
    """What identifies a customer's data in a stored delivery."""

    emails: set[str] = field(default_factory=set)  # lower case
    customer_ids: set[str] = field(default_factory=set)
    order_ids: set[str] = field(default_factory=set)
    # Text that is the customer's wherever it stands: conversation ids, cart tokens.
    texts: set[str] = field(default_factory=set)

    def needles(self) -> set[str]:
        return self.emails | self.customer_ids | self.order_ids | self.texts

    def in_payload(self, payload: Any) -> bool:
        """Whether a parsed payload carries the customer: one of their e-mails or texts
        anywhere, or their customer or order id where such an id stands (a bare number
        elsewhere is someone else's product, price or line)."""
        stack: list[tuple[str, Any]] = [("", payload)]
        while stack:
            key, value = stack.pop()
            if isinstance(value, dict):
                stack.extend((str(k), v) for k, v in value.items())
                for who in ("customer", "user"):
                    person = value.get(who)
                    if isinstance(person, dict) and _id_text(person.get("id")) in self.customer_ids:
                        return True
            elif isinstance(value, list):
                stack.extend((key, v) for v in value)
            else:
                text = _id_text(value)
                if text is None:
                    continue
                if text.lower() in self.emails or text.split("?", 1)[0] in self.texts:
                    return True
                if key in _CUSTOMER_KEYS and text in self.customer_ids:
                    return True
                if key in _ORDER_KEYS and text in self.order_ids:
                    return True
                if text.startswith("gid://") and text.rsplit("/", 1)[-1] in self.customer_ids | self.order_ids:
                    return True
        return isinstance(payload, dict) and _id_text(payload.get("id")) in self.order_ids


_CUSTOMER_KEYS = {"customer_id", "customerId", "user_id", "userId"}
_ORDER_KEYS = {"order_id", "orderId"}
# A scrubbed delivery keeps its row, so a redelivery is still known as one; nothing else.
ERASED_PAYLOAD = '{"erased": true}'


def _id_text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        return str(value)
    return None


def scrub_deliveries(session: Session, shop_id: int, marks: _Marks, now: datetime) -> int:
    """Replace the payload of every stored delivery of the shop that carries the customer;
    a delivery not processed yet is settled as erased. Returns how many were scrubbed."""
    shop = session.get(Shop, shop_id)
    needles = marks.needles()
    if shop is None or not needles:
        return 0
    # A cheap text match first (deliveries are kept for days, not forever), then the exact look.
    lowered = sa.func.lower(WebhookEvent.payload)
    matches = [
        lowered.contains(form, autoescape=True)
        for needle in needles
        for form in {needle.lower(), json.dumps(needle.lower())[1:-1]}
    ]
    candidates = session.exec(
        select(WebhookEvent.id, WebhookEvent.payload).where(
            col(WebhookEvent.platform) == shop.platform,
            col(WebhookEvent.shop_domain) == shop.domain,
            col(WebhookEvent.payload) != ERASED_PAYLOAD,
            sa.or_(*matches),
        )
    ).all()
    ids = []
    for event_id, payload in candidates:
        try:
            parsed = json.loads(payload)
        except (ValueError, RecursionError):
            parsed = payload  # not JSON: the text match stands
        if isinstance(parsed, str) or marks.in_payload(parsed):
            ids.append(event_id)
    if ids:
        session.execute(sa.update(WebhookEvent).where(col(WebhookEvent.id).in_(ids)).values(payload=ERASED_PAYLOAD))
        session.execute(
            sa.update(WebhookEvent)
            .where(col(WebhookEvent.id).in_(ids), col(WebhookEvent.processed_at).is_(None))
            .values(processed_at=now, error="erased before processing (customer redaction)")
        )
    return len(ids)


def _erase_exports(session: Session, shop_id: int, customer_id: str | None, email: str | None) -> None:
    conditions: list[sa.ColumnElement[bool]] = []
    if customer_id:
        conditions.append(col(DataExport.customer_id) == customer_id)
    if email:
        conditions.append(sa.func.lower(DataExport.customer_email) == email.lower())
    if conditions:
        session.execute(sa.delete(DataExport).where(col(DataExport.shop_id) == shop_id, sa.or_(*conditions)))


def erase_shop(session: Session, shop: Shop, keep_event_id: int | None = None) -> None:
    """Delete everything of the shop, the shop row and its webhook trail included.

    `keep_event_id` spares the redaction request itself (it holds only the shop's
    id and domain), so a redelivery of it is still recognised as a duplicate.
    """
    # Every table that holds a shop id, children before parents, so a table added later
    # (and its pictures, answers, presence, outbox) is erased without being named here.
    for table in reversed(SQLModel.metadata.sorted_tables):
        if "shop_id" in table.c:
            session.execute(sa.delete(table).where(table.c.shop_id == shop.id))
    events = sa.delete(WebhookEvent).where(
        col(WebhookEvent.platform) == shop.platform, col(WebhookEvent.shop_domain) == shop.domain
    )
    if keep_event_id is not None:
        events = events.where(col(WebhookEvent.id) != keep_event_id)
    session.execute(events)
    session.execute(sa.delete(Shop).where(col(Shop.id) == shop.id))
    session.flush()
    search.forget_deleted(session)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _picture(attachment: Attachment) -> dict[str, Any]:
    """A picture in the export, its bytes included (a data URL), so the export is whole."""
    picture: dict[str, Any] = {
        "id": attachment.id,
        "sent_by": attachment.uploaded_by,
        "content_type": attachment.content_type,
        "width": attachment.width,
        "height": attachment.height,
        "sent_at": attachment.created_at.isoformat(),
    }
    if attachment.data is not None:
        picture["data_url"] = f"data:{attachment.content_type};base64,{base64.b64encode(attachment.data).decode()}"
    return picture
