"""What a shopper meets while writing in the widget: links, a draft that is too long, the
shop's colour and the shop's hours. Real Parley behind the stand-in's signed app proxy,
the real app embed on the demo storefront, Debian's Chromium. Screenshots of each state go
to $PARLEY_ARTIFACTS/screenshots/.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from app.chat.hours import WEEKDAYS
from app.chat.shop_settings import put_setting
from app.models import Conversation, Message, ShopSetting
from tests.support.browser import artifacts_dir, launch_chromium, start_stack

TIMEOUT_MS = 15_000
LINKS = ".parley-log a.parley-url"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("widget-messages"))
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US", reduced_motion="reduce")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    assert not errors, errors


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


def conversation_of(stack, body: str) -> str:
    with stack.services.db.session() as session:
        [message] = session.exec(select(Message).where(Message.body == body)).all()
    return message.conversation_id


def shopper_bodies(stack, conversation_id: str) -> list[str]:
    with stack.services.db.session() as session:
        conversation = session.get(Conversation, conversation_id)
        rows = session.exec(
            select(Message).where(Message.conversation_id == conversation.id).order_by(Message.id)
        ).all()
    return [m.body for m in rows if m.author_kind.value == "shopper"]


# ---- links ------------------------------------------------------------------------------------


def test_links_from_the_shop_and_from_the_shopper_are_links_and_nothing_else_is(stack, context, page):
    tag = uuid.uuid4().hex[:6]
    product = stack.storefront_url + "products/rain-jacket"
    mine = f"Is this the one (see {product}?colour=navy)? [{tag}]"
    open_chat(page, stack)
    send(page, mine)
    expect(page.locator(".parley-log .parley-tick")).to_have_count(1)
    conversation_id = conversation_of(stack, mine)

    # The merchant inserts a product link; markup and other schemes stay text.
    answer = (
        f"Yes: {product}. Also javascript:alert(1), data:text/html,<b>x</b> and "
        f'http://127.0.0.1:9/"><img src=x onerror=alert(1)> are not links.'
    )
    stack.services.chat.send_agent_message(stack.shop_id, conversation_id, "agent-1", answer, str(uuid.uuid4()))
    expect(page.locator(".parley-log .parley-from-agent .parley-bubble")).to_have_text([answer])

    links = page.locator(LINKS)
    expect(links).to_have_count(3)
    found = links.evaluate_all(
        "els => els.map(a => ({href: a.getAttribute('href'), text: a.textContent, target: a.target, rel: a.rel}))"
    )
    assert found == [
        # The shopper's: the closing bracket and question mark are the sentence's, not the link's.
        {
            "href": product + "?colour=navy",
            "text": product + "?colour=navy",
            "target": "_blank",
            "rel": "noopener noreferrer",
        },
        {"href": product, "text": product, "target": "_blank", "rel": "noopener noreferrer"},
        {
            "href": "http://127.0.0.1:9/",
            "text": "http://127.0.0.1:9/",
            "target": "_blank",
            "rel": "noopener noreferrer",
        },
    ]
    assert page.locator(".parley-log img, .parley-log b").count() == 0
    # The text reads exactly as written.
    bubbles = page.locator(".parley-log .parley-bubble")
    assert bubbles.evaluate_all("els => els.map(e => e.textContent)") == [mine, answer]
    page.screenshot(path=str(artifacts_dir() / "widget_link_in_a_message.png"))

    # It opens in a new tab that cannot reach back into the storefront, and tells no referrer.
    with context.expect_page() as opened:
        links.nth(1).click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == product
    assert tab.evaluate("[window.opener, document.referrer]") == [None, ""]
    tab.close()


# ---- a draft that is too long ------------------------------------------------------------------


def test_a_pasted_10000_character_text_is_kept_and_called_too_long_before_anything_is_sent(stack, page):
    tag = uuid.uuid4().hex[:6]
    first = f"Hi, a question about a long order [{tag}]"
    open_chat(page, stack)
    send(page, first)
    expect(page.locator(".parley-log .parley-tick")).to_have_count(1)
    conversation_id = conversation_of(stack, first)

    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/messages") else None)
    pasted = ("Line of my order list, item and quantity. " * 250)[:10_000]
    page.locator("#parley-input").focus()
    page.keyboard.insert_text(pasted)  # what a paste does: one input, the whole text

    note = page.locator(".parley-limit")
    expect(note).to_be_visible()
    expect(note).to_have_text("This message is too long. Please shorten it. 10,000 / 5,000")
    assert page.locator("#parley-input").get_attribute("aria-invalid") == "true"
    page.press("#parley-input", "Enter")
    page.wait_for_timeout(500)
    assert posts == []  # nothing went out
    assert page.locator("#parley-input").input_value() == pasted  # the whole draft, kept
    expect(page.locator(".parley-log .parley-from-shopper")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir() / "widget_too_long_draft.png"))

    # Shortened to the limit, it goes, whole.
    fitting = pasted[:5000].strip()
    page.fill("#parley-input", fitting)
    expect(note).to_be_hidden()
    page.press("#parley-input", "Enter")
    expect(page.locator(".parley-log .parley-tick")).to_have_count(2)
    assert shopper_bodies(stack, conversation_id) == [first, fitting]


def test_a_message_the_server_calls_too_long_returns_to_the_draft_with_the_reason(stack, page):
    # The server's limit could be lower than the widget's: then its 413 must not lose the text.
    open_chat(page, stack)
    text = f"A message the server refuses [{uuid.uuid4().hex[:6]}]"

    def refuse(route) -> None:
        route.fulfill(
            status=413,
            content_type="application/json",
            body=json.dumps({"error": "message_too_long", "message": "a message can hold at most 5000 characters"}),
        )

    page.route(re.compile(r"/api/storefront/v1/messages$"), refuse)
    send(page, text)
    expect(page.locator(".parley-limit")).to_have_text("This message is too long. Please shorten it.")
    expect(page.locator("#parley-input")).to_have_value(text)
    expect(page.locator(".parley-log .parley-from-shopper")).to_have_count(0)

    page.unroute(re.compile(r"/api/storefront/v1/messages$"))
    page.press("#parley-input", "Enter")
    expect(page.locator(".parley-log .parley-tick")).to_have_count(1)
    expect(page.locator(".parley-limit")).to_be_hidden()
    conversation_of(stack, text)  # stored, once


# ---- the shop's colour -------------------------------------------------------------------------

SESSION = re.compile(r"/apps/parley/session$")


def with_session_accent(page, accent: str | None) -> None:
    """Answers the widget's session as the server does, with settings.accent replaced."""

    def rewrite(route) -> None:
        answer = route.fetch()
        body = answer.json()
        body["settings"]["accent"] = accent
        route.fulfill(response=answer, json=body)

    page.route(SESSION, rewrite)


def background(page, selector: str) -> str:
    return page.locator(selector).evaluate("el => getComputedStyle(el).backgroundColor")


@pytest.fixture
def embed_accent(stack):
    stack.storefront.block_settings["accent"] = "#1d4ed8"  # the theme embed's colour: blue
    yield "rgb(29, 78, 216)"
    stack.storefront.block_settings.pop("accent")


def test_without_a_colour_in_settings_the_theme_embeds_colour_stays(stack, page, embed_accent):
    with_session_accent(page, None)
    page.goto(stack.storefront_url)
    assert background(page, ".parley-launcher") == embed_accent
    with page.expect_response(SESSION):
        page.click(".parley-launcher")
    expect(page.locator(".parley-status")).not_to_be_empty()
    assert background(page, ".parley-launcher") == embed_accent
    assert background(page, ".parley-head") == embed_accent


def test_a_colour_set_in_parleys_settings_wins_over_the_theme_embeds(stack, page, embed_accent):
    with_session_accent(page, "#b91c1c")
    page.goto(stack.storefront_url)
    assert background(page, ".parley-launcher") == embed_accent  # first paint: only the embed is known
    with page.expect_response(SESSION):
        page.click(".parley-launcher")
    expect(page.locator(".parley-status")).not_to_be_empty()
    assert background(page, ".parley-launcher") == "rgb(185, 28, 28)"
    assert background(page, ".parley-head") == "rgb(185, 28, 28)"
    send(page, f"Red it is [{uuid.uuid4().hex[:6]}]")
    expect(page.locator(".parley-log .parley-tick")).to_have_count(1)
    assert background(page, ".parley-log .parley-from-shopper .parley-bubble") == "rgb(185, 28, 28)"
    # Text on it: white contrasts more with this red than black does.
    color = page.locator(".parley-log .parley-from-shopper .parley-bubble").evaluate("el => getComputedStyle(el).color")
    assert color == "rgb(255, 255, 255)"


# ---- after hours -------------------------------------------------------------------------------


@pytest.fixture
def closed_today(stack):
    """Hours that open only tomorrow, and an away message; removed afterwards."""
    tomorrow = WEEKDAYS[(datetime.now(UTC) + timedelta(days=1)).weekday()]
    with stack.services.db.transaction() as session:
        put_setting(
            session,
            stack.shop_id,
            "hours",
            {"timezone": "UTC", "weekly": {tomorrow: [["09:00", "17:00"]]}},
            datetime.now(UTC),
        )
        put_setting(
            session,
            stack.shop_id,
            "away_message",
            "We're away until tomorrow morning. Leave your question and we'll answer first thing.",
            datetime.now(UTC),
        )
    yield
    with stack.services.db.transaction() as session:
        for row in session.exec(
            select(ShopSetting).where(
                ShopSetting.shop_id == stack.shop_id, col(ShopSetting.key).in_(["hours", "away_message"])
            )
        ):
            session.delete(row)


def test_after_hours_the_widget_says_when_the_team_is_back_and_still_takes_the_question(stack, page, closed_today):
    open_chat(page, stack)
    expect(page.locator(".parley-status")).to_have_text(re.compile(r"^Back at \w+day \d{1,2}:00 (AM|PM)$"))
    expect(page.locator(".parley-away")).to_have_text(
        "We're away until tomorrow morning. Leave your question and we'll answer first thing."
    )
    question = f"Do you have the tote in black? [{uuid.uuid4().hex[:6]}]"
    send(page, question)
    expect(page.locator(".parley-log .parley-tick")).to_have_count(1)
    conversation_of(stack, question)
    page.screenshot(path=str(artifacts_dir() / "widget_after_hours.png"))
