"""A shop's chat settings: the defaults a fresh install works with, what a merchant may
change (declared as a pydantic model), and how it is stored."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, BeforeValidator, ConfigDict
from sqlmodel import Session, select

from app.chat.hours import HoursError, parse_hours
from app.inputs import Refusal, parse
from app.models import ShopSetting

# The languages the widget has its own words for (extensions/parley-chat/locales); Settings
# offers a greeting and an away message in each, plus one for every other language.
LANGUAGES = ("en", "et", "he", "ar", "pl", "ru")
LANGUAGE_NAMES = {
    "en": "English",
    "et": "Estonian",
    "he": "Hebrew",
    "ar": "Arabic",
    "pl": "Polish",
    "ru": "Russian",
    "default": "every other language",
}
DEFAULT_LANGUAGE = "default"
# The colour the Settings form used to send on every save, whatever the merchant did:
# a stored legacy value equal to it tells nothing, so it reads as "not set".
LEGACY_ACCENT = "#008060"

DEFAULTS: dict[str, Any] = {
    # None: the widget greets in the shopper's language from its own translations.
    # Otherwise {language: text}, "default" standing for every language without its own.
    "greeting": None,
    # None: not set, so the theme's colour (Shopify's app embed) or Parley's green is used;
    # a colour set here wins over the theme's.
    "accent": None,
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
    # The most an agent may give with a code created in the chat (app/commerce/discounts.py):
    # a percentage, an amount in the shop's currency (decimal text), and how many days it lasts.
    "discount_max_percent": 10,
    "discount_max_amount": "10.00",
    "discount_max_days": 7,
    # Saleor: the channel the agent sells in, and the storefront's checkout page for a
    # checkout link ({checkout_id} stands for the checkout; None: <storefront>/checkout?checkout=…).
    "saleor_channel": "default-channel",
    "checkout_url": None,
}
# Kept beside the merchant's settings but written by Parley itself, never shown as settings.
SYSTEM_KEYS = ("widget_last_seen", "primary_origin")
LOCALIZED_KEYS = ("greeting", "away_message")


def localized_texts(value: Any) -> dict[str, str] | None:
    """A stored greeting or away message as {language: text}. One text saved before
    Settings had languages is kept as the text for every language ("default"): it is
    what the merchant chose and saw, until they give their languages their own."""
    if isinstance(value, str):
        return {DEFAULT_LANGUAGE: value} if value.strip() else None
    if isinstance(value, dict):
        texts = {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str) and v.strip()}
        return texts or None
    return None


def text_for(value: Any, locale: object) -> str | None:
    """The merchant's text for a shopper's locale ("et-EE" reads "et"), else their text
    for every other language, else None: the widget then uses its own translation."""
    texts = localized_texts(value)
    if not texts:
        return None
    language = locale.split("-")[0].split("_")[0].lower() if isinstance(locale, str) else ""
    return texts.get(language) or texts.get(DEFAULT_LANGUAGE)


def _stored_accent(value: Any) -> str | None:
    # Saved by Settings since accents can be unset: {"colour": "#rrggbb"}. Before: a bare string.
    if isinstance(value, dict):
        colour = value.get("colour")
        return colour if isinstance(colour, str) and _COLOUR.match(colour) else None
    if isinstance(value, str) and _COLOUR.match(value) and value.lower() != LEGACY_ACCENT:
        return value.lower()
    return None


def _read(key: str, value: Any) -> Any:
    if key in LOCALIZED_KEYS:
        return localized_texts(value)
    if key == "accent":
        return _stored_accent(value)
    return value


def _stored(key: str, value: Any) -> Any:
    if key == "accent" and value is not None:
        return {"colour": value}
    return value


# A shop's stored settings, read once per transaction: a shopper's send asks for them from
# the session start, the response-time target, the alerts and the assistant alike.
_MEMO = "parley.shop_settings"


def stored_settings(session: Session, shop_id: int) -> dict[str, Any]:
    """Every stored setting of the shop by key (the notify.* ones too), as a copy the
    caller may change; read from the database once per transaction."""
    memo: dict[int, dict[str, Any]] = session.info.setdefault(_MEMO, {})
    if shop_id not in memo:
        rows = session.exec(select(ShopSetting).where(ShopSetting.shop_id == shop_id)).all()
        memo[shop_id] = {row.key: row.value for row in rows}
    return copy.deepcopy(memo[shop_id])


@sa.event.listens_for(Session, "after_commit")
@sa.event.listens_for(Session, "after_rollback")
@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_settings(session: Session, *_: Any) -> None:
    # Another transaction may change them: the next one reads them again.
    session.info.pop(_MEMO, None)


def get_settings(session: Session, shop_id: int) -> dict[str, Any]:
    values = dict(DEFAULTS)
    values.update({key: _read(key, value) for key, value in stored_settings(session, shop_id).items()})
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
    session.info.get(_MEMO, {}).pop(shop_id, None)


def put_settings(session: Session, shop_id: int, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Store a checked update (validate_settings) in the caller's transaction; the settings after it."""
    for key, value in changes.items():
        put_setting(session, shop_id, key, _stored(key, value), now)
    return get_settings(session, shop_id)


# -- what a merchant may change ----------------------------------------------------------

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# https:// anywhere; plain http only on this machine, where a storefront under development runs.
_ORIGIN = re.compile(r"^(https://[^/\s]+|http://(localhost|127\.0\.0\.1)(:\d{1,5})?)/?$")
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
# A language as a shopper's browser names it, without the region: "et", "pt", "fil".
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
MAX_LANGUAGES = 40


def _language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)


def _localized_text(limit: int, label: str, key: str) -> Any:
    """One text for every language (as Settings sent before it had languages), or
    {language: text} with "default" for every other language; null or empty text goes
    back to the widget's own words, in the shopper's language."""

    def one(value: Any, field: str, where: str) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not value.strip():
            raise Refusal(f"{label}{where} must be text", field=field)
        if len(value) > limit:
            raise Refusal(f"{label}{where} can hold at most {limit} characters", field=field)
        return value.strip()

    def check(value: Any) -> dict[str, str] | None:
        if value is None or isinstance(value, str):
            text = one(value, key, "")
            return {DEFAULT_LANGUAGE: text} if text else None
        if not isinstance(value, dict) or len(value) > MAX_LANGUAGES:
            raise Refusal(f"{label} must be text, or a text per language", field=key)
        texts = {}
        for language, text in value.items():
            if not isinstance(language, str) or not (language == DEFAULT_LANGUAGE or _LANGUAGE.match(language)):
                raise Refusal(
                    f"{label} can be set per language, like en or et, and for every other language", field=key
                )
            checked = one(text, f"{key}.{language}", f" for {_language_name(language)}")
            if checked:
                texts[language] = checked
        return texts or None

    return BeforeValidator(check)


def _whole_number(low: int, high: int, sentence: str) -> Any:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Refusal(sentence)
        return value

    return BeforeValidator(check)


def _channel_slug(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,99}", value):
        raise Refusal("The Saleor channel must be a channel slug like default-channel")
    return value


def _checkout_url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or len(value) > 500
        or not re.match(r"https?://[^\s]+$", value)
        or "{checkout_id}" not in value
    ):
        raise Refusal("The checkout page must be an http(s) address with {checkout_id} where the checkout goes")
    return value


def _discount_amount(value: Any) -> str:
    # Decimal text, so no float ever rounds the merchant's limit.
    try:
        amount = Decimal(value) if isinstance(value, str) and len(value) <= 20 else None
    except ArithmeticError:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > 1_000_000:
        raise Refusal("The largest amount off must be a number like 10.00, from 0 to 1000000")
    return str(amount.quantize(Decimal("0.01")))


def _accent(value: Any) -> str | None:
    # Empty: no colour of the merchant's own; the theme's (or Parley's green) is used.
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _COLOUR.match(value):
        raise Refusal("The accent colour must be a colour like #008060, or left empty")
    return value.lower()


def _hours(value: Any) -> dict[str, Any]:
    try:
        hours = parse_hours(value)
    except HoursError as exc:
        # The field is the part of the hours that is wrong (hours.weekly.tue).
        raise Refusal(exc.message, field=f"hours.{exc.field}") from None
    # Stored as read back: times as HH:MM, days as sent.
    return {
        "timezone": hours.tz,
        "weekly": {
            day: [[opens.strftime("%H:%M"), closes.strftime("%H:%M")] for opens, closes in intervals]
            for day, intervals in hours.weekly.items()
        },
    }


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

    greeting: Annotated[dict[str, str] | None, _localized_text(300, "The greeting", "greeting")] = None
    away_message: Annotated[dict[str, str] | None, _localized_text(500, "The away message", "away_message")] = None
    accent: Annotated[str | None, BeforeValidator(_accent)] = None
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
    discount_max_percent: Annotated[
        int, _whole_number(0, 100, "The largest discount must be a whole percentage from 0 to 100")
    ] = 10
    discount_max_amount: Annotated[str, BeforeValidator(_discount_amount)] = "10.00"
    discount_max_days: Annotated[
        int, _whole_number(1, 365, "A chat discount code must last a whole number of days from 1 to 365")
    ] = 7
    saleor_channel: Annotated[str, BeforeValidator(_channel_slug)] = "default-channel"
    checkout_url: Annotated[str | None, BeforeValidator(_checkout_url)] = None


SETTINGS_MESSAGES = {"": "Settings must be sent as a JSON object", "extra": "{field} is not a setting"}


def validate_settings(changes: Any) -> dict[str, Any]:
    """Check a settings update; the first problem names its field. Nothing partial survives."""
    update = parse(
        SettingsUpdate, changes, code="invalid_setting", messages=SETTINGS_MESSAGES, with_field=True, root="settings"
    )
    return update.model_dump(exclude_unset=True)
