"""Who has the Support page open: each open page says so every half minute, and an
alert goes out only when nobody has the shopper's conversation (or the inbox) in view."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.models import StaffPresence

# A page that has not said so for this long is closed (or its computer asleep).
FRESH = timedelta(seconds=90)


def note_presence(session: Session, shop_id: int, user_id: str, conversation_id: str | None, now: datetime) -> None:
    row = session.exec(
        select(StaffPresence).where(StaffPresence.shop_id == shop_id, StaffPresence.user_id == user_id)
    ).first()
    if row is None:
        row = StaffPresence(shop_id=shop_id, user_id=user_id[:64])
    row.conversation_id, row.seen_at = conversation_id, now
    session.add(row)
    session.flush()


def someone_watching(session: Session, shop_id: int, conversation_id: str, now: datetime) -> bool:
    """A staff member has the inbox or this conversation open right now."""
    found = session.exec(
        select(StaffPresence.id).where(
            StaffPresence.shop_id == shop_id,
            col(StaffPresence.seen_at) >= now - FRESH,
            sa.or_(col(StaffPresence.conversation_id).is_(None), col(StaffPresence.conversation_id) == conversation_id),
        )
    ).first()
    return found is not None
