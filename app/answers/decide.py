"""What the assistant does with a shopper's message: answer it, hand it over, or stay
silent, with the reason a merchant reads beside the thread.

- **silent**: the bot is off, it works after hours only and the team is in, the shop
  has no answers in the shopper's language, or the message has nothing to answer
  ("thanks!"). The conversation reaches the team exactly as without a bot.
- **handover**: the shopper asked for a person, complained, asked about their own order,
  or the best answer is below the threshold ("not sure"). The bot says the team will
  answer; the conversation waits on the team with this reason.
- **answer**: the best answer's confidence reaches the threshold; its text (plain, with
  http(s) links only) is the reply.

Order-specific messages carry `intents.order_number`, so the caller can answer from the
platform (the order's real status) once the shopper has proven the order is theirs,
and hand over otherwise.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from app.answers.intents import Intents, detect
from app.answers.matcher import AnswerText, Matcher, TfidfMatcher
from app.answers.normalize import normalize
from app.answers.plain_text import plain_text
from app.answers.stopwords import content_words

# Chosen from the evaluation set (bench/answers.py): the highest confidence at which
# every language still answers at least 80 % of its answerable questions correctly,
# and at which none answers more than 2 % of its questions wrongly (see that file).
THRESHOLD = 0.75


class BotMode(str, Enum):
    off = "off"
    after_hours = "after_hours"
    always = "always"


class Action(str, Enum):
    answer = "answer"
    handover = "handover"
    silent = "silent"


# The reasons, as the merchant reads them beside a handed-over conversation.
NOT_SURE = "not sure"
ASKED_FOR_PERSON = "asked for a person"
COMPLAINT = "a complaint"
ORDER_SPECIFIC = "order-specific"
BOT_OFF = "bot off"
TEAM_IN = "team is in"
NO_ANSWERS = "no answers"
NOTHING_TO_ANSWER = "nothing to answer"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    answer_id: Hashable | None = None
    confidence: float | None = None
    # The reply to send, for an answer.
    text: str | None = None
    # How the match was made, for the Settings preview ("closest to …").
    why: str | None = None
    intents: Intents = field(default_factory=Intents)

    def as_json(self) -> dict[str, object]:
        return {
            "action": self.action.value,
            "reason": self.reason,
            "answer_id": self.answer_id,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "text": self.text,
            "why": self.why,
            "order_number": self.intents.order_number,
        }


def bot_mode(value: object) -> BotMode:
    """A stored mode, read leniently: anything unknown is "off" (never answer by mistake)."""
    try:
        return BotMode(value)
    except ValueError:
        return BotMode.off


def decide(
    question: str,
    answers: Sequence[AnswerText],
    *,
    team_in: bool,
    mode: BotMode | str,
    language: str = "en",
    matcher: Matcher | None = None,
    threshold: float = THRESHOLD,
) -> Decision:
    """The decision for one shopper message. `answers` are the shop's enabled answers in
    the shopper's language; `matcher`, when given, is already fitted on them (a cached
    one, see MatcherCache), else one is fitted here."""
    mode = bot_mode(mode)
    intents = detect(question)
    if mode is BotMode.off:
        return Decision(Action.silent, BOT_OFF, intents=intents)
    if mode is BotMode.after_hours and team_in:
        return Decision(Action.silent, TEAM_IN, intents=intents)
    if not answers:
        return Decision(Action.silent, NO_ANSWERS, intents=intents)
    if intents.person:
        return Decision(Action.handover, ASKED_FOR_PERSON, intents=intents)
    if intents.complaint:
        return Decision(Action.handover, COMPLAINT, intents=intents)
    if intents.order_status:
        return Decision(Action.handover, ORDER_SPECIFIC, intents=intents)
    if not content_words(normalize(question)):
        return Decision(Action.silent, NOTHING_TO_ANSWER, intents=intents)
    if matcher is None:
        matcher = TfidfMatcher()
        matcher.fit(answers, language)
    found = matcher.match(question)
    if found is None:
        return Decision(Action.handover, NOT_SURE, intents=intents)
    if found.confidence < threshold:
        return Decision(
            Action.handover,
            NOT_SURE,
            answer_id=found.answer_id,
            confidence=found.confidence,
            why=found.why,
            intents=intents,
        )
    chosen = next(answer for answer in answers if answer.id == found.answer_id)
    return Decision(
        Action.answer,
        "answered",
        answer_id=found.answer_id,
        confidence=found.confidence,
        text=plain_text(chosen.answer),
        why=found.why,
        intents=intents,
    )
