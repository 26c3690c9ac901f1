"""The widget's side of e-mail continuity, in Debian's Chromium against the real stack (the
stand-in's demo storefront, the real app embed, Parley behind the signed app proxy; the
Saleor storefront of `make demo` loading /widget/parley.js for the other host):

- "Get the answer by e-mail" is offered only after the shopper's first question, and only
  when it helps: the team is away, nobody answered within three minutes, or the shopper is
  leaving (the pointer out through the top, the panel closed). Never to a signed-in
  customer, never again once an address is on file. Parley's own refusals (no consent, a
  bad address) are said beside the field in the shopper's language.
- A resume link (`?parley_resume=`) hands the conversation to this device on both hosts;
  a link that no longer works says so in the panel, and the widget carries on.

Screenshots of each state go to $PARLEY_ARTIFACTS/screenshots/.
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
from app.models import Conversation, Message, ResumeLink, ShopSetting, Visitor
from tests.support.browser import (
    artifacts_dir,
    browser_contexts,
    element_boxes,
    launch_chromium,
    overlapping,
    start_demo,
    start_stack,
    widget_strings,
)

TIMEOUT_MS = 15_000
TICKS = ".parley-log .parley-from-shopper .parley-tick"
OFFER = "#parley-panel .parley-email"
NOTE = ".parley-log .parley-note"


EN = widget_strings("en.default")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("widget-email"))
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


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def tagged(text: str) -> str:
    return f"{text} [{uuid.uuid4().hex[:6]}]"


def open_chat(page, url: str) -> None:
    page.goto(url)
    page.click(".parley-launcher")
    expect(page.locator("#parley-panel")).to_be_visible()


def ask(page, text: str) -> None:
    """Sends a message and waits until Parley stored it (the tick)."""
    ticks = page.locator(TICKS).count()
    page.fill("#parley-input", text)
    page.press("#parley-input", "Enter")
    expect(page.locator(TICKS)).to_have_count(ticks + 1)


def visitor_of(stack, body: str) -> Visitor:
    with stack.services.db.session() as session:
        [message] = session.exec(select(Message).where(Message.body == body)).all()
        conversation = session.get(Conversation, message.conversation_id)
        return session.get(Visitor, conversation.visitor_id)


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / name), animations="disabled")


def _closed_today(services, shop_id: int):
    tomorrow = WEEKDAYS[(datetime.now(UTC) + timedelta(days=1)).weekday()]
    with services.db.transaction() as session:
        put_setting(
            session,
            shop_id,
            "hours",
            {"timezone": "UTC", "weekly": {tomorrow: [["09:00", "17:00"]]}},
            datetime.now(UTC),
        )


def _always_open(services, shop_id: int):
    with services.db.transaction() as session:
        for row in session.exec(
            select(ShopSetting).where(ShopSetting.shop_id == shop_id, col(ShopSetting.key).in_(["hours"]))
        ):
            session.delete(row)


@pytest.fixture
def after_hours(stack):
    """Hours that open only tomorrow: the team is away now."""
    _closed_today(stack.services, stack.shop_id)
    yield
    _always_open(stack.services, stack.shop_id)


def offer_geometry_is_sound(page, width: int) -> dict:
    """The offer's parts inside the panel, none on another, the error right under the field."""
    [panel] = element_boxes(page, "#parley-panel")
    [form] = element_boxes(page, OFFER)
    [field] = element_boxes(page, "#parley-email")
    [button] = element_boxes(page, ".parley-email-send")
    [consent] = element_boxes(page, ".parley-email-consent")
    assert panel["left"] - 0.5 <= form["left"] and form["right"] <= panel["right"] + 0.5, (panel, form)
    assert form["right"] <= width
    assert not overlapping([field, button, consent]), (field, button, consent)
    assert abs(field["top"] - button["top"]) < 2, "the field and its button share a row"
    assert button["height"] >= 44 and field["height"] >= 38, "big enough to tap"
    assert consent["top"] >= field["bottom"], "the consent sentence is under the field"
    # Nothing is cut: the consent sentence shows all of its lines.
    assert consent["text_height"] <= consent["height"] + 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    return {"panel": panel, "form": form, "field": field, "button": button, "consent": consent}


# ---- the offer ------------------------------------------------------------------------------


def test_after_hours_the_offer_follows_the_first_question_and_says_what_parley_refuses_beside_the_field(
    stack, new_context, after_hours
):
    page = new_context().new_page()
    open_chat(page, stack.storefront_url)
    expect(page.locator(".parley-status")).to_have_text(re.compile(r"^Back at "))  # the session is in: away
    page.wait_for_timeout(300)
    expect(page.locator(OFFER)).to_be_hidden()  # never before the first question

    question = tagged("Do you ship the wool blanket to Tartu?")
    ask(page, question)
    offer = page.locator(OFFER)
    expect(offer).to_be_visible()
    expect(offer.locator(".parley-email-title")).to_have_text(EN["email_offer"])
    expect(offer.locator(".parley-email-consent")).to_have_text(EN["email_consent"])
    expect(offer.locator(".parley-email-send")).to_have_text("Send")
    assert page.locator("#parley-email").get_attribute("type") == "email"
    assert page.evaluate("document.activeElement.id") == "parley-input", "the offer never takes the composer's focus"
    offer_geometry_is_sound(page, 1280)
    shot(page, "widget_email_offer.png")

    # Parley refuses an address without consent: said beside the field, what was typed stays.
    # (The widget always sends consent with Send; the route drops it on the way to show
    # what the shopper reads when Parley refuses.)
    sent: list[dict] = []

    def without_consent(route) -> None:
        body = route.request.post_data_json
        sent.append(body)
        route.continue_(post_data=json.dumps({"email": body["email"]}))

    page.route("**/api/storefront/v1/contact", without_consent)
    page.fill("#parley-email", "mari.tamm@example.com")
    page.click(".parley-email-send")
    error = page.locator(".parley-email-error")
    expect(error).to_have_text(EN["email_error_consent"])
    assert sent == [{"email": "mari.tamm@example.com", "consent": True}]
    expect(page.locator("#parley-email")).to_have_value("mari.tamm@example.com")
    page.unroute("**/api/storefront/v1/contact")

    # An address Parley does not take: its sentence, beside the field, the text kept.
    page.fill("#parley-email", "mari.tamm@example")
    expect(error).to_be_hidden()  # typing again clears the old complaint
    with page.expect_response("**/api/storefront/v1/contact") as answer:
        page.press("#parley-email", "Enter")
    assert answer.value.status == 400 and answer.value.json()["error"] == "invalid_email"
    expect(error).to_have_text(EN["email_error_invalid"])
    expect(page.locator("#parley-email")).to_have_value("mari.tamm@example")
    assert page.locator("#parley-email").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "parley-email"
    boxes = offer_geometry_is_sound(page, 1280)
    [error_box] = element_boxes(page, ".parley-email-error")
    assert 0 <= error_box["top"] - boxes["field"]["bottom"] <= 12, "the error sits right under the field"
    assert error_box["left"] >= boxes["form"]["left"] and error_box["right"] <= boxes["form"]["right"]
    shot(page, "widget_email_error.png")
    assert visitor_of(stack, question).contact_email is None

    # A good address: kept with the time of consent, a line in the thread, the offer gone.
    page.fill("#parley-email", "mari.tamm@example.com")
    page.click(".parley-email-send")
    note = page.locator(NOTE)
    expect(note).to_have_text(f"{EN['email_saved']} mari.tamm@example.com")
    expect(page.locator(OFFER)).to_be_hidden()
    visitor = visitor_of(stack, question)
    assert visitor.contact_email == "mari.tamm@example.com" and visitor.contact_consent_at is not None
    shot(page, "widget_email_confirmation.png")

    # Not offered again: not for the next question, not after a reload.
    ask(page, tagged("And do you gift-wrap?"))
    page.wait_for_timeout(300)
    expect(page.locator(OFFER)).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('parley:email')") == visitor.id
    page.reload()
    expect(page.locator("#parley-panel")).to_be_visible()  # left open, so open again
    expect(page.locator(TICKS)).to_have_count(2)
    page.wait_for_timeout(300)
    expect(page.locator(OFFER)).to_be_hidden()


def test_with_the_team_in_the_offer_waits_three_minutes_or_for_the_shopper_to_leave(stack, new_context):
    page = new_context().new_page()
    page.clock.install()  # the widget's own clock, to skip the three minutes
    open_chat(page, stack.storefront_url)
    expect(page.locator(".parley-status")).to_have_text("Online now")
    question = tagged("Is the parka warm enough for -20 °C?")
    ask(page, question)
    page.clock.fast_forward("02:50")
    expect(page.locator(OFFER)).to_be_hidden()  # the team is in and may still answer
    page.clock.fast_forward("00:20")
    expect(page.locator(OFFER)).to_be_visible()  # three minutes, and nobody answered

    # An answer arrives: the offer, untouched, goes.
    visitor = visitor_of(stack, question)
    with stack.services.db.session() as session:
        conversation_id = session.exec(select(Conversation.id).where(Conversation.visitor_id == visitor.id)).one()
    stack.services.chat.send_agent_message(stack.shop_id, conversation_id, "agent-1", "Yes, down to -30 °C.", "a-1")
    expect(page.locator(".parley-log .parley-from-agent")).to_have_count(1)
    expect(page.locator(OFFER)).to_be_hidden()

    # A new question, and the pointer leaves through the top of the window (to the tabs).
    ask(page, tagged("And in size XS?"))
    page.wait_for_timeout(200)
    expect(page.locator(OFFER)).to_be_hidden()
    page.mouse.move(640, 300)
    page.mouse.move(640, 1)
    page.wait_for_timeout(200)
    expect(page.locator(OFFER)).to_be_hidden()  # still inside the window
    page.mouse.move(640, -5)  # Chromium says mouseout, with no element to go to
    expect(page.locator(OFFER)).to_be_visible()

    # "Not now": gone for this visit, also when the panel closes with the question open.
    page.click(".parley-email-later")
    expect(page.locator(OFFER)).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "parley-input"
    page.click(".parley-close")
    page.wait_for_timeout(200)
    expect(page.locator(".parley-nudge")).to_be_hidden()


def test_closing_the_panel_with_an_unanswered_question_offers_it_beside_the_launcher(stack, new_context):
    page = new_context().new_page()
    open_chat(page, stack.storefront_url)
    expect(page.locator(".parley-status")).to_have_text("Online now")
    ask(page, tagged("Can I return the boots after 30 days?"))
    page.wait_for_timeout(200)
    expect(page.locator(OFFER)).to_be_hidden()

    page.click(".parley-close")
    nudge = page.locator(".parley-nudge")
    expect(nudge).to_be_visible()
    expect(nudge.locator(".parley-nudge-open")).to_have_text(EN["email_offer"])
    [launcher] = element_boxes(page, ".parley-launcher")
    [bubble] = element_boxes(page, ".parley-nudge")
    assert not overlapping([launcher, bubble]) and bubble["bottom"] <= launcher["top"]
    assert bubble["right"] <= 1280 and bubble["left"] >= 0
    shot(page, "widget_email_nudge.png")

    nudge.locator(".parley-nudge-open").click()
    expect(page.locator(OFFER)).to_be_visible()
    expect(nudge).to_be_hidden()
    expect(page.locator("#parley-email")).to_be_focused()


def test_on_a_phone_in_hebrew_the_offer_reads_right_to_left(stack, new_context, after_hours):
    page = new_context(390, 844, "he-IL").new_page()
    open_chat(page, stack.storefront_url + "?locale=he")
    assert page.locator("#parley-panel").get_attribute("dir") == "rtl"
    ask(page, tagged("האם השמיכה נשלחת לתל אביב?"))
    offer = page.locator(OFFER)
    expect(offer).to_be_visible()
    hebrew = widget_strings("he")
    expect(offer.locator(".parley-email-title")).to_have_text(hebrew["email_offer"])
    expect(offer.locator(".parley-email-consent")).to_have_text(hebrew["email_consent"])
    expect(offer.locator(".parley-email-send")).to_have_text(hebrew["send"])
    page.locator("#parley-email").scroll_into_view_if_needed()
    boxes = offer_geometry_is_sound(page, 390)
    # Right to left: the field starts at the right, its button follows to its left; the
    # title starts at the right edge too. The address itself is typed left to right.
    assert boxes["button"]["right"] <= boxes["field"]["left"] + 0.5
    [title] = element_boxes(page, ".parley-email-title")
    [later] = element_boxes(page, ".parley-email-later")
    assert title["right"] > later["right"]
    assert page.locator("#parley-email").evaluate("el => getComputedStyle(el).direction") == "ltr"
    assert page.locator("#parley-email").evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= 16
    shot(page, "widget_email_offer_rtl_phone.png")

    page.fill("#parley-email", "not an address")
    page.click(".parley-email-send")
    expect(page.locator(".parley-email-error")).to_have_text(hebrew["email_error_invalid"])
    offer_geometry_is_sound(page, 390)
    shot(page, "widget_email_error_rtl_phone.png")

    page.fill("#parley-email", "noa@example.co.il")
    page.click(".parley-email-send")
    expect(page.locator(NOTE)).to_have_text(f"{hebrew['email_saved']} noa@example.co.il")
    # The address keeps its own direction inside the Hebrew sentence.
    assert page.locator(f"{NOTE} bdi").text_content() == "noa@example.co.il"
    shot(page, "widget_email_confirmation_rtl_phone.png")


def test_on_a_phone_in_english_the_offer_fits_the_screen(stack, new_context, after_hours):
    page = new_context(390, 844).new_page()
    open_chat(page, stack.storefront_url)
    ask(page, tagged("Hi! Is the rain jacket in stock in M?"))
    expect(page.locator(OFFER)).to_be_visible()
    offer_geometry_is_sound(page, 390)
    shot(page, "widget_email_offer_phone.png")


def test_a_signed_in_customer_is_never_asked_for_an_address(stack, new_context, after_hours):
    page = new_context().new_page()
    page.goto(stack.storefront_url)
    page.click("#sign-in")
    expect(page.locator("[data-customer-id]")).to_be_visible()
    page.click(".parley-launcher")
    question = tagged("Where is my order #1002?")
    ask(page, question)
    assert visitor_of(stack, question).customer_id
    page.wait_for_timeout(500)
    expect(page.locator(OFFER)).to_have_count(1)  # the widget has the offer, and keeps it hidden
    expect(page.locator(OFFER)).to_be_hidden()
    page.click(".parley-close")
    page.wait_for_timeout(200)
    expect(page.locator(".parley-nudge")).to_be_hidden()


# ---- resume links that no longer work ---------------------------------------------------------


def resume_link(services, visitor: Visitor, *, expired: bool = False, revoked: bool = False) -> str:
    """A resume link for the visitor's conversation, as the reply e-mail carries (its
    making and mailing are tested in tests/test_notify_replies.py)."""
    now = datetime.now(UTC)
    with services.db.transaction() as session:
        conversation_id = session.exec(select(Conversation.id).where(Conversation.visitor_id == visitor.id)).one()
        link = ResumeLink(
            shop_id=visitor.shop_id,
            visitor_id=visitor.id,
            conversation_id=conversation_id,
            expires_at=now - timedelta(minutes=1) if expired else now + timedelta(days=30),
            revoked_at=now if revoked else None,
            created_at=now - timedelta(days=31),
        )
        session.add(link)
        session.flush()
        return services.notify.tokens.resume_token(link.id)


def test_a_link_that_no_longer_works_says_so_in_the_panel_and_the_chat_carries_on(stack, new_context):
    page = new_context().new_page()
    page.goto(stack.storefront_url + "?utm_source=mail&parley_resume=not-a-link-we-made")
    panel = page.locator("#parley-panel")
    expect(panel).to_be_visible()  # opened by the link, without a click
    expect(page.locator(NOTE)).to_have_text(EN["resume_failed"])
    # The parameter is gone from the address (the rest of it stays), so a reload does not retry.
    assert page.evaluate("location.search") == "?utm_source=mail"
    [note] = element_boxes(page, NOTE)
    [box] = element_boxes(page, "#parley-panel")
    assert box["left"] <= note["left"] and note["right"] <= box["right"]
    shot(page, "widget_resume_bad_link.png")

    # Carrying on as usual: the shopper asks again, as a visitor of their own.
    question = tagged("The link did not work, can you help?")
    ask(page, question)
    assert visitor_of(stack, question).contact_email is None


def test_an_expired_or_revoked_link_is_refused_in_the_shoppers_language(stack, new_context):
    owner = new_context().new_page()
    open_chat(owner, stack.storefront_url)
    question = tagged("Kas villased sokid on saadaval?")
    ask(owner, question)
    visitor = visitor_of(stack, question)

    estonian = widget_strings("et")
    for kind in ("expired", "revoked"):
        token = resume_link(stack.services, visitor, **{kind: True})
        page = new_context(locale="et-EE").new_page()
        with page.expect_response("**/api/storefront/v1/resume") as answer:
            page.goto(stack.storefront_url + f"?locale=et&parley_resume={token}")
        assert (answer.value.status, answer.value.json()["error"]) == (410, f"{kind}_link")
        expect(page.locator(NOTE)).to_have_text(estonian["resume_failed"])
        assert "parley_resume" not in page.url
        # This device got nobody's thread: no message of the owner's is on it.
        expect(page.locator(".parley-log .parley-from-shopper")).to_have_count(0)
        assert page.evaluate("localStorage.getItem('parley:visitor')") is None


# ---- a good link on the other host: a Saleor storefront loading /widget/parley.js ------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    stack, stop = start_demo(tmp_path_factory.mktemp("widget-email-demo"))
    yield stack
    stop()


def test_on_a_saleor_storefront_a_resume_link_opens_the_same_conversation_on_another_device(demo, new_context):
    storefront = f"{demo.saleor_url}/storefront/"
    first = new_context().new_page()
    open_chat(first, storefront)
    question = tagged("Do you deliver the parka to Riga before Friday?")
    ask(first, question)
    assert "/widget/parley" in first.evaluate("document.querySelector('script[src*=\"parley\"]').src")
    visitor = visitor_of(demo, question)
    demo.services.chat.send_agent_message(
        visitor.shop_id, conversation_of(demo, visitor), "agent-1", "Yes, by Thursday.", "a-1"
    )
    token = resume_link(demo.services, visitor)

    # The other device, a phone that never saw this shop.
    phone = new_context(390, 844).new_page()
    with phone.expect_response("**/api/storefront/v1/resume") as claimed:
        phone.goto(storefront + f"?parley_resume={token}")
    assert claimed.value.status == 200
    expect(phone.locator("#parley-panel")).to_be_visible()
    expect(phone.locator(".parley-log .parley-bubble")).to_have_text([question, "Yes, by Thursday."])
    assert "parley_resume" not in phone.url
    stored = json.loads(phone.evaluate("localStorage.getItem('parley:visitor')"))
    assert stored["visitor"] == visitor.id  # this device now holds the thread
    shot(phone, "widget_resume_saleor_phone.png")

    # What the phone writes lands in the same conversation; a reload keeps the thread.
    follow_up = tagged("Great, I'll order today.")
    ask(phone, follow_up)
    assert visitor_of(demo, follow_up).id == visitor.id
    phone.reload()
    phone.click(".parley-launcher")
    expect(phone.locator(".parley-log .parley-bubble")).to_have_count(3)


def conversation_of(stack, visitor: Visitor) -> str:
    with stack.services.db.session() as session:
        return session.exec(select(Conversation.id).where(Conversation.visitor_id == visitor.id)).one()
