"""Response-time targets: when a waiting shopper's first answer is due.

While the team is in, a question is due `first_response_target_minutes` after it
arrived; after hours, at opening time plus the target. (How long the team usually
takes, for the widget, is measured in app/chat/response_times.py.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.chat.hours import HoursError, next_opening, parse_hours, team_status
from app.chat.shop_settings import get_settings
from app.models import Conversation, Message
from app.notify.settings import notify_settings


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
