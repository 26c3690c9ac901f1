"""Inbox search: conversations whose messages, or whose shopper's name or e-mail,
contain the query, newest match first, a page at a time, each with the matching text.

The index does the finding (app/schema_extras.py): SQLite's FTS5 trigram index, or
pg_trgm's GIN index on PostgreSQL; both match any three characters or more anywhere in
the text, case folded, in every script. A conversation ranks by its newest matching
message, or by its latest message when its shopper matches. Matching messages are read
newest first from the index in chunks until a page is full, so a page costs the same
whether a word is in ten messages or a million.

A query of one or two characters has no trigram to look up: it looks through the
shop's latest RECENT_MESSAGES messages, their shoppers' names and e-mails, and
customer numbers equal to it. The merchant typing a longer query gets the whole shop.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.db import UTCDateTime
from app.errors import ParleyError
from app.models import Conversation, ConversationCount, ConversationStatus, Message, Visitor

MIN_INDEXED = 3
RECENT_MESSAGES = 5000
# Shoppers whose name or e-mail matches, at most (on SQLite the newest; PostgreSQL's are
# whichever its index gives first). A query like "gmail" matches most shoppers; past
# this many, a shopper is found by their messages only. A name or an address is found.
MAX_CUSTOMERS = 200
SNIPPET_AROUND = 60
# SQLite: index matches read per step; after MAX_INDEX_SCAN of them the scan takes turns
# with the shop's own messages; a shop of up to SMALL_SHOP conversations (its counters)
# matches its shoppers from its own rows.
INDEX_STEP = 2000
MAX_INDEX_SCAN = 2000
SMALL_SHOP = 10_000


@dataclass(frozen=True)
class Match:
    """Why a conversation is in the results: a message (its id) or the shopper (field)."""

    field: str  # message, name, email, contact_email, customer_id
    text: str  # the matching text around the match, at most 2*SNIPPET_AROUND + query
    start: int  # where the match is in `text` (for highlighting without HTML)
    end: int
    message_id: int | None = None

    def json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "snippet": self.text,
            "start": self.start,
            "end": self.end,
            "message_id": self.message_id,
        }


@dataclass(frozen=True)
class Hit:
    conversation: Conversation
    match: Match
    key: datetime


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    next_cursor: str | None


# -- the cursor ---------------------------------------------------------------------------


def _encode(key: datetime, conversation_id: str, below: int | None) -> str:
    raw = json.dumps(["s", key.isoformat(), conversation_id, below]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(cursor: str) -> tuple[datetime, str, int | None]:
    """(rank of the last row, its conversation id, where the message scan stopped)."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(values, list) or len(values) != 4 or values[0] != "s":
            raise ValueError
        _, key, last_id, below = values
        if not isinstance(key, str) or len(key) > 40 or not isinstance(last_id, str) or not 0 < len(last_id) <= 36:
            raise ValueError
        if below is not None and (not isinstance(below, int) or isinstance(below, bool) or below < 0):
            raise ValueError
        when = datetime.fromisoformat(key)
        if when.tzinfo is None:
            raise ValueError
        return when, last_id, below
    except (ValueError, TypeError, UnicodeError):
        raise ParleyError(
            400, "invalid_cursor", "This page of the search is out of date; search again to start over"
        ) from None


# -- snippets -----------------------------------------------------------------------------


def snippet(text: str, q: str, field: str, message_id: int | None = None) -> Match:
    """The match with some text either side; the start when the folding differs (a
    character the index folds that Python does not)."""
    found = re.search(re.escape(q), text, re.IGNORECASE)
    start, end = (found.start(), found.end()) if found else (0, 0)
    lo = max(0, start - SNIPPET_AROUND)
    hi = min(len(text), end + SNIPPET_AROUND)
    # Whole words at the edges where there are any.
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    body = " ".join(text[lo:hi].split("\n"))
    shift = len(prefix) - lo
    return Match(field, prefix + body + suffix, start + shift, end + shift, message_id)


def _customer_match(visitor: Visitor, q: str) -> Match:
    for field in ("name", "email", "contact_email", "customer_id"):
        value = getattr(visitor, field)
        if value and (q.casefold() in value.casefold() or (field == "customer_id" and value == q)):
            return snippet(value, q, field)
    return snippet(visitor.name or visitor.email or visitor.contact_email or "", q, "name")


# -- the query ----------------------------------------------------------------------------


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _in_tab(tab: str) -> list[Any]:
    status = ConversationStatus.resolved if tab == "resolved" else ConversationStatus.open
    where: list[Any] = [Conversation.status == status]
    if tab == "waiting":
        where.append(col(Conversation.priority_at).is_not(None))
    return where


def _matching_visitors(session: Session, shop_id: int, q: str) -> list[str]:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite" and _shop_size(session, shop_id) <= SMALL_SHOP:
        # The shared index would walk other shops' matching shoppers to find a small
        # shop's few: reading the small shop's own shoppers is cheaper.
        folded = q.lower()
        found = [
            (created_at, visitor_id)
            for visitor_id, created_at, *fields in session.execute(
                sa.select(
                    col(Visitor.id),
                    col(Visitor.created_at),
                    col(Visitor.name),
                    col(Visitor.email),
                    col(Visitor.contact_email),
                ).where(col(Visitor.shop_id) == shop_id)
            )
            if any(value and folded in value.lower() for value in fields)
        ]
        return [visitor_id for _, visitor_id in sorted(found, reverse=True)[:MAX_CUSTOMERS]]
    if dialect == "sqlite":
        rows = session.execute(
            sa.text(
                "SELECT visitor_id FROM visitor_fts WHERE visitor_fts MATCH :match AND shop_id = :shop "
                "ORDER BY rowid DESC LIMIT :n"
            ),
            {"match": "{name email contact_email} : " + _fts_phrase(q), "shop": shop_id, "n": MAX_CUSTOMERS},
        )
    else:
        rows = session.execute(
            sa.text(
                "SELECT id FROM visitor WHERE shop_id = :shop AND (coalesce(name, '') || ' ' || "
                "coalesce(email, '') || ' ' || coalesce(contact_email, '')) ILIKE :pattern LIMIT :n"
            ),
            {"pattern": _like(q), "shop": shop_id, "n": MAX_CUSTOMERS},
        )
    return [row[0] for row in rows]


def _message_hits(
    session: Session, shop_id: int, tab: str, q: str, below: int | None, n: int, by_shop: bool
) -> tuple[list[tuple[int, str, datetime]], int | None, bool]:
    """Matching messages of the shop in the tab, newest first, from one step of the scan:
    (message id, conversation id, created_at) each, where the scan got to, and whether
    nothing is left below it.

    SQLite's index holds every shop's messages: a step reads `n` of its matches, whoever's
    they are, and keeps the shop's, so no step does more than `n` matches' work. With
    `by_shop` a step reads the shop's own `n` next messages instead (for a shop beside a
    busier one using the same words). PostgreSQL's planner chooses between its
    trigram index and the (shop_id, id) index by its statistics."""
    dialect = session.get_bind().dialect.name
    status = "resolved" if tab == "resolved" else "open"
    waiting = " AND c.priority_at IS NOT NULL" if tab == "waiting" else ""
    params: dict[str, Any] = {"shop": shop_id, "status": status, "n": n, "below": below if below is not None else -1}
    bound = " AND {id} < :below" if below is not None else ""
    columns = (
        sa.column("id", sa.BigInteger),
        sa.column("conversation_id", sa.String),
        sa.column("created_at", UTCDateTime()),
    )
    in_tab = " JOIN conversation c ON c.id = m.conversation_id AND c.status = :status" + waiting
    if dialect == "sqlite" and by_shop:
        sql = (
            "SELECT m.id, m.conversation_id, m.created_at, m.body FROM message m" + in_tab + " "
            "WHERE m.shop_id = :shop" + bound.format(id="m.id") + " ORDER BY m.id DESC LIMIT :n"
        )
        rows = list(session.execute(sa.text(sql).columns(*columns, sa.column("body", sa.Text)), params))
        folded = q.lower()
        hits = [(int(i), str(c), at) for i, c, at, body in rows if folded in body.lower()]
        return hits, (int(rows[-1][0]) if rows else below), len(rows) < n
    if dialect == "sqlite":
        ids = [
            int(rowid)
            for (rowid,) in session.execute(
                sa.text(
                    "SELECT rowid FROM message_fts WHERE message_fts MATCH :match"
                    + bound.format(id="rowid")
                    + " ORDER BY rowid DESC LIMIT :n"
                ),
                {"match": _fts_phrase(q), "below": params["below"], "n": n},
            )
        ]
        if not ids:
            return [], below, True
        # The ids as one JSON text, not thousands of parameters to bind.
        sql = (
            "SELECT m.id, m.conversation_id, m.created_at FROM message m" + in_tab + " "
            "WHERE m.id IN (SELECT value FROM json_each(:ids)) AND m.shop_id = :shop ORDER BY m.id DESC"
        )
        statement = sa.text(sql).columns(*columns)
        hits = [(int(i), str(c), at) for i, c, at in session.execute(statement, {**params, "ids": json.dumps(ids)})]
        return hits, ids[-1], len(ids) < n
    sql = (
        "SELECT m.id, m.conversation_id, m.created_at FROM message m" + in_tab + " "
        "WHERE m.shop_id = :shop AND m.body ILIKE :pattern" + bound.format(id="m.id") + " ORDER BY m.id DESC LIMIT :n"
    )
    params["pattern"] = _like(q)
    hits = [(int(i), str(c), at) for i, c, at in session.execute(sa.text(sql).columns(*columns), params)]
    return hits, (hits[-1][0] if hits else below), len(hits) < n


def _shop_size(session: Session, shop_id: int) -> int:
    row = session.execute(
        select(ConversationCount.open_count + ConversationCount.resolved_count).where(
            ConversationCount.shop_id == shop_id
        )
    ).first()
    return int(row[0]) if row else 0


def _shown_before(session: Session, q: str, conversation_ids: Iterable[str], below: int) -> set[str]:
    """Which of these conversations have a match at or after `below`: an earlier page ranked them."""
    ids = list(conversation_ids)
    if not ids:
        return set()
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        sql = (
            "SELECT DISTINCT m.conversation_id FROM message_fts JOIN message m ON m.id = message_fts.rowid "
            "WHERE message_fts MATCH :match AND message_fts.rowid >= :below AND m.conversation_id IN :ids"
        )
        params: dict[str, Any] = {"match": _fts_phrase(q), "below": below, "ids": ids}
    else:
        sql = (
            "SELECT DISTINCT m.conversation_id FROM message m WHERE m.conversation_id IN :ids "
            "AND m.id >= :below AND m.body ILIKE :pattern"
        )
        params = {"pattern": _like(q), "below": below, "ids": ids}
    statement = sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
    return {row[0] for row in session.execute(statement, params)}


def search(session: Session, shop_id: int, tab: str, q: str, cursor: str | None = None, limit: int = 50) -> Results:
    after = _decode(cursor) if cursor else None
    if len(q) < MIN_INDEXED:
        return _search_recent(session, shop_id, tab, q, after, limit)

    def before_cursor(key: datetime, conversation_id: str) -> bool:
        return after is None or (key, conversation_id) < (after[0], after[1])

    # Shoppers who match: their conversations rank by their latest message.
    visitor_ids = _matching_visitors(session, shop_id, q)
    visitor_ids += [
        v
        for v in session.exec(select(Visitor.id).where(Visitor.shop_id == shop_id, Visitor.customer_id == q).limit(10))
        if v not in visitor_ids
    ]
    customers: dict[str, Hit] = {}
    if visitor_ids:
        visitors = {v.id: v for v in session.exec(select(Visitor).where(col(Visitor.id).in_(visitor_ids)))}
        for conversation in session.exec(
            select(Conversation).where(
                Conversation.shop_id == shop_id, col(Conversation.visitor_id).in_(visitor_ids), *_in_tab(tab)
            )
        ):
            key = conversation.last_message_at or conversation.created_at
            if before_cursor(key, conversation.id):
                match = _customer_match(visitors[conversation.visitor_id], q)
                customers[conversation.id] = Hit(conversation, match, key)
    customer_conversations = set(customers)
    if after is not None:
        # Shoppers who matched on an earlier page keep their rank; they are not found again by message.
        customer_conversations |= {
            c
            for c in session.exec(
                select(Conversation.id).where(
                    Conversation.shop_id == shop_id, col(Conversation.visitor_id).in_(visitor_ids)
                )
            )
        }

    # Messages, newest first, a chunk at a time, until the page is full.
    below = after[2] if after else None
    found: dict[str, tuple[int, datetime]] = {}
    chunk = INDEX_STEP if session.get_bind().dialect.name == "sqlite" else max(4 * (limit + 1), 100)
    scanned, by_shop = 0, False
    while len(found) < limit + 1:
        rows, reached, exhausted = _message_hits(session, shop_id, tab, q, below, chunk, by_shop)
        fresh = {}
        for message_id, conversation_id, created_at in rows:
            if conversation_id in customer_conversations or conversation_id in found or conversation_id in fresh:
                continue
            if before_cursor(created_at, conversation_id):
                fresh[conversation_id] = (message_id, created_at)
        if after is not None and after[2] is not None and fresh:
            for seen in _shown_before(session, q, fresh, after[2]):
                fresh.pop(seen, None)
        found.update(fresh)
        if exhausted:
            break
        below = reached
        scanned += chunk
        if scanned >= MAX_INDEX_SCAN and session.get_bind().dialect.name == "sqlite":
            # Other shops' matches may keep answering (a quiet shop beside a busy one), or
            # the shop's own messages may be the quicker way down: take turns, a step each,
            # from where the scan got to. Either way reads every match below that point in
            # order, so turns change the cost, never the result.
            by_shop = not by_shop

    message_hits = sorted(found.items(), key=lambda item: (item[1][1], item[0]), reverse=True)[: limit + 1]
    conversations = {
        c.id: c
        for c in session.exec(select(Conversation).where(col(Conversation.id).in_([c for c, _ in message_hits])))
    }
    # The texts only: whole Message objects would cost the ORM's bookkeeping for each.
    bodies = {
        int(message_id): str(body)
        for message_id, body in session.execute(
            select(Message.id, Message.body).where(col(Message.id).in_([m for _, (m, _) in message_hits]))
        )
    }
    hits = list(customers.values())
    for conversation_id, (message_id, created_at) in message_hits:
        hit_conversation = conversations.get(conversation_id)
        if hit_conversation is not None and message_id in bodies:
            hits.append(Hit(hit_conversation, snippet(bodies[message_id], q, "message", message_id), created_at))
    hits.sort(key=lambda hit: (hit.key, hit.conversation.id), reverse=True)
    more = len(hits) > limit
    hits = hits[:limit]
    next_cursor = None
    if more and hits:
        last = hits[-1]
        message_ids = [hit.match.message_id for hit in hits if hit.match.message_id is not None]
        # The message scan resumes below the oldest message shown (or where it resumed from).
        resume = min(message_ids) if message_ids else (after[2] if after else None)
        next_cursor = _encode(last.key, last.conversation.id, resume)
    return Results(hits, next_cursor)


def _search_recent(
    session: Session, shop_id: int, tab: str, q: str, after: tuple[datetime, str, int | None] | None, limit: int
) -> Results:
    """One or two characters: the shop's latest messages and their shoppers, looked at
    here as plain rows; ORM objects only for the page's conversations."""
    folded = q.casefold()
    recent = list(
        session.execute(
            sa.select(col(Message.id), col(Message.conversation_id), col(Message.created_at), col(Message.body))
            .where(col(Message.shop_id) == shop_id)
            .order_by(col(Message.id).desc())
            .limit(RECENT_MESSAGES)
        )
    )
    window = {row[1] for row in recent}
    by_customer_id = select(Visitor.id).where(Visitor.shop_id == shop_id, Visitor.customer_id == q)
    # (visitor id, rank by the latest message) of the window's conversations in the tab.
    conversations: dict[str, tuple[str, datetime]] = {
        str(cid): (str(vid), last or created)
        for cid, vid, last, created in session.execute(
            sa.select(
                col(Conversation.id),
                col(Conversation.visitor_id),
                col(Conversation.last_message_at),
                col(Conversation.created_at),
            ).where(
                col(Conversation.shop_id) == shop_id,
                sa.or_(col(Conversation.id).in_(window), col(Conversation.visitor_id).in_(by_customer_id)),
                *_in_tab(tab),
            )
        )
    }
    shoppers = {
        str(vid): (customer_id, (name, email, contact))
        for vid, customer_id, name, email, contact in session.execute(
            sa.select(
                col(Visitor.id),
                col(Visitor.customer_id),
                col(Visitor.name),
                col(Visitor.email),
                col(Visitor.contact_email),
            ).where(col(Visitor.id).in_({vid for vid, _ in conversations.values()}))
        )
    }
    # conversation id -> (rank, matched message id or None for the shopper, its text)
    ranks: dict[str, tuple[datetime, int | None, str]] = {}
    for cid, (vid, key) in conversations.items():
        customer_id, fields = shoppers.get(vid, (None, ()))
        if customer_id == q or any(value and folded in value.casefold() for value in fields):
            ranks[cid] = (key, None, "")
    for message_id, cid, created_at, body in recent:  # newest first
        if cid in conversations and cid not in ranks and folded in body.casefold():
            ranks[cid] = (created_at, int(message_id), body)
    ranked = sorted(ranks.items(), key=lambda item: (item[1][0], item[0]), reverse=True)
    if after is not None:
        ranked = [item for item in ranked if (item[1][0], item[0]) < (after[0], after[1])]
    more = len(ranked) > limit
    ranked = ranked[:limit]
    objects = {
        c.id: c for c in session.exec(select(Conversation).where(col(Conversation.id).in_([c for c, _ in ranked])))
    }
    visitors = {
        v.id: v
        for v in session.exec(select(Visitor).where(col(Visitor.id).in_({objects[c].visitor_id for c, _ in ranked})))
    }
    hits = []
    for cid, (key, message_id, body) in ranked:
        conversation = objects[cid]
        if message_id is None:
            match = _customer_match(visitors[conversation.visitor_id], q)
        else:
            match = snippet(body, q, "message", message_id)
        hits.append(Hit(conversation, match, key))
    next_cursor = _encode(hits[-1].key, hits[-1].conversation.id, None) if more and hits else None
    return Results(hits, next_cursor)


def forget_deleted(session: Session) -> None:
    """Make deleted text leave the search index for good. FTS5 records a delete as a
    marker beside the old entry, and the entry's trigrams stay in their segment until it
    is merged; erasure merges every segment now (work in proportion to the index, and
    erasures are rare). PostgreSQL's index entries go with the rows, when VACUUM
    removes them."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("INSERT INTO message_fts(message_fts) VALUES ('optimize')"))
        session.execute(sa.text("INSERT INTO visitor_fts(visitor_fts) VALUES ('optimize')"))
