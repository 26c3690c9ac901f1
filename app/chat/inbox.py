"""The merchant's inbox: which conversations, in what order, a page at a time.

Each tab is one indexed query with keyset pagination, plus one query for the
page's visitors and one for their last messages, and the tab counts are one row:
a constant number of queries per page, however many conversations the shop has.
A search (`q`) is app/chat/search.py.
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

from app.chat import search
from app.chat.visitors import is_returning, visitor_hue, visitor_label
from app.clock import iso
from app.commerce.money import amount_text
from app.errors import ParleyError
from app.models import Conversation, ConversationCount, ConversationStatus, Message, Visitor
from app.schema_extras import RECOUNT

TABS = ("open", "waiting", "resolved")
# "recent": newest first (waiting tab: longest waiting first); "due": whose first answer
# is due soonest (conversations with nothing due follow, newest first among them by id).
SORTS = ("recent", "due")
MAX_QUERY = 200


@dataclass(frozen=True)
class InboxPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    counts: dict[str, int]


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime | None, str]:
    """(sort value, conversation id) from a cursor this inbox gave out; anything else,
    however it decodes, is a 400."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError
        value, last_id = values
        if not isinstance(last_id, str) or not 0 < len(last_id) <= 36:
            raise ValueError
        if value is None:
            return None, last_id
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            raise ValueError  # the inbox writes aware times only
        return when, last_id
    except (ValueError, TypeError, UnicodeError):
        raise ParleyError(
            400, "invalid_cursor", "This page of the inbox is out of date; reload the inbox to start again"
        ) from None


def _order(tab: str) -> tuple[InstrumentedAttribute[datetime | None], bool]:
    """(sort column, descending?) per tab; ties broken by id the same way."""
    # The model's attributes are instrumented columns at runtime; mypy sees only the field types.
    if tab == "waiting":
        return cast("InstrumentedAttribute[datetime | None]", Conversation.priority_at), False
    return cast("InstrumentedAttribute[datetime | None]", Conversation.last_message_at), True


def _filtered(shop_id: int, tab: str) -> SelectOfScalar[Conversation]:
    query = select(Conversation).where(Conversation.shop_id == shop_id)
    if tab == "resolved":
        query = query.where(Conversation.status == ConversationStatus.resolved)
    else:
        query = query.where(Conversation.status == ConversationStatus.open)
    if tab == "waiting":
        query = query.where(col(Conversation.priority_at).is_not(None))
    return query


def counts(session: Session, shop_id: int) -> dict[str, int]:
    """The tabs' counts: one row, kept by the triggers that move conversations (app/schema_extras.py)."""
    # Columns, not the ORM row: a row this session loaded before would not show what the
    # triggers changed since.
    row = session.execute(
        select(ConversationCount.open_count, ConversationCount.waiting_count, ConversationCount.resolved_count).where(
            ConversationCount.shop_id == shop_id
        )
    ).first()
    if row is None:
        return {"open": 0, "waiting": 0, "resolved": 0}
    return {"open": row[0], "waiting": row[1], "resolved": row[2]}


def recount(session: Session) -> None:
    """Count every shop's conversations again, from the rows: the repair for counters that
    drifted (a trigger dropped by hand, rows restored from a dump). Migration 0008 runs
    the same once."""
    for statement in RECOUNT:
        session.execute(sa.text(statement))


def page(
    session: Session,
    shop_id: int,
    tab: str,
    now: datetime,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    language: str = "en",
    sort: str = "recent",
) -> InboxPage:
    """`language` is the merchant's, for the names of anonymous shoppers (visitor_label)."""
    if tab not in TABS:
        raise ParleyError(400, "invalid_tab", f"tab must be one of {', '.join(TABS)}")
    if sort not in SORTS:
        raise ParleyError(400, "invalid_sort", f"sort must be one of {', '.join(SORTS)}")
    q = (q or "").strip()[:MAX_QUERY] or None
    if q:
        # Search ranks by the newest match whatever the sort (app/chat/search.py).
        return _search_page(session, shop_id, tab, now, q, cursor, limit, language)
    if sort == "due":
        return _page_by_due(session, shop_id, tab, now, q, cursor, limit, language)
    column, descending = _order(tab)
    query = _filtered(shop_id, tab)
    if cursor:
        value, last_id = _decode_cursor(cursor)
        if descending:
            query = query.where(sa.or_(column < value, sa.and_(column == value, col(Conversation.id) < last_id)))
        else:
            query = query.where(sa.or_(column > value, sa.and_(column == value, col(Conversation.id) > last_id)))
    order = (column.desc(), col(Conversation.id).desc()) if descending else (column.asc(), col(Conversation.id).asc())
    conversations = list(session.exec(query.order_by(*order).limit(limit + 1)).all())
    more = len(conversations) > limit
    conversations = conversations[:limit]
    rows = summaries(session, conversations, now, language)
    next_cursor = None
    if more and conversations:
        last = conversations[-1]
        value = getattr(last, column.key)
        next_cursor = _encode_cursor([value.isoformat() if value else None, last.id])
    return InboxPage(rows=rows, next_cursor=next_cursor, counts=counts(session, shop_id))


def _page_by_due(
    session: Session,
    shop_id: int,
    tab: str,
    now: datetime,
    q: str | None,
    cursor: str | None,
    limit: int,
    language: str,
) -> InboxPage:
    """Soonest due first, then the conversations nothing is due in (due_at NULL) by id: one
    keyset over (due_at NULLS LAST, id), served by the (shop_id, status, due_at) index."""
    due = col(Conversation.due_at)
    query = _filtered(shop_id, tab)
    if cursor:
        value, last_id = _decode_cursor(cursor)
        if value is None:
            query = query.where(due.is_(None), col(Conversation.id) > last_id)
        else:
            query = query.where(
                sa.or_(due > value, sa.and_(due == value, col(Conversation.id) > last_id), due.is_(None))
            )
    ordered = query.order_by(sa.nulls_last(due.asc()), col(Conversation.id).asc())
    conversations = list(session.exec(ordered.limit(limit + 1)).all())
    more = len(conversations) > limit
    conversations = conversations[:limit]
    next_cursor = None
    if more and conversations:
        last = conversations[-1]
        next_cursor = _encode_cursor([last.due_at.isoformat() if last.due_at else None, last.id])
    rows = summaries(session, conversations, now, language)
    return InboxPage(rows=rows, next_cursor=next_cursor, counts=counts(session, shop_id))


def _search_page(
    session: Session,
    shop_id: int,
    tab: str,
    now: datetime,
    q: str,
    cursor: str | None,
    limit: int,
    language: str,
) -> InboxPage:
    """Conversations matching `q`, newest match first; each row carries its `match`."""
    results = search.search(session, shop_id, tab, q, cursor, limit)
    rows = summaries(session, [hit.conversation for hit in results.hits], now, language)
    for row, hit in zip(rows, results.hits, strict=True):
        row["match"] = hit.match.json()
    return InboxPage(rows=rows, next_cursor=results.next_cursor, counts=counts(session, shop_id))


def summaries(
    session: Session, conversations: list[Conversation], now: datetime, language: str = "en"
) -> list[dict[str, Any]]:
    """Inbox rows for these conversations, in two queries whatever their number."""
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    # How many conversations each visitor has had rides along (a returning shopper).
    conversations_of = (
        select(sa.func.count(col(Conversation.id)))
        .where(col(Conversation.visitor_id) == col(Visitor.id))
        .correlate(Visitor)
        .scalar_subquery()
    )
    visitors = {
        visitor.id: (visitor, int(count or 0))
        for visitor, count in session.exec(
            select(Visitor, conversations_of).where(col(Visitor.id).in_({c.visitor_id for c in conversations}))
        )
    }
    # Each conversation's latest message by its own index walk (conversation_id, id),
    # not a max() over every message of the thread.
    latest = (
        select(Message.id)
        .where(col(Message.conversation_id) == col(Conversation.id), Message.internal == sa.false())
        .order_by(col(Message.id).desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    latest_ids = select(latest).where(col(Conversation.id).in_(ids))
    last_messages = {m.conversation_id: m for m in session.exec(select(Message).where(col(Message.id).in_(latest_ids)))}
    rows = []
    for c in conversations:
        visitor, count = visitors.get(c.visitor_id, (None, 0))
        rows.append(summary(c, visitor, last_messages.get(c.id), now, language, count))
    return rows


def customer_label(visitor: Visitor | None, language: str = "en") -> str:
    """What the merchant calls the shopper: their name or e-mail from the platform, the
    platform's customer number, or a stable made-up name for an anonymous shopper."""
    if visitor is None:
        return "Visitor"
    if visitor.name or visitor.email:
        return visitor.name or visitor.email or ""
    if visitor.customer_id:
        return f"Customer {visitor.customer_id}"
    return visitor_label(visitor.id, language)


def visitor_json(visitor: Visitor, conversation: Conversation, conversations: int) -> dict[str, Any]:
    """What the shop knows of the shopper without asking them."""
    return {
        "id": visitor.id,
        "hue": visitor_hue(visitor.id),
        "locale": visitor.locale,
        "page": visitor.page_url,
        "timezone": visitor.timezone,
        "returning": is_returning(visitor, conversation, conversations),
        "first_seen_at": iso(visitor.created_at),
        "last_seen_at": iso(visitor.last_seen_at),
    }


def summary(
    conversation: Conversation,
    visitor: Visitor | None,
    last: Message | None,
    now: datetime,
    language: str = "en",
    conversations: int = 1,
) -> dict[str, Any]:
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
            "label": customer_label(visitor, language),
        },
        "visitor": visitor_json(visitor, conversation, conversations) if visitor else None,
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
        # When the first answer is due (app/notify/targets.py); None once answered.
        "due_at": iso(conversation.due_at),
        "due_seconds": int((conversation.due_at - now).total_seconds()) if conversation.due_at else None,
        "created_at": iso(conversation.created_at),
    }
