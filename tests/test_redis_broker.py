"""The Redis broker against real Redis: fan-out between processes, and a Redis
restart in the middle of a conversation that loses nothing.

The shared server comes from TEST_REDIS_URL (CI: 127.0.0.1:6379). The restart test
runs a private `redis-server` on a free port so it can stop and start it.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from urllib.parse import urlencode

import pytest
import redis
import sqlalchemy as sa
from sqlmodel import select

from app import create_app, shops
from app.clock import utcnow
from app.models import Message, Platform
from app.realtime.broker import Event, RedisBroker
from tests.support.processes import PrivateRedis
from tests.support.services import service_unavailable
from tests.support.shops import SHOP
from tests.support.streams import Stream

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        service_unavailable(f"Redis is not reachable at {REDIS_URL} ({exc.__class__.__name__})")
    return REDIS_URL


def _connected(broker: RedisBroker) -> RedisBroker:
    assert broker.wait_until_connected(5), "broker did not connect"
    return broker


def test_an_event_published_by_one_process_reaches_another(redis_url):
    sender, receiver = _connected(RedisBroker(redis_url)), _connected(RedisBroker(redis_url))
    channel = f"visitor:{uuid.uuid4()}"
    try:
        subscription = receiver.subscribe([channel])
        sender.publish(Event(channel, "message", {"id": 41}))
        sender.publish(Event(f"visitor:{uuid.uuid4()}", "message", {"id": 42}))  # someone else's
        assert subscription.get(timeout=5) == Event(channel, "message", {"id": 41})
        assert subscription.get(timeout=0.3) is None
        subscription.close()
    finally:
        sender.close()
        receiver.close()


def test_redis_restart_mid_conversation_loses_nothing(standin, settings, bind, tmp_path, redis_url):
    server = PrivateRedis(tmp_path)
    server.start()
    broker = _connected(RedisBroker(server.url, reconnect_delay=0.1))
    app = create_app(settings.override(sse_poll_seconds=0.1, sse_heartbeat_seconds=30), bind=bind, broker=broker)
    client, services = app.test_client(), app.extensions["parley"]
    try:
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
        response = client.get(
            f"/api/storefront/v1/stream?token={visitor['visitor_token']}",
            headers={"Last-Event-ID": str(sent["message"]["id"])},
            buffered=False,
        )
        stream = Stream(response)
        received = []
        try:
            services.chat.send_agent_message(shop_id, conversation_id, "42", "before the restart", "r-1")
            received.append(stream.next_event())

            server.stop()
            services.chat.send_agent_message(shop_id, conversation_id, "42", "while Redis is down", "r-2")
            received.append(stream.next_event())

            server.start()
            assert broker.wait_until_connected(10)
            services.chat.send_agent_message(shop_id, conversation_id, "42", "after the restart", "r-3")
            received.append(stream.next_event())
        finally:
            stream.close()
        bodies = [e["data"]["body"] for e in received if e.get("event") == "message"]
        assert bodies == ["before the restart", "while Redis is down", "after the restart"]
        assert len({e["id"] for e in received}) == 3
    finally:
        broker.close()
        server.stop()


def test_rate_limits_hold_across_processes_through_redis(standin, settings, bind, redis_url):
    limited = settings.override(redis_url=redis_url, rate_limit_visitor="2/minute")
    first, second = create_app(limited, bind=bind), create_app(limited, bind=bind)
    services = first.extensions["parley"]
    try:
        with services.db.transaction() as session:
            shops.record_install(
                session, services.cipher, Platform.shopify, SHOP, shops.TokenGrant("shpat_x", "read_orders"), utcnow()
            )
        visitor = first.test_client().post(f"/proxy/session?{urlencode(standin.proxy_query(SHOP))}", json={}).get_json()
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}
        statuses = [
            app.test_client()
            .post("/api/storefront/v1/messages", json={"client_id": str(uuid.uuid4()), "body": "hi"}, headers=headers)
            .status_code
            for app in (first, second, second)
        ]
        assert statuses == [201, 201, 429]
    finally:
        for app in (first, second):
            app.extensions["parley"].broker.close()


def test_while_redis_is_down_shoppers_messages_are_stored_and_limits_count_in_memory(
    standin, settings, bind, tmp_path, caplog
):
    """Rate limits live in Redis; Redis going away must never be why a message is refused."""
    server = PrivateRedis(tmp_path)
    server.start()
    limited = settings.override(redis_url=server.url, rate_limit_visitor="1000/minute")
    app = create_app(limited, bind=bind)
    client, services = app.test_client(), app.extensions["parley"]
    try:
        with services.db.transaction() as session:
            shops.record_install(
                session, services.cipher, Platform.shopify, SHOP, shops.TokenGrant("shpat_x", "read_orders"), utcnow()
            )
        visitor = client.post(f"/proxy/session?{urlencode(standin.proxy_query(SHOP))}", json={}).get_json()
        headers = {"Authorization": f"Bearer {visitor['visitor_token']}"}

        def send(text: str) -> int:
            return client.post(
                "/api/storefront/v1/messages", json={"client_id": str(uuid.uuid4()), "body": text}, headers=headers
            ).status_code

        assert send("before") == 201
        keys = redis.Redis.from_url(server.url)
        assert keys.keys("LIMITS:*"), "the limits count in Redis while it is up"

        server.stop()
        with caplog.at_level(logging.INFO, logger="flask-limiter"):
            during = [send(f"during {n}") for n in range(20)]
            typing = client.post("/api/storefront/v1/typing", json={"typing": True}, headers=headers).status_code
        assert during == [201] * 20 and typing == 204
        fallbacks = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
        assert len(fallbacks) == 1, "said once, not once per request"
        with services.db.session() as session:
            assert session.exec(select(sa.func.count()).select_from(Message)).one() == 21

        server.start()
        keys = redis.Redis.from_url(server.url)
        deadline = time.monotonic() + 45  # flask-limiter looks for Redis again after a growing pause
        while not keys.keys("LIMITS:*") and time.monotonic() < deadline:
            assert send("after") == 201
            time.sleep(0.5)
        assert keys.keys("LIMITS:*"), "counting in Redis again once it is back"
    finally:
        services.broker.close()
        server.stop()
