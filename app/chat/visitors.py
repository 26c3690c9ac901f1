"""Visitors: who a browser is, and what the platform told us about them.

A visitor is anonymous until a signed channel (the Shopify app proxy, a verified
Saleor token) names the customer; the name and e-mail come only from the
platform too, never from what the browser says.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.models import Conversation, Visitor


def resume_visitor(
    session: Session,
    shop_id: int,
    visitor_id: str | None,
    customer_id: str | None,
    locale: str | None,
    now: datetime,
) -> Visitor:
    """The visitor this browser is, given what the platform vouches for.

    `customer_id` comes only from a signed channel. A signed-in customer takes over
    the browser's anonymous thread; a browser whose visitor belongs to another
    customer (or to a customer who has signed out) starts afresh, so a shared
    computer never shows one customer's thread to another.
    """
    visitor = session.get(Visitor, visitor_id) if visitor_id else None
    if visitor is not None and visitor.shop_id != shop_id:
        visitor = None
    if visitor is not None and visitor.customer_id and visitor.customer_id != customer_id:
        visitor = None

    if customer_id:
        known = session.exec(
            select(Visitor)
            .where(Visitor.shop_id == shop_id, Visitor.customer_id == customer_id)
            .order_by(col(Visitor.created_at))
        ).first()
        if known is None and visitor is not None:
            visitor.customer_id = customer_id
        elif known is not None and visitor is not None and known.id != visitor.id:
            _merge_into(session, source=visitor, target=known)
            visitor = known
        elif known is not None:
            visitor = known
    if visitor is None:
        visitor = Visitor(shop_id=shop_id, customer_id=customer_id or None, created_at=now)
    if locale:
        visitor.locale = locale[:20]
    visitor.last_seen_at = now
    session.add(visitor)
    session.flush()
    return visitor


def _merge_into(session: Session, source: Visitor, target: Visitor) -> None:
    session.execute(
        sa.update(Conversation).where(col(Conversation.visitor_id) == source.id).values(visitor_id=target.id)
    )
    session.flush()
    session.delete(source)


def remember_customer(visitor: Visitor, name: str | None, email: str | None) -> bool:
    """Keep what the platform says of a signed-in customer beside their visitor, so the
    inbox and search show them; True when it changed. The caller adds and commits."""
    name = name[:255] if name else visitor.name
    email = email[:320] if email else visitor.email
    if (name, email) == (visitor.name, visitor.email):
        return False
    visitor.name, visitor.email = name, email
    return True
