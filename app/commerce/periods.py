"""The period a merchant picks for Insights: inclusive dates that mean days in the
shop's time zone (the `hours.timezone` setting), so it runs from local midnight of
the first day to local midnight after the last."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.errors import ParleyError

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Insights has nothing before Parley existed, and a day at the very end of the calendar
# has no "midnight after" to end on.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(9998, 12, 31)


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    zone_name: str
    zone: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def shop_zone(settings: Mapping[str, Any]) -> tuple[str, tzinfo]:
    hours = settings.get("hours")
    name = (hours.get("timezone") if isinstance(hours, dict) else None) or "UTC"
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        # Settings are validated on save; an unreadable zone still must not break the page.
        return "UTC", UTC


def period_for(settings: Mapping[str, Any], first: date | None, last: date | None, now: datetime) -> Period:
    """The period from the dates given (either may be missing: 30 days around it, or up to today)."""
    zone_name, zone = shop_zone(settings)
    today = now.astimezone(zone).date()
    if last is None:
        last = today if first is None else first + timedelta(days=DEFAULT_DAYS - 1)
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    for day in (first, last):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ParleyError(
                400, "invalid_period", f"Choose dates between {_spoken(FIRST_DAY)} and {_spoken(LAST_DAY)}"
            )
    if first > last:
        raise ParleyError(400, "invalid_period", "The start date must be on or before the end date")
    if (last - first).days + 1 > MAX_DAYS:
        raise ParleyError(400, "invalid_period", f"A period can be at most {MAX_DAYS} days long; choose a shorter one")
    return Period(first, last, zone_name, zone)


def _spoken(day: date) -> str:
    # Written out, so no reader takes 03/04 for the wrong month.
    months = (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    )
    return f"{day.day} {months[day.month - 1]} {day.year}"
