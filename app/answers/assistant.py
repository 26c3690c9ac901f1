"""The shop's assistant as one service: read the shop's answers, reuse the matcher fitted
on them, decide. Built once per process (the composition root); every call passes the
session, so it answers inside the caller's transaction like any other core action."""

from __future__ import annotations

from sqlmodel import Session

from app.answers.decide import THRESHOLD, BotMode, Decision, decide
from app.answers.matcher import MatcherCache
from app.answers.store import enabled_answers


def language_of(locale: object) -> str:
    """The language of a shopper's locale: "et-EE" and "et_EE" read "et"; nothing reads "en"."""
    if not isinstance(locale, str) or not locale.strip():
        return "en"
    return locale.strip().split("-")[0].split("_")[0].lower()[:8] or "en"


class Assistant:
    def __init__(self, cache: MatcherCache | None = None, threshold: float = THRESHOLD):
        self.cache = cache or MatcherCache()
        self.threshold = threshold

    def reply(
        self, session: Session, shop_id: int, question: str, locale: object, *, team_in: bool, mode: BotMode | str
    ) -> Decision:
        """What to do with a shopper's message in `locale` ("et", "et-EE")."""
        language = language_of(locale)
        answers = enabled_answers(session, shop_id, language)
        matcher = self.cache.get(shop_id, language, answers) if answers else None
        return decide(
            question,
            answers,
            team_in=team_in,
            mode=mode,
            language=language,
            matcher=matcher,
            threshold=self.threshold,
        )

    def preview(self, session: Session, shop_id: int, question: str, locale: object) -> Decision:
        """What the assistant would reply to `question`, whatever the mode and the hours:
        the Settings preview box."""
        return self.reply(session, shop_id, question, locale, team_in=False, mode=BotMode.always)
