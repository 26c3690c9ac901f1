"""A Redis outage with streams open: one look at the database per process wakes the
streams that have news (app/chat/news.py), the others wait without reading anything,
and when Redis returns nobody is woken for nothing (no resync herd). Against a
private redis-server that the test stops and starts, and a migrated SQLite file
(the app owns its engine, as `parley serve` does).
"""

from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import urlencode

import pytest
from sqlmodel import SQLModel, col, select

from app import create_app, shops
from app.chat.news import RecentMessages
from app.clock import utcnow
from app.db import Database, make_engine
from app.models import Message, Platform
from app.realtime.broker import RedisBroker
from app.realtime.sse import event_stream
from tests.support.processes import PrivateRedis
from tests.support.shops import SHOP

IDLE = 40
POLL = 0.1


class Counted:
    """A stream's catch-up read, counted: how often the stream looked at the database."""

    def __init__(self, db: Database, conversation_id: str | None):
        self.db, self.conversation_id, self.calls = db, conversation_id, 0

    def __call__(self, after: int) -> list[tuple[int, dict]]:
        self.calls += 1
        if self.conversation_id is None:
            return []
        with self.db.session() as session:
            rows = session.exec(
                select(Message.id, Message.body)
                .where(Message.conversation_id == self.conversation_id, col(Message.id) > after)
                .order_by(col(Message.id))
            ).all()
        return [(message_id, {"body": body}) for message_id, body in rows]


def run_stream(broker, channel: str, fetch: Counted, received: list, stop: threading.Event) -> threading.Thread:
    events = event_stream(broker, [channel], 0, fetch, heartbeat=0.2, poll=POLL)

    def consume() -> None:
        for chunk in events:
            if chunk.startswith("id: "):
                received.append(chunk)
            if stop.is_set():
                break
        events.close()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    return thread


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def world(tmp_path, settings, standin):
    server = PrivateRedis(tmp_path)
    server.start()
    url = f"sqlite:///{tmp_path / 'outage.db'}"
    SQLModel.metadata.create_all(make_engine(url))
    broker = RedisBroker(server.url, reconnect_delay=0.05, max_reconnect_delay=0.2)
    assert broker.wait_until_connected(5)
    app = create_app(settings.override(database_url=url, sse_poll_seconds=POLL), broker=broker)
    services = app.extensions["parley"]
    yield server, broker, app, services
    broker.close()
    server.stop()


def test_while_redis_is_down_only_the_streams_with_news_read_and_its_return_wakes_nobody(world, standin):
    server, broker, app, services = world
    client = app.test_client()
    with services.db.transaction() as session:
        shop_id = shops.record_install(
            session, services.cipher, Platform.shopify, SHOP, shops.TokenGrant("shpat_x", "read_orders"), utcnow()
        ).id
    visitor = client.post(f"/proxy/session?{urlencode(standin.proxy_query(SHOP))}", json={}).get_json()
    sent = client.post(
        "/api/storefront/v1/messages",
        json={"client_id": "c-1", "body": "Does it come in blue?"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    ).get_json()
    conversation_id = sent["conversation"]["id"]

    stop = threading.Event()
    active = Counted(services.db, conversation_id)
    mine: list[str] = []
    threads = [run_stream(broker, f"visitor:{visitor['visitor_id']}", active, mine, stop)]
    idle = [Counted(services.db, None) for _ in range(IDLE)]
    for fetch in idle:
        threads.append(run_stream(broker, f"visitor:{uuid.uuid4()}", fetch, [], stop))
    wait_for(lambda: len(mine) == 1 and all(f.calls == 1 for f in idle))  # each read its backlog once

    try:
        server.stop()
        wait_for(lambda: not broker.healthy)
        assert not broker.streams_must_poll  # the process's one poller looks for them
        services.chat.send_agent_message(shop_id, conversation_id, "42", "while Redis is down", "r-1")
        wait_for(lambda: len(mine) == 2)
        time.sleep(POLL * 10)  # ten looks' worth of outage
        assert [f.calls for f in idle] == [1] * IDLE, "a stream without news read the database"

        server.start()
        assert broker.wait_until_connected(10)
        time.sleep(POLL * 5)
        assert [f.calls for f in idle] == [1] * IDLE, "Redis's return woke every stream"
        services.chat.send_agent_message(shop_id, conversation_id, "42", "after the restart", "r-2")
        wait_for(lambda: len(mine) == 3)
    finally:
        stop.set()
    ids = [int(chunk.split("\n")[0][4:]) for chunk in mine]
    assert ids == sorted(set(ids)) and len(ids) == 3  # each message once, in order


def test_a_message_committed_after_a_later_one_is_still_news(tmp_path, settings, standin):
    """Ids are taken in insert order and committed in any order: each look covers a window."""
    url = f"sqlite:///{tmp_path / 'news.db'}"
    SQLModel.metadata.create_all(make_engine(url))
    app = create_app(settings.override(database_url=url))
    services, client = app.extensions["parley"], app.test_client()
    with services.db.transaction() as session:
        shops.record_install(
            session, services.cipher, Platform.shopify, SHOP, shops.TokenGrant("shpat_x", "read_orders"), utcnow()
        )
    visitor = client.post(f"/proxy/session?{urlencode(standin.proxy_query(SHOP))}", json={}).get_json()
    for n in range(3):
        client.post(
            "/api/storefront/v1/messages",
            json={"client_id": f"c-{n}", "body": f"question {n}"},
            headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
        )
    with services.db.transaction() as session:
        _, middle, _ = session.exec(select(Message).order_by(col(Message.id))).all()
        shop_id, conversation_id, author = middle.shop_id, middle.conversation_id, middle.author_kind
        middle_id = middle.id
        session.delete(middle)  # as if its insert were still uncommitted
    channels = {f"shop:{shop_id}", f"visitor:{visitor['visitor_id']}"}

    news = RecentMessages(services.db)
    assert news() == channels  # the first look: what was stored within the window
    assert news() == set()  # nothing new since
    with services.db.transaction() as session:
        session.add(
            Message(
                id=middle_id,
                shop_id=shop_id,
                conversation_id=conversation_id,
                author_kind=author,
                author_id="late",
                body="committed late",
                client_id="late",
            )
        )
    assert news() == channels  # below the highest id seen, and still found
    assert news() == set()
