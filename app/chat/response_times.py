"""How long the team usually takes to answer, measured from the shop's own answers: the
median first response of conversations started in the same hour of the week (the shop's
time zone) over the last weeks. The widget's "usually replies within" says this, and
falls back to the merchant's setting when there is too little to go on."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.models import Conversation

LOOKBACK = timedelta(weeks=8)
# Fewer answered questions than this in the hour of the week: the setting speaks instead.
MIN_SAMPLES = 5


def typical_reply_minutes(session: Session, shop_id: int, now: datetime, zone: str = "UTC") -> int | None:
    """The median first response, in minutes, of conversations started in this hour of the
    week (the shop's time zone) over the last weeks; None with too few of them."""
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


class ReplyTimes:
    """typical_reply_minutes, remembered per shop and hour of the week for a while: a
    session starts on every page view, and the figure moves slowly."""

    def __init__(self, ttl: timedelta = timedelta(minutes=15)):
        self.ttl = ttl
        self._cache: dict[tuple[int, int, int], tuple[datetime, int | None]] = {}
        self._lock = threading.Lock()

    def minutes(self, session: Session, shop_id: int, now: datetime, zone: str = "UTC") -> int | None:
        local = now.astimezone(ZoneInfo(zone))
        key = (shop_id, local.weekday(), local.hour)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        value = typical_reply_minutes(session, shop_id, now, zone)
        with self._lock:
            self._cache[key] = (now, value)
        return value
