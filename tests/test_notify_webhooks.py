"""The shop's own webhook: each shopper message is POSTed, signed (the signature checked
here with hmac, independently of the code under test), retried while the receiver is
down, given up on a 4xx; and response-time targets follow the shop's hours."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.models import Conversation
from tests.support.shoppers import shopper_writes
from tests.support.shops import SHOP, bearer, install

NOON = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday


class Receiver:
    """The shop's endpoint on a real socket: records what arrives, answers `status`."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self._server = make_server("127.0.0.1", 0, self._app)
        self.url = f"http://127.0.0.1:{self._server.server_port}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _app(self, environ, start_response):
        request = Request(environ)
        self.calls.append((dict(request.headers), request.get_data()))
        return Response("ok", status=self.status)(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def hooked(mail_app, standin, clock, receiver, monkeypatch):
    clock.set(NOON)
    services = mail_app.extensions["parley"]
    install(services, SHOP)
    client = mail_app.test_client()
    # Settings take https:// only; the receiver here is plain http on loopback, so the
    # test stores the address as a merchant's https one would be, then points it home.
    saved = client.put(
        "/admin/api/notifications", json={"webhook_url": "https://hooks.fjord.test/parley"}, headers=bearer(standin)
    ).get_json()["notifications"]
    from app.chat.shop_settings import put_setting

    with services.db.transaction() as session:
        put_setting(session, services_shop_id(services), "notify.webhook_url", receiver.url, NOON)
    return client, services, saved["webhook_secret"]


def services_shop_id(services) -> int:
    from app import shops
    from app.models import Platform

    with services.db.session() as session:
        return shops.find_shop(session, Platform.shopify, SHOP).id


def test_a_shopper_message_is_posted_signed_to_the_shops_webhook(hooked, standin, receiver):
    client, services, secret = hooked
    assert secret.startswith("whsec_")
    sent = shopper_writes(client, standin, SHOP, "Is the parka in stock?")
    assert services.notify.outbox.run_due() == {"sent": 1}
    [(headers, body)] = receiver.calls
    expected = (
        "sha256="
        + hmac.new(secret.encode(), headers["X-Parley-Timestamp"].encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    assert hmac.compare_digest(headers["X-Parley-Signature"], expected)
    event = json.loads(body)
    assert event["type"] == "message.created" and event["new_conversation"] is True
    assert event["message"]["body"] == "Is the parka in stock?"
    assert event["conversation"]["id"] == sent["conversation"]["id"]


def test_a_receiver_that_is_down_gets_the_event_later_and_a_4xx_is_given_up(hooked, standin, receiver, clock):
    client, services, _ = hooked
    receiver.status = 503
    shopper_writes(client, standin, SHOP, "first")
    assert services.notify.outbox.run_due() == {"retry": 1}
    receiver.status = 200
    clock.advance(timedelta(minutes=2))
    assert services.notify.outbox.run_due() == {"sent": 1}
    receiver.status = 410
    shopper_writes(client, standin, SHOP, "second")
    assert services.notify.outbox.run_due() == {"failed": 1}
    assert len(receiver.calls) == 3


def due_of(services, conversation_id: str):
    with services.db.session() as session:
        return session.exec(select(Conversation.due_at).where(Conversation.id == conversation_id)).one()


def test_a_question_in_hours_is_due_after_the_target_and_after_hours_at_opening_plus_the_target(
    mail_app, standin, clock
):
    services = mail_app.extensions["parley"]
    install(services, SHOP)
    client = mail_app.test_client()
    client.put(
        "/admin/api/settings",
        json={
            "hours": {
                "timezone": "Europe/Tallinn",
                "weekly": {"tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]]},
            }
        },
        headers=bearer(standin),
    )
    client.put("/admin/api/notifications", json={"first_response_target_minutes": 45}, headers=bearer(standin))

    clock.set(NOON)  # 12:00 in Tallinn: open
    during = shopper_writes(client, standin, SHOP, "in hours")["conversation"]["id"]
    assert due_of(services, during) == NOON + timedelta(minutes=45)

    clock.set(datetime(2026, 12, 1, 19, 30, tzinfo=UTC))  # 21:30 in Tallinn: closed until 09:00
    after = shopper_writes(client, standin, SHOP, "after hours")["conversation"]["id"]
    assert due_of(services, after) == datetime(2026, 12, 2, 7, 45, tzinfo=UTC)

    client.post(
        f"/admin/api/conversations/{after}/messages",
        json={"client_id": "n", "body": "note", "internal": True},
        headers=bearer(standin),
    )
    assert due_of(services, after) is not None  # a note is not an answer
    client.post(
        f"/admin/api/conversations/{after}/messages",
        json={"client_id": "r", "body": "Good morning!"},
        headers=bearer(standin),
    )
    assert due_of(services, after) is None
