"""Response-time targets: when a waiting shopper's first answer is due, and how long the
team usually takes, measured from the shop's own answers.

While the team is in, a question is due `first_response_target_minutes` after it
arrived; after hours, at opening time plus the target. The widget's "usually replies
within" comes from the median first response of the same hour of the week over the
last weeks, and falls back to the setting when there is too little to go on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from sqlmodel import Session, col, select

from app.chat.hours import HoursError, next_opening, parse_hours, team_status
from app.chat.shop_settings import get_settings
from app.models import Conversation, Message
from app.notify.settings import notify_settings

LOOKBACK = timedelta(weeks=8)
# Fewer answered questions than this in the hour of the week: the setting speaks instead.
MIN_SAMPLES = 5


def due_at(session: Session, shop_id: int, arrived: datetime) -> datetime:
    target = timedelta(minutes=notify_settings(session, shop_id)["first_response_target_minutes"])
    try:
        hours = parse_hours(get_settings(session, shop_id).get("hours"))
    except HoursError:
        return arrived + target
    if team_status(hours, arrived).state == "online":
        return arrived + target
    opening = next_opening(hours, arrived)
    return (opening or arrived) + target


class ResponseTargets:
    """A ChatObserver: a shopper who starts waiting gets a due time; an answer clears it."""

    def shopper_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        if conversation.due_at is None:
            conversation.due_at = due_at(session, conversation.shop_id, now)
            session.add(conversation)

    def agent_wrote(self, session: Session, conversation: Conversation, message: Message, now: datetime) -> None:
        if not message.internal and conversation.due_at is not None:
            conversation.due_at = None
            session.add(conversation)


def typical_reply_minutes(session: Session, shop_id: int, now: datetime, zone: str = "UTC") -> int | None:
    """The median first response, in minutes, of conversations started in this hour of the
    week (the shop's time zone) over the last weeks; None with too few of them."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    rows = session.exec(
        select(Conversation.created_at, Conversation.first_response_at).where(
            Conversation.shop_id == shop_id,
            col(Conversation.created_at) >= now - LOOKBACK,
            col(Conversation.first_response_at).is_not(None),
        )
    ).all()
    same_hour = [
        (answered - started).total_seconds() / 60
        for started, answered in rows
        if answered is not None
        and started.astimezone(tz).weekday() == local.weekday()
        and started.astimezone(tz).hour == local.hour
    ]
    if len(same_hour) < MIN_SAMPLES:
        return None
    return max(1, round(median(same_hour)))
