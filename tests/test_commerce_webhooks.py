"""Orders, carts and checkouts from Shopify: acknowledged on storing, processed by the
event worker, attributed to the conversation that produced them.

Payloads are REST-shaped as Shopify sends them for 2026-10 (app/platforms/shopify/
standin_payloads.py), signed with the app secret by the stand-in.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.chat.shop_settings import put_setting
from app.clock import utcnow
from app.commerce.attribution import counts, net_revenue
from app.inbound.worker import MAX_ATTEMPTS, Inbound
from app.models import CartSnapshot, Conversation, OrderLink, WebhookEvent
from standins.shopify.payloads import (
    cart_payload,
    checkout_payload,
    customer,
    line_item,
    order_payload,
    simple_lines,
)
from tests.support.shoppers import shopper_writes
from tests.support.shops import OTHER, SHOP, bearer, install

ADDRESS = "/webhooks/commerce"


def deliver(
    client, standin, topic: str, payload, shop: str = SHOP, event_id: str | None = None, raw: bytes | None = None
):
    body = raw if raw is not None else json.dumps(payload).encode()
    return client.post(ADDRESS, data=body, headers=standin.webhook_headers(topic, shop, body, event_id=event_id))


def process(services) -> dict:
    return services.inbound.run_pending()


def links(services, *where) -> list[OrderLink]:
    with services.db.session() as session:
        return list(session.exec(select(OrderLink).where(*where).order_by(OrderLink.id)).all())


def events(services) -> list[WebhookEvent]:
    with services.db.session() as session:
        return list(session.exec(select(WebhookEvent).order_by(WebhookEvent.id)).all())


def chat(client, standin, shop: str = SHOP, customer_id: str = "", cart_token: str | None = None) -> str:
    cart = None
    if cart_token:
        cart = {
            "token": cart_token,
            "currency": "EUR",
            "total_price": 24900,
            "item_count": 1,
            "items": [{"title": "Fjord parka", "quantity": 1, "price": 24900, "line_price": 24900}],
        }
    sent = shopper_writes(client, standin, shop, "Does the parka run small?", customer_id=customer_id, cart=cart)
    return sent["conversation"]["id"]


@pytest.fixture
def shop(services, shop_id):
    return shop_id


# -- the three rules ---------------------------------------------------------------------


def test_the_cart_attribute_on_the_order_links_it_to_its_conversation(client, standin, services, shop):
    conversation = chat(client, standin)
    order = order_payload(
        number=1001, note_attributes={"parley_conversation": conversation}, buyer=customer(7001, "kari@example.com")
    )

    answer = deliver(client, standin, "orders/create", order)

    assert answer.status_code == 200 and answer.get_json() == {"status": "stored"}
    assert links(services) == []  # acknowledged before processing
    assert process(services) == {"processed": 1}
    [link] = links(services)
    assert (link.conversation_id, link.rule, link.order_id, link.order_name) == (
        conversation,
        "conversation",
        str(order["id"]),
        "#1001",
    )
    assert (link.total, link.currency, link.refunded, link.flag) == (Decimal("249.00"), "EUR", Decimal("0"), None)
    assert counts(link)


def test_the_cart_token_without_its_key_links_the_order(client, standin, services, shop):
    conversation = chat(client, standin, cart_token="c1-7a2f9e?key=0f3b8c")
    order = order_payload(cart_token="c1-7a2f9e")

    deliver(client, standin, "orders/create", order)
    process(services)

    [link] = links(services)
    assert (link.conversation_id, link.rule) == (conversation, "cart_token")


def test_a_signed_in_customer_who_chatted_within_the_window_is_linked(client, standin, services, shop):
    conversation = chat(client, standin, customer_id="7001")
    ordered = utcnow() + timedelta(days=2)
    deliver(
        client, standin, "orders/create", order_payload(buyer=customer(7001, "kari@example.com"), created_at=ordered)
    )
    process(services)

    [link] = links(services)
    assert (link.conversation_id, link.rule, link.customer_id) == (conversation, "customer", "7001")


def test_a_customer_order_after_the_window_is_not_linked_until_the_window_is_widened(client, standin, services, shop):
    chat(client, standin, customer_id="7001")
    late = utcnow() + timedelta(days=8)
    deliver(
        client,
        standin,
        "orders/create",
        order_payload(order_id=555, buyer=customer(7001, "kari@example.com"), created_at=late),
    )
    process(services)
    assert links(services) == []

    with services.db.transaction() as session:
        put_setting(session, shop, "attribution_window_days", 10, utcnow())
    deliver(
        client,
        standin,
        "orders/updated",
        order_payload(
            order_id=555,
            buyer=customer(7001, "kari@example.com"),
            created_at=late,
            updated_at=late + timedelta(minutes=5),
        ),
    )
    process(services)
    assert [link.rule for link in links(services)] == ["customer"]


def test_the_strongest_rule_wins(client, standin, services, shop):
    by_attribute = chat(client, standin)
    standin.add_shop("second-visitor.myshopify.com")  # a different visitor of the same shop, with a cart
    by_cart = shopper_writes(
        client,
        standin,
        SHOP,
        "another shopper",
        cart={
            "token": "c1-other",
            "currency": "EUR",
            "total_price": 100,
            "item_count": 1,
            "items": [{"title": "Socks", "quantity": 1, "price": 100, "line_price": 100}],
        },
    )["conversation"]["id"]
    assert by_attribute != by_cart

    deliver(
        client,
        standin,
        "orders/create",
        order_payload(note_attributes={"parley_conversation": by_attribute}, cart_token="c1-other"),
    )
    process(services)

    [link] = links(services)
    assert (link.conversation_id, link.rule) == (by_attribute, "conversation")


def test_a_note_attribute_naming_another_shops_conversation_is_ignored(client, standin, services, shop):
    standin.add_shop(OTHER, name="Other Shop")
    other_id = install(services, OTHER)
    theirs = chat(client, standin, shop=OTHER)

    deliver(client, standin, "orders/create", order_payload(note_attributes={"parley_conversation": theirs}))
    process(services)

    assert links(services) == []
    assert links(services, OrderLink.shop_id == other_id) == []


def test_an_order_nobody_chatted_about_is_not_linked(client, standin, services, shop):
    chat(client, standin)
    deliver(
        client, standin, "orders/create", order_payload(cart_token="c1-unknown", buyer=customer(9999, "x@example.com"))
    )
    assert process(services) == {"processed": 1}
    assert links(services) == []


# -- money changes after the order ---------------------------------------------------------


def test_a_cancellation_stops_the_order_counting(client, standin, services, shop):
    conversation = chat(client, standin)
    created = utcnow()
    order = order_payload(order_id=1234, note_attributes={"parley_conversation": conversation}, created_at=created)
    deliver(client, standin, "orders/create", order)
    cancelled = order_payload(
        order_id=1234,
        note_attributes={"parley_conversation": conversation},
        created_at=created,
        updated_at=created + timedelta(hours=1),
        cancelled_at=created + timedelta(hours=1),
        financial_status="voided",
    )
    deliver(client, standin, "orders/updated", cancelled)
    process(services)

    [link] = links(services)
    assert link.cancelled_at is not None and link.financial_status == "voided"
    assert not counts(link)


def test_a_partial_refund_reduces_revenue_and_a_full_one_stops_it_counting(client, standin, services, shop):
    conversation = chat(client, standin)
    created = utcnow()
    attrs = {"parley_conversation": conversation}
    lines = [line_item("Fjord parka", "249.00"), line_item("Wool socks", "19.90", 2)]
    deliver(
        client,
        standin,
        "orders/create",
        order_payload(order_id=77, lines=lines, note_attributes=attrs, created_at=created),
    )
    deliver(
        client,
        standin,
        "orders/updated",
        order_payload(
            order_id=77,
            lines=lines,
            note_attributes=attrs,
            created_at=created,
            updated_at=created + timedelta(days=1),
            refunds=["39.80"],
            financial_status="partially_refunded",
        ),
    )
    process(services)
    [link] = links(services)
    # 249.00 + 2 × 19.90 = 288.80 ordered; the socks (39.80) came back.
    assert (link.total, link.refunded, net_revenue(link)) == (Decimal("288.80"), Decimal("39.80"), Decimal("249.00"))
    assert counts(link) and link.financial_status == "partially_refunded"

    deliver(
        client,
        standin,
        "orders/updated",
        order_payload(
            order_id=77,
            lines=lines,
            note_attributes=attrs,
            created_at=created,
            updated_at=created + timedelta(days=2),
            refunds=["39.80", "249.00"],
            financial_status="refunded",
        ),
    )
    process(services)
    [link] = links(services)
    assert net_revenue(link) == Decimal("0.00") and not counts(link)


# -- delivery: duplicates, order, crashes --------------------------------------------------


def test_a_duplicate_delivery_is_stored_and_processed_once(client, standin, services, shop):
    conversation = chat(client, standin)
    order = order_payload(note_attributes={"parley_conversation": conversation})
    event_id = str(uuid.uuid4())

    first = deliver(client, standin, "orders/create", order, event_id=event_id)
    again = deliver(client, standin, "orders/create", order, event_id=event_id)

    assert (first.get_json(), again.get_json()) == ({"status": "stored"}, {"status": "duplicate"})
    assert process(services) == {"processed": 1}
    assert len(events(services)) == 1 and events(services)[0].attempts == 1
    assert len(links(services)) == 1


def test_an_out_of_order_delivery_does_not_undo_a_newer_one(client, standin, services, shop):
    conversation = chat(client, standin)
    created = utcnow()
    attrs = {"parley_conversation": conversation}
    newer = order_payload(
        order_id=42,
        note_attributes=attrs,
        created_at=created,
        updated_at=created + timedelta(hours=3),
        cancelled_at=created + timedelta(hours=3),
    )
    older = order_payload(order_id=42, note_attributes=attrs, created_at=created)

    deliver(client, standin, "orders/updated", newer)
    process(services)
    deliver(client, standin, "orders/create", older)  # arrives last, describes an earlier state
    process(services)

    [link] = links(services)
    assert link.cancelled_at is not None
    assert link.source_updated_at == (created + timedelta(hours=3)).replace(microsecond=0)
    assert [e.error for e in events(services)] == [None, None]


def test_an_event_is_claimed_once_even_when_two_workers_reach_for_it(client, standin, services, shop):
    conversation = chat(client, standin)
    deliver(client, standin, "orders/create", order_payload(note_attributes={"parley_conversation": conversation}))
    [event] = events(services)

    assert services.inbound.process_one(event.id).state == "processed"
    assert services.inbound.process_one(event.id).state == "taken"
    assert len(links(services)) == 1


def test_a_failing_event_is_retried_then_given_up_with_its_reason(client, standin, services, shop):
    deliver(client, standin, "orders/create", order_payload())
    [event] = events(services)
    calls = []

    def broken(session, stored, now):
        calls.append(stored.id)
        raise RuntimeError("database went away")

    inbound = Inbound(services.db, services.clock, {event.platform: broken})
    outcomes = [inbound.process_one(event.id).state for _ in range(MAX_ATTEMPTS)]

    assert outcomes == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]
    [event] = events(services)
    assert event.processed_at is not None and event.attempts == MAX_ATTEMPTS
    assert event.error == "RuntimeError: database went away"
    assert inbound.process_one(event.id).state == "taken" and len(calls) == MAX_ATTEMPTS


# -- carts and checkouts -------------------------------------------------------------------


def test_a_cart_update_keeps_a_chatters_cart_current(client, standin, services, shop):
    conversation = chat(client, standin, cart_token="c1-cart?key=secret")
    lines = simple_lines(("Fjord parka", "249.00", 1), ("Wool socks", "19.90", 3))

    deliver(client, standin, "carts/update", cart_payload("c1-cart", lines))
    process(services)

    with services.db.session() as session:
        snapshot = session.exec(select(CartSnapshot).order_by(CartSnapshot.id.desc())).first()
        stored = session.get(Conversation, conversation)
    # 249.00 + 3 × 19.90 = 308.70; the currency stays what the widget saw (cart webhooks send none).
    assert (snapshot.conversation_id, snapshot.total, snapshot.currency, snapshot.item_count) == (
        conversation,
        Decimal("308.70"),
        "EUR",
        4,
    )
    assert stored.cart_value == Decimal("308.70")


def test_carts_nobody_chatted_about_are_not_stored(client, standin, services, shop):
    deliver(client, standin, "carts/create", cart_payload("c1-stranger", simple_lines(("Hat", "30.00", 1))))
    assert process(services) == {"processed": 1}
    with services.db.session() as session:
        assert session.exec(select(sa.func.count()).select_from(CartSnapshot)).one() == 0


def test_a_stale_cart_update_is_ignored(client, standin, services, shop):
    chat(client, standin, cart_token="c1-cart")
    now = utcnow()
    deliver(
        client, standin, "carts/update", cart_payload("c1-cart", simple_lines(("Parka", "249.00", 2)), updated_at=now)
    )
    deliver(
        client,
        standin,
        "carts/update",
        cart_payload("c1-cart", simple_lines(("Parka", "249.00", 1)), updated_at=now - timedelta(minutes=5)),
    )
    process(services)
    with services.db.session() as session:
        latest = session.exec(select(CartSnapshot).order_by(CartSnapshot.id.desc())).first()
    assert latest.item_count == 2


def test_a_checkout_update_records_where_the_shopper_can_finish(client, standin, services, shop):
    conversation = chat(client, standin, cart_token="c1-cart?key=k")
    deliver(
        client,
        standin,
        "checkouts/update",
        checkout_payload("chk-1", "c1-cart", simple_lines(("Parka", "249.00", 1)), currency="EUR"),
    )
    process(services)
    with services.db.session() as session:
        latest = session.exec(select(CartSnapshot).order_by(CartSnapshot.id.desc())).first()
    assert latest.conversation_id == conversation
    assert latest.checkout_url == "https://fjord-gear.myshopify.com/74/checkouts/chk-1/recover?key=abc"
    assert (latest.total, latest.currency, latest.cart_token) == (Decimal("249.00"), "EUR", "c1-cart")


# -- bad input, and what it gets --------------------------------------------------------------


def test_a_currency_less_or_negative_order_is_kept_flagged_and_not_counted(client, standin, services, shop):
    conversation = chat(client, standin)
    attrs = {"parley_conversation": conversation}
    deliver(client, standin, "orders/create", order_payload(order_id=1, note_attributes=attrs, currency=None))
    deliver(client, standin, "orders/create", order_payload(order_id=2, note_attributes=attrs, total="-5.00"))
    assert process(services) == {"processed": 2}

    flagged = {link.order_id: link for link in links(services)}
    assert (flagged["1"].flag, flagged["2"].flag) == ("missing_currency", "negative_amount")
    assert not counts(flagged["1"]) and not counts(flagged["2"])


def test_a_bad_hmac_gets_401_and_nothing_is_stored(client, standin, services, shop):
    body = json.dumps(order_payload()).encode()
    headers = standin.webhook_headers("orders/create", SHOP, body)
    headers["X-Shopify-Hmac-Sha256"] = standin.sign_webhook(body + b" ")
    answer = client.post(ADDRESS, data=body, headers=headers)
    assert answer.status_code == 401 and answer.get_json()["error"] == "invalid_hmac"
    assert events(services) == []


@pytest.mark.parametrize(
    "change, status, error, message",
    [
        (lambda o: o.pop("id"), 400, "missing_field", "the payload has no usable id"),
        (lambda o: o.pop("updated_at"), 400, "missing_field", "the payload has no usable updated_at"),
        (lambda o: o.update(created_at="yesterday"), 400, "invalid_field", "created_at is not an ISO 8601 time"),
    ],
)
def test_an_order_missing_what_attribution_needs_gets_400_and_nothing_is_stored(
    client, standin, services, shop, change, status, error, message
):
    order = order_payload()
    change(order)
    answer = deliver(client, standin, "orders/create", order)
    assert (answer.status_code, answer.get_json()) == (status, {"error": error, "message": message})
    assert events(services) == []


def test_malformed_json_gets_400_and_nothing_is_stored(client, standin, services, shop):
    answer = deliver(client, standin, "orders/create", None, raw=b'{"id": 1, "total_price": ')
    assert (answer.status_code, answer.get_json()["error"]) == (400, "malformed_json")
    answer = deliver(client, standin, "carts/update", {"token": "c1-x", "line_items": "many"})
    assert (answer.status_code, answer.get_json()) == (
        400,
        {"error": "missing_field", "message": "the payload has no usable line_items"},
    )
    assert events(services) == []


def test_a_topic_that_belongs_elsewhere_gets_400(client, standin, services, shop):
    answer = deliver(client, standin, "app/uninstalled", {"id": 1, "domain": SHOP})
    assert (answer.status_code, answer.get_json()["error"]) == (400, "unexpected_topic")
    assert events(services) == []


def test_an_order_for_a_shop_that_is_not_installed_is_acknowledged_and_changes_nothing(client, standin, services):
    answer = deliver(client, standin, "orders/create", order_payload(), shop="never-installed.myshopify.com")
    assert answer.status_code == 200
    assert process(services) == {"processed": 1}
    assert links(services) == []


def test_times_with_offsets_are_compared_as_instants(client, standin, services, shop):
    """Shopify writes times in the shop's zone; the same instant must not look newer."""
    conversation = chat(client, standin)
    created = utcnow().replace(microsecond=0)
    attrs = {"parley_conversation": conversation}
    deliver(client, standin, "orders/create", order_payload(order_id=9, note_attributes=attrs, created_at=created))
    process(services)
    same_instant = order_payload(order_id=9, note_attributes=attrs, created_at=created, cancelled_at=created)
    same_instant["updated_at"] = created.astimezone(timezone(timedelta(hours=9))).isoformat()
    deliver(client, standin, "orders/updated", same_instant)
    process(services)
    [link] = links(services)
    assert link.cancelled_at is None  # not newer, so ignored


def test_the_conversation_panel_shows_attributed_orders_with_amount_and_status(client, standin, services, shop):
    conversation = chat(client, standin)
    created = utcnow()
    attrs = {"parley_conversation": conversation}
    lines = [line_item("Fjord parka", "249.00"), line_item("Wool socks", "19.90", 2)]
    deliver(
        client,
        standin,
        "orders/create",
        order_payload(order_id=11, number=1011, lines=lines, note_attributes=attrs, created_at=created),
    )
    deliver(
        client,
        standin,
        "orders/updated",
        order_payload(
            order_id=11,
            number=1011,
            lines=lines,
            note_attributes=attrs,
            created_at=created,
            updated_at=created + timedelta(days=1),
            refunds=["39.80"],
            financial_status="partially_refunded",
        ),
    )
    deliver(
        client,
        standin,
        "orders/create",
        order_payload(
            order_id=12,
            number=1012,
            note_attributes=attrs,
            created_at=created,
            cancelled_at=created,
            financial_status="voided",
        ),
    )
    deliver(
        client,
        standin,
        "orders/create",
        order_payload(
            order_id=13, number=1013, note_attributes=attrs, currency="USD", total="10.05", created_at=created
        ),
    )
    process(services)

    panel = client.get(f"/admin/api/conversations/{conversation}", headers=bearer(standin)).get_json()

    shown = [
        (o["name"], o["net"], o["total"], o["currency"], o["status"], o["counted"], o["rule"]) for o in panel["orders"]
    ]
    assert shown == [
        ("#1011", "249.00", "288.80", "EUR", "partially refunded", True, "conversation"),
        ("#1012", "249.00", "249.00", "EUR", "cancelled", False, "conversation"),
        ("#1013", "10.05", "10.05", "USD", "paid", True, "conversation"),
    ]
    # Per currency, never added across currencies; the cancelled order is left out.
    assert panel["revenue"] == [{"currency": "EUR", "amount": "249.00"}, {"currency": "USD", "amount": "10.05"}]
