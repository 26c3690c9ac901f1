"""The Support page end to end in a real browser (Debian's chromium, driven by Playwright).

The merchant signs in through the demo sign-in (a fresh ID token from the Shopify
stand-in, as the admin would hand one over); the shopper writes from the stand-in's
demo storefront through the real widget. Every request to Shopify's CDN is aborted, so
the pages must work without App Bridge, and the test fails if one was even tried.
Screenshots of the Inbox and a Conversation land under $PARLEY_ARTIFACTS/screenshots/.
"""

from __future__ import annotations

import random
import re
import uuid

import pytest
from sqlmodel import select

from app.chat.shop_settings import get_settings, put_setting
from app.chat.visitors import visitor_label
from app.clock import utcnow
from app.models import AuthorKind, Conversation, Message
from tests.support.browser import artifacts_dir, element_boxes, launch_chromium, start_stack, watch

TIMEOUT_MS = 15_000
AGENT_BUBBLES = ".parley-log .parley-from-agent .parley-bubble"
SHOPPER_TICKS = ".parley-log .parley-from-shopper .parley-tick"


# ---- fixtures: one stack and one browser per module, a fresh browser context per test ----


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("admin-browser"))
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


@pytest.fixture
def cdn_requests() -> list[str]:
    return []


@pytest.fixture
def context(browser, cdn_requests):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)

    def refuse(route) -> None:
        cdn_requests.append(route.request.url)
        route.abort()

    # Nothing leaves the machine; the pages must not even try (the demo loads no App Bridge).
    context.route(re.compile(r"^https?://cdn\.shopify\.com/"), refuse)
    yield context
    context.close()
    assert not cdn_requests, f"the pages asked Shopify's CDN for {cdn_requests}"


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def admin(context, page_errors, request):
    """The merchant's page; its screenshot is kept whatever the outcome."""
    page = context.new_page()
    watch(page, page_errors)
    yield page
    try:
        page.screenshot(path=str(artifacts_dir() / f"{request.node.name}.png"), animations="disabled")
    finally:
        assert not page_errors, f"a page raised: {page_errors}"


@pytest.fixture
def shopper(context, page_errors):
    page = context.new_page()
    watch(page, page_errors)
    return page


# ---- helpers ------------------------------------------------------------------------------


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def tagged(text: str) -> str:
    """Each test writes text no other test writes, to find its own rows in the shared database."""
    return f"{text} [{uuid.uuid4().hex[:6]}]"


def sign_in(page, stack, next_page: str = "/app") -> None:
    """The demo sign-in: what opening the app from the Shopify admin does, without Shopify."""
    page.goto(f"{stack.parley_url}/demo/support?next={next_page}")
    expect(page).to_have_url(re.compile(r"/app"))


def inbox_loaded(page) -> None:
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")


def open_chat(page, stack) -> None:
    page.goto(stack.storefront_url)
    page.click(".parley-launcher")
    expect(page.locator("#parley-panel")).to_be_visible()


def shopper_sends(page, text: str) -> None:
    ticks = page.locator(SHOPPER_TICKS).count()
    page.fill("#parley-input", text)
    page.press("#parley-input", "Enter")
    expect(page.locator(SHOPPER_TICKS)).to_have_count(ticks + 1)  # stored: the server answered with its id


def row(page, text: str):
    return page.locator("#rows .row", has=page.locator(".row-preview", has_text=text))


def stored(stack, body: str) -> Message:
    with stack.services.db.session() as session:
        [message] = session.exec(select(Message).where(Message.body == body)).all()
    return message


def label_of(stack, body: str) -> str:
    with stack.services.db.session() as session:
        conversation = session.get(Conversation, stored(stack, body).conversation_id)
    return visitor_label(conversation.visitor_id)


def set_saved_replies(stack, replies: list[dict]) -> None:
    with stack.services.db.transaction() as session:
        put_setting(session, stack.shop_id, "saved_replies", replies, utcnow())


# ---- the merchant answers a shopper --------------------------------------------------------


def test_shopper_message_arrives_live_and_a_saved_reply_reaches_the_shopper(stack, admin, shopper):
    answer = "We ship within 24 hours from Tallinn; delivery takes 2–4 working days."
    set_saved_replies(
        stack,
        [{"shortcut": "returns", "text": "Returns are free for 30 days."}, {"shortcut": "shipping", "text": answer}],
    )
    question = tagged("Hi! How fast do you ship to Riga?")

    sign_in(admin, stack)
    inbox_loaded(admin)
    expect(admin.locator(".tabs a[aria-current=page]")).to_have_text("Inbox")
    assert "id_token" not in admin.url  # it lives a minute; a reload asks for a fresh one

    # The shopper writes; the open inbox shows it without a reload.
    admin.evaluate("window.__sameDocument = true")
    open_chat(shopper, stack)
    shopper_sends(shopper, question)
    conversation = row(admin, question)
    expect(conversation).to_have_count(1)
    # An anonymous shopper is named after an animal, the same everywhere (app/chat/visitors.py).
    label = label_of(stack, question)
    expect(conversation.locator(".row-name")).to_have_text(label)
    expect(conversation.locator(".unread-badge")).to_have_text("1")
    expect(conversation.locator(".row-meta")).to_contain_text("waiting")
    assert admin.evaluate("window.__sameDocument === true"), "the message needed a page load"

    # The shopper puts a jacket in the cart; the row shows the cart's value.
    shopper.click(".parley-close")
    shopper.locator('[data-product-handle="rain-jacket"] button').click()
    expect(conversation.locator(".row-meta")).to_contain_text(re.compile(r"€129\.90 cart · waiting"))
    admin.screenshot(path=str(artifacts_dir() / "support_inbox.png"), animations="disabled")

    conversation.locator("a").click()
    expect(admin).to_have_url(re.compile(r"/app/conversations/"))
    expect(admin.locator("#thread .msg.from-shopper .bubble")).to_have_text([question])
    expect(admin.locator("#cart")).to_contain_text("Harbour Rain Jacket")
    expect(admin.locator("#cart")).to_contain_text("€129.90")

    # A second message and the shopper's typing arrive live in the open conversation.
    follow_up = tagged("Also: do you have it in blue?")
    shopper.click(".parley-launcher")
    shopper.fill("#parley-input", "Al")
    expect(admin.locator("#typing")).to_have_text(f"{label} is typing…")
    shopper.fill("#parley-input", "")
    shopper_sends(shopper, follow_up)
    expect(admin.locator("#thread .msg.from-shopper .bubble")).to_have_text([question, follow_up])
    expect(admin.locator("#typing")).to_have_text("")

    # "/ship" offers the saved reply; Tab inserts it; Enter sends.
    reply_box = admin.locator("#reply")
    reply_box.click()
    reply_box.press_sequentially("/ship")
    expect(admin.locator("#saved-replies li")).to_have_count(1)
    expect(admin.locator("#saved-replies li")).to_contain_text("/shipping")
    reply_box.press("Tab")
    expect(reply_box).to_have_value(answer)
    reply_box.press("Enter")
    expect(reply_box).to_have_value("")
    expect(admin.locator("#thread .msg.from-agent:not(.pending) .bubble")).to_have_text([answer])

    # The shopper sees the reply in the widget, live, and the merchant sees that they did.
    expect(shopper.locator(AGENT_BUBBLES)).to_have_text([answer])
    sent = stored(stack, answer)
    assert (sent.author_kind, sent.author_id, sent.internal) == (AuthorKind.agent, "1", False)
    expect(admin.locator("#thread .msg.from-agent .seen")).to_have_text("Seen")
    expect(admin.locator("#thread-meta")).not_to_contain_text("waiting")  # answered: nobody waits

    # An internal note: distinct in the admin, never shown to the shopper.
    note = tagged("Offered blue; check stock tomorrow")
    admin.click("[data-mode=note]")
    reply_box.fill(note)
    reply_box.press("Enter")
    expect(admin.locator("#thread .msg.note:not(.pending) .bubble")).to_have_text([note])
    assert stored(stack, note).internal is True
    later = tagged("Thanks!")
    # Read marks: a message arriving in the open conversation is marked read.
    with admin.expect_response(lambda r: r.url.endswith("/read") and r.request.method == "POST") as read:
        shopper_sends(shopper, later)
        expect(admin.locator("#thread .msg.from-shopper .bubble")).to_have_count(3)
    assert read.value.status == 204
    assert read.value.request.post_data_json == {"up_to": stored(stack, later).id}
    expect(shopper.locator(AGENT_BUBBLES)).to_have_text([answer])
    with stack.services.db.session() as session:
        unread = session.exec(
            select(Message.id).where(
                Message.conversation_id == sent.conversation_id,
                Message.author_kind == AuthorKind.shopper,
                Message.read_at.is_(None),
            )
        ).all()
    assert unread == []

    admin.click("#resolve")
    expect(admin.locator("#status-badge")).to_have_text("Resolved")
    expect(admin.locator("#resolve")).to_have_text("Reopen")
    admin.click("#assign")
    expect(admin.locator("#assign")).to_have_text("Unassign")
    expect(admin.locator("#thread-meta")).to_contain_text("assigned to you")
    admin.screenshot(path=str(artifacts_dir() / "support_conversation.png"), animations="disabled")


def test_markup_in_a_shopper_message_shows_as_text_in_the_support_page(stack, admin, shopper):
    payload = tagged("<b>bold</b><img src=x onerror=alert(1)>")
    open_chat(shopper, stack)
    shopper_sends(shopper, payload)

    sign_in(admin, stack)
    inbox_loaded(admin)
    preview = row(admin, payload).locator(".row-preview")
    expect(preview).to_have_count(1)
    assert preview.evaluate("el => el.textContent") == payload
    assert admin.locator("#rows b, #rows img").count() == 0

    row(admin, payload).locator("a").click()
    bubble = admin.locator("#thread .msg.from-shopper .bubble").last
    expect(bubble).to_have_text(payload)
    assert bubble.evaluate("el => el.textContent") == payload
    assert admin.locator("#thread b, #thread img").count() == 0

    # The merchant's markup is text on both sides too.
    answer = "<i>Thanks!</i> It ships tomorrow."
    admin.fill("#reply", answer)
    admin.press("#reply", "Enter")
    expect(shopper.locator(AGENT_BUBBLES).last).to_have_text(answer)
    assert admin.locator("#thread i").count() == 0 and shopper.locator(".parley-log i").count() == 0

    # Shift+Enter is a new line; Enter sends.
    admin.fill("#reply", "Line one")
    admin.press("#reply", "Shift+Enter")
    admin.locator("#reply").press_sequentially("line two")
    admin.press("#reply", "Enter")
    expect(shopper.locator(AGENT_BUBBLES).last).to_have_text("Line one\nline two")

    # A product link goes into the reply as this shop's product URL, from a URL or a handle.
    admin.fill("#reply", "Have a look:")
    admin.fill("#product", "https://fjordgear.com/products/Rain-Jacket?variant=1")
    admin.click("#product-link button")
    expect(admin.locator("#reply")).to_have_value(
        "Have a look: https://parley-demo.myshopify.com/products/rain-jacket "
    )
    admin.fill("#product", "<script>")
    admin.click("#product-link button")
    expect(admin.locator("#product-error")).to_be_visible()


def test_a_reply_whose_answer_is_lost_is_resent_and_stored_once(stack, admin, shopper):
    question = tagged("Is anyone there?")
    open_chat(shopper, stack)
    shopper_sends(shopper, question)
    conversation_id = stored(stack, question).conversation_id
    sign_in(admin, stack, f"/app/conversations/{conversation_id}")
    expect(admin.locator("#thread .msg.from-shopper .bubble")).to_have_text([question])

    posts: list[str] = []
    unreachable, lost = tagged("Yes, one moment"), tagged("Here is the answer")

    def flaky(route) -> None:
        body = route.request.post_data_json
        posts.append(body["client_id"])
        if body["body"] == unreachable and posts.count(body["client_id"]) == 1:
            route.abort("connectionrefused")  # never reached Parley
        elif body["body"] == lost and posts.count(body["client_id"]) == 1:
            route.fetch()  # stored, but the answer never comes back
            route.abort("connectionreset")
        else:
            route.continue_()

    admin.route(re.compile(r"/admin/api/conversations/[^/]+/messages$"), flaky)
    for text in (unreachable, lost):
        admin.fill("#reply", text)
        admin.press("#reply", "Enter")
    # Replies go out in order, the second only after the first is safely stored.
    expect(admin.locator("#thread .msg.pending")).to_have_count(0)
    expect(admin.locator("#thread .msg.from-agent .bubble")).to_have_text([unreachable, lost])
    expect(shopper.locator(AGENT_BUBBLES)).to_have_text([unreachable, lost])

    with stack.services.db.session() as session:
        replies = session.exec(
            select(Message).where(Message.conversation_id == conversation_id, Message.author_kind == AuthorKind.agent)
        ).all()
    assert [m.body for m in replies] == [unreachable, lost]
    assert posts.count(replies[0].client_id) == 2  # resent with the same client_id
    assert set(posts) == {m.client_id for m in replies}


def test_load_earlier_brings_the_start_of_a_long_thread(stack, admin, shopper):
    first = tagged("The start of a long thread")
    open_chat(shopper, stack)
    shopper_sends(shopper, first)
    conversation_id = stored(stack, first).conversation_id
    for n in range(60):
        stack.services.chat.send_agent_message(stack.shop_id, conversation_id, "7", f"Step {n + 1}", str(uuid.uuid4()))

    sign_in(admin, stack, f"/app/conversations/{conversation_id}")
    bubbles = admin.locator("#thread .msg .bubble")
    expect(bubbles).to_have_count(50)
    expect(bubbles.last).to_have_text("Step 60")
    admin.click("#load-earlier")
    expect(bubbles).to_have_count(61)
    expect(bubbles.first).to_have_text(first)
    expect(admin.locator("#load-earlier")).to_be_hidden()
    texts = bubbles.all_text_contents()
    assert texts == [first] + [f"Step {n + 1}" for n in range(60)]


def test_search_finds_a_conversation_by_its_text(stack, admin, shopper):
    needle = uuid.uuid4().hex[:10]
    open_chat(shopper, stack)
    shopper_sends(shopper, f"Gift card number {needle} does not work")

    sign_in(admin, stack)
    inbox_loaded(admin)
    with admin.expect_response(lambda r: f"q={needle}" in r.url and "/admin/api/inbox" in r.url):
        admin.fill("#search", needle)
    expect(admin.locator("#rows .row")).to_have_count(1)
    expect(admin.locator("#rows .row .row-preview")).to_contain_text(needle)
    assert f"q={needle}" in admin.url

    # A reload without a token: the demo signs in again (Shopify's admin would hand over
    # a fresh one) and the search is kept.
    admin.reload()
    expect(admin.locator("#search")).to_have_value(needle)
    expect(admin.locator("#rows .row")).to_have_count(1)


def test_a_search_result_shows_the_words_that_matched_with_the_match_marked(stack, admin, shopper):
    """The match is an older message than the row's preview: the row says why it is there,
    in the message's own direction, the query marked (from the server's offsets, as text)."""
    word = "".join(random.Random(uuid.uuid4().int).choice("אבגדהוזחטיכלמנסעפצקרשת") for _ in range(6))
    open_chat(shopper, stack)
    shopper_sends(shopper, f"שלום, החבילה {word} לא הגיעה אליי עדיין")
    shopper_sends(shopper, "<b>not markup</b> and a later message")

    sign_in(admin, stack)
    inbox_loaded(admin)
    with admin.expect_response(lambda r: "/admin/api/inbox" in r.url and "q=" in r.url):
        admin.fill("#search", word)
    result = admin.locator("#rows .row")
    expect(result).to_have_count(1)
    expect(result.locator(".row-preview")).to_contain_text("a later message")
    match = result.locator(".row-match")
    expect(match.locator("mark")).to_have_text(word)
    expect(match).to_contain_text("החבילה")
    assert match.get_attribute("dir") == "rtl"
    [row_box] = element_boxes(admin, "#rows .row")
    [mark_box] = element_boxes(admin, "#rows .row .row-match mark")
    assert row_box["left"] <= mark_box["left"] and mark_box["right"] <= row_box["right"]
    assert mark_box["text_height"] <= mark_box["height"] + 1
    admin.screenshot(path=str(artifacts_dir() / "support_search_match_rtl.png"), animations="disabled")


# ---- settings -------------------------------------------------------------------------------


def test_settings_show_the_servers_reason_next_to_the_field_and_save_nothing(stack, admin):
    sign_in(admin, stack, "/app/settings")
    form = admin.locator("#settings-form")
    expect(form).to_be_visible()
    with stack.services.db.session() as session:
        before = get_settings(session, stack.shop_id)

    admin.fill("#accent", "#00806g")
    admin.fill("#greeting", tagged("Hello from the settings test"))
    admin.click("#save")
    error = admin.locator('[data-error-for="accent"]')
    expect(error).to_be_visible()
    expect(error).to_have_text("The accent colour must be a colour like #008060, or left empty")
    expect(admin.locator("#accent")).to_have_attribute("aria-invalid", "true")
    with stack.services.db.session() as session:
        assert get_settings(session, stack.shop_id) == before  # nothing saved

    # Monday's hours that open and close at the same time: the reason sits beside Monday.
    admin.fill("#accent", "#5c6ac4")
    admin.check("#hours-set")  # from "Always open"; weekdays start as nine to five
    monday = admin.locator('[data-day="mon"]')
    expect(monday.locator(".interval")).to_have_count(1)
    monday.locator('[data-part="start"]').fill("09:00")
    monday.locator('[data-part="end"]').fill("09:00")
    admin.click("#save")
    expect(monday.locator(".field-error")).to_have_text(
        "Monday opens and closes at the same time; to stay open past midnight, "
        "close at the time you stop on the next day"
    )
    expect(error).to_be_hidden()

    monday.locator('[data-part="start"]').fill("09:00")
    monday.locator('[data-part="end"]').fill("17:00")
    admin.select_option("#timezone", "Europe/Tallinn")
    admin.click("#save")
    expect(admin.locator("#toasts")).to_contain_text("Settings saved")
    with stack.services.db.session() as session:
        after = get_settings(session, stack.shop_id)
    assert after["accent"] == "#5c6ac4"
    assert after["hours"]["timezone"] == "Europe/Tallinn"
    assert after["hours"]["weekly"]["mon"] == [["09:00", "17:00"]]
    assert after["hours"]["weekly"]["tue"] == [["09:00", "17:00"]] and after["hours"]["weekly"]["sat"] == []


def test_tabs_lead_to_insights_with_server_drawn_charts(stack, admin):
    sign_in(admin, stack)
    inbox_loaded(admin)
    with admin.expect_response(lambda r: "/admin/api/insights" in r.url and ".csv" not in r.url) as insights:
        admin.locator(".tabs a", has_text="Insights").click()
    assert insights.value.status == 200
    expect(admin.locator("#chart-conversations svg")).to_have_count(1)
    expect(admin.locator("#chart-revenue svg")).to_have_count(1)
    expect(admin.locator(".tabs a[aria-current=page]")).to_have_text("Insights")
    admin.locator(".tabs a", has_text="Settings").click()
    expect(admin.locator("#settings-form")).to_be_visible()
