"""Selling from the thread on Saleor (issue 15): search in the shop's channel, cards, a
checkout created with the conversation in its metadata and the agent's voucher, the order
from it credited agent_code / agent_cart, a card's add-to-cart into the shopper's checkout
through Parley, and the 404s for what the shop does not have. Through the Saleor stand-in."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlmodel import select

from app.chat.shop_settings import put_setting
from app.models import OrderLink
from standins.saleor import catalogue
from tests.support.saleor import conversation_with_checkout, deliver_and_process, install, shop_of

SCARF = catalogue.gid("ProductVariant", 501)
MITTENS = catalogue.gid("ProductVariant", 502)


@pytest.fixture
def shop(saleor, services):
    install(saleor)
    saleor.add_product(
        50, "Wool Scarf", "wool-scarf", [{"pk": 501, "name": "Grey", "sku": "SCARF-GREY", "price": "25.00", "stock": 4}]
    )
    saleor.add_product(
        51, "Felt Mittens", "felt-mittens", [{"pk": 502, "name": "", "sku": "MIT-1", "price": "19.50", "stock": None}]
    )
    found = shop_of(services, saleor)
    with services.db.transaction() as session:
        put_setting(session, found.id, "storefront_origins", ["https://shop.example"], services.now())
    return found


def staff(saleor) -> dict[str, str]:
    return {"Saleor-Api-Url": saleor.api_url, "Authorization": f"Bearer {saleor.mint_dashboard_token()}"}


def test_search_is_saleors_filter_search_in_the_channel(client, saleor, shop):
    answer = client.get("/admin/api/products", query_string={"q": "scarf"}, headers=staff(saleor))
    assert answer.status_code == 200, answer.data
    [product] = answer.get_json()["products"]
    variant = product["variants"][0]
    assert (product["title"], variant["id"], variant["price"], variant["currency"], variant["stock"]) == (
        "Wool Scarf",
        SCARF,
        "25.00",
        "EUR",
        "in_stock",
    )
    call = saleor.calls("ParleyProductSearch")[-1]
    assert call["json"]["variables"] == {"search": "scarf", "channel": "default-channel"}
    sku = client.get("/admin/api/products", query_string={"q": "MIT-1"}, headers=staff(saleor)).get_json()
    assert [p["title"] for p in sku["products"]] == ["Felt Mittens"]
    again = client.get("/admin/api/products", query_string={"q": "scarf"}, headers=staff(saleor)).get_json()
    assert again["source"] == "cache" and len(saleor.calls("ParleyProductSearch")) == 2


def test_with_the_app_token_revoked_products_still_show_and_codes_say_why_not(client, saleor, shop, services):
    # Uninstalled in the Dashboard: Saleor answers the token anonymously. Products in a
    # channel are public; vouchers need MANAGE_DISCOUNTS, so the list says so instead.
    saleor.delete_app(notify_app=False)
    found = client.get("/admin/api/products", query_string={"q": "mittens"}, headers=staff(saleor)).get_json()
    assert [p["title"] for p in found["products"]] == ["Felt Mittens"]
    codes = client.get("/admin/api/discounts", headers=staff(saleor))
    assert codes.status_code == 200, codes.data
    assert codes.get_json()["codes"] == [] and "refused" in codes.get_json()["notice"]


def test_a_deleted_variant_is_a_404_and_nothing_is_sent(client, saleor, services, shop):
    conversation_id = conversation_with_checkout(services, shop.id, None)
    saleor.remove_product(51)
    answer = client.post(
        f"/admin/api/conversations/{conversation_id}/cards",
        json={"variant_ids": [SCARF, MITTENS], "client_id": "x"},
        headers=staff(saleor),
    )
    assert answer.status_code == 404
    assert services.chat.thread(shop.id, conversation_id, None, 50)[0] == []


def test_a_checkout_link_is_a_checkout_with_the_conversation_and_the_voucher(client, saleor, services, shop):
    conversation_id = conversation_with_checkout(services, shop.id, None)
    made = client.post(
        f"/admin/api/conversations/{conversation_id}/discounts",
        json={"kind": "percent", "value": 10, "code": "CHAT-SALE10"},
        headers=staff(saleor),
    )
    assert made.status_code == 201, made.data
    voucher = saleor.books.voucher("CHAT-SALE10")
    assert (voucher.kind, voucher.value, voucher.single_use, voucher.usage_limit) == (
        "PERCENTAGE",
        Decimal("10"),
        True,
        1,
    )
    sent = client.post(
        f"/admin/api/conversations/{conversation_id}/checkout-link",
        json={"lines": [{"variant_id": SCARF, "quantity": 2}], "code": "CHAT-SALE10", "client_id": "l"},
        headers=staff(saleor),
    )
    assert sent.status_code == 201, sent.data
    url = sent.get_json()["message"]["meta"]["checkout"]["url"]
    assert url.startswith("https://shop.example/checkout?checkout=")
    [checkout] = list(saleor._checkouts.values())
    assert checkout["metadata"] == {"parley.conversation_id": conversation_id}
    assert [(ln["sku"], ln["quantity"]) for ln in checkout["lines"]] == [("SCARF-GREY", 2)]

    saleor.complete_checkout(catalogue.gid("Checkout", checkout["token"]))
    deliver_and_process(services, saleor)
    with services.db.session() as session:
        link = session.exec(select(OrderLink)).one()
    assert (link.conversation_id, link.rule, link.total, link.discount) == (
        conversation_id,
        "agent_code",
        Decimal("45.00"),
        Decimal("5.00"),
    )


def test_a_checkout_link_without_a_code_is_credited_agent_cart(client, saleor, services, shop):
    conversation_id = conversation_with_checkout(services, shop.id, None)
    client.post(
        f"/admin/api/conversations/{conversation_id}/checkout-link",
        json={"lines": [{"variant_id": MITTENS}], "client_id": "l"},
        headers=staff(saleor),
    )
    [checkout] = list(saleor._checkouts.values())
    saleor.complete_checkout(catalogue.gid("Checkout", checkout["token"]))
    deliver_and_process(services, saleor)
    with services.db.session() as session:
        assert session.exec(select(OrderLink.rule)).one() == "agent_cart"


def test_a_voucher_beyond_the_limits_is_refused_and_not_created(client, saleor, services, shop):
    conversation_id = conversation_with_checkout(services, shop.id, None)
    answer = client.post(
        f"/admin/api/conversations/{conversation_id}/discounts",
        json={"kind": "amount", "value": "50"},
        headers=staff(saleor),
    )
    assert answer.status_code == 400 and "discount_max_amount: 10.00 EUR" in answer.get_json()["message"]
    assert saleor.books.vouchers == {}


def shopper(client, saleor, shop) -> dict[str, str]:
    session = client.post("/api/storefront/v1/session", json={"shop": saleor.api_url, "locale": "he"})
    assert session.status_code == 200, session.data
    headers = {"Authorization": f"Bearer {session.get_json()['visitor_token']}", "Origin": "https://shop.example"}
    sent = client.post(
        "/api/storefront/v1/messages", json={"client_id": str(uuid.uuid4()), "body": "?"}, headers=headers
    )
    assert sent.status_code == 201, sent.data
    return headers


def test_a_cards_add_to_cart_puts_the_item_into_the_shoppers_checkout(client, saleor, services, shop):
    headers = shopper(client, saleor, shop)
    added = client.post("/api/storefront/v1/cart/lines", json={"variant_id": SCARF, "quantity": 1}, headers=headers)
    assert added.status_code == 200, added.data
    checkout_id = added.get_json()["checkout_id"]
    again = client.post(
        "/api/storefront/v1/cart/lines", json={"variant_id": SCARF, "checkout_id": checkout_id}, headers=headers
    )
    assert again.status_code == 200, again.data
    assert added.get_json()["cart"]["lines"][0]["title"] == "Wool Scarf – Grey"
    [checkout] = list(saleor._checkouts.values())
    assert [ln["quantity"] for ln in checkout["lines"]] == [2]
    assert checkout["metadata"]["parley.conversation_id"]
    saleor.set_stock(501, 0)
    sold_out = client.post(
        "/api/storefront/v1/cart/lines", json={"variant_id": SCARF, "checkout_id": checkout_id}, headers=headers
    )
    assert (sold_out.status_code, sold_out.get_json()["error"]) == (409, "sold_out")
    gone = client.post("/api/storefront/v1/cart/lines", json={"variant_id": "bogus"}, headers=headers)
    assert gone.status_code in (400, 404)
