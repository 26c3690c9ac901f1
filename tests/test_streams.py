"""Event streams lose and duplicate nothing: resume after Last-Event-ID, live
delivery, heartbeats, and catching up from the database while the broker is down."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from app import create_app
from app.chat.conversations import Chat
from app.db import make_engine
from app.realtime.broker import Event, InProcessBroker
from app.realtime.sse import event_stream, parse_last_event_id, sse
from tests.support.apps import make_app
from tests.support.processes import private_database
from tests.support.shoppers import API, say, start
from tests.support.shops import SHOP, bearer, install
from tests.support.stream_readers import StreamReader
from tests.support.streams import open_stream


def test_stream_replays_what_was_missed_after_last_event_id(client, standin, shop_id):
    session = start(client, standin)
    first = say(client, session, "one")["message"]["id"]
    say(client, session, "two")
    say(client, session, "three")

    stream = open_stream(client, session, last_event_id=first)
    try:
        replayed = [stream.next_event(), stream.next_event()]
    finally:
        stream.close()
    assert [e["data"]["body"] for e in replayed] == ["two", "three"]
    assert [e["event"] for e in replayed] == ["message", "message"]
    assert int(replayed[1]["id"]) == replayed[1]["data"]["id"]


def test_merchant_reply_arrives_live_and_once(standin, settings, bind, shop_id):
    app = create_app(settings.override(sse_heartbeat_seconds=0.2), bind=bind)
    client, services = app.test_client(), app.extensions["parley"]
    session = start(client, standin)
    sent = say(client, session, "hello?")
    stream = open_stream(client, session, last_event_id=sent["message"]["id"])
    try:
        services.chat.agent_typing(shop_id, sent["conversation"]["id"], True)
        services.chat.send_agent_message(shop_id, sent["conversation"]["id"], "42", "<b>Hi</b> there", "r-1")
        events = [stream.next_event(), stream.next_event()]
        after = stream.next_event()
    finally:
        stream.close()
    by_kind = {e["event"]: e for e in events}
    assert by_kind["typing"]["data"] == {"author": "agent", "typing": True}
    assert by_kind["message"]["data"]["body"] == "<b>Hi</b> there"
    assert by_kind["message"]["data"]["author"] == "agent"
    # The broker's wake-up for the reply finds nothing new: no duplicate, just a heartbeat.
    assert after == {"comment": ": ping"}


def test_internal_notes_never_reach_the_shopper_stream(client, standin, shop_id, services):
    session = start(client, standin)
    sent = say(client, session, "hello?")
    stream = open_stream(client, session, last_event_id=sent["message"]["id"])
    try:
        services.chat.send_agent_message(
            shop_id, sent["conversation"]["id"], "42", "VIP, be nice", "n-1", internal=True
        )
        services.chat.send_agent_message(shop_id, sent["conversation"]["id"], "42", "Hello!", "r-1")
        assert stream.next_event()["data"]["body"] == "Hello!"
    finally:
        stream.close()


def test_idle_stream_sends_heartbeats(standin, settings, bind, shop_id):
    client = create_app(settings.override(sse_heartbeat_seconds=0.05), bind=bind).test_client()
    session = start(client, standin)
    stream = open_stream(client, session)
    try:
        assert stream.next_event() == {"comment": ": ping"}
    finally:
        stream.close()


class DownBroker(InProcessBroker):
    """A broker that is unreachable, with no poller looking for its streams: nothing it is
    told arrives, and each stream looks at the database itself."""

    @property
    def healthy(self) -> bool:
        return False

    @property
    def streams_must_poll(self) -> bool:
        return True

    def publish(self, event: Event) -> None:
        pass


def test_while_the_broker_is_down_streams_catch_up_from_the_database(standin, settings, bind, shop_id):
    app = create_app(settings.override(sse_poll_seconds=0.05), bind=bind, broker=DownBroker())
    client = app.test_client()
    session = start(client, standin)
    sent = say(client, session, "stored although nobody was told")
    stream = open_stream(client, session)
    try:
        assert stream.next_event()["data"]["id"] == sent["message"]["id"]
        services = app.extensions["parley"]
        services.chat.send_agent_message(shop_id, sent["conversation"]["id"], "42", "also stored, also found", "r-1")
        assert stream.next_event()["data"]["body"] == "also stored, also found"
    finally:
        stream.close()


def test_stream_with_a_forged_token_gets_401(client, shop_id):
    response = client.get(f"{API}/stream?token=forged")
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_token")


def test_stream_closes_its_subscription_when_the_client_goes():
    broker = InProcessBroker()
    stream = event_stream(broker, ["visitor:x"], 0, lambda after: [], heartbeat=0.01)
    assert next(stream).startswith("retry:")
    assert broker._hub.subscriber_count == 1
    stream.close()
    assert broker._hub.subscriber_count == 0


def test_sse_format_and_last_event_id_parsing():
    assert sse("message", {"a": "é"}, 7) == 'id: 7\nevent: message\ndata: {"a":"é"}\n\n'
    assert parse_last_event_id(None, "", " 12 ") == 12
    assert parse_last_event_id("abc", None) == 0


# -- ids that commit out of order -------------------------------------------------------------


class HeldInsert:
    """A chat observer that keeps the transaction storing a message open, its id drawn and
    nothing committed, until the test lets it go: another process mid-commit."""

    def __init__(self) -> None:
        self.stored = threading.Event()
        self.release = threading.Event()
        self.message_id: int | None = None

    def _hold(self, message) -> None:
        self.message_id = message.id
        self.stored.set()
        assert self.release.wait(30), "the test never released the held insert"

    def shopper_wrote(self, session, conversation, message, now) -> None:
        self._hold(message)

    def agent_wrote(self, session, conversation, message, now) -> None:
        self._hold(message)


@pytest.fixture
def own_connections(backend, tmp_path):
    """An engine whose sessions each get a connection of their own (the rollback pattern
    shares one), as two processes would."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'streams.db'}")
        SQLModel.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    with private_database("parley_streams") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _waiting_for_the_message_lock(engine) -> bool:
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        return bool(
            connection.execute(
                sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar()
        )


def test_a_message_that_commits_after_a_later_id_still_reaches_both_streams(standin, settings, own_connections, clock):
    """The issue's case: a stream is open; a message insert is held uncommitted (id N);
    another message is sent through the API (N+1); N commits; N+2 is sent. Both the
    shopper's and the shop's stream must deliver N, N+1 and N+2, in that order.

    N and N+1 are in two conversations of one shopper (an old one and today's), so no
    conversation row orders them: only the shop's message lock does."""
    app = make_app(settings.override(sse_heartbeat_seconds=0.2), standin, bind=own_connections, clock=clock)
    client, services = app.test_client(), app.extensions["parley"]
    shop_id = install(services, SHOP)
    session = start(client, standin)
    old = say(client, session, "Is the parka waterproof?")["conversation"]["id"]
    services.chat.set_status(shop_id, old, "resolved")
    clock.advance(timedelta(days=8))  # past REOPEN_WITHIN: the next message starts a new conversation
    today = say(client, session, "Back again: does it come in blue?")
    conversation_id, last_id = today["conversation"]["id"], today["message"]["id"]
    assert conversation_id != old
    shopper_stream = StreamReader(
        app, f"{API}/stream?token={session['visitor_token']}", {"Last-Event-ID": str(last_id)}
    )
    ticket = client.post("/admin/api/stream-ticket", headers=bearer(standin)).get_json()["ticket"]
    shop_stream = StreamReader(app, f"/admin/api/stream?ticket={ticket}&last_event_id={last_id}")

    held = HeldInsert()
    holder = Chat(services.db, services.broker, services.clock, observers=[held])
    storing = threading.Thread(
        target=holder.send_agent_message, args=(shop_id, old, "7", "A late answer to your old question", "late-1")
    )
    replies: list = []

    def reply() -> None:
        replies.append(
            app.test_client().post(
                f"/admin/api/conversations/{conversation_id}/messages",
                json={"body": "Yes, in blue too.", "client_id": "r-1"},
                headers=bearer(standin),
            )
        )

    replying = threading.Thread(target=reply)
    try:
        storing.start()
        assert held.stored.wait(10)
        replying.start()
        deadline = time.monotonic() + 5
        while replying.is_alive() and not _waiting_for_the_message_lock(own_connections):
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        early = []
        if not replying.is_alive():
            # The reply committed while the held message had not: the streams look now.
            early = [shopper_stream.next_message(), shop_stream.next_message()]
        held.release.set()
        storing.join(10)
        replying.join(10)
        third = say(client, session, "Great, ordering now.")
        assert replies[0].status_code == 201
        expected = [held.message_id, replies[0].get_json()["message"]["id"], third["message"]["id"]]
        assert expected == sorted(expected)
        for stream, seen_early in ((shopper_stream, early[:1]), (shop_stream, early[1:])):
            got = [int(e["id"]) for e in seen_early]
            while not got or got[-1] != expected[-1]:
                got.append(int(stream.next_message()["id"]))
            assert got == expected
    finally:
        held.release.set()
        shopper_stream.close()
        shop_stream.close()
