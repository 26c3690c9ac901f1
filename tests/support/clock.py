"""The clock every service of a test app reads: the real time until a test sets it."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.clock import utcnow


class MovableClock:
    def __init__(self) -> None:
        self._now: datetime | None = None

    def __call__(self) -> datetime:
        return self._now if self._now is not None else utcnow()

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, delta: timedelta) -> None:
        self._now = self() + delta

    def release(self) -> None:
        """Follow the real time again."""
        self._now = None
