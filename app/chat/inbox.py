"""The merchant's inbox: which conversations, in what order, a page at a time.

Each tab is one indexed query with keyset pagination, plus one query for the
page's visitors and one for their last messages: a constant number of queries
per page, however many conversations the shop has.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.clock import iso
from app.commerce.money import amount_text
from app.errors import ParleyError
from app.models import Conversation, ConversationStatus, Message, Visitor

TABS = ("open", "waiting", "resolved")
MAX_QUERY = 200


@dataclass(frozen=True)
class InboxPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    counts: dict[str, int]


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError
        return values
    except (ValueError, TypeError):
        raise ParleyError(400, "invalid_cursor", "the cursor is not one this inbox gave out") from None


def _order(tab: str) -> tuple[InstrumentedAttribute[datetime | None], bool]:
    """(sort column, descending?) per tab; ties broken by id the same way."""
    # The model's attributes are instrumented columns at runtime; mypy sees only the field types.
    if tab == "waiting":
        return cast("InstrumentedAttribute[datetime | None]", Conversation.priority_at), False
    return cast("InstrumentedAttribute[datetime | None]", Conversation.last_message_at), True


def _filtered(shop_id: int, tab: str, q: str | None) -> SelectOfScalar[Conversation]:
    query = select(Conversation).where(Conversation.shop_id == shop_id)
    if tab == "resolved":
        query = query.where(Conversation.status == ConversationStatus.resolved)
    else:
        query = query.where(Conversation.status == ConversationStatus.open)
    if tab == "waiting":
        query = query.where(col(Conversation.priority_at).is_not(None))
    if q:
        pattern = f"%{q.lower()}%"
        in_messages = (
            select(Message.conversation_id)
            .where(Message.shop_id == shop_id, sa.func.lower(Message.body).like(pattern))
            .scalar_subquery()
        )
        in_visitors = (
            select(Visitor.id)
            .where(
                Visitor.shop_id == shop_id,
                sa.or_(
                    sa.func.lower(Visitor.email).like(pattern),
                    sa.func.lower(Visitor.name).like(pattern),
                    col(Visitor.customer_id) == q,
                ),
            )
            .scalar_subquery()
        )
        query = query.where(
            sa.or_(col(Conversation.id).in_(in_messages), col(Conversation.visitor_id).in_(in_visitors))
        )
    return query


def counts(session: Session, shop_id: int) -> dict[str, int]:
    rows = session.execute(
        select(
            Conversation.status,
            sa.func.count(),
            sa.func.count(col(Conversation.priority_at)),
        )
        .where(Conversation.shop_id == shop_id)
        .group_by(Conversation.status)
    ).all()
    by_status = {status: (total, waiting) for status, total, waiting in rows}
    open_total, open_waiting = by_status.get(ConversationStatus.open, (0, 0))
    return {
        "open": open_total,
        "waiting": open_waiting,
        "resolved": by_status.get(ConversationStatus.resolved, (0, 0))[0],
    }


def page(
    session: Session,
    shop_id: int,
    tab: str,
    now: datetime,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> InboxPage:
    if tab not in TABS:
        raise ParleyError(400, "invalid_tab", f"tab must be one of {', '.join(TABS)}")
    q = (q or "").strip()[:MAX_QUERY] or None
    column, descending = _order(tab)
    query = _filtered(shop_id, tab, q)
    if cursor:
        value, last_id = _decode_cursor(cursor)
        value = datetime.fromisoformat(value) if value else None
        if descending:
            query = query.where(sa.or_(column < value, sa.and_(column == value, col(Conversation.id) < last_id)))
        else:
            query = query.where(sa.or_(column > value, sa.and_(column == value, col(Conversation.id) > last_id)))
    order = (column.desc(), col(Conversation.id).desc()) if descending else (column.asc(), col(Conversation.id).asc())
    conversations = list(session.exec(query.order_by(*order).limit(limit + 1)).all())
    more = len(conversations) > limit
    conversations = conversations[:limit]
    rows = summaries(session, conversations, now)
    next_cursor = None
    if more and conversations:
        last = conversations[-1]
        value = getattr(last, column.key)
        next_cursor = _encode_cursor([value.isoformat() if value else None, last.id])
    return InboxPage(rows=rows, next_cursor=next_cursor, counts=counts(session, shop_id))


def summaries(session: Session, conversations: list[Conversation], now: datetime) -> list[dict[str, Any]]:
    """Inbox rows for these conversations, in two queries whatever their number."""
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    visitors = {
        v.id: v for v in session.exec(select(Visitor).where(col(Visitor.id).in_({c.visitor_id for c in conversations})))
    }
    latest_ids = (
        select(sa.func.max(Message.id))
        .where(col(Message.conversation_id).in_(ids), Message.internal == sa.false())
        .group_by(Message.conversation_id)
    )
    last_messages = {m.conversation_id: m for m in session.exec(select(Message).where(col(Message.id).in_(latest_ids)))}
    return [summary(c, visitors.get(c.visitor_id), last_messages.get(c.id), now) for c in conversations]


def summary(conversation: Conversation, visitor: Visitor | None, last: Message | None, now: datetime) -> dict[str, Any]:
    waiting = int((now - conversation.waiting_since).total_seconds()) if conversation.waiting_since else None
    return {
        "id": conversation.id,
        "status": conversation.status.value,
        "assignee": conversation.assignee,
        "customer": {
            "name": visitor.name if visitor else None,
            "email": visitor.email if visitor else None,
            "customer_id": visitor.customer_id if visitor else None,
            "identified": bool(visitor and visitor.customer_id),
        },
        "preview": (last.body[:140] if last else ""),
        "preview_author": last.author_kind.value if last else None,
        "last_message_at": iso(conversation.last_message_at),
        "waiting_since": iso(conversation.waiting_since),
        "waiting_seconds": max(waiting, 0) if waiting is not None else None,
        "cart": (
            {
                "total": amount_text(conversation.cart_value, conversation.cart_currency),
                "currency": conversation.cart_currency,
            }
            if conversation.cart_value is not None
            else None
        ),
        "unread": conversation.unread_by_agent,
        "created_at": iso(conversation.created_at),
    }
