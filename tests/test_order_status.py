"""'Where is my order?' answered from the platform, through the real storefront API and
both platforms' stand-ins: a signed-in customer gets their recent orders with tracking;
an anonymous shopper only after giving the order number and the order's e-mail (both
must match); a wrong address reads exactly like a missing order; tries are limited per
visitor and per address; the platform down hands over. In the shopper's language."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from app.answers.order_status import ASK_PROOF, NOT_FOUND_TEXT
from app.models import AuthorKind, Conversation, Message
from standins.saleor.content import enable_content as enable_saleor_content
from standins.saleor.content import fulfil_order
from standins.shopify import content
from tests.support.saleor import install as install_saleor
from tests.support.shoppers import API, auth
from tests.support.shops import SHOP, app_home

NOON = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TRACKING = "https://www.omniva.ee/track?barcode=CC123456789EE"


@pytest.fixture
def shop(client, standin, clock):
    clock.set(NOON)
    content.enable_content(standin)
    standin.add_customer(
        SHOP,
        7,
        first_name="Anna",
        last_name="Tamm",
        email="Anna.Tamm@example.com",
        orders=[
            {
                "id": 11,
                "name": "#1001",
                "created_at": "2026-11-20T10:00:00Z",
                "total": "59.00",
                "currency": "EUR",
                "financial_status": "paid",
                "fulfillment_status": None,
            },
            {
                "id": 12,
                "name": "#1002",
                "created_at": "2026-11-28T10:00:00Z",
                "total": "19.00",
                "currency": "EUR",
                "financial_status": "paid",
                "fulfillment_status": None,
            },
        ],
    )
    content.add_fulfillment(standin, SHOP, 11, number="CC123456789EE", url=TRACKING, company="Omniva")
    assert app_home(client, standin).status_code == 200  # installed with a token the stand-in knows


def session_of(client, standin, locale: str = "en", customer_id: str = "") -> dict:
    query = standin.proxy_query(SHOP, logged_in_customer_id=customer_id)
    return client.post(f"/proxy/session?{urlencode(query)}", json={"locale": locale}).get_json()


def say(client, services, session: dict, body: str) -> Message:
    """The shopper writes; the assistant's reply (the thread's last message)."""
    sent = client.post(f"{API}/messages", json={"client_id": str(uuid.uuid4()), "body": body}, headers=auth(session))
    assert sent.status_code == 201, sent.data
    services.auto_replies.drain()
    with services.db.session() as db:
        last = db.exec(
            select(Message)
            .where(Message.conversation_id == sent.get_json()["conversation"]["id"])
            .order_by(Message.id.desc())
        ).first()
    assert last.author_kind == AuthorKind.bot
    return last


def conversation_of(services, message: Message) -> Conversation:
    with services.db.session() as db:
        return db.get(Conversation, message.conversation_id)


def test_a_signed_in_customer_gets_their_recent_orders_with_tracking(client, services, standin, shop):
    reply = say(client, services, session_of(client, standin, "en", customer_id="7"), "where is my order??")
    status_page = f"https://{SHOP}/1/orders/{base64.urlsafe_b64encode(f'{SHOP}:12'.encode()).decode().rstrip('=')}"
    assert reply.body == (
        "Your recent orders:\n\n"
        "Order #1002 of Nov 28, 2026: not sent yet.\n"
        f"See the order: {status_page}/authenticate\n\n"  # nothing shipped yet: the order's own page
        "Order #1001 of Nov 20, 2026: sent.\n"
        f"Track the parcel: {TRACKING}"
    )
    assert reply.meta == {
        "order_status": "found",
        "orders": ["#1002", "#1001"],
        "answer_id": "order_status",
        "in_reply_to": reply.id - 1,
        "feedback": None,
    }
    assert conversation_of(services, reply).handed_over_at is None  # answered; "talk to a person" stays one click away


def test_an_anonymous_shopper_is_asked_for_proof_then_told_the_status(client, services, standin, shop):
    session = session_of(client, standin, "et")
    asked = say(client, services, session, "kus on mu tellimus?")
    assert asked.body == ASK_PROOF["et"]
    assert asked.meta == {"order_status": "ask_proof", "order_number": None}
    found = say(client, services, session, "1001 anna.tamm@EXAMPLE.com")  # the address in any case
    assert found.body.startswith("Tellimus #1001 (20. nov 2026): teele saadetud.\nJälgi pakki: ")
    assert TRACKING in found.body
    assert found.meta["order_status"] == "found" and found.meta["orders"] == ["#1001"]
    assert "anna" not in str(found.meta).lower()  # the address is not kept beside the answer


def test_a_wrong_address_reads_exactly_like_a_missing_order(client, services, standin, shop):
    session = session_of(client, standin, "en")
    wrong_address = say(client, services, session, "where is my order #1001? I am thief@example.com")
    missing = say(client, services, session_of(client, standin, "en"), "where is my order #9999? anna.tamm@example.com")
    assert wrong_address.body == missing.body == NOT_FOUND_TEXT["en"]
    assert wrong_address.meta == missing.meta == {"order_status": "not_found"}
    assert "1001" not in wrong_address.body and "sent" not in wrong_address.body
    # The shopper may try again in the same thread: the right address now shows the order.
    right = say(client, services, session, "sorry: 1001 anna.tamm@example.com")
    assert right.meta["order_status"] == "found"


def test_an_order_number_alone_is_not_proof(client, services, standin, shop):
    reply = say(client, services, session_of(client, standin, "en"), "status of my order 1001")
    assert reply.body == ASK_PROOF["en"]
    assert reply.meta == {"order_status": "ask_proof", "order_number": "1001"}
    # The number is remembered: the address alone completes the proof.
    session = session_of(client, standin, "en")
    say(client, services, session, "order status #1002")
    done = say(client, services, session, "anna.tamm@example.com")
    assert done.meta["orders"] == ["#1002"]


def test_tries_are_limited_per_visitor_then_a_person_takes_over(client, services, standin, shop):
    session = session_of(client, standin, "ru")
    for n in range(5):
        reply = say(client, services, session, f"где мой заказ #10{n}9 ? guess{n}@example.com")
        assert reply.body == NOT_FOUND_TEXT["ru"]
    limited = say(client, services, session, "где мой заказ #1001 anna.tamm@example.com")  # even the right proof
    assert "1001" not in limited.body and limited.meta == {"handover": "too many order look-ups"}
    assert conversation_of(services, limited).handoff_reason == "too many order look-ups"


def test_tries_are_limited_per_address_across_visitors(client, services, standin, shop):
    for n in range(5):
        say(
            client, services, session_of(client, standin, "pl"), f"gdzie jest moja paczka #20{n}1 anna.tamm@example.com"
        )
    limited = say(
        client, services, session_of(client, standin, "pl"), "gdzie moje zamowienie #1001 anna.tamm@example.com"
    )
    assert limited.meta == {"handover": "too many order look-ups"}


@pytest.mark.parametrize("locale", ["en", "et", "pl", "ru", "he", "ar"])
def test_the_assistant_asks_for_proof_in_the_shoppers_language(client, services, standin, shop, locale):
    questions = {
        "en": "where is my order",
        "et": "kus on minu pakk",
        "pl": "gdzie jest moje zamówienie",
        "ru": "где мой заказ",
        "he": "איפה ההזמנה שלי",
        "ar": "وين طلبي",
    }
    assert say(client, services, session_of(client, standin, locale), questions[locale]).body == ASK_PROOF[locale]


def test_shopify_down_hands_over_without_an_answer(client, services, standin, shop):
    standin.set_outage(SHOP, True)
    reply = say(client, services, session_of(client, standin, "en", customer_id="7"), "where is my order")
    standin.set_outage(SHOP, False)
    assert reply.meta == {"handover": "order look-up failed"}
    assert conversation_of(services, reply).handoff_reason == "order look-up failed"


def test_the_assistant_switched_off_leaves_order_questions_to_the_team(client, services, standin, shop):
    from tests.support.shops import bearer

    assert client.put("/admin/api/assistant", json={"mode": "off"}, headers=bearer(standin)).status_code == 200
    session = session_of(client, standin, "en", customer_id="7")
    client.post(f"{API}/messages", json={"client_id": "q", "body": "where is my order"}, headers=auth(session))
    assert services.auto_replies.drain() == 1
    history = client.get(f"{API}/messages", headers=auth(session)).get_json()["messages"]
    assert [m["author"] for m in history] == ["shopper"]


# -- Saleor ---------------------------------------------------------------------------------


@pytest.fixture
def saleor_shop(saleor):
    enable_saleor_content(saleor)
    install_saleor(saleor)
    user = saleor.add_customer("mari@example.com", first_name="Mari", last_name="Maasikas")
    order = saleor.add_order([{"name": "Wool hat", "quantity": 1, "price": "25.00"}], user_id=user, emit=False)
    fulfil_order(saleor, order, "LV998877")
    return user, saleor.order(order)["number"]


def test_saleor_orders_by_number_and_address_and_for_a_signed_in_customer(client, services, saleor, saleor_shop):
    user, number = saleor_shop
    anonymous = client.post(f"{API}/session", json={"shop": saleor.api_url, "locale": "he"}).get_json()
    wrong = say(client, services, anonymous, f"איפה ההזמנה שלי #{number} someone@example.com")
    assert wrong.body == NOT_FOUND_TEXT["he"]
    found = say(client, services, anonymous, f"#{number} MARI@example.com")
    assert f"#{number}" in found.body and "נשלחה" in found.body and "LV998877" in found.body

    signed = client.post(
        f"{API}/session",
        json={"shop": saleor.api_url, "locale": "ar", "customer_access_token": saleor.mint_customer_token(user)},
    ).get_json()
    mine = say(client, services, signed, "وين طلبي")
    assert mine.body.startswith("طلباتك الأخيرة:") and "LV998877" in mine.body
    assert mine.meta["orders"] == [f"#{number}"]


def test_the_order_status_reaches_the_shoppers_stream_once_stored(client, services, standin, shop):
    from app.chat.conversations import visitor_channel

    session = session_of(client, standin, "en", customer_id="7")
    subscription = services.broker.subscribe([visitor_channel(session["visitor_id"])])
    try:
        reply = say(client, services, session, "where is my order")
        events = []
        while not subscription.queue.empty():
            events.append(subscription.queue.get_nowait())
    finally:
        subscription.close()
    assert {"id": reply.id} in [event.data for event in events if event.kind == "message"]
