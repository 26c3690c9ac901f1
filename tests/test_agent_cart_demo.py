"""`make demo`, selling from the thread (issue 15, point 8), in Debian's Chromium against
the whole demo (Parley, the Shopify stand-in's storefront, the Saleor stand-in's Dashboard
and storefront): on Saleor the agent finds a product and sends it, the shopper adds it to
their checkout from the chat, gets a checkout link with a code, places the order, and
Insights show it as agent-built with its discount; on Shopify the same through a cart
permalink. Screenshots (prefix sell_) go to $PARLEY_ARTIFACTS/screenshots/."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from app.models import OrderLink
from tests.support.browser import DEMO_SHOP, artifacts_dir, launch_chromium, start_demo
from tests.support.shops import bearer

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    stack, stop = start_demo(tmp_path_factory.mktemp("selling-demo"))
    stack.admin = stack.app.test_client()
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / name), animations="disabled")


def saleor_staff(demo) -> dict[str, str]:
    return {"Saleor-Api-Url": demo.saleor.api_url, "Authorization": f"Bearer {demo.saleor.mint_dashboard_token()}"}


def wait_for(check, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def latest_conversation(demo, headers) -> str:
    rows = demo.admin.get("/admin/api/inbox", headers=headers).get_json()["conversations"]
    return rows[0]["id"]


def link_of(demo, conversation_id: str) -> OrderLink | None:
    demo.services.inbound.run_pending()
    with demo.services.db.session() as session:
        return session.exec(select(OrderLink).where(OrderLink.conversation_id == conversation_id)).first()


def test_on_saleor_the_agent_sells_and_insights_show_it_agent_built(demo, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, reduced_motion="reduce")
    context.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{demo.saleor_url}/storefront/")
    page.click(".parley-launcher")
    page.fill("#parley-input", "Something warm for my hands?")
    page.press("#parley-input", "Enter")
    expect(page.locator(".parley-log .parley-from-shopper .parley-tick")).to_have_count(1)
    staff = saleor_staff(demo)
    conversation_id = latest_conversation(demo, staff)

    # The agent finds the mittens and sends them as a card.
    found = demo.admin.get("/admin/api/products?q=mittens", headers=staff).get_json()["products"]
    assert [p["title"] for p in found] == ["Birch Wool Mittens"]
    variant = found[0]["variants"][0]
    sent = demo.admin.post(
        f"/admin/api/conversations/{conversation_id}/cards",
        json={"variant_ids": [variant["id"]], "client_id": "demo-card"},
        headers=staff,
    )
    assert sent.status_code == 201, sent.data
    card = page.locator(".parley-log .parley-card")
    expect(card).to_contain_text("Birch Wool Mittens")
    expect(card).to_contain_text("€34.00")
    card.get_by_role("button", name="Add to cart").click()
    expect(card.locator(".parley-card-status")).to_have_text("Added to your cart.")
    # The storefront adopted the checkout Parley filled: its cart shows the mittens.
    expect(page.locator("#lines")).to_contain_text("1 × Birch Wool Mittens")
    cart = wait_for(
        lambda: demo.admin.get(f"/admin/api/conversations/{conversation_id}", headers=staff).get_json()["cart"]
    )
    assert cart["lines"][0]["title"].startswith("Birch Wool Mittens")
    shot(page, "sell_saleor_card_added.png")

    # A code within the limits, and a checkout link with two pairs and the code.
    made = demo.admin.post(
        f"/admin/api/conversations/{conversation_id}/discounts",
        json={"kind": "percent", "value": 10, "code": "CHAT-MITTENS"},
        headers=staff,
    )
    assert made.status_code == 201, made.data
    linked = demo.admin.post(
        f"/admin/api/conversations/{conversation_id}/checkout-link",
        json={
            "lines": [{"variant_id": variant["id"], "quantity": 2}],
            "code": "CHAT-MITTENS",
            "client_id": "demo-link",
        },
        headers=staff,
    )
    assert linked.status_code == 201, linked.data
    go = page.locator(".parley-card-checkout").get_by_role("link", name="Go to checkout")
    expect(go).to_have_attribute("href", re.compile(re.escape(f"{demo.saleor_url}/storefront/?checkout=")))
    shot(page, "sell_saleor_checkout_link.png")
    go.click()
    expect(page.locator("#lines")).to_contain_text("2 × Birch Wool Mittens")
    page.click("#place-order")
    expect(page.locator("#placed")).to_contain_text("placed")
    link = wait_for(lambda: link_of(demo, conversation_id))
    assert (link.rule, link.total, link.discount) == ("agent_code", Decimal("61.20"), Decimal("6.80"))

    # Insights: the order under "Used the agent's discount code", with the discount given.
    now = demo.services.now()
    report = demo.admin.get(
        "/admin/api/insights",
        query_string={
            "from": (now - timedelta(days=1)).date().isoformat(),
            "to": (now + timedelta(days=1)).date().isoformat(),
        },
        headers=staff,
    )
    assert report.status_code == 200, report.data
    rule = next(r for r in report.get_json()["by_rule"] if r["rule"] == "agent_code")
    assert rule["orders"] == 1
    assert rule["discount"] == [{"currency": "EUR", "amount": "6.80"}]
    assert not errors, errors
    context.close()


def test_on_shopify_a_checkout_link_with_a_code_ends_as_an_agent_code_order(demo, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, reduced_motion="reduce")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(demo.storefront_url)
    page.click(".parley-launcher")
    page.fill("#parley-input", "A mug and a beanie, please")
    page.press("#parley-input", "Enter")
    expect(page.locator(".parley-log .parley-from-shopper .parley-tick")).to_have_count(1)
    staff = bearer(demo.shopify, DEMO_SHOP)
    conversation_id = latest_conversation(demo, staff)
    made = demo.admin.post(
        f"/admin/api/conversations/{conversation_id}/discounts", json={"kind": "amount", "value": "5"}, headers=staff
    )
    assert made.status_code == 201, made.data
    code = made.get_json()["code"]
    sent = demo.admin.post(
        f"/admin/api/conversations/{conversation_id}/checkout-link",
        json={"lines": [{"variant_id": "4400001"}, {"variant_id": "4400003"}], "code": code, "client_id": "s-link"},
        headers=staff,
    )
    assert sent.status_code == 201, sent.data
    page.locator(".parley-card-checkout").get_by_role("link", name="Go to checkout").click()
    expect(page).to_have_url(re.compile(r"/cart$"))
    page.locator("form[action$='/checkout'] button").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    link = wait_for(lambda: link_of(demo, conversation_id))
    assert (link.rule, link.total, link.discount) == ("agent_code", Decimal("38.90"), Decimal("5.00"))
    context.close()
