"""The Answers page and the assistant in the merchant's thread, in Debian's Chromium: a long
list per language, the editor with its errors, the preview that says what the assistant
would reply and why, the store import with its report, the mode, a 390x844 phone and
Hebrew answers right to left; in the conversation, the assistant's messages labelled as
its own with the handover's reason. Screenshots: $PARLEY_ARTIFACTS/screenshots/support_answers_*.png.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest

from app.answers import store
from app.chat.shop_settings import get_settings
from app.clock import utcnow
from app.models import Shop
from standins.shopify import content
from tests.support.browser import DEMO_SHOP, artifacts_dir, element_boxes, launch_chromium, overlapping, start_stack

TIMEOUT_MS = 15_000
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
TOPICS = [
    "shipping to Finland",
    "returns after 30 days",
    "gift wrapping",
    "size of the wool socks",
    "washing merino",
    "paying by invoice",
    "store opening hours",
    "discount for students",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("answers-browser"), assistant=True)
    now = utcnow()
    with stack.services.db.transaction() as session:
        for n in range(40):
            topic = TOPICS[n % len(TOPICS)]
            store.create_answer(
                session,
                stack.shop_id,
                {
                    "language": "en",
                    "question": f"Do you do {topic}? (question {n + 1})",
                    "alternatives": [f"{topic} please", f"how about {topic}"] if n % 3 else [],
                    "answer": f"Yes. About {topic}: see https://parley-demo.example/help/{n} or write to us."
                    + (" Our long answer goes on for a while so the card has to wrap nicely." * (n % 4)),
                    "enabled": n % 7 != 3,
                },
                now,
            )
        for question, answer in (
            ("כמה זמן לוקח המשלוח?", "המשלוח לוקח 2–4 ימי עסקים. מעקב: https://parley-demo.example/track"),
            ("אפשר להחזיר מוצר?", "כן, תוך 30 יום מקבלת ההזמנה, במצב חדש."),
        ):
            store.create_answer(session, stack.shop_id, {"language": "he", "question": question, "answer": answer}, now)
    content.enable_content(stack.standin)
    content.set_policy(stack.standin, DEMO_SHOP, "REFUND_POLICY", "Refund policy", "<p>Within 30 days.</p>")
    content.add_page(stack.standin, DEMO_SHOP, "Size guide", "<p>Our socks run small.</p>")
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


@pytest.fixture
def errors() -> list[str]:
    return []


def open_page(browser, errors, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    context.route(re.compile(r"^https?://cdn\.shopify\.com/"), lambda route: route.abort())
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return context, page


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def shot(page, name: str, **kwargs) -> None:
    page.screenshot(path=str(artifacts_dir() / f"support_answers_{name}.png"), animations="disabled", **kwargs)


def answers_page(page, stack) -> None:
    page.goto(f"{stack.parley_url}/demo/support?next=/app/answers")
    expect(page).to_have_url(re.compile(r"/app/answers"))
    expect(page.locator("#answers li.answer").first).to_be_visible()


def wait_for_messages(stack, visitor: str, count: int) -> None:
    for _ in range(100):
        if len(stack.services.chat.history(stack.shop_id, visitor, None, 50)[0]) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the assistant did not reply: fewer than {count} messages")


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width}px"


def test_a_long_list_of_answers_reads_cleanly(browser, errors, stack):
    context, page = open_page(browser, errors)
    answers_page(page, stack)
    expect(page.locator("#answers li.answer")).to_have_count(40)
    expect(page.locator('.language-tab[aria-pressed="true"]')).to_contain_text("English")
    expect(page.locator(".tabs a[aria-current=page]")).to_have_text("Answers")
    assert page.locator("input[name=mode][value=always]").is_checked()
    cards = element_boxes(page, "#answers li.answer")
    assert not overlapping(cards), "answer cards overlap"
    for n in range(1, 7):
        controls = element_boxes(page, f"#answers li.answer:nth-child({n}) .answer-actions > *")
        assert len(controls) == 3 and not overlapping(controls), "an answer's controls overlap"
    shot(page, "long_list", full_page=True)
    context.close()
    assert not errors, errors


def test_add_edit_switch_off_and_delete_with_errors_said_in_the_form(browser, errors, stack):
    context, page = open_page(browser, errors)
    answers_page(page, stack)
    page.click("#add-answer")
    expect(page.locator("#editor")).to_be_visible()
    page.click("#edit-save")
    error = page.locator('[data-error-for="question"]')
    expect(error).to_have_text("Write the question shoppers ask")
    shot(page, "editor_error")

    page.fill("#edit-question", "Do you ship to Latvia?")
    page.fill("#edit-alternatives", "shipping latvia\nriga delivery")
    page.fill("#edit-answer", "Yes, in 2–3 days. <b>Free</b> over 50 €: https://parley-demo.example/shipping")
    page.click("#edit-save")
    expect(page.locator("#editor")).to_be_hidden()
    added = page.locator("#answers li.answer", has_text="Do you ship to Latvia?")
    expect(added).to_be_visible()
    expect(added.locator(".answer-text")).to_have_text(
        "Yes, in 2–3 days. Free over 50 €: https://parley-demo.example/shipping"
    )
    expect(added.locator(".alternatives li")).to_have_count(2)

    added.get_by_role("button", name="Edit").click()
    page.fill("#edit-question", "Do you ship to Latvia and Lithuania?")
    page.click("#edit-save")
    edited = page.locator("#answers li.answer", has_text="Latvia and Lithuania")
    expect(edited).to_be_visible()
    edited.locator("input[type=checkbox]").uncheck()
    expect(edited).to_have_class(re.compile("answer-off"))
    with stack.services.db.session() as session:
        stored = [a for a in store.list_answers(session, stack.shop_id, "en") if "Lithuania" in a.question]
    assert [a.enabled for a in stored] == [False]
    delete = edited.get_by_role("button", name="Delete")
    delete.click()
    expect(delete).to_have_text("Delete for good?")  # asked on the button: no window.confirm in an iframe
    delete.click()
    expect(page.locator("#answers li.answer", has_text="Latvia and Lithuania")).to_have_count(0)
    context.close()
    assert not errors, errors


def test_the_preview_says_what_the_assistant_would_reply_and_why(browser, errors, stack):
    context, page = open_page(browser, errors)
    answers_page(page, stack)
    page.fill("#preview-question", "do you do gift wraping")
    page.select_option("#preview-language", "en")
    page.click("#preview-form button[type=submit]")
    result = page.locator("#preview-result .preview")
    expect(result).to_be_visible()
    expect(result.locator(".preview-verdict")).to_have_text("It would answer.")
    expect(result.locator(".preview-reply")).to_contain_text("About gift wrapping")
    expect(result).to_contain_text("Closest answer:")
    shot(page, "preview")
    page.fill("#preview-question", "can I talk to a real person")
    page.click("#preview-form button[type=submit]")
    expect(result.locator(".preview-verdict")).to_have_text("The shopper asks for a person: it hands over.")
    page.fill("#preview-question", "")
    page.click("#preview-form button[type=submit]")
    expect(page.locator("#preview-error")).to_have_text("type a question of up to 1,000 characters")
    context.close()
    assert not errors, errors


def test_the_import_shows_its_report_and_a_reimport_says_nothing_changed(browser, errors, stack):
    context, page = open_page(browser, errors)
    answers_page(page, stack)
    page.select_option("#import-language", "en")
    page.click("#import")
    report = page.locator("#import-report")
    expect(report).to_contain_text("Added (2)")
    expect(report).to_contain_text("Refund policy")
    expect(page.locator("#answers li.answer", has_text="Size guide")).to_contain_text("Shopify page")
    shot(page, "import_report")
    page.click("#import")
    expect(report).to_contain_text("Nothing changed since the last import.")
    expect(report).to_contain_text("Unchanged (2)")
    context.close()
    assert not errors, errors


def test_switching_the_assistant_to_after_hours_is_saved(browser, errors, stack):
    context, page = open_page(browser, errors)
    answers_page(page, stack)
    page.check("input[name=mode][value=after_hours]")
    expect(page.locator("#mode-help")).to_contain_text("outside your business hours")
    with stack.services.db.session() as session:
        for _ in range(50):
            if get_settings(session, stack.shop_id).get("assistant_mode") == "after_hours":
                break
            page.wait_for_timeout(100)
            session.expire_all()
        assert get_settings(session, stack.shop_id).get("assistant_mode") == "after_hours"
    page.check("input[name=mode][value=always]")
    expect(page.locator("#mode-help")).to_contain_text("whenever it is sure")
    page.wait_for_timeout(300)
    context.close()
    assert not errors, errors


def test_on_a_phone_nothing_scrolls_sideways(browser, errors, stack):
    context, page = open_page(browser, errors, PHONE)
    answers_page(page, stack)
    no_sideways_scroll(page)
    assert not overlapping(element_boxes(page, "#answers li.answer:first-child .answer-head > *"))
    shot(page, "phone")
    page.click("#add-answer")
    dialog = page.locator("#editor").bounding_box()
    assert dialog["x"] >= 0 and dialog["x"] + dialog["width"] <= PHONE["width"]
    shot(page, "phone_editor")
    context.close()
    assert not errors, errors


def test_hebrew_answers_read_right_to_left(browser, errors, stack):
    context, page = open_page(browser, errors)
    answers_page(page, stack)
    page.locator(".language-tab", has_text="Hebrew").click()
    hebrew = page.locator("#answers li.answer")
    expect(hebrew).to_have_count(2)
    text = hebrew.first.locator(".answer-text")
    assert text.evaluate("el => getComputedStyle(el).direction") == "rtl"
    question = hebrew.first.locator(".answer-question").bounding_box()
    head = hebrew.first.locator(".answer-head").bounding_box()
    # Right to left: the question starts at the card's right edge.
    assert head["x"] + head["width"] - (question["x"] + question["width"]) < 4
    shot(page, "hebrew_rtl")
    context.close()
    assert not errors, errors


def test_the_merchant_sees_the_assistants_messages_labelled_with_the_handover_reason(browser, errors, stack):
    with stack.services.db.session() as session:
        shop = session.get(Shop, stack.shop_id)
    started = stack.services.sessions.start(shop, None, "en")
    visitor = started["visitor_id"]
    stack.services.chat.send_shopper_message(stack.shop_id, visitor, str(uuid.uuid4()), "do you do gift wrapping")
    wait_for_messages(stack, visitor, 2)  # the assistant answers in the background, as under parley serve
    sent = stack.services.chat.send_shopper_message(
        stack.shop_id, visitor, str(uuid.uuid4()), "do you sell kayaks in purple"
    )
    wait_for_messages(stack, visitor, 4)

    context, page = open_page(browser, errors)
    page.goto(f"{stack.parley_url}/demo/support?next=/app/conversations/{sent.conversation.id}")
    bot = page.locator(".msg.from-bot")
    expect(bot).to_have_count(2)
    expect(bot.first.locator(".msg-meta")).to_contain_text("Assistant")
    expect(bot.first.locator(".msg-meta")).to_contain_text("% sure")
    expect(bot.nth(1).locator(".msg-meta")).to_contain_text("Handed over: not sure of an answer")
    shot(page, "thread")
    context.close()
    assert not errors, errors


def test_insights_show_what_the_assistant_did_and_the_first_response_targets(browser, errors, stack):
    with stack.services.db.session() as session:
        shop = session.get(Shop, stack.shop_id)
    visitor = stack.services.sessions.start(shop, None, "en")["visitor_id"]
    stack.services.chat.send_shopper_message(stack.shop_id, visitor, str(uuid.uuid4()), "do you do gift wrapping?")
    wait_for_messages(stack, visitor, 2)
    for viewport, name in ((DESKTOP, "insights"), (PHONE, "insights_phone")):
        context, page = open_page(browser, errors, viewport)
        page.goto(f"{stack.parley_url}/demo/support?next=/app/insights")
        figures = page.locator("#assistant-figures .figure")
        expect(figures).to_have_count(4)
        expect(figures.first).to_contain_text("Answered by the assistant")
        answered = int(figures.first.locator("strong").inner_text())
        assert answered >= 2  # this test's answer and the thread test's
        expect(page.locator("#targets .figure")).to_have_count(2)
        expect(page.locator("#targets .figure").first).to_contain_text("Chat")
        expect(page.locator("#targets-summary")).to_contain_text("Target: a first reply within")
        no_sideways_scroll(page)
        page.locator("#assistant-title").scroll_into_view_if_needed()
        shot(page, name, full_page=True)
        context.close()
    assert not errors, errors
