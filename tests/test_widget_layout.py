"""What a shopper sees of a long conversation in the widget: measured, not just read.

A 30-message thread (short and long messages, one of 2,000 characters, Hebrew, Arabic and
English mixed, a link) on the stand-in's demo storefront, through the real app embed and a
real Parley, at desktop (1280x800) and phone (390x844) sizes, left to right and right to
left. Every message keeps the height of its text, none covers another, the thread scrolls
from the newest message back to the greeting, and a new message shows at once. Each case
leaves screenshots in $PARLEY_ARTIFACTS/screenshots/.
"""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from app.models import Message
from tests.support.browser import artifacts_dir, element_boxes, launch_chromium, overlapping, start_stack

TIMEOUT_MS = 15_000
MESSAGES = ".parley-log .parley-msg"
BUBBLES = ".parley-log .parley-bubble"
ROWS = ".parley-scroll > .parley-greeting, .parley-scroll > .parley-away, .parley-log .parley-msg"

POLICY = (
    "Our returns policy, in full: you can send anything back within 30 days of delivery, unworn and with its "
    "tags, and we refund the price to the card you paid with within five working days of it reaching us. "
)
LONG = (POLICY * 12)[:2000]  # the longest message of the thread: exactly 2,000 characters


def thread_bodies(tag: str) -> list[tuple[str, str]]:
    """(author, body) of messages 2–30; message 1 is typed in the widget. The last one is short."""
    lines = [
        ("agent", "Hi! Yes, we ship to Tallinn: 2–3 working days."),
        ("shopper", "שלום, יש לכם את המעיל הזה במידה L?"),
        ("agent", "כן, יש במלאי. Size L is in stock in navy and olive."),
        ("shopper", "مرحبا، هل يتوفر هذا المنتج باللون الأزرق؟"),
        ("agent", "نعم، اللون الأزرق متوفر. The navy one ships tomorrow."),
        ("shopper", "ok"),
        ("agent", LONG),
        ("shopper", "Thanks! And the wool beanie, is it itchy? " * 3),
        ("agent", "Not at all: merino, very soft. Here it is: https://parley-demo.myshopify.com/products/beanie"),
        ("shopper", "👍"),
        ("agent", "ההזמנה שלך #1002 נשלחה today, tracking RR123456785EE."),
        ("shopper", "Can I change the address?\nNew one: Narva mnt 5\nTallinn 10117"),
        ("agent", "Done."),
        ("shopper", "شكرا جزيلا! " * 12),
        (
            "agent",
            "A medium-length answer about sizes: our jackets run a little large, so if you are between "
            "two sizes, take the smaller one.",
        ),
        ("shopper", "Good to know"),
        ("agent", "Anything else?"),
        ("shopper", "Wait, one more: gift wrap?"),
        ("agent", "Yes, €3, choose it at checkout."),
        ("shopper", "מעולה"),
        ("agent", "🙂"),
        ("shopper", "What about the mug, dishwasher safe?"),
        ("agent", "Yes, and microwave safe too."),
        ("shopper", "Great, ordering now. " * 5),
        ("agent", "Enjoy! We are here if you need anything."),
        ("shopper", "Ordered: #1003"),
        ("agent", "Got it, thank you!"),
        ("shopper", "Bye"),
        ("agent", f"Bye! [{tag}]"),
    ]
    assert len(lines) == 29
    return lines


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("widget-layout"))
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def seed_thread(stack, first: str, tag: str) -> None:
    """Messages 2–30 of the thread, stored as the shopper and the shop team would."""
    with stack.services.db.session() as session:
        [message] = session.exec(select(Message).where(Message.body == first)).all()
        conversation_id = message.conversation_id
        from app.models import Conversation

        visitor_id = session.get(Conversation, conversation_id).visitor_id
    chat = stack.services.chat
    for author, body in thread_bodies(tag):
        if author == "shopper":
            chat.send_shopper_message(stack.shop_id, visitor_id, str(uuid.uuid4()), body)
        else:
            chat.send_agent_message(stack.shop_id, conversation_id, "agent-1", body, str(uuid.uuid4()))


def scroller_box(page) -> dict:
    [box] = element_boxes(page, ".parley-scroll")
    return box


def assert_rows_keep_their_text(page) -> None:
    rows = element_boxes(page, ROWS)
    bubbles = element_boxes(page, f"{BUBBLES}, .parley-greeting")
    assert len(element_boxes(page, MESSAGES)) == 30
    short = [b for b in bubbles if b["height"] + 0.5 < b["text_height"] or b["scroll_height"] > b["client_height"] + 1]
    assert not short, f"bubbles shorter than their text: {short[:3]}"
    # A message's row holds its bubble and its time/ticks line, whole.
    squeezed = page.evaluate(
        """() => [...document.querySelectorAll('.parley-log .parley-msg')].filter((row) => {
          const box = row.getBoundingClientRect();
          return [...row.querySelectorAll('.parley-bubble, .parley-meta')].some((part) => {
            const inner = part.getBoundingClientRect();
            return inner.top < box.top - 0.5 || inner.bottom > box.bottom + 0.5;
          });
        }).map((row) => row.textContent.slice(0, 40))"""
    )
    assert not squeezed, f"rows shorter than what they hold: {squeezed[:3]}"
    assert not overlapping(rows), f"rows overlap: {overlapping(rows)[:2]}"
    assert not overlapping(bubbles), f"bubbles overlap: {overlapping(bubbles)[:2]}"
    # Rows follow one another downwards, in thread order.
    tops = [r["top"] for r in rows]
    assert tops == sorted(tops)


def assert_newest_visible(page, text: str) -> None:
    view = scroller_box(page)
    newest = element_boxes(page, f"{MESSAGES}:last-child .parley-bubble")[-1]
    assert text in page.locator(f"{MESSAGES}:last-child .parley-bubble").inner_text()
    assert view["top"] - 1 <= newest["top"] and newest["bottom"] <= view["bottom"] + 1, (newest, view)


def assert_shopper_side(page, rtl: bool) -> None:
    """The shopper's own messages sit at the inline end: right in English, left in Hebrew."""
    view = scroller_box(page)
    mine = element_boxes(page, ".parley-log .parley-from-shopper .parley-bubble")
    theirs = element_boxes(page, ".parley-log .parley-from-agent .parley-bubble")
    for box in mine:
        gap = box["left"] - view["left"] if rtl else view["right"] - box["right"]
        assert gap < 40, box
    for box in theirs:
        gap = view["right"] - box["right"] if rtl else box["left"] - view["left"]
        assert gap < 40, box


CASES = [
    pytest.param(1280, 800, "en", id="desktop-ltr"),
    pytest.param(1280, 800, "he", id="desktop-rtl"),
    pytest.param(390, 844, "en", id="phone-ltr"),
    pytest.param(390, 844, "he", id="phone-rtl"),
]


@pytest.mark.parametrize(("width", "height", "language"), CASES)
def test_a_thirty_message_thread_keeps_every_message_whole_and_scrolls_end_to_end(
    stack, browser, width, height, language
):
    rtl = language == "he"
    phone = width < 640
    name = f"widget_long_thread_{'phone' if phone else 'desktop'}_{'rtl' if rtl else 'ltr'}"
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="he-IL" if rtl else "en-US",
        has_touch=phone,
        reduced_motion="reduce",
    )
    context.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        url = stack.storefront_url + ("?locale=he" if rtl else "")
        tag = uuid.uuid4().hex[:6]
        first = f"Hello! Do you ship to Tallinn? [{tag}]"
        page.goto(url)
        page.click(".parley-launcher")
        page.fill("#parley-input", first)
        page.press("#parley-input", "Enter")
        expect(page.locator(".parley-log .parley-tick")).to_have_count(1)
        seed_thread(stack, first, tag)

        # After a reload: the whole thread comes back from the server.
        page.reload()
        panel = page.locator("#parley-panel")
        if phone:  # a phone's full-screen panel is never reopened by itself
            page.wait_for_timeout(300)
            assert not panel.is_visible()
            page.click(".parley-launcher")
        expect(panel).to_be_visible()
        expect(page.locator(MESSAGES)).to_have_count(30)
        page.wait_for_function(
            "() => { const s = document.querySelector('.parley-scroll'); "
            "return s.scrollHeight - s.scrollTop - s.clientHeight < 2; }"
        )
        assert panel.evaluate("el => getComputedStyle(el).direction") == ("rtl" if rtl else "ltr")
        assert_rows_keep_their_text(page)
        assert_newest_visible(page, f"Bye! [{tag}]")
        assert_shopper_side(page, rtl)
        page.screenshot(path=str(artifacts_dir() / f"{name}.png"))

        # It scrolls, all the way back to the greeting and the first message.
        scroll = page.locator(".parley-scroll")
        assert scroll.evaluate("el => el.scrollHeight > el.clientHeight * 3")
        scroll.evaluate("el => { el.scrollTop = 0; }")
        page.wait_for_timeout(200)
        view = scroller_box(page)
        [greeting] = element_boxes(page, ".parley-greeting")
        oldest = element_boxes(page, MESSAGES)[0]
        assert view["top"] - 1 <= greeting["top"] and greeting["bottom"] <= view["bottom"], (greeting, view)
        assert first in page.locator(MESSAGES).first.inner_text()
        assert oldest["bottom"] <= view["bottom"] + 1
        assert_rows_keep_their_text(page)
        page.screenshot(path=str(artifacts_dir() / f"{name}_oldest.png"))

        # Sending from the top of the thread: the new message shows at the bottom, delivered.
        latest = f"One more thing: the 2,000-character policy was clear. [{tag}]"
        page.fill("#parley-input", latest)
        page.press("#parley-input", "Enter")
        expect(page.locator(".parley-log .parley-from-shopper").last).to_contain_text(latest)
        expect(page.locator(".parley-log .parley-from-shopper").last.locator(".parley-tick")).to_have_count(1)
        page.wait_for_timeout(200)
        assert_newest_visible(page, latest)
        rows = element_boxes(page, ROWS)
        assert not overlapping(rows)
        page.screenshot(path=str(artifacts_dir() / f"{name}_sent.png"))
        assert not errors, errors
    finally:
        context.close()
