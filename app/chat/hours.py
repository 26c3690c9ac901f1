"""Business hours and what the widget says about the team: online now, usually
replies in N minutes, or back at a given time.

No hours at all means always open. An interval whose closing time is not after its
opening time runs past midnight into the next day (a night shift, 22:00–02:00).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
# More intervals than this on one day is not a timetable a person enters.
MAX_INTERVALS = 12
MAX_ZONE = 64


class HoursError(ValueError):
    """A problem with the hours a merchant entered; `field` is the part it is about
    (timezone, weekly, weekly.tue) and `message` speaks of days and times as Settings
    shows them, never of JSON."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Hours:
    """Opening intervals per weekday in the shop's time zone. Empty means always open.
    An interval (opens, closes) with closes <= opens ends on the next day at `closes`."""

    tz: str
    weekly: dict[str, list[tuple[time, time]]]

    @property
    def always_open(self) -> bool:
        return not any(self.weekly.values())


@dataclass(frozen=True)
class TeamStatus:
    state: str  # "online" or "away"
    replies_in_minutes: int
    back_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "replies_in_minutes": self.replies_in_minutes,
            "back_at": self.back_at.astimezone(UTC).isoformat().replace("+00:00", "Z") if self.back_at else None,
        }


def _zone(value: Any) -> str:
    tz = value or "UTC"
    if not isinstance(tz, str) or len(tz) > MAX_ZONE or "\x00" in tz:
        raise HoursError("timezone", "Choose the shop's time zone from the list")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise HoursError("timezone", f"{tz} is not a time zone Parley knows; choose one from the list") from None
    return tz


def _time_of_day(value: Any, day: str) -> time:
    if isinstance(value, str) and len(value) <= 8:
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                return parsed.replace(second=0, microsecond=0)
    raise HoursError(f"weekly.{day}", f"Enter both an opening and a closing time for {DAY_NAMES[day]}")


def _intervals(day: str, raw: Any) -> list[tuple[time, time]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_INTERVALS:
        raise HoursError(f"weekly.{day}", f"{DAY_NAMES[day]} can have at most {MAX_INTERVALS} opening periods")
    parsed = []
    for interval in raw:
        if not isinstance(interval, list | tuple) or len(interval) != 2:
            raise HoursError(f"weekly.{day}", f"Enter both an opening and a closing time for {DAY_NAMES[day]}")
        opens, closes = _time_of_day(interval[0], day), _time_of_day(interval[1], day)
        if opens == closes:
            raise HoursError(
                f"weekly.{day}",
                f"{DAY_NAMES[day]} opens and closes at the same time; to stay open past midnight, "
                "close at the time you stop on the next day",
            )
        parsed.append((opens, closes))
    return sorted(parsed)


def parse_hours(data: Any) -> Hours:
    """`{"timezone": "Europe/Tallinn", "weekly": {"mon": [["09:00", "17:00"]], …}}`, checked.
    Anything that is not that shape is a HoursError, never another exception."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise HoursError("weekly", "Business hours must list opening and closing times per weekday")
    tz = _zone(data.get("timezone"))
    raw_weekly = data.get("weekly") or {}
    if not isinstance(raw_weekly, Mapping):
        raise HoursError("weekly", "Business hours must list opening and closing times per weekday")
    weekly: dict[str, list[tuple[time, time]]] = {}
    for day, intervals in raw_weekly.items():
        if day not in WEEKDAYS:
            raise HoursError("weekly", "Business hours can only be set for the days of the week")
        weekly[day] = _intervals(day, intervals)
    return Hours(tz=tz, weekly=weekly)


def _overnight(opens: time, closes: time) -> bool:
    return closes <= opens


def is_open(hours: Hours, now: datetime) -> bool:
    if hours.always_open:
        return True
    local = now.astimezone(ZoneInfo(hours.tz))
    today, at = WEEKDAYS[local.weekday()], local.time()
    yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
    for opens, closes in hours.weekly.get(today, []):
        if opens <= at and (_overnight(opens, closes) or at < closes):
            return True
    # Last night's interval that runs past midnight.
    return any(_overnight(opens, closes) and at < closes for opens, closes in hours.weekly.get(yesterday, []))


def team_status(hours: Hours, now: datetime, replies_in_minutes: int = 5) -> TeamStatus:
    if is_open(hours, now):
        return TeamStatus("online", replies_in_minutes, None)
    return TeamStatus("away", replies_in_minutes, next_opening(hours, now))


def next_opening(hours: Hours, now: datetime) -> datetime | None:
    zone = ZoneInfo(hours.tz)
    local = now.astimezone(zone)
    for offset in range(0, 8):
        day = local.date() + timedelta(days=offset)
        for opens, _ in hours.weekly.get(WEEKDAYS[day.weekday()], []):
            candidate = datetime.combine(day, opens, tzinfo=zone)
            if candidate > local:
                return candidate.astimezone(UTC)
    return None


def team_status_for(settings: Mapping[str, Any], now: datetime) -> TeamStatus:
    """What the widget says about the team, from a shop's settings. Hours are checked when
    saved; should stored ones still not read, the team shows as always open."""
    replies = settings.get("replies_in_minutes")
    minutes = replies if isinstance(replies, int) and not isinstance(replies, bool) and 1 <= replies <= 1440 else 5
    try:
        return team_status(parse_hours(settings.get("hours")), now, minutes)
    except HoursError:
        return team_status(parse_hours(None), now, minutes)
