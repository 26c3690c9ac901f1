"""What the shop's assistant did over a period, for Insights.

Definitions (the Insights page shows them too), over the half-open period [start, end):

- **Answered**: the assistant's answers sent in the period (bot messages naming an
  answer: a written one, or an order's status from the store).
- **Marked helpful**: of those, the ones the shopper marked "this helped".
- **Handed over**: conversations the assistant handed to a person in the period
  (`handed_over_at`), by reason.
- **Resolved without a human**: conversations started in the period in which the shopper
  marked an answer helpful, that were never handed over and that no one of the team
  answered; its share is of all conversations started in the period.
- **Answers most often handed over**: written answers given in the period, ranked by how
  often the shopper asked for a person right after them (then by how often given):
  the ones worth rewriting.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.models import Answer, AuthorKind, Conversation, Message

TOP = 5


@dataclass(frozen=True)
class AnswerRanking:
    answer_id: int
    question: str
    language: str
    given: int
    handed_over: int


@dataclass
class AssistantFigures:
    answered: int = 0
    order_status: int = 0
    helpful: int = 0
    asked_for_person: int = 0
    handed_over: int = 0
    handover_reasons: dict[str, int] = field(default_factory=dict)
    conversations: int = 0
    resolved_without_human: int = 0
    most_handed_over: list[AnswerRanking] = field(default_factory=list)

    @property
    def resolved_share(self) -> Fraction | None:
        return Fraction(self.resolved_without_human, self.conversations) if self.conversations else None

    def as_json(self) -> dict[str, Any]:
        share = self.resolved_share
        return {
            "answered": self.answered,
            "order_status": self.order_status,
            "helpful": self.helpful,
            "asked_for_person": self.asked_for_person,
            "handed_over": self.handed_over,
            "handover_reasons": dict(sorted(self.handover_reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "conversations": self.conversations,
            "resolved_without_human": self.resolved_without_human,
            # Rounded only here: exact figures above, a share to show.
            "resolved_share": None if share is None else round(float(share), 4),
            "most_handed_over": [
                {
                    "answer_id": r.answer_id,
                    "question": r.question,
                    "language": r.language,
                    "given": r.given,
                    "handed_over": r.handed_over,
                }
                for r in self.most_handed_over
            ],
        }


def _meta(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def assistant_figures(session: Session, shop_id: int, start: datetime, end: datetime) -> AssistantFigures:
    figures = AssistantFigures()
    given: Counter[int] = Counter()
    after: Counter[int] = Counter()
    for meta_value in session.exec(
        select(Message.meta).where(
            Message.shop_id == shop_id,
            Message.author_kind == AuthorKind.bot,
            col(Message.created_at) >= start,
            col(Message.created_at) < end,
        )
    ):
        meta = _meta(meta_value)
        answer_id = meta.get("answer_id")
        if answer_id is None or meta.get("handover"):
            continue
        figures.answered += 1
        if meta.get("order_status"):
            figures.order_status += 1
        if meta.get("feedback") == "helpful":
            figures.helpful += 1
        elif meta.get("feedback") == "handover":
            figures.asked_for_person += 1
        if isinstance(answer_id, int) and not isinstance(answer_id, bool):
            given[answer_id] += 1
            if meta.get("feedback") == "handover":
                after[answer_id] += 1

    reasons = session.exec(
        select(Conversation.handoff_reason, sa.func.count())
        .where(
            Conversation.shop_id == shop_id,
            col(Conversation.handed_over_at) >= start,
            col(Conversation.handed_over_at) < end,
        )
        .group_by(col(Conversation.handoff_reason))
    ).all()
    figures.handover_reasons = {reason or "unknown": count for reason, count in reasons}
    figures.handed_over = sum(figures.handover_reasons.values())

    started = select(Conversation.id).where(
        Conversation.shop_id == shop_id, col(Conversation.created_at) >= start, col(Conversation.created_at) < end
    )
    figures.conversations = session.exec(select(sa.func.count()).select_from(started.subquery())).one()
    candidates = set(session.exec(started.where(col(Conversation.handed_over_at).is_(None))).all())
    if candidates:
        people = set(
            session.exec(
                select(Message.conversation_id)
                .where(
                    col(Message.conversation_id).in_(candidates),
                    Message.author_kind == AuthorKind.agent,
                    col(Message.internal).is_(False),
                )
                .distinct()
            ).all()
        )
        helped: set[str] = set()
        for conversation_id, meta_value in session.exec(
            select(Message.conversation_id, Message.meta).where(
                col(Message.conversation_id).in_(candidates - people), Message.author_kind == AuthorKind.bot
            )
        ):
            if _meta(meta_value).get("feedback") == "helpful":
                helped.add(conversation_id)
        figures.resolved_without_human = len(helped)

    ranked = sorted(given, key=lambda answer_id: (-after[answer_id], -given[answer_id], answer_id))
    ranked = [answer_id for answer_id in ranked if after[answer_id]][:TOP]
    if ranked:
        answers = {
            answer.id: answer
            for answer in session.exec(
                select(Answer).where(Answer.shop_id == shop_id, col(Answer.id).in_(ranked))
            ).all()
        }
        figures.most_handed_over = [
            AnswerRanking(
                answer_id,
                answers[answer_id].question if answer_id in answers else "(a deleted answer)",
                answers[answer_id].language if answer_id in answers else "",
                given[answer_id],
                after[answer_id],
            )
            for answer_id in ranked
        ]
    return figures
