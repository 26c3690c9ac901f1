"""Selling from the thread on Shopify (issue 15): the agent's product search through the
Admin API (title, SKU, handle; variants with price and stock), product cards in the
shopper's language, a checkout link that is a real cart permalink, discount codes within
the merchant's limits, and the order that comes back credited agent_cart / agent_code.
Through the Shopify stand-in's Admin GraphQL and Online Store; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlmodel import select

from app.models import AgentOffer, Message, OrderLink
from standins.shopify.storefront import enable_storefront
from tests.support.shoppers import API
from tests.support.shops import OTHER, SHOP, app_home, bearer

BEANIE, JACKET = "4400001", "4400002"


@pytest.fixture
def store(standin):
    """The Online Store (its products are the Admin catalogue's); webhooks are delivered by the test."""
    storefront = enable_storefront(standin, "http://parley.test", deliver_webhooks=False)
    yield storefront
    storefront.close()


@pytest.fixture
def installed(client, standin, store):
    """Installed by token exchange, so Parley's Admin API calls reach the stand-in."""
    assert app_home(client, standin).status_code == 200
    return SHOP


def conversation(client, standin, locale: str = "et") -> tuple[str, dict]:
    """A shopper (in `locale`) asked something through the widget's session."""
    query = urlencode(standin.proxy_query(SHOP))
    session = client.post(f"/proxy/session?{query}", json={"locale": locale}).get_json()
    headers = {"Authorization": f"Bearer {session['visitor_token']}"}
    sent = client.post(f"{API}/messages", json={"client_id": str(uuid.uuid4()), "body": "A warm hat?"}, headers=headers)
    assert sent.status_code == 201, sent.data
    return sent.get_json()["conversation"]["id"], headers


def messages(services, conversation_id: str) -> list[Message]:
    with services.db.session() as session:
        return list(session.exec(select(Message).where(Message.conversation_id == conversation_id)).all())


def test_search_finds_by_title_sku_and_handle_with_price_and_stock(client, standin, installed):
    standin.set_stock(SHOP, int(BEANIE), 2)
    for query in ("beanie", "WOOL-BEANIE", "wool-bea"):
        answer = client.get("/admin/api/products", query_string={"q": query}, headers=bearer(standin))
        assert answer.status_code == 200, answer.data
        body = answer.get_json()
        assert [p["title"] for p in body["products"]] == ["Fjord Wool Beanie"], query
    variant = body["products"][0]["variants"][0]
    assert (variant["id"], variant["price"], variant["currency"], variant["available"], variant["stock"]) == (
        BEANIE,
        "29.00",
        "EUR",
        2,
        "low",
    )
    assert variant["image"].endswith("/cdn/products/wool-beanie.svg")
    # A second ask within the minute is the cache's, not another Admin API call.
    assert client.get("/admin/api/products?q=beanie", headers=bearer(standin)).get_json()["source"] == "cache"


def test_a_throttled_search_says_so_and_is_not_an_error(client, standin, installed):
    standin.throttle_next(SHOP)
    answer = client.get("/admin/api/products", query_string={"q": "mug"}, headers=bearer(standin))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["products"] == [] and "slow down" in body["notice"]


def test_a_card_carries_the_price_in_the_shoppers_language(client, standin, services, installed):
    conversation_id, _ = conversation(client, standin, locale="et")
    sent = client.post(
        f"/admin/api/conversations/{conversation_id}/cards",
        json={"variant_ids": [BEANIE], "client_id": "c1"},
        headers=bearer(standin),
    )
    assert sent.status_code == 201, sent.data
    card = sent.get_json()["message"]["meta"]["cards"][0]
    assert card["title"] == "Fjord Wool Beanie" and card["variant_id"] == BEANIE
    assert (card["price"], card["currency"]) == ("29.00", "EUR")
    assert card["price_text"] == "29,00\xa0€"  # Estonian: comma decimals, the sign after
    assert card["stock"] == "in_stock" and card["url"].endswith("/products/wool-beanie")
    with services.db.session() as session:
        offered = session.exec(select(AgentOffer.kind, AgentOffer.ref)).all()
    assert offered == [("item", BEANIE)]


@pytest.mark.parametrize("variant_id", ["999999", "gid://shopify/ProductVariant/999999", "not-an-id"])
def test_an_unknown_or_deleted_variant_is_a_404_and_nothing_is_sent(client, standin, services, installed, variant_id):
    conversation_id, _ = conversation(client, standin)
    before = len(messages(services, conversation_id))
    standin.remove_product(SHOP, 8002)  # the jacket is deleted from the shop
    for wanted in ([variant_id], [BEANIE, JACKET]):
        answer = client.post(
            f"/admin/api/conversations/{conversation_id}/cards",
            json={"variant_ids": wanted, "client_id": str(uuid.uuid4())},
            headers=bearer(standin),
        )
        assert answer.status_code == 404, answer.data
        assert answer.get_json()["error"] == "product_not_found"
    assert len(messages(services, conversation_id)) == before


def test_another_shops_variant_is_a_404(client, standin, services, installed):
    standin.add_shop(OTHER)
    standin.add_product(OTHER, 1, "secret", "Other shop's hat", [{"id": 777, "price": "5.00"}])
    conversation_id, _ = conversation(client, standin)
    answer = client.post(
        f"/admin/api/conversations/{conversation_id}/cards",
        json={"variant_ids": ["777"], "client_id": "x"},
        headers=bearer(standin),
    )
    assert answer.status_code == 404


def test_a_conversation_of_another_shop_is_a_404(client, standin, installed):
    answer = client.post(
        f"/admin/api/conversations/{uuid.uuid4()}/cards",
        json={"variant_ids": [BEANIE], "client_id": "x"},
        headers=bearer(standin),
    )
    assert answer.status_code == 404


def test_discounts_beyond_the_merchants_limits_are_refused_naming_the_limit(client, standin, services, installed):
    conversation_id, _ = conversation(client, standin)
    url = f"/admin/api/conversations/{conversation_id}/discounts"
    cases = [
        ({"kind": "percent", "value": 25}, "discount_max_percent: 10%"),
        ({"kind": "amount", "value": "15.00"}, "discount_max_amount: 10.00 EUR"),
        ({"kind": "percent", "value": 5, "days": 30}, "discount_max_days: 7"),
    ]
    for body, limit in cases:
        answer = client.post(url, json=body, headers=bearer(standin))
        assert answer.status_code == 400, answer.data
        assert answer.get_json()["error"] == "discount_over_limit"
        assert limit in answer.get_json()["message"]
    assert standin.catalogue(SHOP).codes == {}  # nothing was created
    for body, message in [
        ({"kind": "gift", "value": 5}, 'kind must be "percent" or "amount"'),
        ({"kind": "percent", "value": -5}, "value must be more than 0"),
        ({"kind": "percent", "value": 5.5}, "value must be a number written as text or a whole number"),
    ]:
        answer = client.post(url, json=body, headers=bearer(standin))
        assert (answer.status_code, answer.get_json()["message"]) == (400, message)


def test_a_code_created_in_limits_exists_in_shopify_single_use(client, standin, services, installed):
    conversation_id, _ = conversation(client, standin)
    answer = client.post(
        f"/admin/api/conversations/{conversation_id}/discounts",
        json={"kind": "percent", "value": 10, "code": "CHAT-TEN1"},
        headers=bearer(standin),
    )
    assert answer.status_code == 201, answer.data
    code = standin.catalogue(SHOP).codes["chat-ten1"]
    assert (code.percentage, code.usage_limit) == (Decimal("0.1"), 1)
    listed = client.get("/admin/api/discounts", headers=bearer(standin)).get_json()
    assert [c["code"] for c in listed["codes"]] == ["CHAT-TEN1"]
    assert listed["limits"] == {"discount_max_percent": 10, "discount_max_amount": "10.00", "discount_max_days": 7}


def checkout(standin, store, url: str) -> dict:
    """The shopper follows the link on the storefront and checks out; the orders/create body."""
    browser = standin.app.test_client()
    parts = urlsplit(url)
    followed = browser.get(parts.path + "?" + parts.query)
    assert followed.status_code == 303, followed.data
    placed = browser.post(f"/store/{SHOP}/checkout")
    assert placed.status_code == 303
    return store.orders[-1]["order"]


def deliver_order(client, standin, services, order: dict) -> None:
    body = json.dumps(order).encode()
    answer = client.post("/webhooks/commerce", data=body, headers=standin.webhook_headers("orders/create", SHOP, body))
    assert answer.status_code == 200, answer.data
    services.inbound.run_pending()


def test_a_checkout_link_with_a_code_leads_to_an_order_credited_agent_code(client, standin, services, store, installed):
    conversation_id, _ = conversation(client, standin, locale="en")
    made = client.post(
        f"/admin/api/conversations/{conversation_id}/discounts",
        json={"kind": "amount", "value": "5", "code": "CHAT-FIVE"},
        headers=bearer(standin),
    )
    assert made.status_code == 201, made.data
    sent = client.post(
        f"/admin/api/conversations/{conversation_id}/checkout-link",
        json={
            "lines": [{"variant_id": BEANIE, "quantity": 2}, {"variant_id": JACKET}],
            "code": "CHAT-FIVE",
            "client_id": "l1",
        },
        headers=bearer(standin),
    )
    assert sent.status_code == 201, sent.data
    link = sent.get_json()["message"]["meta"]["checkout"]
    parts = urlsplit(link["url"])
    assert parts.path == f"/store/{SHOP}/cart/{BEANIE}:2,{JACKET}:1"
    assert parse_qs(parts.query) == {"attributes[parley_conversation]": [conversation_id], "discount": ["CHAT-FIVE"]}
    assert (link["total"], link["total_text"]) == ("187.90", "€187.90")

    order = checkout(standin, store, link["url"])
    assert order["discount_codes"] == [{"code": "CHAT-FIVE", "amount": "5.00", "type": "fixed_amount"}]
    deliver_order(client, standin, services, order)
    with services.db.session() as session:
        link_row = session.exec(select(OrderLink)).one()
    assert (link_row.conversation_id, link_row.rule) == (conversation_id, "agent_code")
    assert (link_row.total, link_row.discount) == (Decimal("182.90"), Decimal("5.00"))
    # The code was single-use: a second checkout with it gets no discount.
    assert standin.catalogue(SHOP).codes["chat-five"].used == 1


def test_a_checkout_link_without_a_code_is_credited_agent_cart(client, standin, services, store, installed):
    conversation_id, _ = conversation(client, standin)
    sent = client.post(
        f"/admin/api/conversations/{conversation_id}/checkout-link",
        json={"lines": [{"variant_id": BEANIE, "quantity": 1}], "client_id": "l2"},
        headers=bearer(standin),
    )
    order = checkout(standin, store, sent.get_json()["message"]["meta"]["checkout"]["url"])
    deliver_order(client, standin, services, order)
    with services.db.session() as session:
        assert session.exec(select(OrderLink.rule)).one() == "agent_cart"


def test_an_order_with_a_carded_item_is_credited_agent_cart_and_others_keep_their_rule(
    client, standin, services, store, installed
):
    from standins.shopify.payloads import line_item, order_payload

    conversation_id, _ = conversation(client, standin)
    client.post(
        f"/admin/api/conversations/{conversation_id}/cards",
        json={"variant_ids": [BEANIE], "client_id": "c"},
        headers=bearer(standin),
    )
    stamped = {"parley_conversation": conversation_id}
    carded = order_payload(
        lines=[line_item("Fjord Wool Beanie", "29.00", variant_id=int(BEANIE))], note_attributes=stamped
    )
    other = order_payload(lines=[line_item("Enamel Trail Mug", "14.90", variant_id=4400003)], note_attributes=stamped)
    deliver_order(client, standin, services, carded)
    deliver_order(client, standin, services, other)
    with services.db.session() as session:
        rules = dict(session.exec(select(OrderLink.order_id, OrderLink.rule)).all())
    assert rules == {str(carded["id"]): "agent_cart", str(other["id"]): "conversation"}


def test_a_sold_out_item_cannot_go_into_a_checkout_link(client, standin, services, installed):
    conversation_id, _ = conversation(client, standin)
    standin.set_stock(SHOP, int(BEANIE), 0)
    answer = client.post(
        f"/admin/api/conversations/{conversation_id}/checkout-link",
        json={"lines": [{"variant_id": BEANIE}], "client_id": "l3"},
        headers=bearer(standin),
    )
    assert answer.status_code == 409 and "sold out" in answer.get_json()["message"]
    card = client.post(
        f"/admin/api/conversations/{conversation_id}/cards",
        json={"variant_ids": [BEANIE], "client_id": "c3"},
        headers=bearer(standin),
    )
    assert card.get_json()["message"]["meta"]["cards"][0]["stock"] == "sold_out"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"lines": []},
        {"lines": [{"variant_id": BEANIE, "quantity": 0}]},
        {"lines": "x"},
        {"lines": [{"quantity": 1}]},
    ],
)
def test_bad_checkout_lines_are_400(client, standin, installed, body):
    conversation_id, _ = conversation(client, standin)
    answer = client.post(
        f"/admin/api/conversations/{conversation_id}/checkout-link",
        json={**body, "client_id": "b"},
        headers=bearer(standin),
    )
    assert answer.status_code == 400 and answer.get_json()["error"]


def test_limits_are_the_merchants_to_change(client, standin, services, installed):
    answer = client.put("/admin/api/settings", json={"discount_max_percent": 30}, headers=bearer(standin))
    assert answer.status_code == 200
    conversation_id, _ = conversation(client, standin)
    made = client.post(
        f"/admin/api/conversations/{conversation_id}/discounts",
        json={"kind": "percent", "value": 25},
        headers=bearer(standin),
    )
    assert made.status_code == 201, made.data
    bad = client.put("/admin/api/settings", json={"discount_max_amount": "lots"}, headers=bearer(standin))
    assert bad.status_code == 400


def test_a_revoked_token_is_a_502_that_says_to_reinstall_and_sends_nothing(client, standin, services, installed):
    conversation_id, _ = conversation(client, standin)
    standin.revoke(SHOP)
    answer = client.post(
        f"/admin/api/conversations/{conversation_id}/cards",
        json={"variant_ids": [BEANIE], "client_id": "r"},
        headers=bearer(standin),
    )
    assert (answer.status_code, answer.get_json()["error"]) == (502, "platform_refused")
    listed = client.get("/admin/api/discounts", headers=bearer(standin))
    assert listed.status_code == 200 and "reinstalling" in listed.get_json()["notice"]
    search = client.get("/admin/api/products?q=mug", headers=bearer(standin)).get_json()
    assert search["products"] == [] and "reinstalling" in search["notice"]


def test_shopify_down_is_a_503_and_search_says_so(client, standin, installed):
    standin.set_outage(SHOP, True)
    answer = client.get("/admin/api/products?q=mug", headers=bearer(standin))
    assert answer.status_code == 200 and "could not be reached" in answer.get_json()["notice"]
    conversation_id = str(uuid.uuid4())
    assert (
        client.post(
            f"/admin/api/conversations/{conversation_id}/cards",
            json={"variant_ids": [BEANIE], "client_id": "d"},
            headers=bearer(standin),
        ).status_code
        == 404
    )  # the conversation is checked first: nothing is asked of Shopify


def test_search_words_become_prefix_queries_without_the_grammars_special_characters():
    from app.platforms.shopify.products import search_terms

    assert search_terms("wool-bea") == "(title:wool-bea* OR sku:wool-bea* OR handle:wool-bea*)"
    assert search_terms('rain "jacket" (x:y)*') == (
        "(title:rain* OR sku:rain* OR handle:rain*) (title:jacket* OR sku:jacket* OR handle:jacket*)"
        " (title:xy* OR sku:xy* OR handle:xy*)"
    )
    assert search_terms('"" :') == ""


def test_a_search_of_only_special_characters_finds_nothing_and_is_no_error(client, standin, installed):
    answer = client.get("/admin/api/products", query_string={"q": '"():*'}, headers=bearer(standin))
    assert (answer.status_code, answer.get_json()["products"]) == (200, [])


def test_erasing_the_customer_erases_what_the_agent_offered_them(client, standin, services, installed):
    from app.chat.privacy import erase_customer
    from app.models import Conversation, Visitor

    conversation_id, _ = conversation(client, standin)
    client.post(
        f"/admin/api/conversations/{conversation_id}/cards",
        json={"variant_ids": [BEANIE], "client_id": "e"},
        headers=bearer(standin),
    )
    with services.db.transaction() as session:
        visitor = session.get(Visitor, session.get(Conversation, conversation_id).visitor_id)
        visitor.customer_id = "9001"  # as if signed in through the app proxy
        session.add(visitor)
    with services.db.transaction() as session:
        shop_id = session.get(Conversation, conversation_id).shop_id
        assert erase_customer(session, shop_id, "9001", None) == 1
    with services.db.session() as session:
        assert session.exec(select(AgentOffer)).all() == []
