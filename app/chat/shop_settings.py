"""A shop's chat settings: the defaults a fresh install works with, what a merchant may
change (declared as a pydantic model), and how it is stored."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from sqlmodel import Session, select

from app.chat.hours import HoursError, parse_hours
from app.inputs import Refusal, parse
from app.models import ShopSetting

DEFAULTS: dict[str, Any] = {
    # None: the widget greets in the shopper's language from its own translations.
    "greeting": None,
    "accent": "#008060",
    "hours": {"timezone": "UTC", "weekly": {}},
    "replies_in_minutes": 5,
    "away_message": None,
    "storefront_origins": [],
    "saved_replies": [],
    # Learnt from Shopify at install (the custom domain); not a merchant setting.
    "primary_origin": None,
    "notification_email": None,
    # How long after chatting an identified customer's order still counts as chat's
    # (the weakest attribution rule), and how long a cart waits before it is "abandoned".
    "attribution_window_days": 7,
}
# Kept beside the merchant's settings but written by Parley itself, never shown as settings.
SYSTEM_KEYS = ("widget_last_seen", "primary_origin")


def get_settings(session: Session, shop_id: int) -> dict[str, Any]:
    rows = session.exec(select(ShopSetting).where(ShopSetting.shop_id == shop_id)).all()
    values = dict(DEFAULTS)
    values.update({row.key: row.value for row in rows})
    return values


def public(settings: dict[str, Any]) -> dict[str, Any]:
    """The merchant's settings without what Parley keeps there for itself."""
    return {k: v for k, v in settings.items() if k not in SYSTEM_KEYS}


def put_setting(session: Session, shop_id: int, key: str, value: Any, now: datetime) -> None:
    row = session.exec(select(ShopSetting).where(ShopSetting.shop_id == shop_id, ShopSetting.key == key)).first()
    if row is None:
        row = ShopSetting(shop_id=shop_id, key=key)
    row.value = value
    row.updated_at = now
    session.add(row)
    session.flush()


def put_settings(session: Session, shop_id: int, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Store a checked update (validate_settings) in the caller's transaction; the settings after it."""
    for key, value in changes.items():
        put_setting(session, shop_id, key, value, now)
    return get_settings(session, shop_id)


# -- what a merchant may change ----------------------------------------------------------

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# https:// anywhere; plain http only on this machine, where a storefront under development runs.
_ORIGIN = re.compile(r"^(https://[^/\s]+|http://(localhost|127\.0\.0\.1)(:\d{1,5})?)/?$")
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _optional_text(limit: int, label: str) -> Any:
    def check(value: Any) -> str | None:
        # null or empty goes back to the widget's own words, in the shopper's language.
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not value.strip():
            raise Refusal(f"{label} must be text")
        if len(value) > limit:
            raise Refusal(f"{label} can hold at most {limit} characters")
        return value.strip()

    return BeforeValidator(check)


def _whole_number(low: int, high: int, sentence: str) -> Any:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Refusal(sentence)
        return value

    return BeforeValidator(check)


def _accent(value: Any) -> str:
    if not isinstance(value, str) or not _COLOUR.match(value):
        raise Refusal("The accent colour must be a colour like #008060")
    return value.lower()


def _hours(value: Any) -> Any:
    try:
        parse_hours(value)
    except HoursError as exc:
        # The field is the part of the hours that is wrong (hours.weekly.tue).
        raise Refusal(exc.message, field=f"hours.{exc.field}") from None
    return value


def _email(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or not _EMAIL.match(value) or len(value) > 320):
        raise Refusal("The notification e-mail must be an e-mail address, like team@example.com")
    return value


def _origins(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(o, str) and _ORIGIN.match(o) and len(o) < 200 for o in value):
        raise Refusal(
            "Storefront origins must be https:// addresses without a path, like https://shop.example.com "
            "(or http://localhost for development)"
        )
    return [o.rstrip("/") for o in value]


def _saved_replies(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > 200:
        raise Refusal("Saved replies must be a list of at most 200 replies")
    seen: set[str] = set()
    replies = []
    for index, reply in enumerate(value):
        shortcut = reply.get("shortcut") if isinstance(reply, dict) else None
        if not isinstance(shortcut, str) or not _SHORTCUT.match(shortcut):
            raise Refusal(
                "a shortcut is 1–32 lower-case letters, digits, - or _", field=f"saved_replies[{index}].shortcut"
            )
        if shortcut in seen:
            raise Refusal(f"/{shortcut} is used twice", field=f"saved_replies[{index}].shortcut")
        seen.add(shortcut)
        text = reply.get("text")
        if not isinstance(text, str) or not text.strip():
            raise Refusal(f"The reply for /{shortcut} must be text", field=f"saved_replies[{index}].text")
        if len(text) > 5000:
            raise Refusal(
                f"The reply for /{shortcut} can hold at most 5000 characters", field=f"saved_replies[{index}].text"
            )
        replies.append({"shortcut": shortcut, "text": text.strip()})
    return replies


class SettingsUpdate(BaseModel):
    """What Settings may send; only the keys sent are changed."""

    model_config = ConfigDict(extra="forbid")

    greeting: Annotated[str | None, _optional_text(300, "The greeting")] = None
    away_message: Annotated[str | None, _optional_text(500, "The away message")] = None
    accent: Annotated[str, BeforeValidator(_accent)] = DEFAULTS["accent"]
    hours: Annotated[dict[str, Any], BeforeValidator(_hours)] = DEFAULTS["hours"]
    replies_in_minutes: Annotated[
        int,
        _whole_number(
            1, 24 * 60, "“Usually replies within” must be a whole number of minutes from 1 to 1440 (24 hours)"
        ),
    ] = 5
    saved_replies: Annotated[list[dict[str, str]], BeforeValidator(_saved_replies)] = []
    notification_email: Annotated[str | None, BeforeValidator(_email)] = None
    attribution_window_days: Annotated[
        int, _whole_number(1, 90, "The attribution window must be a whole number of days from 1 to 90")
    ] = 7
    storefront_origins: Annotated[list[str], BeforeValidator(_origins)] = []


SETTINGS_MESSAGES = {"": "Settings must be sent as a JSON object", "extra": "{field} is not a setting"}


def validate_settings(changes: Any) -> dict[str, Any]:
    """Check a settings update; the first problem names its field. Nothing partial survives."""
    update = parse(
        SettingsUpdate, changes, code="invalid_setting", messages=SETTINGS_MESSAGES, with_field=True, root="settings"
    )
    return update.model_dump(exclude_unset=True)
