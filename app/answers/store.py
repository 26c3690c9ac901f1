"""The shop's answers as stored (the `answer` table): listed, written and removed per
shop and language, each change checked first (a declared pydantic input) so bad input
gets a sentence a merchant can act on and nothing stored is lost.

Answers are kept as plain text (plain_text.py): whatever a merchant pastes or a
platform sends, the widget only ever shows text with http(s) links.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.answers.matcher import AnswerText
from app.answers.plain_text import plain_text
from app.clock import iso
from app.errors import ParleyError
from app.inputs import Refusal, parse
from app.models import Answer

MAX_QUESTION = 300
MAX_ALTERNATIVES = 20
MAX_ANSWER = 4000
MAX_ANSWERS_PER_LANGUAGE = 1000
SOURCES = ("manual", "shopify_policy", "shopify_page", "saleor_page")
# A language as a shopper's browser names it, without the region: "et", "pt", "fil".
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _language(value: Any) -> str:
    if not isinstance(value, str) or not _LANGUAGE.match(value.strip().lower()):
        raise Refusal('The language must be a language code like "en" or "et"')
    return value.strip().lower()


def _question(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Refusal("Write the question shoppers ask")
    text = " ".join(plain_text(value).split())
    if not text:
        raise Refusal("Write the question shoppers ask")
    if len(text) > MAX_QUESTION:
        raise Refusal(f"The question is too long: keep it under {MAX_QUESTION} characters")
    return text


def _alternatives(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Refusal("Other ways to ask must be a list of questions")
    texts = list(dict.fromkeys(" ".join(plain_text(item).split()) for item in value))
    texts = [text for text in texts if text]
    if len(texts) > MAX_ALTERNATIVES:
        raise Refusal(f"Give at most {MAX_ALTERNATIVES} other ways to ask")
    if any(len(text) > MAX_QUESTION for text in texts):
        raise Refusal(f"Each other way to ask must be under {MAX_QUESTION} characters")
    return texts


def _answer(value: Any) -> str:
    if not isinstance(value, str):
        raise Refusal("Write the answer the assistant gives")
    text = plain_text(value)
    if not text:
        raise Refusal("Write the answer the assistant gives")
    if len(text) > MAX_ANSWER:
        raise Refusal(f"The answer is too long: keep it under {MAX_ANSWER} characters")
    return text


def _enabled(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Refusal("enabled must be true or false")
    return value


Language = Annotated[str, BeforeValidator(_language)]
Question = Annotated[str, BeforeValidator(_question)]
Alternatives = Annotated[list[str], BeforeValidator(_alternatives)]
AnswerBody = Annotated[str, BeforeValidator(_answer)]
Enabled = Annotated[bool, BeforeValidator(_enabled)]


class NewAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: Language
    question: Question
    answer: AnswerBody
    alternatives: Alternatives = []
    enabled: Enabled = True


class AnswerChange(BaseModel):
    """A partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    language: Language | None = None
    question: Question | None = None
    answer: AnswerBody | None = None
    alternatives: Alternatives | None = None
    enabled: Enabled | None = None


MESSAGES = {
    "": "Send the answer as a JSON object",
    "language": 'The language must be a language code like "en" or "et"',
    "question": "Write the question shoppers ask",
    "answer": "Write the answer the assistant gives",
    "alternatives": "Other ways to ask must be a list of questions",
    "enabled": "enabled must be true or false",
    "extra": "{field} is not a part of an answer",
}


def answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "id": answer.id,
        "language": answer.language,
        "question": answer.question,
        "alternatives": list(answer.alternatives or []),
        "answer": answer.answer,
        "source": answer.source,
        "source_id": answer.source_id,
        "enabled": answer.enabled,
        "created_at": iso(answer.created_at),
        "updated_at": iso(answer.updated_at),
    }


def list_answers(session: Session, shop_id: int, language: str | None = None) -> list[Answer]:
    """The shop's answers (in one language, if given), oldest first."""
    query = select(Answer).where(Answer.shop_id == shop_id)
    if language is not None:
        query = query.where(Answer.language == _checked_language(language))
    return list(session.exec(query.order_by(col(Answer.language), col(Answer.id))).all())


def enabled_answers(session: Session, shop_id: int, language: str) -> list[AnswerText]:
    """What the matcher reads: the shop's enabled answers in `language`."""
    rows = session.exec(
        select(Answer.id, Answer.question, Answer.answer, Answer.alternatives)
        .where(Answer.shop_id == shop_id, Answer.language == language, col(Answer.enabled).is_(True))
        .order_by(col(Answer.id))
    ).all()
    return [AnswerText(id=row[0], question=row[1], answer=row[2], alternatives=tuple(_strings(row[3]))) for row in rows]


def get_answer(session: Session, shop_id: int, answer_id: int) -> Answer:
    answer = session.get(Answer, answer_id) if isinstance(answer_id, int) and not isinstance(answer_id, bool) else None
    if answer is None or answer.shop_id != shop_id:
        raise ParleyError(404, "answer_not_found", "That answer does not exist (it may have been deleted)")
    return answer


def create_answer(session: Session, shop_id: int, data: object, now: datetime) -> Answer:
    checked = parse(NewAnswer, data, code="invalid_answer", messages=MESSAGES, with_field=True)
    _check_room(session, shop_id, checked.language)
    answer = Answer(
        shop_id=shop_id,
        language=checked.language,
        question=checked.question,
        alternatives=checked.alternatives,
        answer=checked.answer,
        enabled=checked.enabled,
        created_at=now,
        updated_at=now,
    )
    session.add(answer)
    session.flush()
    return answer


def update_answer(session: Session, shop_id: int, answer_id: int, data: object, now: datetime) -> Answer:
    answer = get_answer(session, shop_id, answer_id)
    checked = parse(AnswerChange, data, code="invalid_answer", messages=MESSAGES, with_field=True)
    changes = checked.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if value is None:
            raise ParleyError(400, "invalid_answer", MESSAGES[key], field=key)
    if "language" in changes and changes["language"] != answer.language:
        _check_room(session, shop_id, changes["language"])
    for key, value in changes.items():
        setattr(answer, key, value)
    answer.updated_at = now
    session.add(answer)
    session.flush()
    return answer


def delete_answer(session: Session, shop_id: int, answer_id: int) -> None:
    session.delete(get_answer(session, shop_id, answer_id))
    session.flush()


def _check_room(session: Session, shop_id: int, language: str) -> None:
    count = session.exec(
        select(func.count()).select_from(Answer).where(Answer.shop_id == shop_id, Answer.language == language)
    ).one()
    if count >= MAX_ANSWERS_PER_LANGUAGE:
        raise ParleyError(
            409, "too_many_answers", f"A shop can keep up to {MAX_ANSWERS_PER_LANGUAGE} answers per language"
        )


def checked_language(language: object) -> str:
    """A language code from a request, or ParleyError(400)."""
    return _checked_language(language)


def _checked_language(language: object) -> str:
    try:
        return _language(language)
    except Refusal as refusal:
        raise ParleyError(400, "invalid_language", str(refusal), field="language") from None


def _strings(value: Any) -> Sequence[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
