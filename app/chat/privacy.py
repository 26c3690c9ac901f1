"""What privacy law asks of a chat app: export a customer's data, erase a
customer, erase a shop. Platform-neutral; the compliance webhooks call these."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.models import (
    CartSnapshot,
    Conversation,
    DataExport,
    Message,
    OrderLink,
    Shop,
    ShopSetting,
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
        cid: {"messages": [], "carts": [], "orders": []} for cid in conversation_ids
    }
    if conversation_ids:
        for m in session.exec(
            select(Message)
            .where(col(Message.conversation_id).in_(conversation_ids), Message.internal == sa.false())
            .order_by(col(Message.id))
        ):
            by_conversation[m.conversation_id]["messages"].append(
                {"author": m.author_kind.value, "body": m.body, "sent_at": m.created_at.isoformat()}
            )
        for c in session.exec(select(CartSnapshot).where(col(CartSnapshot.conversation_id).in_(conversation_ids))):
            by_conversation[c.conversation_id]["carts"].append(
                {"total": _money(c.total), "currency": c.currency, "lines": c.lines, "at": c.created_at.isoformat()}
            )
        for o in session.exec(select(OrderLink).where(col(OrderLink.conversation_id).in_(conversation_ids))):
            by_conversation[o.conversation_id]["orders"].append(
                {"order": o.order_name or o.order_id, "total": _money(o.total), "currency": o.currency}
            )
    content = {
        "customer": {"id": customer_id, "email": email},
        "generated_at": now.isoformat(),
        "visitors": [
            {"name": v.name, "email": v.email, "locale": v.locale, "first_seen": v.created_at.isoformat()}
            for v in visitors
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


def erase_customer(session: Session, shop_id: int, customer_id: str | None, email: str | None) -> int:
    """Delete the customer's visitors and everything hanging off them; returns conversations erased."""
    visitors = _customer_visitors(session, shop_id, customer_id, email)
    visitor_ids = [v.id for v in visitors]
    if not visitor_ids:
        _erase_exports(session, shop_id, customer_id, email)
        return 0
    conversation_ids = list(
        session.exec(
            select(Conversation.id).where(
                Conversation.shop_id == shop_id, col(Conversation.visitor_id).in_(visitor_ids)
            )
        )
    )
    # Children first: SQLite enforces foreign keys only when asked, so never rely on cascades alone.
    for table in (Message, CartSnapshot, OrderLink):
        session.execute(sa.delete(table).where(col(table.conversation_id).in_(conversation_ids)))
    session.execute(sa.delete(Conversation).where(col(Conversation.id).in_(conversation_ids)))
    session.execute(sa.delete(Visitor).where(col(Visitor.id).in_(visitor_ids)))
    _erase_exports(session, shop_id, customer_id, email)
    session.flush()
    return len(conversation_ids)


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
    for table in (Message, CartSnapshot, OrderLink, Conversation, Visitor, ShopSetting, DataExport):
        session.execute(sa.delete(table).where(col(table.shop_id) == shop.id))
    events = sa.delete(WebhookEvent).where(
        col(WebhookEvent.platform) == shop.platform, col(WebhookEvent.shop_domain) == shop.domain
    )
    if keep_event_id is not None:
        events = events.where(col(WebhookEvent.id) != keep_event_id)
    session.execute(events)
    session.execute(sa.delete(Shop).where(col(Shop.id) == shop.id))
    session.flush()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
