"""The decision table: off, after hours only, always; an empty list; what is handed over
and why; and replies that are text with http(s) links only."""

from __future__ import annotations

import pytest

from app.answers.decide import Action, bot_mode, decide
from app.answers.matcher import AnswerText
from app.answers.plain_text import plain_text

ANSWERS = [
    AnswerText(1, "How long does delivery take?", "Orders arrive in 2–3 working days."),
    AnswerText(2, "What is your returns policy?", "Return within 30 days at https://shop.example/returns."),
]
COVERED = "how long does delivery take"


@pytest.mark.parametrize(
    ("mode", "team_in", "action", "reason"),
    [
        ("off", False, Action.silent, "bot off"),
        ("off", True, Action.silent, "bot off"),
        ("after_hours", True, Action.silent, "team is in"),
        ("after_hours", False, Action.answer, "answered"),
        ("always", True, Action.answer, "answered"),
        ("always", False, Action.answer, "answered"),
        ("something else", False, Action.silent, "bot off"),
    ],
)
def test_the_mode_and_the_hours_decide_whether_the_bot_speaks(mode, team_in, action, reason):
    decision = decide(COVERED, ANSWERS, team_in=team_in, mode=mode)
    assert (decision.action, decision.reason) == (action, reason)
    if action is Action.answer:
        assert decision.answer_id == 1
        assert decision.text == "Orders arrive in 2–3 working days."


def test_an_empty_answer_list_keeps_the_bot_silent():
    decision = decide(COVERED, [], team_in=False, mode="always")
    assert (decision.action, decision.reason) == (Action.silent, "no answers")


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("can i talk to a real person about delivery", "asked for a person"),
        ("worst delivery ever, really disappointed", "a complaint"),
        ("where is my order #1047", "order-specific"),
        ("zamówienie nr 48213 jeszcze nie doszło", "order-specific"),
        ("do you repair bicycles", "not sure"),
    ],
)
def test_what_is_handed_over_and_why(question, reason):
    decision = decide(question, ANSWERS, team_in=False, mode="always")
    assert (decision.action, decision.reason) == (Action.handover, reason)
    assert decision.text is None


def test_an_order_specific_handover_carries_the_order_number():
    decision = decide("tellimus 10234 pole siiani kohal", ANSWERS, team_in=False, mode="always", language="et")
    assert decision.intents.order_number == "10234"
    assert decision.as_json()["order_number"] == "10234"


def test_a_message_with_nothing_to_answer_stays_silent():
    assert decide("thanks!", ANSWERS, team_in=False, mode="always").action is Action.silent


def test_an_answer_with_markup_is_sent_as_text_with_http_links_only():
    stored = AnswerText(
        1,
        "How long does delivery take?",
        "<p>Orders arrive in <b>2–3</b> days.</p><script>alert(1)</script>"
        '<a href="javascript:alert(1)">click</a> <a href="https://shop.example/shipping">Shipping</a>',
    )
    decision = decide(COVERED, [stored], team_in=False, mode="always")
    assert decision.action is Action.answer
    assert decision.text == "Orders arrive in 2–3 days.\nclick Shipping (https://shop.example/shipping)"
    assert "<" not in decision.text and "javascript" not in decision.text


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<h2>Returns</h2><ul><li>30 days</li><li>free label</li></ul>", "Returns\n\n• 30 days\n\n• free label"),
        ("Fish &amp; chips &lt;3", "Fish & chips <3"),
        (
            "[our policy](https://shop.example/p) and [x](javascript:alert(1))",
            "our policy (https://shop.example/p) and x",
        ),
        ('<a href="data:text/html,x">data</a> <img src=x onerror=alert(1)>ok', "data ok"),
        ("see javascript:alert(1) now", "see now"),
        ('<a href="https://shop.example/a">https://shop.example/a</a>', "https://shop.example/a"),
        ("<style>p{}</style>plain", "plain"),
    ],
)
def test_plain_text_keeps_text_and_http_links(markup, text):
    assert plain_text(markup) == text


def test_unknown_stored_modes_read_as_off():
    assert bot_mode("always").value == "always"
    assert bot_mode(None).value == "off"
    assert bot_mode("ALWAYS").value == "off"
