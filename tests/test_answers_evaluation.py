"""The evaluation set's goals hold in every language (bench/answers.py has the figures):
a change that makes the assistant answer wrongly more often, or hand over more of what
it could answer, fails here."""

from __future__ import annotations

import pytest

from bench.answers import GOAL_CORRECT_PCT, GOAL_WRONG_PCT, LANGUAGES, evaluate, load


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_assistant_meets_its_goals(language):
    figures = evaluate(language)
    assert figures.questions >= 50 and figures.answerable >= 38
    assert figures.wrong_pct <= GOAL_WRONG_PCT, figures.mistakes
    assert figures.correct_pct >= GOAL_CORRECT_PCT, figures.mistakes


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_label_names_an_answer_of_its_list(language):
    data = load(language)
    ids = {answer["id"] for answer in data["answers"]}
    assert 12 <= len(ids) <= 20
    for question in data["questions"]:
        expect = question["expect"]
        labels = {expect} if isinstance(expect, str) else set(expect)
        assert labels == {"handover"} or labels <= ids, question
