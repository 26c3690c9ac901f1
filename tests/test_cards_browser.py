"""Cards from the agent in Debian's Chromium against the real stack (issue 15): Parley
behind the stand-in's signed app proxy, the real app embed on the demo storefront, the
Support page signed in through the demo.

- A card shows the product's picture, title and price in the shopper's language; its
  button puts the item into the storefront's real cart (the Ajax Cart API), says so in
  the thread, and the cart beside the conversation follows.
- Sold out when sent, or sold out since: the card says so. The cart API failing: the
  card says so and offers the product page.
- On a 390x844 phone in Hebrew the card sits inside the panel, mirrored, nothing on
  anything else.
- The Support page: search, send a card, build a cart, send the checkout link; the
  shopper follows it, checks out, and the order is credited agent_cart.

Screenshots (prefix sell_) go to $PARLEY_ARTIFACTS/screenshots/.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from sqlmodel import col, select

from app.models import CartSnapshot, Conversation, OrderLink
from standins.demo import DEMO_SHOP
from tests.support.browser import (
    artifacts_dir,
    browser_contexts,
    element_boxes,
    launch_chromium,
    overlapping,
    start_stack,
)
from tests.support.shops import bearer

TIMEOUT_MS = 15_000
BEANIE, JACKET = "4400001", "4400002"
CARD = ".parley-log .parley-card"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("cards"))
    stack.admin = stack.app.test_client()
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


@pytest.fixture
def new_context(browser):
    with browser_contexts(browser, TIMEOUT_MS) as make:
        yield make


@pytest.fixture(autouse=True)
def restock(stack):
    yield
    stack.storefront.stock(DEMO_SHOP)


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / name), animations="disabled")


def shopper_asks(page, stack, url: str, text: str) -> str:
    """The shopper opens the chat on the storefront and asks; their conversation's id."""
    page.goto(url)
    page.click(".parley-launcher")
    page.fill("#parley-input", text)
    page.press("#parley-input", "Enter")
    expect(page.locator(".parley-log .parley-from-shopper .parley-tick")).to_have_count(1)
    with stack.services.db.session() as session:
        return session.exec(
            select(Conversation.id)
            .where(Conversation.shop_id == stack.shop_id)
            .order_by(col(Conversation.created_at).desc())
        ).first()


def send_cards(stack, conversation_id: str, *variant_ids: str, body: str | None = None) -> dict:
    answer = stack.admin.post(
        f"/admin/api/conversations/{conversation_id}/cards",
        json={"variant_ids": list(variant_ids), "client_id": f"c-{time.monotonic_ns()}", "body": body},
        headers=bearer(stack.standin, DEMO_SHOP),
    )
    assert answer.status_code == 201, answer.data
    return answer.get_json()["message"]


def latest_cart(stack, conversation_id: str) -> CartSnapshot | None:
    with stack.services.db.session() as session:
        return session.exec(
            select(CartSnapshot)
            .where(CartSnapshot.conversation_id == conversation_id)
            .order_by(col(CartSnapshot.id).desc())
        ).first()


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_card_puts_the_item_into_the_real_cart_and_the_cart_beside_the_thread_follows(stack, new_context):
    page = new_context().new_page()
    conversation_id = shopper_asks(page, stack, stack.storefront_url, "Do you have a warm hat?")
    send_cards(stack, conversation_id, BEANIE, JACKET, body="These two keep you warm:")
    cards = page.locator(CARD)
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Fjord Wool Beanie")
    expect(cards.first).to_contain_text("€29.00")
    expect(page.locator(".parley-log .parley-sale .parley-bubble")).to_have_text("These two keep you warm:")
    expect(cards.first.locator("img")).to_have_attribute("src", re.compile(r"/cdn/products/wool-beanie\.svg$"))
    cards.first.get_by_role("button", name="Add to cart").click()
    expect(cards.first.locator(".parley-card-status")).to_have_text("Added to your cart.")
    cart = page.evaluate("fetch(Shopify.routes.root + 'cart.js').then(r => r.json())")
    assert [(item["variant_id"], item["quantity"]) for item in cart["items"]] == [(int(BEANIE), 1)]
    assert cart["attributes"]["parley_conversation"] == conversation_id
    snapshot = wait_for(lambda: (s := latest_cart(stack, conversation_id)) and s.item_count == 1 and s)
    assert snapshot.lines[0]["title"] == "Fjord Wool Beanie"
    shot(page, "sell_card_added.png")
    # Nothing overlaps inside a card, and the card stays inside the panel.
    panel = element_boxes(page, "#parley-panel")[0]
    for box in element_boxes(page, CARD):
        assert panel["left"] - 0.5 <= box["left"] and box["right"] <= panel["right"] + 0.5
    assert not overlapping(element_boxes(page, f"{CARD}:first-child > *"))


def test_on_a_phone_in_hebrew_the_card_is_mirrored_inside_the_panel(stack, new_context):
    page = new_context(390, 844, "he-IL").new_page()
    conversation_id = shopper_asks(page, stack, stack.storefront_url + "?locale=he", "יש לכם כובע?")
    message = send_cards(stack, conversation_id, BEANIE)
    # CLDR's Hebrew: the amount, then the sign, each after a right-to-left mark.
    assert message["meta"]["cards"][0]["price_text"] == "\u200f29.00\xa0\u200f€"
    card = page.locator(CARD)
    expect(card).to_contain_text("29.00")
    button = card.get_by_role("button", name="הוספה לעגלה")
    expect(button).to_be_visible()
    image, body = element_boxes(page, f"{CARD} > *")[:2]
    assert image["left"] > body["left"], "right to left: the picture is on the right"
    panel = element_boxes(page, "#parley-panel")[0]
    box = element_boxes(page, CARD)[0]
    assert box["left"] >= 0 and box["right"] <= panel["right"] + 0.5 and panel["width"] <= 390
    tap = element_boxes(page, f"{CARD} .parley-card-add")[0]
    assert tap["height"] >= 30
    button.click()
    expect(card.locator(".parley-card-status")).to_have_text("נוסף לעגלה שלכם.")
    shot(page, "sell_card_phone_he.png")


def test_sold_out_gone_and_a_failing_cart_each_say_so(stack, new_context):
    page = new_context().new_page()
    conversation_id = shopper_asks(page, stack, stack.storefront_url, "Mugs and totes?")
    stack.standin.set_stock(DEMO_SHOP, int(JACKET), 0)
    send_cards(stack, conversation_id, "4400003", "4400004", JACKET)
    cards = page.locator(CARD)
    expect(cards).to_have_count(3)
    # Sold out when sent: the button says it and cannot be pressed.
    expect(cards.nth(2).get_by_role("button", name="Sold out")).to_be_disabled()
    # Sold out since: the storefront refuses, the card says so.
    stack.standin.set_stock(DEMO_SHOP, 4400003, 0)
    cards.nth(0).get_by_role("button", name="Add to cart").click()
    expect(cards.nth(0).locator(".parley-card-status")).to_have_text("Sorry, this has sold out.")
    # The cart API failing: the card says so and offers the product page.
    page.route("**/cart/add.js", lambda route: route.fulfill(status=500, body="{}"))
    cards.nth(1).get_by_role("button", name="Add to cart").click()
    status = cards.nth(1).locator(".parley-card-status")
    expect(status).to_contain_text("Couldn't add it to your cart.")
    expect(status.get_by_role("link", name="View the product")).to_have_attribute(
        "href", re.compile(r"/products/canvas-tote$")
    )
    shot(page, "sell_card_sold_out_and_failed.png")


def sign_in(page, stack, next_page: str) -> None:
    page.goto(f"{stack.parley_url}/demo/support?next={next_page}")
    expect(page).to_have_url(re.compile(r"/app"))


def test_the_support_page_finds_sends_and_builds_a_cart_that_checks_out_as_agent_cart(stack, new_context):
    shopper = new_context().new_page()
    conversation_id = shopper_asks(shopper, stack, stack.storefront_url, "What do you have for rain?")
    admin = new_context(1280, 900).new_page()
    sign_in(admin, stack, f"/app/conversations/{conversation_id}")
    admin.fill("#product-query", "jacket")
    admin.click("#product-search button")
    result = admin.locator("#product-results .sell-result")
    expect(result).to_have_count(1)
    expect(result).to_contain_text("Harbour Rain Jacket")
    expect(result).to_contain_text("€129.90")
    expect(result).to_contain_text("In stock")
    result.get_by_role("button", name="Send card").click()
    expect(admin.locator("#thread .bubble.sale")).to_contain_text("Harbour Rain Jacket")
    expect(shopper.locator(CARD)).to_contain_text("Harbour Rain Jacket")
    result.get_by_role("button", name="Add to cart").click()
    result.get_by_role("button", name="Add to cart").click()
    expect(admin.locator("#sell-lines li")).to_have_count(1)
    expect(admin.locator("#sell-lines input")).to_have_value("2")
    admin.locator("#send-checkout").scroll_into_view_if_needed()
    shot(admin, "sell_support_search.png")
    # The card in the thread is a bubble like the others: the thread keeps its width.
    thread = element_boxes(admin, "#thread")[0]
    assert thread["width"] > 500, thread
    admin.click("#send-checkout")
    expect(admin.locator("#thread .sale-card.checkout")).to_contain_text("2 × Harbour Rain Jacket")
    checkout = shopper.locator(".parley-card-checkout")
    expect(checkout).to_contain_text("Your cart is ready")
    expect(checkout).to_contain_text("€259.80")
    shot(shopper, "sell_checkout_link.png")
    checkout.get_by_role("link", name="Go to checkout").click()
    expect(shopper).to_have_url(re.compile(r"/cart$"))
    shopper.locator("form[action$='/checkout'] button").click()
    expect(shopper).to_have_url(re.compile(r"/orders/\d+$"))
    link = wait_for(lambda: _link(stack, conversation_id), timeout=15)
    assert (link.rule, link.total) == ("agent_cart", Decimal("259.80"))
    # Insights: the rule breakdown names the agent's rules, this order under its own.
    sign_in(admin, stack, "/app/insights")
    row = admin.locator("#rules tr", has_text="Bought what the agent sent")
    expect(row).to_contain_text("€259.80")
    row.scroll_into_view_if_needed()
    shot(admin, "sell_insights_rules.png")


def _link(stack, conversation_id: str) -> OrderLink | None:
    stack.services.inbound.run_pending()
    with stack.services.db.session() as session:
        return session.exec(select(OrderLink).where(OrderLink.conversation_id == conversation_id)).first()


def test_the_merchant_sets_the_discount_limits_in_settings(stack, new_context):
    page = new_context().new_page()
    sign_in(page, stack, "/app/settings")
    limit = page.locator("#discount_max_percent")
    expect(limit).to_have_value("10")
    expect(page.locator("#discount_max_amount")).to_have_value("10.00")
    limit.fill("150")
    page.click("#save")
    error = page.locator('[data-error-for="discount_max_percent"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("whole percentage from 0 to 100")
    page.locator("#discount_max_percent").scroll_into_view_if_needed()
    shot(page, "sell_settings_limit_refused.png")
    limit.fill("20")
    page.fill("#discount_max_amount", "12.5")
    page.click("#save")
    expect(error).to_be_hidden()
    wait_for(
        lambda: (
            stack.admin.get("/admin/api/settings", headers=bearer(stack.standin, DEMO_SHOP)).get_json()["settings"][
                "discount_max_percent"
            ]
            == 20
        )
    )
    answer = stack.admin.get("/admin/api/settings", headers=bearer(stack.standin, DEMO_SHOP)).get_json()
    assert (answer["settings"]["discount_max_percent"], answer["settings"]["discount_max_amount"]) == (20, "12.50")
    # Back as shipped, for the other tests of this module.
    stack.admin.put(
        "/admin/api/settings",
        json={"discount_max_percent": 10, "discount_max_amount": "10.00"},
        headers=bearer(stack.standin, DEMO_SHOP),
    )
