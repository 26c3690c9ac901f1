"""Settings as the merchant means them and the widget reads them (issue 11, points 5, 6,
12 and 13; issue 12, point 9's settings): the accent colour is nobody's until the merchant
picks one, greetings and away messages come per language, no hours means always open,
hours may run past midnight, and every refusal is a 400 in the merchant's words.
On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from app.chat.hours import parse_hours, team_status
from app.chat.shop_settings import get_settings, put_setting
from app.clock import utcnow
from app.models import ShopSetting
from tests.support.shops import SHOP, bearer, install


def widget_session(client, standin, locale: str | None = None) -> dict:
    body = {"locale": locale} if locale else {}
    return client.post(f"/proxy/session?{urlencode(standin.proxy_query(SHOP))}", json=body).get_json()


def put(client, standin, update: dict):
    return client.put("/admin/api/settings", json=update, headers=bearer(standin))


def stored_rows(services, shop_id: int) -> dict:
    with services.db.session() as session:
        return {row.key: row.value for row in session.exec(select(ShopSetting).where(ShopSetting.shop_id == shop_id))}


# -- point 5: the accent colour ---------------------------------------------------------


def test_the_accent_is_null_until_the_merchant_picks_one_and_then_it_is_sent(client, standin, services):
    install(services, SHOP)
    # Nothing chosen: the widget keeps the theme embed's colour (or its own).
    assert widget_session(client, standin)["settings"]["accent"] is None
    assert client.get("/admin/api/settings", headers=bearer(standin)).get_json()["settings"]["accent"] is None

    assert put(client, standin, {"accent": "#AA3300"}).get_json()["settings"]["accent"] == "#aa3300"
    assert widget_session(client, standin)["settings"]["accent"] == "#aa3300"

    # Parley's own green, chosen on purpose, is the merchant's choice too and is sent.
    assert put(client, standin, {"accent": "#008060"}).status_code == 200
    assert widget_session(client, standin)["settings"]["accent"] == "#008060"

    # Emptied: back to the theme's colour.
    for empty in (None, ""):
        assert put(client, standin, {"accent": empty}).get_json()["settings"]["accent"] is None
        assert widget_session(client, standin)["settings"]["accent"] is None


def test_an_accent_saved_before_it_could_be_unset_keeps_working(client, standin, services):
    shop_id = install(services, SHOP)
    # The old Settings form sent its pre-filled #008060 with every save: that says nothing
    # about the merchant's wish, so it does not override the theme's colour.
    with services.db.transaction() as session:
        put_setting(session, shop_id, "accent", "#008060", utcnow())
    assert widget_session(client, standin)["settings"]["accent"] is None
    # A colour the merchant did pick back then still wins.
    with services.db.transaction() as session:
        put_setting(session, shop_id, "accent", "#5C6AC4", utcnow())
    assert widget_session(client, standin)["settings"]["accent"] == "#5c6ac4"
    with services.db.session() as session:
        assert get_settings(session, shop_id)["accent"] == "#5c6ac4"


# -- point 6: greetings and away messages per language -------------------------------------


def test_a_greeting_per_language_reaches_shoppers_of_that_language_only(client, standin, services):
    install(services, SHOP)
    saved = put(
        client,
        standin,
        {"greeting": {"en": "Hello! Ask us anything.", "et": "Tere! Küsi julgelt.", "pl": ""}, "away_message": None},
    )
    assert saved.status_code == 200
    # Empty texts are dropped: that language keeps the widget's own words.
    assert saved.get_json()["settings"]["greeting"] == {"en": "Hello! Ask us anything.", "et": "Tere! Küsi julgelt."}

    assert widget_session(client, standin, "et-EE")["settings"]["greeting"] == "Tere! Küsi julgelt."
    assert widget_session(client, standin, "en-US")["settings"]["greeting"] == "Hello! Ask us anything."
    # No text for Hebrew or Polish: null, so the widget greets in its own translation.
    assert widget_session(client, standin, "he")["settings"]["greeting"] is None
    assert widget_session(client, standin, "pl")["settings"]["greeting"] is None

    # "default" covers every language without its own.
    put(client, standin, {"greeting": {"default": "Hi!", "et": "Tere!"}})
    assert widget_session(client, standin, "he")["settings"]["greeting"] == "Hi!"
    assert widget_session(client, standin, "et")["settings"]["greeting"] == "Tere!"


def test_the_away_message_is_per_language_too(client, standin, services):
    install(services, SHOP)
    put(client, standin, {"away_message": {"ru": "Мы ответим утром.", "default": "We answer in the morning."}})
    assert widget_session(client, standin, "ru-RU")["settings"]["away_message"] == "Мы ответим утром."
    assert widget_session(client, standin, "ar")["settings"]["away_message"] == "We answer in the morning."


def test_a_greeting_saved_as_one_text_is_kept_for_every_language(client, standin, services):
    shop_id = install(services, SHOP)
    # As Settings stored it before it had languages: one string.
    with services.db.transaction() as session:
        put_setting(session, shop_id, "greeting", "Welcome to Fjord Gear!", utcnow())
    for locale in ("en", "et", "he"):
        assert widget_session(client, standin, locale)["settings"]["greeting"] == "Welcome to Fjord Gear!"
    # Settings shows it as the text for every language, where the merchant can split it up.
    shown = client.get("/admin/api/settings", headers=bearer(standin)).get_json()["settings"]["greeting"]
    assert shown == {"default": "Welcome to Fjord Gear!"}
    # A client that still sends one text gets the same.
    put(client, standin, {"greeting": "Hei!"})
    assert widget_session(client, standin, "et")["settings"]["greeting"] == "Hei!"
    assert stored_rows(services, shop_id)["greeting"] == {"default": "Hei!"}


@pytest.mark.parametrize(
    "update, field, message",
    [
        (
            {"greeting": {"et": "x" * 301}},
            "greeting.et",
            "The greeting for Estonian can hold at most 300 characters",
        ),
        ({"greeting": {"he": 5}}, "greeting.he", "The greeting for Hebrew must be text"),
        (
            {"away_message": {"default": "y" * 501}},
            "away_message.default",
            "The away message for every other language can hold at most 500 characters",
        ),
        (
            {"greeting": {"Estonian!": "Tere"}},
            "greeting",
            "The greeting can be set per language, like en or et, and for every other language",
        ),
        ({"greeting": ["Tere"]}, "greeting", "The greeting must be text, or a text per language"),
    ],
)
def test_a_bad_text_names_its_language_and_saves_nothing(client, standin, services, update, field, message):
    shop_id = install(services, SHOP)
    answer = put(client, standin, {"accent": "#112233", **update})
    assert (answer.status_code, answer.get_json()) == (
        400,
        {"error": "invalid_setting", "field": field, "message": message},
    )
    assert stored_rows(services, shop_id) == {}


# -- point 12: business hours ------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_no_hours_means_always_open():
    hours = parse_hours({"timezone": "Europe/Tallinn", "weekly": {day: [] for day in ("mon", "tue", "sun")}})
    assert hours.always_open
    for moment in ("2026-11-23T03:00:00", "2026-11-28T23:59:00"):  # a Monday night, a Saturday
        assert team_status(hours, at(moment)).state == "online"


def test_hours_that_cross_midnight_keep_the_team_online_into_the_next_day(client, standin, services):
    install(services, SHOP)
    # A night shift: Friday 22:00 until Saturday 02:00, shop time (UTC here).
    answer = put(client, standin, {"hours": {"timezone": "UTC", "weekly": {"fri": [["22:00", "02:00"]]}}})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["settings"]["hours"]["weekly"] == {"fri": [["22:00", "02:00"]]}
    hours = parse_hours(answer.get_json()["settings"]["hours"])
    friday, saturday = "2026-11-27", "2026-11-28"
    assert team_status(hours, at(f"{friday}T21:59:00")).state == "away"
    assert team_status(hours, at(f"{friday}T22:00:00")).state == "online"
    assert team_status(hours, at(f"{saturday}T01:59:00")).state == "online"
    away = team_status(hours, at(f"{saturday}T02:00:00"))
    assert away.state == "away" and away.back_at == at("2026-12-04T22:00:00")


# -- point 13 and issue 12 point 9: refusals in the merchant's words, never a 500 ---------------


@pytest.mark.parametrize(
    "hours",
    [
        "9-5",
        ["09:00", "17:00"],
        {"timezone": "UTC", "weekly": {"mon": [[1]]}},
        {"timezone": "UTC", "weekly": {"mon": [["09:00"]]}},
        {"timezone": "UTC", "weekly": {"mon": [[None, None]]}},
        {"timezone": "UTC", "weekly": {"mon": "09:00-17:00"}},
        {"timezone": "UTC", "weekly": {"mon": [["9am", "5pm"]]}},
        {"timezone": "UTC", "weekly": {"mon": [["09:00+02:00", "17:00"]]}},
        {"timezone": "UTC", "weekly": ["mon"]},
        {"timezone": "UTC", "weekly": {"funday": []}},
        {"timezone": 5, "weekly": {}},
        {"timezone": "../../etc/passwd", "weekly": {}},
        {"timezone": "UTC", "weekly": {"mon": [["09:00", "17:00"]] * 13}},
    ],
)
def test_hours_that_are_not_a_timetable_get_400_and_nothing_is_saved(client, standin, services, hours):
    shop_id = install(services, SHOP)
    answer = put(client, standin, {"greeting": "not saved", "hours": hours})
    assert answer.status_code == 400, answer.get_json()
    body = answer.get_json()
    assert body["error"] == "invalid_setting" and body["field"].startswith("hours")
    # The sentence speaks of days and the list, not of JSON or Python.
    assert not re.search(r"\[|\]|list of|dict|str\b|None|NoneType", body["message"]), body["message"]
    assert stored_rows(services, shop_id) == {}


def test_hours_errors_name_the_day_and_use_no_24_hour_times(client, standin, services):
    install(services, SHOP)
    answer = put(client, standin, {"hours": {"timezone": "UTC", "weekly": {"mon": [["17:00", "17:00"]]}}})
    body = answer.get_json()
    assert (answer.status_code, body["field"]) == (400, "hours.weekly.mon")
    assert "Monday" in body["message"]
    # The time inputs show the merchant's own format (AM/PM in en-US): the sentence names no clock time.
    assert not re.search(r"\d{1,2}:\d{2}", body["message"]), body["message"]


def test_time_zone_refusal_is_a_sentence_about_the_list(client, standin, services):
    install(services, SHOP)
    body = put(client, standin, {"hours": {"timezone": "Mars/Olympus", "weekly": {}}}).get_json()
    assert body == {
        "error": "invalid_setting",
        "field": "hours.timezone",
        "message": "Mars/Olympus is not a time zone Parley knows; choose one from the list",
    }


def test_stored_hours_that_do_not_read_still_leave_the_widget_working(client, standin, services):
    shop_id = install(services, SHOP)
    with services.db.transaction() as session:
        put_setting(session, shop_id, "hours", "9-5", utcnow())
        put_setting(session, shop_id, "replies_in_minutes", "soon", utcnow())
    team = widget_session(client, standin)["settings"]["team"]
    assert team == {"state": "online", "replies_in_minutes": 5, "back_at": None}
