"""The matcher on a small answer list: the right answer, a confidence the threshold reads,
and one fit per version of the list."""

from __future__ import annotations

import pytest

from app.answers.decide import Action, decide
from app.answers.matcher import AnswerText, MatcherCache, TfidfMatcher, calibrated, fingerprint

ANSWERS = [
    AnswerText(1, "How long does delivery take?", "Orders leave the same day and arrive in 2–3 working days."),
    AnswerText(2, "What is your returns policy?", "Return unworn items within 30 days.", ("Can I send it back?",)),
    AnswerText(3, "Which payment methods do you accept?", "Visa, Mastercard, PayPal and Klarna."),
    AnswerText(4, "Do you sell gift cards?", "Yes, e-gift cards from £10.", ("Gift voucher",)),
]


@pytest.fixture
def matcher() -> TfidfMatcher:
    fitted = TfidfMatcher()
    fitted.fit(ANSWERS, "en")
    return fitted


@pytest.mark.parametrize(
    ("question", "answer_id"),
    [
        ("how long is delivry to leeds", 1),
        ("can i send back a jumper", 2),
        ("do u take paypal", 3),
        ("gift vouchers?", 4),
    ],
)
def test_misspelt_questions_find_their_answer_with_confidence(matcher, question, answer_id):
    found = matcher.match(question)
    assert found is not None
    assert found.answer_id == answer_id
    assert 0.75 <= found.confidence <= 1.0
    assert "closest to “" in found.why


def test_an_unrelated_question_is_not_confident(matcher):
    found = matcher.match("do you repair bicycles")
    assert found is not None
    assert found.confidence < 0.5


def test_confidence_rises_with_the_score_and_the_lead():
    assert 0.0 < calibrated(0.1, 0.09) < calibrated(0.5, 0.3) < calibrated(0.8, 0.3) < 1.0
    assert calibrated(0.5, 0.1) > calibrated(0.5, 0.45)


def test_the_threshold_answers_above_it_and_hands_over_below(matcher):
    question = "do u take paypal"
    confidence = matcher.match(question).confidence
    above = decide(question, ANSWERS, team_in=False, mode="always", matcher=matcher, threshold=confidence - 0.01)
    below = decide(question, ANSWERS, team_in=False, mode="always", matcher=matcher, threshold=confidence + 0.01)
    assert above.action is Action.answer
    assert (above.answer_id, above.text) == (3, "Visa, Mastercard, PayPal and Klarna.")
    assert below.action is Action.handover
    assert below.reason == "not sure"
    assert below.text is None


def test_russian_in_latin_letters_finds_the_russian_answer():
    answers = [
        AnswerText("cost", "Сколько стоит доставка?", "Доставка в автомат — 2,99 €."),
        AnswerText("returns", "Как вернуть товар?", "Вернуть можно в течение 30 дней."),
    ]
    fitted = TfidfMatcher()
    fitted.fit(answers, "ru")
    assert fitted.match("skolko stoit dostavka").answer_id == "cost"
    assert fitted.match("mozhno vernut tovar").answer_id == "returns"


def test_nothing_to_match_against_matches_nothing():
    empty = TfidfMatcher()
    empty.fit([], "en")
    assert empty.match("how long is delivery") is None


class CountingMatcher(TfidfMatcher):
    fits = 0

    def fit(self, answers, language):
        CountingMatcher.fits += 1
        super().fit(answers, language)


def test_the_cache_fits_once_per_version_of_the_list():
    CountingMatcher.fits = 0
    cache = MatcherCache(make=CountingMatcher)
    first = cache.get(7, "en", ANSWERS)
    assert cache.get(7, "en", list(ANSWERS)) is first
    assert CountingMatcher.fits == 1
    edited = [*ANSWERS[:3], AnswerText(4, "Do you sell gift cards?", "Yes, from £20.")]
    assert fingerprint(edited) != fingerprint(ANSWERS)
    refitted = cache.get(7, "en", edited)
    assert refitted is not first
    assert CountingMatcher.fits == 2
    cache.get(7, "et", ANSWERS)  # another language is another list
    cache.get(8, "en", ANSWERS)  # another shop too
    assert CountingMatcher.fits == 4
    cache.forget(7)
    cache.get(7, "en", edited)
    assert CountingMatcher.fits == 5
