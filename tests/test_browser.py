"""The chat widget end to end in a real browser (Debian's chromium, driven by Playwright).

The shopper's page is the stand-in's demo storefront: the real app embed block, the
real widget assets, a real cross-origin Parley behind Shopify's signed app proxy.
Parley and the stand-in serve on loopback sockets; the database is a migrated SQLite
file. Every test leaves a screenshot under $PARLEY_ARTIFACTS/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from decimal import Decimal

import httpx
import pytest
from sqlmodel import select

from app.models import AuthorKind, CartSnapshot, Conversation, Message, Visitor
from standins.demo import DEMO_SHOP
from tests.support.browser import CUSTOMER_ID, artifacts_dir, launch_chromium, start_stack, watch

TIMEOUT_MS = 15_000
SHOPPER_BUBBLES = ".parley-log .parley-from-shopper .parley-bubble"
AGENT_BUBBLES = ".parley-log .parley-from-agent .parley-bubble"
TICKS = ".parley-log .parley-from-shopper .parley-tick"


# ---- fixtures: one stack and one browser per module, a fresh browser context per test ----


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("browser"))
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def page(context, page_errors, request):
    page = context.new_page()
    watch(page, page_errors)
    yield page
    try:
        page.screenshot(path=str(artifacts_dir() / f"{request.node.name}.png"), animations="disabled")
    finally:
        assert not page_errors, f"the page raised: {page_errors}"


# ---- helpers ------------------------------------------------------------------------------


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def open_chat(page, stack, query: str = "") -> None:
    page.goto(stack.storefront_url + query)
    page.click(".parley-launcher")
    expect(page.locator("#parley-panel")).to_be_visible()


def send(page, text: str) -> None:
    page.fill("#parley-input", text)
    page.press("#parley-input", "Enter")


def tagged(text: str) -> str:
    """Each test writes text no other test writes, to find its own rows in the shared database."""
    return f"{text} [{uuid.uuid4().hex[:6]}]"


def conversation_of(stack, body: str) -> str:
    with stack.services.db.session() as session:
        messages = session.exec(select(Message).where(Message.body == body)).all()
    assert len(messages) == 1, f"expected one stored message {body!r}, found {len(messages)}"
    return messages[0].conversation_id


def thread(stack, conversation_id: str) -> list[Message]:
    with stack.services.db.session() as session:
        return list(
            session.exec(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
        )


def reply(stack, conversation_id: str, body: str) -> None:
    stack.services.chat.send_agent_message(stack.shop_id, conversation_id, "agent-1", body, str(uuid.uuid4()))


# ---- the app proxy, without a browser -------------------------------------------------------


def test_app_proxy_forwards_a_signed_request_and_passes_parleys_answer_back(stack):
    with httpx.Client(base_url=stack.standin_url, timeout=10) as client:
        # A shopper cannot smuggle Shopify's own parameters in: the stand-in drops them and
        # signs its own, so Parley's verification passes (a duplicate `shop` would be refused).
        answer = client.post(
            f"/store/{DEMO_SHOP}/apps/parley/session",
            params={"shop": "other.myshopify.com", "signature": "forged", "utm_source": "mail"},
            json={"locale": "et"},
            headers={"Cookie": "theme_session=1"},
        )
        missing = client.get(f"/store/{DEMO_SHOP}/apps/parley/no-such-path")

    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert session["api_base"] == f"{stack.parley_url}/api/storefront/v1"
    assert session["identified"] is False
    assert "set-cookie" not in answer.headers
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/json")
    assert missing.json()["error"]
    assert {"method": "POST", "path": "session", "status": 200} in stack.storefront.proxied


# ---- the widget in a browser ----------------------------------------------------------------


def test_shopper_message_is_stored_and_the_reply_arrives_live_and_survives_reload(stack, page):
    question = tagged("Is the rain jacket waterproof?")
    open_chat(page, stack)
    send(page, question)

    expect(page.locator(SHOPPER_BUBBLES)).to_have_text([question])
    expect(page.locator(TICKS)).to_have_count(1)  # delivered: the server answered with its id
    conversation_id = conversation_of(stack, question)
    [stored] = thread(stack, conversation_id)
    assert (stored.author_kind, stored.body) == (AuthorKind.shopper, question)

    page.evaluate("window.__sameDocument = true")
    answer = "Yes: taped seams and 10,000 mm."
    reply(stack, conversation_id, answer)
    expect(page.locator(AGENT_BUBBLES)).to_have_text([answer])
    assert page.evaluate("window.__sameDocument === true"), "the reply needed a page load"

    page.reload()
    page.click(".parley-launcher")
    expect(page.locator(".parley-log .parley-bubble")).to_have_text([question, answer])


def test_network_cut_loses_nothing_and_doubles_nothing(stack, context, page):
    first, offline, lost_answer = tagged("Hello?"), tagged("Sent while offline"), tagged("Answer lost on the way")
    open_chat(page, stack)
    send(page, first)
    expect(page.locator(TICKS)).to_have_count(1)
    conversation_id = conversation_of(stack, first)

    context.set_offline(True)
    send(page, offline)
    expect(page.locator(".parley-log .parley-from-shopper").last).to_contain_text("retrying")
    away = tagged("Replied while you were offline")
    reply(stack, conversation_id, away)
    context.set_offline(False)
    expect(page.locator(TICKS)).to_have_count(2)
    expect(page.locator(AGENT_BUBBLES)).to_have_text([away])

    # The server stores a message but its answer never reaches the browser. Either the
    # stream confirms it first (no resend needed) or the widget resends the same
    # client_id and the server hands back the original (200, not 201).
    dropped: list[str] = []
    answers: list = []

    def drop_first_answer(route) -> None:
        if route.request.method == "POST" and not dropped:
            route.fetch()
            dropped.append(route.request.post_data_json["client_id"])
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r"/api/storefront/v1/messages$"), drop_first_answer)
    page.on(
        "response",
        lambda r: (
            answers.append(r) if r.url.endswith("/api/storefront/v1/messages") and r.request.method == "POST" else None
        ),
    )
    send(page, lost_answer)
    expect(page.locator(TICKS)).to_have_count(3)
    expect(page.locator(".parley-log .parley-meta", has_text=re.compile("retrying|Sending"))).to_have_count(0)
    assert dropped, "the first answer was never dropped"
    assert all(r.status == 200 and r.json()["message"]["client_id"] == dropped[0] for r in answers)

    expect(page.locator(SHOPPER_BUBBLES)).to_have_text([first, offline, lost_answer])
    expect(page.locator(AGENT_BUBBLES)).to_have_text([away])
    stored = thread(stack, conversation_id)
    assert [m.body for m in stored if m.author_kind == AuthorKind.shopper] == [first, offline, lost_answer]
    assert [m.body for m in stored if m.author_kind == AuthorKind.agent] == [away]
    assert set(Counter(m.client_id for m in stored).values()) == {1}
    assert [m.client_id for m in stored if m.body == lost_answer] == dropped


def test_hebrew_storefront_shows_the_widget_right_to_left(stack, page):
    open_chat(page, stack, "?locale=he")
    panel = page.locator("#parley-panel")
    assert panel.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "he"
    # The strings come from locales/he.json through the real embed block and its t filter.
    expect(page.locator(".parley-launcher")).to_have_attribute("aria-label", "דברו איתנו")
    expect(page.locator("#parley-input")).to_have_attribute("placeholder", "כתבו הודעה…")
    greeting = tagged("שלום, יש לכם מידה L?")
    send(page, greeting)
    expect(page.locator(SHOPPER_BUBBLES)).to_have_text([greeting])
    expect(page.locator(TICKS)).to_have_count(1)


def test_hebrew_storefront_greets_in_hebrew_when_the_merchant_kept_the_default(stack, page):
    open_chat(page, stack, "?locale=he")
    # The panel starts with its own translation; the session's settings replace it, in the same
    # step that writes the team status line, so read the greeting once that line is there.
    expect(page.locator(".parley-status")).to_have_text("מחוברים עכשיו")
    assert page.locator(".parley-greeting").text_content() == "שלום! איך אפשר לעזור?"


def test_markup_in_messages_shows_as_text_in_the_widget_and_the_inbox(stack, context, page, page_errors):
    payload = tagged("<b>bold</b><img src=x onerror=alert(1)>")
    open_chat(page, stack)
    send(page, payload)
    expect(page.locator(TICKS)).to_have_count(1)
    bubble = page.locator(SHOPPER_BUBBLES)
    assert bubble.evaluate("el => el.textContent") == payload
    assert page.locator(".parley-log b, .parley-log img").count() == 0
    conversation_id = conversation_of(stack, payload)

    inbox = context.new_page()
    watch(inbox, page_errors)
    inbox.goto(f"{stack.parley_url}/demo/inbox")
    conversation = inbox.locator(f"#c-{conversation_id}")
    shopper_bodies = conversation.locator(".message.shopper .body")
    expect(shopper_bodies).to_have_count(1)
    assert shopper_bodies.evaluate("el => el.textContent") == payload
    assert conversation.locator(".messages b, .messages img").count() == 0

    # The merchant answers from the inbox; markup in the answer is text on both sides.
    answer = "<i>Thanks!</i> It ships tomorrow."
    conversation.locator("textarea").fill(answer)
    conversation.locator("button[type=submit]").click()
    expect(page.locator(AGENT_BUBBLES)).to_have_text([answer])
    assert page.locator(".parley-log i").count() == 0
    answered = inbox.locator(f"#c-{conversation_id} .message.agent .body")
    expect(answered).to_have_count(1)
    assert answered.evaluate("el => el.textContent") == answer

    # A new shopper message reaches the open inbox without a reload (its poll).
    follow_up = tagged("And gift wrap?")
    send(page, follow_up)
    expect(inbox.locator(f"#c-{conversation_id} .message.shopper .body")).to_have_count(2)
    expect(inbox.locator(f"#c-{conversation_id} .message.shopper .body").last).to_have_text(follow_up)
    inbox.screenshot(
        path=str(artifacts_dir() / "test_markup_in_messages_inbox.png"), full_page=True, animations="disabled"
    )
    inbox.close()


def test_widget_stamps_the_cart_and_reports_it_after_add_to_cart(stack, page):
    question = tagged("Does the tote fit a 15 inch laptop?")
    open_chat(page, stack)
    with page.expect_response(lambda r: r.url.endswith("/cart/update.js") and r.request.method == "POST") as stamp:
        send(page, question)
    assert stamp.value.ok
    conversation_id = conversation_of(stack, question)

    # The stand-in recorded the attribute on this browser's cart, which the order would carry.
    cart = page.evaluate("fetch(Shopify.routes.root + 'cart.js').then(r => r.json())")
    assert cart["attributes"] == {"parley_conversation": conversation_id}
    assert {"shop": DEMO_SHOP, "token": cart["token"], "attributes": {"parley_conversation": conversation_id}} in (
        stack.storefront.attribute_writes
    )

    page.click(".parley-close")
    with page.expect_response(lambda r: r.url.endswith("/api/storefront/v1/cart") and r.request.method == "PUT") as put:
        page.locator('[data-product-handle="rain-jacket"] button').click()
    assert put.value.status == 204
    expect(page.locator("[data-cart-count]")).to_have_text("1")

    with stack.services.db.session() as session:
        snapshots = session.exec(
            select(CartSnapshot).where(CartSnapshot.conversation_id == conversation_id).order_by(CartSnapshot.id)
        ).all()
        conversation = session.get(Conversation, conversation_id)
    latest = snapshots[-1]
    assert (latest.item_count, latest.total, latest.currency) == (1, Decimal("129.90"), "EUR")
    assert [(line["title"], line["quantity"]) for line in latest.lines] == [("Harbour Rain Jacket", 1)]
    assert latest.cart_token == cart["token"].split("?key=")[0]  # stored without the key
    assert (conversation.cart_value, conversation.cart_currency) == (Decimal("129.90"), "EUR")


def test_signed_in_customer_is_identified_only_through_the_proxy_signature(stack, page):
    page.goto(stack.storefront_url)
    page.click("#sign-in")
    expect(page.locator("[data-customer-id]")).to_have_attribute("data-customer-id", str(CUSTOMER_ID))
    # Nothing on the page tells the widget who this is; only the signed proxy call does.
    assert page.locator("#parley-root").get_attribute("data-customer-id") is None

    question = tagged("Where is my order #1002?")
    page.click(".parley-launcher")
    send(page, question)
    expect(page.locator(TICKS)).to_have_count(1)
    with stack.services.db.session() as session:
        conversation = session.get(Conversation, conversation_of(stack, question))
        visitor = session.get(Visitor, conversation.visitor_id)
    assert visitor.customer_id == str(CUSTOMER_ID)
