"""After "Place order" on Saleor (issue 11, point 18): the order reaches the open Support
page live (a `cart` event on the shop's stream, published only once the event worker's
transaction has committed), the checked-out cart no longer shows as the shopper's cart in
the panel or the inbox, the order's status reads in the merchant's words, and cart line
prices carry their currency's decimals like totals do. On SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import col, select

from app.chat import inbox
from app.chat.conversations import shop_channel
from app.commerce.orders import order_json, payment_words, status_words
from app.models import CartSnapshot, Conversation, OrderLink
from app.platforms.saleor.checkouts import SaleorCheckouts
from tests.support.saleor import conversation_with_checkout, deliver_and_process, install, shop_of, token_of
from tests.support.shoppers import shopper_writes
from tests.support.shops import SHOP, bearer
from tests.support.shops import install as install_shopify

SCARF = [{"name": "Scarf", "variant": "Wool", "quantity": 2, "price": "25"}]


def events_of(subscription) -> list:
    events = []
    while (event := subscription.get(timeout=0.2)) is not None:
        events.append(event)
    return events


@pytest.fixture
def placed(saleor, services):
    """A Saleor shop whose shopper chatted with a checkout that Parley followed and stamped."""
    install(saleor)
    shop = shop_of(services, saleor)
    checkout_id = saleor.add_checkout(SCARF, email="mari@example.com")
    conversation_id = conversation_with_checkout(services, shop.id, token_of(checkout_id))
    deliver_and_process(services, saleor)  # CHECKOUT_CREATED: snapshot and stamp
    deliver_and_process(services, saleor)  # the CHECKOUT_UPDATED the stamp fired
    return shop, checkout_id, conversation_id


def latest_cart(services, conversation_id: str) -> CartSnapshot:
    with services.db.session() as session:
        return session.exec(
            select(CartSnapshot)
            .where(CartSnapshot.conversation_id == conversation_id)
            .order_by(col(CartSnapshot.id).desc())
        ).first()


def test_the_cart_panel_shows_line_prices_with_the_currencys_decimals(services, placed):
    _, _, conversation_id = placed
    cart = latest_cart(services, conversation_id)
    # 2 × 25 EUR, as Saleor sends it (50.0): "25.00" and "50.00" like the total, never "25.0".
    assert [(line["price"], line["line_price"]) for line in cart.lines] == [("25.00", "50.00")]


def test_a_placed_order_is_announced_live_after_its_link_is_stored(saleor, services, placed):
    shop, checkout_id, conversation_id = placed
    subscription = services.broker.subscribe([shop_channel(shop.id)])
    try:
        order_id = saleor.complete_checkout(checkout_id)
        deliver_and_process(services, saleor)
        events = events_of(subscription)
    finally:
        subscription.close()
    assert [(e.kind, e.data) for e in events] == [("cart", {"conversation_id": conversation_id, "order": "#1"})]
    with services.db.session() as session:
        link = session.exec(select(OrderLink).where(OrderLink.order_id == order_id)).one()
    assert link.conversation_id == conversation_id

    # A later update of the same order (paid) is announced too, so the status changes live.
    subscription = services.broker.subscribe([shop_channel(shop.id)])
    try:
        saleor.mark_order_paid(order_id)
        deliver_and_process(services, saleor)
        events = events_of(subscription)
    finally:
        subscription.close()
    assert events and {(e.kind, e.data["conversation_id"]) for e in events} == {("cart", conversation_id)}


def test_nothing_is_announced_when_the_worker_does_not_commit(saleor, services, placed, monkeypatch):
    shop, checkout_id, _ = placed
    original = SaleorCheckouts.order_recorded

    def then_fail(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise RuntimeError("the worker died before its commit")

    monkeypatch.setattr(SaleorCheckouts, "order_recorded", then_fail)
    subscription = services.broker.subscribe([shop_channel(shop.id)])
    try:
        saleor.complete_checkout(checkout_id)
        deliver_and_process(services, saleor)
        assert events_of(subscription) == []
    finally:
        subscription.close()
    with services.db.session() as session:
        assert session.exec(select(OrderLink)).all() == []  # rolled back: nothing to announce


def test_the_checked_out_cart_leaves_the_panel_and_the_inbox_row(saleor, services, placed):
    _, checkout_id, conversation_id = placed
    with services.db.session() as session:
        conversation = session.get(Conversation, conversation_id)
    assert (conversation.cart_value, conversation.cart_currency) == (Decimal("50"), "EUR")

    saleor.complete_checkout(checkout_id)
    deliver_and_process(services, saleor)

    cart = latest_cart(services, conversation_id)
    assert (cart.item_count, cart.lines, cart.total, cart.cart_token) == (0, [], Decimal(0), token_of(checkout_id))
    with services.db.session() as session:
        conversation = session.get(Conversation, conversation_id)
        assert (conversation.cart_value, conversation.cart_currency) == (None, None)
        row = inbox.summaries(session, [conversation], services.now())[0]
        link = session.exec(select(OrderLink).where(OrderLink.conversation_id == conversation_id)).one()
    assert row["cart"] is None
    shown = order_json(link)
    # Not "NONE · via conversation".
    assert (shown["status"], shown["rule_label"]) == ("not paid yet", "ordered from this chat")


def test_an_order_that_links_by_another_route_leaves_an_unrelated_cart_alone(saleor, services):
    install(saleor)
    shop = shop_of(services, saleor)
    conversation_id = conversation_with_checkout(services, shop.id, "another-checkout-token", email="mari@example.com")
    with services.db.transaction() as session:
        conversation = session.get(Conversation, conversation_id)
        conversation.cart_value, conversation.cart_currency = Decimal("10"), "EUR"
        session.add(conversation)
    from app.platforms.saleor.metadata import CONVERSATION_KEY

    saleor.add_order(SCARF, email="mari@example.com", metadata={CONVERSATION_KEY: conversation_id})
    deliver_and_process(services, saleor)
    with services.db.session() as session:
        conversation = session.get(Conversation, conversation_id)
        assert session.exec(select(OrderLink)).one().conversation_id == conversation_id
    assert conversation.cart_value == Decimal("10")  # that cart was not the one ordered


def test_payment_statuses_read_in_the_merchants_words():
    assert [payment_words(s) for s in ("NONE", "PARTIAL", "FULL", "OVERCHARGED")] == [
        "not paid yet",
        "partly paid",
        "paid",
        "paid more than the total",
    ]
    assert [payment_words(s) for s in ("pending", "PAID", "partially_paid", None)] == [
        "payment pending",
        "paid",
        "partly paid",
        "payment pending",
    ]
    assert status_words("PAID", "FULFILLED") == "paid · sent"
    assert status_words("NONE", "UNFULFILLED") == "not paid yet · not sent yet"


def test_stored_cart_lines_are_shown_with_the_currencys_decimals(client, standin, services):
    shop_id = install_shopify(services, SHOP)
    sent = shopper_writes(client, standin, SHOP, "hello")
    conversation_id = sent["conversation"]["id"]
    with services.db.transaction() as session:
        session.add(
            CartSnapshot(
                shop_id=shop_id,
                conversation_id=conversation_id,
                currency="EUR",
                total=Decimal("25"),
                item_count=1,
                # As an older Saleor snapshot was stored.
                lines=[{"title": "Scarf", "quantity": 1, "price": "25.0", "line_price": "25"}],
            )
        )
    cart = client.get(f"/admin/api/conversations/{conversation_id}", headers=bearer(standin)).get_json()["cart"]
    assert (cart["total"], cart["lines"][0]["price"], cart["lines"][0]["line_price"]) == ("25.00", "25.00", "25.00")
