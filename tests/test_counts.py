"""The inbox tabs' counts from their counter row (issue 16, item 2): right after every
transition a conversation makes (a new one, waiting, answered, resolved, reopened by
either side, a note, erased, its shop erased), under concurrent transitions on
PostgreSQL, and repaired by a recount. Each check compares with counting the rows."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from app.chat import inbox, privacy
from app.chat.conversations import Chat
from app.clock import utcnow
from app.db import Database, make_engine
from app.models import Conversation, ConversationStatus, Shop, Visitor
from app.realtime.broker import InProcessBroker
from tests.support.processes import private_database

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def scanned(session, shop_id: int) -> dict[str, int]:
    """What the counters must say: the rows counted (what the inbox did before)."""
    rows = session.execute(
        select(Conversation.status, sa.func.count(), sa.func.count(col(Conversation.priority_at)))
        .where(Conversation.shop_id == shop_id)
        .group_by(Conversation.status)
    ).all()
    by = {status: (total, waiting) for status, total, waiting in rows}
    return {
        "open": by.get(ConversationStatus.open, (0, 0))[0],
        "waiting": by.get(ConversationStatus.open, (0, 0))[1],
        "resolved": by.get(ConversationStatus.resolved, (0, 0))[0],
    }


def counted(db: Database, shop_id: int) -> tuple[dict[str, int], dict[str, int]]:
    with db.session() as session:
        return inbox.counts(session, shop_id), scanned(session, shop_id)


def new_visitor(db: Database, shop_id: int, customer_id: str | None = None) -> str:
    with db.transaction() as session:
        visitor = Visitor(shop_id=shop_id, customer_id=customer_id)
        session.add(visitor)
        session.flush()
        return visitor.id


def test_the_counts_follow_every_transition(services, clock, shop_id):
    chat, db = services.chat, services.db
    clock.set(T0)
    steps: list[tuple[str, dict[str, int]]] = []

    def check(step: str, expected: dict[str, int]) -> None:
        mine, rows = counted(db, shop_id)
        steps.append((step, mine))
        assert rows == expected, (step, rows)  # the scenario does what it says
        assert mine == rows, step

    check("nothing yet", {"open": 0, "waiting": 0, "resolved": 0})
    ann, ben = new_visitor(db, shop_id, customer_id="501"), new_visitor(db, shop_id)
    a = chat.send_shopper_message(shop_id, ann, "a1", "hello").conversation.id
    check("a new conversation waits", {"open": 1, "waiting": 1, "resolved": 0})
    chat.send_shopper_message(shop_id, ann, "a2", "anyone?")
    check("waiting again changes nothing", {"open": 1, "waiting": 1, "resolved": 0})
    b = chat.send_shopper_message(shop_id, ben, "b1", "hi").conversation.id
    check("a second one", {"open": 2, "waiting": 2, "resolved": 0})
    chat.send_agent_message(shop_id, a, "42", "a note for the team", "n1", internal=True)
    check("a note answers nobody", {"open": 2, "waiting": 2, "resolved": 0})
    chat.send_agent_message(shop_id, a, "42", "Hello Ann", "r1")
    check("answered", {"open": 2, "waiting": 1, "resolved": 0})
    chat.set_status(shop_id, b, "resolved")
    check("resolved while waiting", {"open": 1, "waiting": 0, "resolved": 1})
    chat.set_status(shop_id, b, "resolved")
    check("resolved twice", {"open": 1, "waiting": 0, "resolved": 1})
    chat.set_status(shop_id, a, "resolved")
    check("resolved after the answer", {"open": 0, "waiting": 0, "resolved": 2})
    clock.advance(timedelta(days=1))
    chat.send_shopper_message(shop_id, ben, "b2", "one more thing")
    check("reopened by the shopper", {"open": 1, "waiting": 1, "resolved": 1})
    chat.send_agent_message(shop_id, a, "42", "Anything else?", "r2")
    check("reopened by the agent", {"open": 2, "waiting": 1, "resolved": 0})
    chat.set_status(shop_id, a, "resolved")
    chat.set_status(shop_id, a, "open")
    check("reopened by hand", {"open": 2, "waiting": 1, "resolved": 0})
    chat.set_status(shop_id, a, "resolved")
    clock.advance(timedelta(days=30))
    chat.send_shopper_message(shop_id, ann, "a3", "back after a month")
    check("a month later: a new conversation", {"open": 2, "waiting": 2, "resolved": 1})
    chat.send_agent_message(shop_id, b, "42", "Sure", "r3")
    check("answered again", {"open": 2, "waiting": 1, "resolved": 1})
    with db.transaction() as session:
        privacy.erase_customer(session, shop_id, "501", None)
    check("Ann erased (two conversations)", {"open": 1, "waiting": 0, "resolved": 0})
    with db.transaction() as session:
        privacy.erase_shop(session, session.get(Shop, shop_id))
    check("the shop erased", {"open": 0, "waiting": 0, "resolved": 0})
    with db.session() as session:
        assert session.execute(sa.text("SELECT count(*) FROM conversation_count")).scalar_one() == 0


def test_a_recount_repairs_counters_that_drifted(services, clock, shop_id):
    chat, db = services.chat, services.db
    for n in range(3):
        chat.send_shopper_message(shop_id, new_visitor(db, shop_id), f"c{n}", "hello")
    with db.transaction() as session:
        session.execute(sa.text("UPDATE conversation_count SET open_count = 99, waiting_count = -4"))
    mine, rows = counted(db, shop_id)
    assert mine != rows
    with db.transaction() as session:
        inbox.recount(session)
    assert counted(db, shop_id) == ({"open": 3, "waiting": 3, "resolved": 0},) * 2


def test_the_migration_counts_what_is_already_there(tmp_path):
    """A database at 0007 with conversations in it: 0008 counts them once (and indexes them)."""
    from app.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0007")
    with engine.begin() as connection:
        x = connection.exec_driver_sql
        x(
            "INSERT INTO shop (id, platform, domain, install_state, scopes, token_version, created_at) "
            "VALUES (1, 'shopify', 'a.myshopify.com', 'installed', '', 0, '2026-01-01 00:00:00')"
        )
        x(
            "INSERT INTO visitor (id, shop_id, name, created_at, last_seen_at) "
            "VALUES ('v1', 1, 'Ülle Õismaa', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        for n, (status, waiting) in enumerate([("open", "2026-01-01"), ("open", None), ("resolved", None)]):
            x(
                "INSERT INTO conversation (id, shop_id, visitor_id, status, priority_at, unread_by_agent, created_at) "
                "VALUES (?, 1, 'v1', ?, ?, 0, '2026-01-01 00:00:00')",
                (f"c{n}", status, waiting),
            )
        x(
            "INSERT INTO message (shop_id, conversation_id, author_kind, body, client_id, internal, channel, "
            "created_at, read_at) VALUES (1, 'c0', 'agent', 'Здравствуйте', 'k1', 0, 'chat', "
            "'2026-01-01 00:00:00', '2026-01-01 00:01:00')"
        )
    upgrade(engine, "0008")
    db = Database(engine)
    assert counted(db, 1) == ({"open": 2, "waiting": 1, "resolved": 1},) * 2
    with db.session() as session:
        from app.chat.search import search

        assert [h.conversation.id for h in search(session, 1, "open", "здравств").hits] == ["c0"]
        assert [h.conversation.id for h in search(session, 1, "resolved", "õismaa").hits] == ["c2"]
        # The read cursor starts at the last message the shopper's receipts marked.
        assert session.get(Conversation, "c0").shopper_read_up_to == 1
    engine.dispose()


def test_concurrent_transitions_on_postgresql_leave_the_counts_right():
    with private_database("parley_counts") as url:
        engine = make_engine(url)
        db = Database(engine)
        chat = Chat(db, InProcessBroker(), utcnow)
        with db.transaction() as session:
            shop = Shop(domain="counts.myshopify.com")
            session.add(shop)
            session.flush()
            shop_id = shop.id
        assert shop_id is not None
        visitors = [new_visitor(db, shop_id) for _ in range(24)]
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def worker(n: int) -> None:
            rng = random.Random(n)
            mine = visitors[n * 3 : n * 3 + 3]
            try:
                start.wait()
                for step in range(25):
                    visitor = rng.choice(mine)
                    sent = chat.send_shopper_message(shop_id, visitor, uuid.uuid4().hex, f"step {step}")
                    action = rng.random()
                    if action < 0.4:
                        chat.send_agent_message(shop_id, sent.conversation.id, "7", "ok", uuid.uuid4().hex)
                    elif action < 0.7:
                        chat.set_status(shop_id, sent.conversation.id, "resolved")
                    elif action < 0.8:
                        chat.set_status(shop_id, sent.conversation.id, "open")
            except Exception as exc:  # noqa: BLE001  (reported below, in the test's thread)
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        mine, rows = counted(db, shop_id)
        assert sum(rows.values()) > 0 and rows["open"] + rows["resolved"] == 24
        assert mine == rows
        engine.dispose()
