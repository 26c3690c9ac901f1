"""A shop's chat settings, with the defaults a fresh install works with."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from app.db import utcnow
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


def get_settings(session: Session, shop_id: int) -> dict[str, Any]:
    rows = session.exec(select(ShopSetting).where(ShopSetting.shop_id == shop_id)).all()
    values = dict(DEFAULTS)
    values.update({row.key: row.value for row in rows})
    return values


def put_setting(session: Session, shop_id: int, key: str, value: Any) -> None:
    row = session.exec(select(ShopSetting).where(ShopSetting.shop_id == shop_id, ShopSetting.key == key)).first()
    if row is None:
        row = ShopSetting(shop_id=shop_id, key=key)
    row.value = value
    row.updated_at = utcnow()
    session.add(row)
    session.flush()


class SettingError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# https:// anywhere; plain http only on this machine, where a storefront under development runs.
_ORIGIN = re.compile(r"^(https://[^/\s]+|http://(localhost|127\.0\.0\.1)(:\d{1,5})?)/?$")
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SettingError(field, f"{field} must be text")
    if len(value) > limit:
        raise SettingError(field, f"{field} can hold at most {limit} characters")
    return value.strip()


def validate_settings(changes: Any) -> dict[str, Any]:
    """Check a settings update; every problem names its field. Nothing partial survives."""
    from app.chat.hours import HoursError, parse_hours

    if not isinstance(changes, dict):
        raise SettingError("settings", "settings must be a JSON object")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("greeting", "away_message"):
            # null or empty goes back to the widget's own words, in the shopper's language.
            clean[key] = None if value is None or value == "" else _text(value, key, 300 if key == "greeting" else 500)
        elif key == "accent":
            if not isinstance(value, str) or not _COLOUR.match(value):
                raise SettingError(key, "accent must be a colour like #008060")
            clean[key] = value.lower()
        elif key == "hours":
            try:
                parse_hours(value)
            except HoursError as exc:
                raise SettingError(f"hours.{exc.field}", exc.message) from None
            clean[key] = value
        elif key == "replies_in_minutes":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24 * 60:
                raise SettingError(key, "replies_in_minutes must be a whole number from 1 to 1440")
            clean[key] = value
        elif key == "saved_replies":
            if not isinstance(value, list) or len(value) > 200:
                raise SettingError(key, "saved_replies must be a list of at most 200 replies")
            seen: set[str] = set()
            replies = []
            for index, reply in enumerate(value):
                if not isinstance(reply, dict) or not isinstance(reply.get("shortcut"), str) or not _SHORTCUT.match(reply["shortcut"]):
                    raise SettingError(f"saved_replies[{index}].shortcut", "a shortcut is 1–32 lower-case letters, digits, - or _")
                if reply["shortcut"] in seen:
                    raise SettingError(f"saved_replies[{index}].shortcut", f"/{reply['shortcut']} is used twice")
                seen.add(reply["shortcut"])
                replies.append({"shortcut": reply["shortcut"], "text": _text(reply.get("text"), f"saved_replies[{index}].text", 5000)})
            clean[key] = replies
        elif key == "notification_email":
            if value is not None and (not isinstance(value, str) or not _EMAIL.match(value) or len(value) > 320):
                raise SettingError(key, "notification_email must be an e-mail address")
            clean[key] = value
        elif key == "attribution_window_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 90:
                raise SettingError(key, "attribution_window_days must be a whole number of days from 1 to 90")
            clean[key] = value
        elif key == "storefront_origins":
            if not isinstance(value, list) or not all(isinstance(o, str) and _ORIGIN.match(o) and len(o) < 200 for o in value):
                raise SettingError(key, "storefront_origins must be a list of https:// origins (or http://localhost for development)")
            clean[key] = [o.rstrip("/") for o in value]
        else:
            raise SettingError(key, f"{key} is not a setting")
    return clean
