"""Who is in the inbox (issue 11, points 9 and 10; issue 12, point 9's cursors): signed-in
customers are named from their platform before anyone opens their conversation, without
the shopper waiting for it; anonymous shoppers get a stable, distinct name in the
merchant's language and the facts the widget told (language, page, local time,
returning or new); a cursor that decodes to the wrong things is a 400. On SQLite and
PostgreSQL."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from app import shops
from app.chat.visitors import ANIMALS, CustomerNames, label_language, visitor_hue, visitor_label
from app.models import Platform, Shop, Visitor
from tests.support.shoppers import API, auth, shopper_writes
from tests.support.shops import SHOP, bearer, install


def inbox(client, standin, query: str = "", language: str | None = None) -> list[dict]:
    headers = bearer(standin)
    if language:
        headers["Accept-Language"] = language
    answer = client.get(f"/admin/api/inbox?{query}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["conversations"]


def the_shop(services) -> Shop:
    with services.db.session() as session:
        return shops.find_shop(session, Platform.shopify, SHOP)


def customer_names(services) -> CustomerNames:
    """The look-up the composition root hands the sessions (app/wiring.py); built here the same
    way when the running wiring does not hand one in yet."""
    if services.sessions.customers is None:
        services.sessions.customers = CustomerNames(
            services.db, lambda shop, visitor: services.platforms.of(shop).customer_panel(shop, visitor)
        )
    return services.sessions.customers


@pytest.fixture
def anna(client, standin):
    # Installed the real way, so Parley holds a token the stand-in's Admin API accepts.
    assert (
        client.get(
            "/", query_string={"embedded": "1", "shop": SHOP, "id_token": standin.mint_id_token(SHOP)}
        ).status_code
        == 200
    )
    standin.add_customer(SHOP, 7001, first_name="Anna", last_name="Tamm", email="anna@example.com")


# -- point 9: signed-in customers are named when they start, not when opened ------------------


def test_a_signed_in_customer_is_found_by_name_and_email_before_anyone_opens_the_chat(client, standin, services, anna):
    names = customer_names(services)
    shopper_writes(client, standin, SHOP, "Where is my parka?", customer_id="7001")
    names.wait()
    # Nobody opened the conversation or its customer panel: the inbox knows her anyway.
    [row] = inbox(client, standin)
    assert (row["customer"]["name"], row["customer"]["email"], row["customer"]["label"]) == (
        "Anna Tamm",
        "anna@example.com",
        "Anna Tamm",
    )
    assert [r["id"] for r in inbox(client, standin, "q=tamm")] == [row["id"]]
    assert [r["id"] for r in inbox(client, standin, "q=anna@example")] == [row["id"]]


def test_the_shoppers_session_does_not_wait_for_the_platforms_answer(client, standin, services, anna, backend):
    if backend != "sqlite":
        # The PostgreSQL cases share one rolled-back connection, which one thread at a time
        # may use: there CustomerNames runs inline (its `inline`); on an engine it never does.
        assert CustomerNames(services.db, lambda shop, visitor: {}).inline
        return
    asked, release = threading.Event(), threading.Event()
    real = services.platforms.of(the_shop(services))

    def slow_look_up(shop, visitor):
        asked.set()
        release.wait(10)
        return real.customer_panel(shop, visitor)

    names = CustomerNames(services.db, slow_look_up)
    services.sessions.customers = names
    try:
        started = time.monotonic()
        shopper_writes(client, standin, SHOP, "Hello", customer_id="7001")
        answered_in = time.monotonic() - started
        assert asked.wait(5), "the customer was never looked up"
        # The session and the message were answered while the look-up was still held.
        assert not release.is_set() and answered_in < 10
        assert inbox(client, standin)[0]["customer"]["name"] is None
    finally:
        release.set()
        names.wait()
    assert inbox(client, standin)[0]["customer"]["name"] == "Anna Tamm"


def test_a_failed_look_up_leaves_the_customer_number_and_is_tried_again_next_session(client, standin, services, anna):
    calls = []

    def failing(shop, visitor):
        calls.append(visitor.customer_id)
        raise RuntimeError("Shopify is down")

    services.sessions.customers = names = CustomerNames(services.db, failing)
    shopper_writes(client, standin, SHOP, "Hello", customer_id="7001")
    names.wait()
    assert inbox(client, standin)[0]["customer"]["label"] == "Customer 7001"
    shopper_writes(client, standin, SHOP, "Still there?", customer_id="7001")
    names.wait()
    assert calls == ["7001", "7001"]


# -- point 10: anonymous shoppers get a name, and what the widget told -------------------------


def test_anonymous_labels_are_stable_distinct_and_in_the_merchants_language():
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(200)]
    labels = [visitor_label(i) for i in ids]
    assert labels == [visitor_label(i) for i in ids]  # deterministic
    assert len(set(labels)) >= 195  # 32 animals × 99 numbers: rarely shared
    assert len({visitor_hue(i) for i in ids}) >= 120  # and avatars in many colours
    animal, number = labels[0].rsplit(" ", 1)
    assert animal in ANIMALS["en"] and 1 <= int(number) <= 99
    # The same shopper in Estonian is the same animal with the same number.
    index = ANIMALS["en"].index(animal)
    assert visitor_label(ids[0], "et") == f"{ANIMALS['et'][index]} {number}"
    assert label_language("et-EE,et;q=0.9,en;q=0.8") == "et"
    assert label_language("fr-FR,de;q=0.5") == "en"
    assert label_language("de-DE, he;q=0.3") == "he"


def test_each_anonymous_shopper_has_their_own_name_everywhere_in_the_support_page(client, standin, services):
    install(services, SHOP)
    sent = [shopper_writes(client, standin, SHOP, f"question {n}") for n in range(6)]
    rows = inbox(client, standin)
    labels = {row["id"]: row["customer"]["label"] for row in rows}
    assert len(labels) == 6 and "Visitor" not in labels.values()
    for row in rows:
        assert row["visitor"]["hue"] in range(360)
        assert row["customer"]["label"] == visitor_label(row["visitor"]["id"])
    # The conversation's own header says the same, and so does the next load.
    one = sent[0]["conversation"]["id"]
    shown = client.get(f"/admin/api/conversations/{one}", headers=bearer(standin)).get_json()["conversation"]
    assert shown["customer"]["label"] == labels[one]
    assert {row["id"]: row["customer"]["label"] for row in inbox(client, standin)} == labels
    # In an Estonian merchant's browser, Estonian animals.
    estonian = {row["id"]: row["customer"]["label"] for row in inbox(client, standin, language="et")}
    for row in rows:
        assert estonian[row["id"]] == visitor_label(row["visitor"]["id"], "et")


def test_the_row_shows_the_shoppers_language_page_local_time_and_whether_they_are_new(client, standin, services, clock):
    install(services, SHOP)
    shop = the_shop(services)
    session = services.sessions.start(
        shop,
        None,
        "he-IL",
        page="https://fjordgear.com/products/parka?email=anna%40example.com#reviews",
        timezone="Asia/Jerusalem",
    )
    payload = {"client_id": str(uuid.uuid4()), "body": "שלום, יש לכם מידה L?"}
    assert client.post(f"{API}/messages", json=payload, headers=auth(session)).status_code == 201
    [row] = inbox(client, standin)
    assert row["visitor"]["locale"] == "he-IL"
    # Origin and path only: a query string may carry what the shopper typed.
    assert row["visitor"]["page"] == "https://fjordgear.com/products/parka"
    assert row["visitor"]["timezone"] == "Asia/Jerusalem"
    assert row["visitor"]["returning"] is False

    # The same browser on another page keeps its time zone when a page says nothing new.
    again = services.sessions.start(shop, session["visitor_token"], "he-IL", page="https://fjordgear.com/cart")
    assert again["visitor_id"] == session["visitor_id"]
    newest = inbox(client, standin)[0]
    assert newest["visitor"]["page"] == "https://fjordgear.com/cart"
    assert newest["visitor"]["timezone"] == "Asia/Jerusalem"

    # A shopper first seen yesterday who writes today came back: returning.
    earlier = services.sessions.start(shop, None, "en", page="https://fjordgear.com/")
    clock.advance(timedelta(hours=13))
    payload = {"client_id": str(uuid.uuid4()), "body": "Back again"}
    assert client.post(f"{API}/messages", json=payload, headers=auth(earlier)).status_code == 201
    back = next(r for r in inbox(client, standin) if r["visitor"]["id"] == earlier["visitor_id"])
    assert back["visitor"]["returning"] is True


@pytest.mark.parametrize(
    "page, timezone, locale",
    [
        ("javascript:alert(1)", "Not/AZone", "<script>"),
        ("https://" + "a" * 5000 + ".example/", "../../etc/passwd", "x" * 50),
        ("/relative/path", "Europe/Tallinn\u0000", "et\u0000"),
        (12345, ["UTC"], {"lang": "et"}),
        ("https://shop.example/\ud800", "\ud800", "\ud800"),
    ],
)
def test_what_the_widget_says_is_ignored_when_it_is_not_what_it_claims(services, page, timezone, locale):
    install(services, SHOP)
    session = services.sessions.start(the_shop(services), None, locale, page=page, timezone=timezone)
    with services.db.session() as db_session:
        visitor = db_session.get(Visitor, session["visitor_id"])
    assert (visitor.page_url, visitor.timezone, visitor.locale) == (None, None, None)


def test_a_long_page_address_is_cut_to_a_sane_length(services):
    install(services, SHOP)
    long_page = "https://fjordgear.com/" + "p/" * 900
    session = services.sessions.start(the_shop(services), None, "en", page=long_page, timezone="UTC")
    with services.db.session() as db_session:
        visitor = db_session.get(Visitor, session["visitor_id"])
    assert visitor.page_url == long_page[:1000] and visitor.timezone == "UTC"


# -- issue 12 point 9: cursors that decode but are not this inbox's ---------------------------------


def encoded(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        encoded([1, "x"]),
        encoded([None, None]),
        encoded(["2026-11-01T10:00:00", "c0ffee"]),  # a naive time
        encoded([{"a": 1}, "c0ffee"]),
        encoded(["2026-11-01T10:00:00+00:00", 5]),
        encoded(["2026-11-01T10:00:00+00:00", ["nested"]]),
        encoded(["x" * 100, "c0ffee"]),
        encoded([None, "x" * 37]),
        encoded(["not a time", "c0ffee"]),
        encoded("just text"),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_that_decodes_to_the_wrong_things_is_a_400(client, standin, services, cursor):
    install(services, SHOP)
    shopper_writes(client, standin, SHOP, "hello")
    answer = client.get(f"/admin/api/inbox?cursor={cursor}", headers=bearer(standin))
    assert answer.status_code == 400, answer.data
    assert answer.get_json()["error"] == "invalid_cursor"


def test_a_cursor_the_inbox_gave_out_still_pages(client, standin, services):
    install(services, SHOP)
    for n in range(3):
        shopper_writes(client, standin, SHOP, f"q{n}")
    first = client.get("/admin/api/inbox?limit=2", headers=bearer(standin)).get_json()
    rest = client.get(f"/admin/api/inbox?limit=2&cursor={first['next_cursor']}", headers=bearer(standin)).get_json()
    seen = [r["id"] for r in first["conversations"] + rest["conversations"]]
    assert len(seen) == len(set(seen)) == 3


def test_visitor_facts_cost_no_extra_query_per_row(client, standin, services, bind):
    from tests.support.queries import counted

    install(services, SHOP)
    shopper_writes(client, standin, SHOP, "one")
    with counted(bind) as few:
        inbox(client, standin)
    for n in range(8):
        shopper_writes(client, standin, SHOP, f"more {n}")
    with counted(bind) as many:
        rows = inbox(client, standin)
    assert len(rows) == 9 and len(many) == len(few)
    with services.db.session() as session:
        assert len(session.exec(select(Visitor)).all()) == 9
