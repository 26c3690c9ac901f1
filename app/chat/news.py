"""Which streams have news, read from the database: what wakes the streams while the
broker is down (app/realtime/broker.py), one query per process instead of one per stream.

Ids are taken in insert order but committed in any order across shops, so a look
covers every message stored within `window` (longer than any transaction that stores
one) and reports each id once: a message committed late is still found.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from app.chat.conversations import shop_channel, visitor_channel
from app.clock import Clock, utcnow
from app.db import Database
from app.models import Conversation, Message

# A look reads at most this many messages; more in one window is a burst no outage poll
# can follow anyway, and the streams it misses catch up at their next event or reconnect.
MOST = 5000


class RecentMessages:
    def __init__(
        self,
        db: Database,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Clock = utcnow,
    ):
        self.db = db
        self.window = window
        self.clock = clock
        self.wall_clock = wall_clock
        # (when, highest id seen then): the floor a look starts from is the highest id
        # seen at least `window` ago; every id above it may still be committing.
        self._marks: deque[tuple[float, int]] = deque()
        self._floor: int | None = None
        self._seen: set[int] = set()

    def forget(self) -> None:
        """The broker is back: the next outage starts looking afresh."""
        self._marks.clear()
        self._floor = None
        self._seen = set()

    def __call__(self) -> set[str]:
        """The channels of messages stored since the last look (the first look: within the window)."""
        now = self.clock()
        first = self._floor is None
        with self.db.session() as session:
            if self._floor is None:
                highest = session.exec(select(sa.func.max(Message.id))).one() or 0
                # A bounded walk back by id (the primary key), not a scan by time.
                self._floor = max(0, highest - MOST)
            rows = session.exec(
                select(Message.id, Message.shop_id, Conversation.visitor_id, Message.created_at)
                .join(Conversation, col(Conversation.id) == Message.conversation_id)
                .where(col(Message.id) > self._floor)
                .order_by(col(Message.id).desc())
                .limit(MOST)
            ).all()
        channels: set[str] = set()
        highest = self._floor
        # The first look reports only what is recent: older messages were announced by the
        # broker while it was up (the streams that missed one find it at their next event).
        recent = self.wall_clock() - timedelta(seconds=self.window)
        for message_id, shop_id, visitor_id, created_at in rows:
            assert message_id is not None  # a stored row has its id
            highest = max(highest, message_id)
            if message_id in self._seen:
                continue
            self._seen.add(message_id)
            if first and created_at < recent:
                continue
            channels.add(shop_channel(shop_id))
            channels.add(visitor_channel(visitor_id))
        self._marks.append((now, highest))
        while len(self._marks) > 1 and self._marks[1][0] <= now - self.window:
            self._marks.popleft()
        if self._marks[0][0] <= now - self.window:
            self._floor = max(self._floor, self._marks[0][1])
            self._seen = {seen for seen in self._seen if seen > self._floor}
        return channels
