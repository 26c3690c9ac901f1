"""Work that used to grow with a thread or a shop (issue 16, item 7): read receipts move
a cursor and touch only the messages since the last one, with read_at kept per message;
the shopper's unread count looks past the cursor only; a page view writes last_seen_at
once a minute; the customer attribution rule looks visitors up by index; old cart
snapshots are pruned (each conversation keeps its latest). On SQLite and PostgreSQL;
the plans are SQLite's (PostgreSQL plans by statistics a test's tiny tables do not have)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from app.chat.conversations import unread_for_shopper
from app.commerce import attribution
from app.commerce.carts import Cart
from app.inbound.worker import Inbound
from app.models import CartSnapshot, Conversation, Message, Visitor

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@contextmanager
def statements(services) -> Iterator[list[tuple[str, object]]]:
    """Every statement the app's database runs meanwhile, with its parameters."""
    seen: list[tuple[str, object]] = []
    bind = services.db.bind
    engine = bind if isinstance(bind, sa.engine.Engine) else bind.engine

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def new_visitor(services, shop_id: int, **fields) -> str:
    with services.db.transaction() as session:
        visitor = Visitor(shop_id=shop_id, created_at=T0, last_seen_at=T0, **fields)
        session.add(visitor)
        session.flush()
        return visitor.id


def read_times(services, conversation_id: str) -> dict[int, datetime | None]:
    with services.db.session() as session:
        return {
            m.id: m.read_at
            for m in session.exec(select(Message).where(Message.conversation_id == conversation_id))
            if m.author_kind.value == "agent"
        }


def test_read_receipts_mark_only_what_is_new_and_keep_each_read_time(services, clock, shop_id, backend):
    chat = services.chat
    clock.set(T0)
    visitor = new_visitor(services, shop_id)
    chat_id = chat.send_shopper_message(shop_id, visitor, "s0", "hi").conversation.id
    agent_ids = [chat.send_agent_message(shop_id, chat_id, "7", f"answer {n}", f"a{n}").message.id for n in range(30)]
    with services.db.session() as session:
        assert unread_for_shopper(session, visitor) == 30

    clock.set(T0 + timedelta(minutes=5))
    chat.shopper_read(shop_id, visitor, agent_ids[19])
    first = read_times(services, chat_id)
    assert all(first[i] == T0 + timedelta(minutes=5) for i in agent_ids[:20])
    assert all(first[i] is None for i in agent_ids[20:])
    with services.db.session() as session:
        assert unread_for_shopper(session, visitor) == 10
        assert session.get(Conversation, chat_id).shopper_read_up_to == agent_ids[19]

    # A receipt from the future (an id not yet given) marks what exists, not what comes.
    clock.set(T0 + timedelta(minutes=9))
    with statements(services) as seen:
        chat.shopper_read(shop_id, visitor, agent_ids[-1] + 1000)
    later = chat.send_agent_message(shop_id, chat_id, "7", "one more", "late").message.id
    second = read_times(services, chat_id)
    assert all(second[i] == first[i] for i in agent_ids[:20])  # earlier read times stay
    assert all(second[i] == T0 + timedelta(minutes=9) for i in agent_ids[20:])
    assert second[later] is None
    with services.db.session() as session:
        assert unread_for_shopper(session, visitor) == 1
    if backend == "sqlite":
        [(update, params)] = [(s, p) for s, p in seen if s.lstrip().upper().startswith("UPDATE MESSAGE")]
        with services.db.session() as session:
            plan = " ".join(
                str(r[-1]) for r in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + update, params)
            )
        # A range of the thread's index between the cursor and the receipt, not the thread.
        assert "ix_message_conversation_id_id (conversation_id=? AND id>? AND id<?)" in plan, plan

    # An old receipt after a newer one changes nothing.
    with statements(services) as seen:
        chat.shopper_read(shop_id, visitor, agent_ids[3])
    assert not [s for s, _ in seen if s.lstrip().upper().startswith("UPDATE")]


def test_the_agents_receipt_moves_its_own_cursor(services, clock, shop_id):
    chat = services.chat
    clock.set(T0)
    visitor = new_visitor(services, shop_id)
    ids = [chat.send_shopper_message(shop_id, visitor, f"s{n}", f"question {n}").message.id for n in range(5)]
    chat_id = chat.send_agent_message(shop_id, _conversation(services, visitor), "7", "hello", "a0").conversation.id
    clock.set(T0 + timedelta(minutes=1))
    chat.agent_read(shop_id, chat_id, ids[2])
    clock.set(T0 + timedelta(minutes=2))
    chat.agent_read(shop_id, chat_id, ids[4])
    with services.db.session() as session:
        rows = {m.id: m.read_at for m in session.exec(select(Message).where(Message.conversation_id == chat_id))}
        conversation = session.get(Conversation, chat_id)
        assert (conversation.agent_read_up_to, conversation.unread_by_agent) == (ids[4], 0)
    assert [rows[i] for i in ids] == [T0 + timedelta(minutes=1)] * 3 + [T0 + timedelta(minutes=2)] * 2


def _conversation(services, visitor_id: str) -> str:
    with services.db.session() as session:
        return session.exec(select(Conversation.id).where(Conversation.visitor_id == visitor_id)).one()


def test_a_page_view_writes_last_seen_at_once_a_minute(client, standin, services, clock, shop_id):
    from tests.support.shoppers import start

    clock.set(T0)
    first = start(client, standin)
    clock.set(T0 + timedelta(seconds=30))
    with statements(services) as seen:
        again = client.post(
            f"/proxy/session?{_proxy(standin)}", json={"visitor_token": first["visitor_token"]}
        ).get_json()
    assert again["visitor_id"] == first["visitor_id"]
    assert not [s for s, _ in seen if s.lstrip().upper().startswith("UPDATE VISITOR")]
    clock.set(T0 + timedelta(minutes=2))
    client.post(f"/proxy/session?{_proxy(standin)}", json={"visitor_token": first["visitor_token"]})
    with services.db.session() as session:
        assert session.get(Visitor, first["visitor_id"]).last_seen_at == T0 + timedelta(minutes=2)


def _proxy(standin) -> str:
    from urllib.parse import urlencode

    from tests.support.shops import SHOP

    return urlencode(standin.proxy_query(SHOP, logged_in_customer_id=""))


def test_the_customer_rule_finds_visitors_by_index(services, clock, shop_id, backend):
    clock.set(T0)
    for n in range(20):
        new_visitor(services, shop_id, email=f"someone{n}@example.com", customer_id=str(900 + n))
    anna = new_visitor(services, shop_id, email="Anna.Tamm@Example.com")
    chat_id = services.chat.send_shopper_message(shop_id, anna, "s", "hello").conversation.id
    facts = attribution.OrderFacts(order_id="1", email="ANNA.TAMM@example.COM", ordered_at=T0 + timedelta(hours=1))
    with statements(services) as seen, services.db.session() as session:
        found = attribution.find_conversation(session, shop_id, facts, timedelta(days=7))
    assert found is not None and found[0].id == chat_id and found[1] == "customer"
    by_customer = attribution.OrderFacts(order_id="2", customer_id="905", email="nobody@example.com", ordered_at=T0)
    with services.db.session() as session:
        assert attribution.find_conversation(session, shop_id, by_customer, timedelta(days=7)) is None
    if backend == "sqlite":
        lookups = [(s, p) for s, p in seen if "FROM visitor" in s]
        assert lookups
        with services.db.session() as session:
            for statement, params in lookups:
                plan = " ".join(
                    str(r[-1]) for r in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
                )
                assert "ix_visitor_shop_id_email_lower (shop_id=? AND <expr>=?)" in plan, plan


def test_old_cart_snapshots_are_pruned_but_each_conversation_keeps_its_latest(services, clock, shop_id, db):
    chat = services.chat
    clock.set(T0)
    visitor = new_visitor(services, shop_id)
    chat_id = chat.send_shopper_message(shop_id, visitor, "s", "hi").conversation.id
    quiet = new_visitor(services, shop_id)
    quiet_id = chat.send_shopper_message(shop_id, quiet, "q", "hi").conversation.id

    def cart(total: str, token: str) -> Cart:
        return Cart(token=token, currency="EUR", total=Decimal(total), item_count=1, lines=())

    chat.record_conversation_cart(shop_id, quiet_id, cart("5.00", "quiet-cart"))
    for day, total in enumerate(["10.00", "20.00", "30.00"]):
        clock.set(T0 + timedelta(days=day))
        chat.record_conversation_cart(shop_id, chat_id, cart(total, f"cart-{day}"))
    clock.set(T0 + timedelta(days=200))
    chat.record_conversation_cart(shop_id, chat_id, cart("40.00", "cart-now"))
    inbound = Inbound(db, clock, {}, cart_retention_days=90)
    assert inbound.prune_carts(batch=2) == 3
    assert inbound.prune_carts() == 0
    with services.db.session() as session:
        left = {(s.conversation_id, s.cart_token) for s in session.exec(select(CartSnapshot))}
    assert left == {(chat_id, "cart-now"), (quiet_id, "quiet-cart")}


def test_the_cart_retention_setting_reaches_the_worker(settings, standin, bind, clock):
    from tests.support.apps import make_app

    app = make_app(settings.override(cart_retention_days=120), standin, bind=bind, clock=clock)
    assert app.extensions["parley"].inbound.cart_retention_days == 120
