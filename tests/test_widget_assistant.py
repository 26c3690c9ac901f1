"""The shop's assistant in the widget, in Debian's Chromium against the real stack: Parley
behind the stand-in's signed app proxy with its assistant running in the background (as
`parley serve` runs it), the real app embed on the demo storefront, the merchant's answers
written through the admin API; and the Saleor storefront of `make demo` loading
/widget/parley.js for the other host.

- The assistant's messages are labelled as the shop's virtual assistant, in the shopper's
  language, in a bubble of their own (the team's is filled grey), mirrored right to left.
- Each answer offers "this helped" / "talk to a person"; the verdict replaces the buttons
  and a reload shows it again (it is the message's meta.feedback).
- "Talk to a person" is one click away in the panel's header while the assistant has the
  conversation; its handover note arrives by the stream and says when a person answers,
  and the conversation is handed over in the database.
- An uncovered question gets the handover note and no answer; with the assistant off,
  nothing of the assistant's arrives.

Screenshots of each state go to $PARLEY_ARTIFACTS/screenshots/.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from sqlmodel import select

from app.chat.auto_replies import HANDOVER
from app.models import AuthorKind, Conversation, Message
from standins.demo import DEMO_SHOP
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
from tests.support.shops import bearer

TIMEOUT_MS = 15_000
BOT = ".parley-log .parley-from-bot"
ANSWER = f"{BOT}:not(.parley-handover)"
NOTE = f"{BOT}.parley-handover"
CHOICES = f"{ANSWER} .parley-choice"
PERSON = "#parley-panel .parley-person"
TICKS = ".parley-log .parley-from-shopper .parley-tick"

ANSWERS = [
    {
        "language": "et",
        "question": "Kui kaua võtab tarne aega?",
        "alternatives": ["millal pakk kohale jõuab", "tarneaeg"],
        "answer": "Tellimused jõuavad Eestis kohale 1–2 tööpäevaga, mujale ELi 3–5 päevaga.",
    },
    {
        "language": "et",
        "question": "Kas saan toote tagastada?",
        "alternatives": ["tagastamine", "raha tagasi"],
        "answer": "Tagastada saab 30 päeva jooksul: https://example.com/tagastus",
    },
    {
        "language": "he",
        "question": "כמה זמן לוקח המשלוח?",
        "alternatives": ["מתי החבילה תגיע", "זמן משלוח", "תוך כמה ימים מגיע"],
        "answer": "משלוחים מגיעים תוך 2–4 ימי עסקים לכל הארץ.",
    },
]
SHIPPING_ET, RETURNS_ET, SHIPPING_HE = (a["answer"] for a in ANSWERS)
SHIPPING_EN = {
    "language": "en",
    "question": "How long does shipping take?",
    "alternatives": ["delivery time", "when will my parcel arrive"],
    "answer": "Orders arrive in 2–4 working days.",
}


ET, HE, EN = widget_strings("et"), widget_strings("he"), widget_strings("en.default")


class Decisions:
    """What the assistant decided for each question, as it runs in the background: a test
    waits for the decision on its question instead of sleeping (the queue is the server's)."""

    def __init__(self, auto_replies):
        self.seen: dict[int, object] = {}
        answer = auto_replies.answer

        def recorded(question):
            decision = answer(question)
            self.seen[question.message_id] = decision
            return decision

        auto_replies.answer = recorded  # the background loop looks the method up per question

    def on(self, message_id: int, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while message_id not in self.seen:
            assert time.monotonic() < deadline, f"the assistant never looked at message {message_id}"
            time.sleep(0.05)
        return self.seen[message_id]


def create_answers(client, headers: dict, answers: list[dict]) -> list[int]:
    ids = []
    for answer in answers:
        created = client.post("/admin/api/answers", json=answer, headers=headers)
        assert created.status_code == 201, created.data
        ids.append(created.get_json()["answer"]["id"])
    return ids


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack, stop = start_stack(tmp_path_factory.mktemp("widget-assistant"), assistant=True)
    stack.decisions = Decisions(stack.services.auto_replies)
    stack.admin = stack.app.test_client()
    stack.answer_ids = create_answers(stack.admin, bearer(stack.standin, DEMO_SHOP), ANSWERS)
    yield stack
    stop()


@pytest.fixture
def assistant_mode(stack):
    """Sets the shop's assistant mode through the admin API; back to "always" afterwards."""

    def set_mode(mode: str) -> None:
        answer = stack.admin.put("/admin/api/assistant", json={"mode": mode}, headers=bearer(stack.standin, DEMO_SHOP))
        assert answer.status_code == 200, answer.data

    yield set_mode
    set_mode("always")


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


def tagged(text: str) -> str:
    """A question no other test asks (the tag is a word the matcher does not know)."""
    return f"{text} {uuid.uuid4().hex[:6]}"


def stored(services, body: str) -> Message:
    with services.db.session() as session:
        [message] = session.exec(select(Message).where(Message.body == body)).all()
        return message


def thread(services, conversation_id: str) -> list[Message]:
    with services.db.session() as session:
        return list(
            session.exec(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
        )


def conversation(services, conversation_id: str) -> Conversation:
    with services.db.session() as session:
        return session.get(Conversation, conversation_id)


def shot(page, name: str) -> None:
    page.screenshot(path=str(artifacts_dir() / name), animations="disabled")


def style(page, selector: str, prop: str) -> str:
    return page.locator(selector).first.evaluate(f"el => getComputedStyle(el).{prop}")


def inside(inner: dict, outer: dict) -> bool:
    return (
        outer["left"] - 0.5 <= inner["left"]
        and inner["right"] <= outer["right"] + 0.5
        and outer["top"] - 0.5 <= inner["top"]
        and inner["bottom"] <= outer["bottom"] + 0.5
    )


def answer_geometry_is_sound(page, width: int, rtl: bool) -> None:
    """The label above the bubble at its start edge, the buttons under it, side by side
    from the start edge, big enough to tap, inside the panel, nothing on anything else."""
    [panel] = element_boxes(page, "#parley-panel")
    label = element_boxes(page, f"{ANSWER} .parley-by")[-1]
    bubble = element_boxes(page, f"{ANSWER} .parley-bubble")[-1]
    first, second = element_boxes(page, CHOICES)[-2:]
    for box in (label, bubble, first, second):
        assert inside(box, panel), (box, panel)
    assert not overlapping([label, bubble, first, second])
    assert label["bottom"] <= bubble["top"] + 0.5 and bubble["bottom"] <= first["top"]
    start = (lambda box: box["right"]) if rtl else (lambda box: box["left"])
    assert abs(start(label) - start(bubble)) <= 6 and abs(start(first) - start(bubble)) <= 6
    if abs(first["top"] - second["top"]) < 2:  # one row: "this helped" first, from the start edge
        assert (first["left"] > second["left"]) if rtl else (first["left"] < second["left"])
    assert min(first["height"], second["height"]) >= 36
    assert first["text_height"] <= first["height"] and second["text_height"] <= second["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


# ---- an answer, labelled, and "this helped" -----------------------------------------------------


def test_an_estonian_question_gets_the_assistants_answer_labelled_and_this_helped_holds_across_a_reload(
    stack, new_context
):
    page = new_context(locale="et-EE").new_page()
    open_chat(page, stack.storefront_url + "?locale=et")
    question = tagged("kui kiiresti pakk kohale joauab?")  # misspelt, no diacritics
    ask(page, question)
    asked = stored(stack.services, question)

    answer = page.locator(ANSWER)
    expect(answer.locator(".parley-bubble")).to_have_text(SHIPPING_ET)
    expect(answer.locator(".parley-by")).to_have_text(ET["assistant"])
    expect(answer.locator(".parley-choice")).to_have_text([ET["helped"], ET["talk_to_person"]])
    expect(page.locator(PERSON)).to_have_text(ET["talk_to_person"])  # one click away in the header
    [reply] = [m for m in thread(stack.services, asked.conversation_id) if m.author_kind == AuthorKind.bot]
    assert reply.meta["answer_id"] == stack.answer_ids[0] and reply.meta["feedback"] is None

    # A person from the team writes too: their reply and the assistant's do not look alike.
    stack.services.chat.send_agent_message(
        stack.shop_id, asked.conversation_id, "agent-1", "Tere! Kuhu pakk minema peaks?", str(uuid.uuid4())
    )
    team = ".parley-log .parley-from-agent .parley-bubble"
    expect(page.locator(team)).to_have_count(1)
    assert style(page, f"{ANSWER} .parley-bubble", "backgroundColor") != style(page, team, "backgroundColor")
    assert style(page, f"{ANSWER} .parley-bubble", "borderTopStyle") == "solid"
    assert style(page, team, "borderTopStyle") == "none"
    expect(page.locator(".parley-log .parley-from-agent .parley-by")).to_have_count(0)  # the team has no such label
    answer_geometry_is_sound(page, 1280, rtl=False)
    shot(page, "widget_assistant_answer_ltr.png")

    # "This helped": the verdict takes the buttons' place; the question no longer waits.
    with page.expect_response(f"**/api/storefront/v1/messages/{reply.id}/feedback") as sent:
        answer.locator(".parley-choice", has_text=ET["helped"]).click()
    assert sent.value.status == 200 and sent.value.request.post_data_json == {"helpful": True}
    expect(answer.locator(".parley-verdict")).to_have_text(ET["helped_done"])
    expect(answer.locator(".parley-choice")).to_have_count(0)
    expect(page.locator("#parley-input")).to_be_focused()  # the clicked button is gone; typing goes on
    after = conversation(stack.services, asked.conversation_id)
    assert after.waiting_since is None and after.handed_over_at is None
    assert thread(stack.services, asked.conversation_id)[1].meta["feedback"] == "helpful"
    shot(page, "widget_assistant_helped.png")

    # A reload shows the same: the verdict, no buttons.
    page.reload()
    expect(page.locator("#parley-panel")).to_be_visible()  # left open, so open again
    expect(answer.locator(".parley-verdict")).to_have_text(ET["helped_done"])
    expect(answer.locator(".parley-by")).to_have_text(ET["assistant"])
    expect(page.locator(CHOICES)).to_have_count(0)


def test_a_feedback_call_that_fails_says_so_and_keeps_the_buttons(stack, new_context):
    page = new_context(locale="et-EE").new_page()
    open_chat(page, stack.storefront_url + "?locale=et")
    ask(page, tagged("kas saab tagastada"))
    expect(page.locator(f"{ANSWER} .parley-bubble")).to_have_text(RETURNS_ET)
    expect(page.locator(f"{ANSWER} .parley-url")).to_have_attribute("href", "https://example.com/tagastus")

    page.route("**/feedback", lambda route: route.fulfill(status=503, json={"error": "unavailable", "message": "x"}))
    page.locator(CHOICES).first.click()
    expect(page.locator(f"{ANSWER} .parley-feedback-error")).to_have_text(ET["feedback_error"])
    expect(page.locator(CHOICES)).to_have_count(2)
    expect(page.locator(CHOICES).first).to_be_enabled()
    page.unroute("**/feedback")
    page.locator(CHOICES).first.click()
    expect(page.locator(f"{ANSWER} .parley-verdict")).to_have_text(ET["helped_done"])
    expect(page.locator(f"{ANSWER} .parley-feedback-error")).to_have_count(0)


# ---- right to left, on a phone, and "talk to a person" on an answer ---------------------------------


def test_on_a_phone_in_hebrew_the_answer_reads_right_to_left_and_talk_to_a_person_hands_over(stack, new_context):
    page = new_context(390, 844, "he-IL").new_page()
    open_chat(page, stack.storefront_url + "?locale=he")
    assert page.locator("#parley-panel").get_attribute("dir") == "rtl"
    question = tagged("תוך כמה ימים מגיע משלוח לחיפה")
    ask(page, question)
    asked = stored(stack.services, question)

    answer = page.locator(ANSWER)
    expect(answer.locator(".parley-bubble")).to_have_text(SHIPPING_HE)
    expect(answer.locator(".parley-by")).to_have_text(HE["assistant"])
    expect(answer.locator(".parley-choice")).to_have_text([HE["helped"], HE["talk_to_person"]])
    # The assistant speaks from the start edge, the right one in Hebrew; the shopper from the left.
    [panel] = element_boxes(page, "#parley-panel")
    [bubble] = element_boxes(page, f"{ANSWER} .parley-bubble")
    mine = element_boxes(page, ".parley-log .parley-from-shopper .parley-bubble")[-1]
    assert panel["right"] - bubble["right"] < 24 and mine["left"] - panel["left"] < 24
    answer_geometry_is_sound(page, 390, rtl=True)
    [header] = element_boxes(page, "#parley-panel .parley-head")
    [person] = element_boxes(page, PERSON)
    assert inside(person, header) and person["height"] >= 36
    assert panel["right"] - person["right"] < 24, "the header's button starts at the right edge too"
    shot(page, "widget_assistant_answer_rtl_phone.png")

    with page.expect_response("**/feedback") as sent:
        answer.locator(".parley-choice", has_text=HE["talk_to_person"]).click()
    assert sent.value.request.post_data_json == {"helpful": False}
    expect(answer.locator(".parley-verdict")).to_have_text(HE["person_asked"])
    # The handover note arrives by the stream: the assistant's, dashed, with when a person answers.
    note = page.locator(NOTE)
    expect(note.locator(".parley-bubble")).to_have_text(HANDOVER["he"])
    expect(note.locator(".parley-by")).to_have_text(HE["assistant"])
    expect(note.locator(".parley-when")).to_have_text(re.compile(r"^" + re.escape(HE["replies_in"].split("{{")[0])))
    assert style(page, f"{NOTE} .parley-bubble", "borderTopStyle") == "dashed"
    expect(page.locator(PERSON)).to_be_hidden()  # a person has it: nothing more to ask for
    handed = conversation(stack.services, asked.conversation_id)
    assert handed.handed_over_at is not None and handed.handoff_reason == "asked for a person"
    assert handed.waiting_since is not None  # waiting on the team
    [note_box] = element_boxes(page, f"{NOTE} .parley-bubble")
    assert inside(note_box, panel) and panel["right"] - note_box["right"] < 24
    shot(page, "widget_assistant_handover_rtl_phone.png")

    # The reload: the verdict and the note as they were.
    page.reload()
    page.click(".parley-launcher")  # a phone does not reopen the panel by itself
    expect(answer.locator(".parley-verdict")).to_have_text(HE["person_asked"])
    expect(note.locator(".parley-bubble")).to_have_text(HANDOVER["he"])
    expect(page.locator(CHOICES)).to_have_count(0)
    expect(page.locator(PERSON)).to_be_hidden()


# ---- "talk to a person", always one click away -------------------------------------------------------


def test_talk_to_a_person_in_the_header_hands_over_in_one_click(stack, new_context):
    page = new_context(locale="et-EE").new_page()
    open_chat(page, stack.storefront_url + "?locale=et")
    expect(page.locator(PERSON)).to_be_hidden()  # nothing to hand over before there is a conversation
    question = tagged("tarneaeg?")
    ask(page, question)
    asked = stored(stack.services, question)
    expect(page.locator(f"{ANSWER} .parley-bubble")).to_have_text(SHIPPING_ET)
    person = page.locator(PERSON)
    expect(person).to_be_visible()
    [header] = element_boxes(page, "#parley-panel .parley-head")
    [box] = element_boxes(page, PERSON)
    assert inside(box, header) and box["height"] >= 36

    with page.expect_response("**/api/storefront/v1/handover") as sent:
        person.click()
    assert sent.value.status == 204
    note = page.locator(NOTE)
    expect(note.locator(".parley-bubble")).to_have_text(HANDOVER["et"])
    expect(note.locator(".parley-when")).to_have_text(ET["replies_in"].replace("{{ minutes }}", "5"))
    expect(person).to_be_hidden()
    # The answer keeps "this helped" (the shopper may still say it solved it); asking again means nothing.
    expect(page.locator(CHOICES)).to_have_text([ET["helped"]])
    handed = conversation(stack.services, asked.conversation_id)
    assert handed.handed_over_at is not None and handed.handoff_reason == "asked for a person"
    shot(page, "widget_assistant_handover.png")

    # A person answers: the note's "when" has done its job.
    stack.services.chat.send_agent_message(
        stack.shop_id, asked.conversation_id, "agent-1", "Tere, siin Mari. Kuhu pakk läheb?", str(uuid.uuid4())
    )
    expect(page.locator(".parley-log .parley-from-agent")).to_have_count(1)
    expect(note.locator(".parley-when")).to_have_count(0)


def test_an_uncovered_question_gets_the_handover_note_and_no_answer(stack, new_context):
    page = new_context(locale="et-EE").new_page()
    open_chat(page, stack.storefront_url + "?locale=et")
    question = tagged("Kas teil on kinkekaarte?")
    ask(page, question)
    asked = stored(stack.services, question)
    note = page.locator(NOTE)
    expect(note.locator(".parley-bubble")).to_have_text(HANDOVER["et"])
    expect(note.locator(".parley-by")).to_have_text(ET["assistant"])
    expect(note.locator(".parley-when")).to_be_visible()
    expect(page.locator(ANSWER)).to_have_count(0)
    expect(page.locator(".parley-choice")).to_have_count(0)
    expect(page.locator(PERSON)).to_be_hidden()
    handed = conversation(stack.services, asked.conversation_id)
    assert handed.handed_over_at is not None and handed.handoff_reason == "not sure"
    assert [m.author_kind for m in thread(stack.services, asked.conversation_id)] == [
        AuthorKind.shopper,
        AuthorKind.bot,
    ]


def test_with_the_assistant_off_nothing_of_the_assistants_arrives(stack, new_context, assistant_mode):
    assistant_mode("off")
    page = new_context(locale="et-EE").new_page()
    open_chat(page, stack.storefront_url + "?locale=et")
    question = tagged("tarneaeg?")
    ask(page, question)
    asked = stored(stack.services, question)
    decision = stack.decisions.on(asked.id)
    assert (decision.action.value, decision.reason) == ("silent", "bot off")
    page.wait_for_timeout(500)  # a message published now would have reached the page by the stream
    expect(page.locator(BOT)).to_have_count(0)
    expect(page.locator(PERSON)).to_be_hidden()
    assert [m.author_kind for m in thread(stack.services, asked.conversation_id)] == [AuthorKind.shopper]
    assert conversation(stack.services, asked.conversation_id).handed_over_at is None


# ---- the other host: a Saleor storefront loading /widget/parley.js --------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    demo, stop = start_demo(tmp_path_factory.mktemp("widget-assistant-demo"), assistant=True)
    saleor = demo.saleor
    token = saleor.mint_dashboard_token(email="staff@parley-demo.example")
    headers = {"Authorization": f"Bearer {token}", "Saleor-Api-Url": saleor.api_url}
    demo.answer_ids = create_answers(demo.app.test_client(), headers, [SHIPPING_EN])
    yield demo
    stop()


def test_on_a_saleor_storefront_the_assistant_answers_and_hands_over(demo, new_context):
    page = new_context().new_page()
    open_chat(page, f"{demo.saleor_url}/storefront/")
    assert "/widget/parley" in page.evaluate("document.querySelector('script[src*=\"parley\"]').src")
    question = tagged("how long does delivery take")
    ask(page, question)
    asked = stored(demo.services, question)
    answer = page.locator(ANSWER)
    expect(answer.locator(".parley-bubble")).to_have_text(SHIPPING_EN["answer"])
    expect(answer.locator(".parley-by")).to_have_text(EN["assistant"])
    expect(answer.locator(".parley-choice")).to_have_text([EN["helped"], EN["talk_to_person"]])
    answer_geometry_is_sound(page, 1280, rtl=False)

    answer.locator(".parley-choice", has_text=EN["helped"]).click()
    expect(answer.locator(".parley-verdict")).to_have_text(EN["helped_done"])
    assert conversation(demo.services, asked.conversation_id).waiting_since is None
    shot(page, "widget_assistant_saleor.png")

    page.click(PERSON)
    expect(page.locator(f"{NOTE} .parley-bubble")).to_have_text(HANDOVER["en"])
    expect(page.locator(PERSON)).to_be_hidden()
    handed = conversation(demo.services, asked.conversation_id)
    assert handed.handed_over_at is not None and handed.handoff_reason == "asked for a person"
    assert handed.waiting_since is not None  # marked solved, then a person asked for: waiting again
    shot(page, "widget_assistant_saleor_handover.png")

    page.reload()
    page.click(".parley-launcher")
    expect(answer.locator(".parley-verdict")).to_have_text(EN["helped_done"])
    expect(page.locator(f"{NOTE} .parley-bubble")).to_have_text(HANDOVER["en"])
