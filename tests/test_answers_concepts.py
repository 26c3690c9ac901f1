"""Two-word names in the shop vocabulary name only what they name together: a gift card
("karty podarunkowe", "подарочные карты") is not a card to pay with, so a gift-card
question is not answered with the payment methods."""

from __future__ import annotations

import pytest

from app.answers.concepts import concepts
from app.answers.decide import Action, decide
from app.answers.matcher import AnswerText
from app.answers.normalize import normalize
from app.answers.stopwords import content_words
from standins.demo.answers import DEMO_ANSWERS

# A small shop's list (the demo's), where payment is one answer among five.
LISTS = {
    language: [AnswerText(key, question, answer, tuple(alternatives)) for key, question, alternatives, answer in rows]
    for language, rows in DEMO_ANSWERS.items()
}


def named(text: str) -> list[str]:
    return concepts(content_words(normalize(text)))


def test_a_gift_card_is_a_voucher_not_a_way_to_pay():
    assert "pay" not in named("czy macie karty podarunkowe") and "voucher" in named("czy macie karty podarunkowe")
    assert named("czy mogę zapłacić kartą") == ["pay"]


@pytest.mark.parametrize("language, question", [("pl", "czy macie karty podarunkowe"), ("ru", "есть подарочные карты")])
def test_a_gift_card_question_is_handed_over_not_answered_with_payment(language, question):
    decision = decide(question, LISTS[language], team_in=False, mode="always", language=language)
    assert decision.action is Action.handover


@pytest.mark.parametrize("language, question", [("pl", "czy moge zaplacic karta"), ("ru", "можно оплатить картой")])
def test_paying_by_card_is_still_answered(language, question):
    decision = decide(question, LISTS[language], team_in=False, mode="always", language=language)
    assert (decision.action, decision.answer_id) == (Action.answer, "payment")
