"""How often the team's first response met the shop's target, per channel, for Insights.

Definitions, over the conversations started in the half-open period [start, end):

- **Channel**: how the conversation's first shopper message arrived (`chat`, `email`).
- **Due**: when that first message's answer was due, by the rule a waiting shopper's due
  time is set with (app/notify/targets.py): the target after it arrived while the team
  is in; after hours, the next opening plus the target. Computed again from today's
  target and hours (a conversation's own `due_at` is cleared once it is answered).
- **Answered**: conversations with a `first_response_at`. **Within target**: of those,
  the ones whose first response came no later than it was due. **Share**: within ÷ answered.
- **Waiting past target**: conversations not answered yet that still wait on the team
  (`waiting_since`: not solved by the assistant) and whose due time has passed at `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.chat.hours import Hours, HoursError, next_opening, parse_hours, team_status
from app.chat.shop_settings import get_settings
from app.models import AuthorKind, Conversation, Message

CHANNELS = ("chat", "email")


@dataclass
class ChannelTargets:
    channel: str
    answered: int = 0
    within: int = 0
    waiting_past: int = 0

    @property
    def share(self) -> Fraction | None:
        return Fraction(self.within, self.answered) if self.answered else None

    def as_json(self) -> dict[str, Any]:
        share = self.share
        return {
            "channel": self.channel,
            "answered": self.answered,
            "within": self.within,
            "waiting_past": self.waiting_past,
            "share": None if share is None else round(float(share), 4),
        }


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _due(hours: Hours | None, target: timedelta, arrived: datetime) -> datetime:
    if hours is None or team_status(hours, arrived).state == "online":
        return arrived + target
    return (next_opening(hours, arrived) or arrived) + target


def first_response_targets(
    session: Session, shop_id: int, start: datetime, end: datetime, now: datetime, target_minutes: int
) -> list[ChannelTargets]:
    """The figures per channel (chat and e-mail first) against a target of `target_minutes`
    (the shop's first_response_target_minutes notify setting, read by the caller)."""
    target = timedelta(minutes=target_minutes)
    try:
        hours: Hours | None = parse_hours(get_settings(session, shop_id).get("hours"))
    except HoursError:
        hours = None
    first = (
        select(Message.conversation_id, sa.func.min(Message.id).label("first_id"))
        .where(Message.shop_id == shop_id, Message.author_kind == AuthorKind.shopper)
        .group_by(col(Message.conversation_id))
        .subquery()
    )
    rows = session.exec(
        select(Message.channel, Message.created_at, Conversation.first_response_at, Conversation.waiting_since)
        .join(first, first.c.first_id == Message.id)
        .join(Conversation, col(Conversation.id) == Message.conversation_id)
        .where(
            Conversation.shop_id == shop_id,
            col(Conversation.created_at) >= start,
            col(Conversation.created_at) < end,
        )
    ).all()
    figures = {channel: ChannelTargets(channel) for channel in CHANNELS}
    for channel, arrived, responded, waiting in rows:
        entry = figures.setdefault(channel, ChannelTargets(channel))
        due = _due(hours, target, _aware(arrived))
        if responded is None:
            # Still waiting on us (not solved by the assistant, not resolved) and past due.
            entry.waiting_past += int(waiting is not None and now > due)
            continue
        entry.answered += 1
        entry.within += int(_aware(responded) <= due)
    return list(figures.values())
