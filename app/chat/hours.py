"""Business hours and what the widget says about the team: online now, usually
replies in N minutes, or back at a given time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class HoursError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Hours:
    """Opening intervals per weekday in the shop's time zone. Empty means always open."""

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


def parse_hours(data: dict[str, Any] | None) -> Hours:
    """`{"timezone": "Europe/Tallinn", "weekly": {"mon": [["09:00", "17:00"]], …}}`, checked."""
    data = data or {}
    tz = data.get("timezone") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise HoursError("timezone", f"{tz!r} is not a known time zone") from None
    weekly: dict[str, list[tuple[time, time]]] = {}
    raw_weekly = data.get("weekly") or {}
    if not isinstance(raw_weekly, dict):
        raise HoursError("weekly", "weekly must map weekdays to lists of [start, end]")
    for day, intervals in raw_weekly.items():
        if day not in WEEKDAYS:
            raise HoursError(f"weekly.{day}", f"{day!r} is not a weekday (use {', '.join(WEEKDAYS)})")
        parsed = []
        for start, end in intervals or []:
            try:
                opens, closes = time.fromisoformat(start), time.fromisoformat(end)
            except (TypeError, ValueError):
                raise HoursError(f"weekly.{day}", "times must look like 09:00") from None
            if closes <= opens:
                raise HoursError(f"weekly.{day}", f"hours on {day} end ({end}) before they start ({start})")
            parsed.append((opens, closes))
        weekly[day] = sorted(parsed)
    return Hours(tz=tz, weekly=weekly)


def team_status(hours: Hours, now: datetime, replies_in_minutes: int = 5) -> TeamStatus:
    if hours.always_open:
        return TeamStatus("online", replies_in_minutes, None)
    zone = ZoneInfo(hours.tz)
    local = now.astimezone(zone)
    for opens, closes in hours.weekly.get(WEEKDAYS[local.weekday()], []):
        if opens <= local.time() < closes:
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
    try:
        return team_status(parse_hours(settings.get("hours")), now, int(settings.get("replies_in_minutes") or 5))
    except HoursError:
        return team_status(parse_hours(None), now)
