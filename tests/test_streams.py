"""Event streams lose and duplicate nothing: resume after Last-Event-ID, live
delivery, heartbeats, and catching up from the database while the broker is down."""

from __future__ import annotations

from app import create_app
from app.realtime.broker import Event, InProcessBroker
from app.realtime.sse import event_stream, parse_last_event_id, sse
from tests.support.shoppers import API, say, start
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
    """A broker that is unreachable: nothing it is told arrives."""

    @property
    def healthy(self) -> bool:
        return False

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
