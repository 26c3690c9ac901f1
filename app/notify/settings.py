"""A shop's notification settings: who is told, about what, when not, and how a reply
reaches a shopper who left. Stored beside the chat settings (shop_setting rows),
declared and checked here."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict
from sqlmodel import Session

from app.chat.shop_settings import put_setting, stored_settings
from app.inputs import Refusal, parse
from app.notify.i18n import LANGUAGES

PREFIX = "notify."
DEFAULTS: dict[str, Any] = {
    # Who gets merchant alerts (the older single `notification_email` setting is read too).
    "alert_emails": [],
    # new_conversation: the first message of a conversation only; every_message: each
    # shopper message nobody is looking at (a burst is still one e-mail).
    "alert_on": "every_message",
    # A burst of messages within this many minutes goes out as one e-mail.
    "alert_batch_minutes": 3,
    # The language alert e-mails are written in (one of the widget's six).
    "alert_language": "en",
    # No alerts between these local times (the shop's time zone); None: always.
    "quiet_from": None,
    "quiet_to": None,
    # A reply the shopper has not seen after this many minutes goes out by e-mail.
    "reply_email_after_minutes": 3,
    # How long a resume link in that e-mail works.
    "resume_link_days": 30,
    # The first-response target while the team is in (after hours: opening time + this).
    "first_response_target_minutes": 30,
    # A signed webhook for new conversations and shopper messages; the secret signs it.
    "webhook_url": None,
    "webhook_secret": None,
    # Written by Parley: alert addresses whose mail bounced, shown in Settings.
    "alert_bounces": [],
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def notify_settings(session: Session, shop_id: int) -> dict[str, Any]:
    stored = stored_settings(session, shop_id)
    values = dict(DEFAULTS)
    values.update(
        {
            key.removeprefix(PREFIX): value
            for key, value in stored.items()
            if key.startswith(PREFIX) and key.removeprefix(PREFIX) in DEFAULTS
        }
    )
    if not values["alert_emails"]:
        legacy = stored.get("notification_email")
        values["alert_emails"] = [legacy] if isinstance(legacy, str) and legacy else []
    return values


def put_notify_settings(session: Session, shop_id: int, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
    current = notify_settings(session, shop_id)
    if changes.get("webhook_url") and not current["webhook_secret"]:
        changes = {**changes, "webhook_secret": "whsec_" + secrets.token_hex(24)}
    if "alert_emails" in changes:
        # A changed list starts clean: bounces of addresses no longer listed are forgotten.
        changes = {**changes, "alert_bounces": [a for a in current["alert_bounces"] if a in changes["alert_emails"]]}
    for key, value in changes.items():
        put_setting(session, shop_id, PREFIX + key, value, now)
    return notify_settings(session, shop_id)


def in_quiet_hours(settings: dict[str, Any], zone: str, now: datetime) -> bool:
    start, end = settings.get("quiet_from"), settings.get("quiet_to")
    if not start or not end:
        return False
    try:
        local = now.astimezone(ZoneInfo(zone)).time()
    except (ValueError, KeyError):
        local = now.time()
    begins, ends = time.fromisoformat(start), time.fromisoformat(end)
    # 22:00–07:00 crosses midnight: quiet from the evening to the morning.
    return begins <= local < ends if begins <= ends else (local >= begins or local < ends)


def quiet_hours_end(settings: dict[str, Any], zone: str, now: datetime) -> datetime:
    """The next instant after `now` at which the quiet hours end."""
    try:
        tz: Any = ZoneInfo(zone)
    except (ValueError, KeyError):
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    end = datetime.combine(local.date(), time.fromisoformat(settings["quiet_to"]), tzinfo=tz)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)


def _emails(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > 10:
        raise Refusal("Alert e-mails must be a list of at most 10 addresses")
    for address in value:
        if not isinstance(address, str) or not _EMAIL.match(address) or len(address) > 320:
            raise Refusal(f"{address!s} is not an e-mail address, like team@example.com")
    return [address.strip() for address in value]


def _choice(*allowed: str) -> Any:
    def check(value: Any) -> str:
        if value not in allowed:
            raise Refusal("{field} must be one of " + ", ".join(allowed))
        return str(value)

    return BeforeValidator(check)


def _minutes(low: int, high: int, label: str) -> Any:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Refusal(f"{label} must be a whole number of minutes from {low} to {high}")
        return value

    return BeforeValidator(check)


def _clock_time(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _TIME.match(value):
        raise Refusal("Quiet hours are times of day like 22:00")
    return value


def _https_url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith("https://") or len(value) > 500 or " " in value:
        raise Refusal("The webhook address must be an https:// URL")
    return value


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 90:
        raise Refusal("A resume link works from 1 to 90 days")
    return value


class NotifyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_emails: Annotated[list[str], BeforeValidator(_emails)] = []
    alert_on: Annotated[str, _choice("new_conversation", "every_message", "never")] = "every_message"
    alert_batch_minutes: Annotated[int, _minutes(1, 60, "The alert batching window")] = 3
    alert_language: Annotated[str, _choice(*LANGUAGES)] = "en"
    quiet_from: Annotated[str | None, BeforeValidator(_clock_time)] = None
    quiet_to: Annotated[str | None, BeforeValidator(_clock_time)] = None
    reply_email_after_minutes: Annotated[int, _minutes(1, 1440, "The wait before a reply goes out by e-mail")] = 3
    resume_link_days: Annotated[int, BeforeValidator(_days)] = 30
    first_response_target_minutes: Annotated[int, _minutes(1, 10080, "The first-response target")] = 30
    webhook_url: Annotated[str | None, BeforeValidator(_https_url)] = None


MESSAGES = {"": "Notification settings must be sent as a JSON object", "extra": "{field} is not a notification setting"}


def validate_notify_settings(changes: Any) -> dict[str, Any]:
    update = parse(NotifyUpdate, changes, code="invalid_setting", messages=MESSAGES, with_field=True, root="settings")
    return update.model_dump(exclude_unset=True)
