"""The Support page's API on SQLite and PostgreSQL: tenant isolation over every
admin endpoint, inbox order and pagination, query counts, the customer panel
against the Shopify stand-in (throttled, down), settings and live updates."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.chat.shop_settings import get_settings, put_setting
from app.clock import utcnow
from app.models import Conversation, DataExport, Message, Visitor
from tests.support.queries import counted
from tests.support.shoppers import cart, shopper_writes
from tests.support.shops import OTHER, SHOP, bearer, install, installed_id
from tests.support.streams import Stream

SECRET_MARKER = "shop-b-secret-7f3a"


@pytest.fixture
def two_shops(client, standin, services):
    standin.add_shop(OTHER, name="Other Shop")
    a, b = install(services, SHOP), install(services, OTHER)
    mine = shopper_writes(client, standin, SHOP, "hello from shop A")
    theirs = shopper_writes(client, standin, OTHER, f"{SECRET_MARKER} private question")
    with services.db.transaction() as session:
        put_setting(session, b, "greeting", f"{SECRET_MARKER} greeting", utcnow())
        session.add(DataExport(shop_id=b, customer_id="1", content={"note": SECRET_MARKER}))
    with services.db.session() as session:
        export_id = session.exec(select(DataExport.id).where(DataExport.shop_id == b)).one()
    return {"a": a, "b": b, "mine": mine, "theirs": theirs, "export_id": export_id}


# -- tenant isolation --------------------------------------------------------------

BODIES = {
    "/admin/api/conversations/<conversation_id>/messages": {"client_id": "x-1", "body": "injected reply"},
    "/admin/api/conversations/<conversation_id>/status": {"status": "resolved"},
    "/admin/api/conversations/<conversation_id>/assign": {"to": "me"},
    "/admin/api/conversations/<conversation_id>/typing": {"typing": True},
    "/admin/api/conversations/<conversation_id>/read": {"up_to": 10**9},
    "/admin/api/settings": {"greeting": "overwritten by shop A"},
}


def _answer_of(services, shop_id: int) -> str:
    """An instant answer of the other shop (app/answers), for the answers routes' sweep."""
    from app.answers import store

    with services.db.transaction() as session:
        answer = store.create_answer(
            session,
            shop_id,
            {"language": "en", "question": f"{SECRET_MARKER} question?", "answer": f"{SECRET_MARKER} answer"},
            utcnow(),
        )
        return str(answer.id)


def _picture_of(services, conversation_id: str) -> str:
    """A picture in the other shop's conversation (app/media), for the attachment routes' sweep."""
    from app.media.images import clean
    from tests.test_attachments import GPS_PHOTO

    with services.db.transaction() as session:
        conversation = session.get(Conversation, conversation_id)
        return services.attachments.add(session, conversation, "shopper", clean(GPS_PHOTO)).id


def _allowed(rule: str) -> tuple[int, ...]:
    """What an admin route may answer in the sweeps. The answers import reads shop A's own
    store, and these shops hold tokens no platform issued (Shopify refuses them: 502) or
    name an API no server answers (Saleor: 503); what the sweep is about, that nothing of
    the other shop leaks or changes, holds for it all the same."""
    allowed = (200, 201, 204, 400, 401, 404)
    return (*allowed, 502, 503) if rule == "/admin/api/answers/import" else allowed


def _admin_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/api/"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _fill(rule, ids: dict) -> str:
    url = rule.rule
    for argument in rule.arguments:
        if argument not in ids:
            pytest.fail(f"{rule.rule}: no isolation fixture for <{argument}>; add one to this test")
        url = url.replace(f"<{argument}>", ids[argument])
    return url


def _state_of(services, shop_id: int) -> tuple:
    with services.db.session() as session:
        conversations = session.exec(
            select(Conversation.status, Conversation.assignee, Conversation.unread_by_agent).where(
                Conversation.shop_id == shop_id
            )
        ).all()
        messages = session.exec(select(sa.func.count()).select_from(Message).where(Message.shop_id == shop_id)).one()
        settings = get_settings(session, shop_id)
        from app.answers import store

        answers = sorted((a.question, a.answer, a.enabled) for a in store.list_answers(session, shop_id))
    return (sorted(map(tuple, conversations)), messages, settings.get("greeting"), answers)


def test_no_admin_endpoint_lets_one_shop_touch_anothers_data(app, client, standin, services, two_shops):
    ids = {
        "conversation_id": two_shops["theirs"]["conversation"]["id"],
        "export_id": two_shops["export_id"],
        "answer_id": _answer_of(services, two_shops["b"]),
        "attachment_id": _picture_of(services, two_shops["theirs"]["conversation"]["id"]),
    }
    before = _state_of(services, two_shops["b"])
    checked = []
    for rule, method in _admin_routes(app):
        url = _fill(rule, ids)
        response = client.open(url, method=method, json=BODIES.get(rule.rule, {}), headers=bearer(standin, SHOP))
        body = response.get_data(as_text=True) if not response.is_streamed else ""
        assert response.status_code in _allowed(rule.rule), f"{method} {rule.rule}: {response.status_code}"
        assert SECRET_MARKER not in body, f"{method} {rule.rule} leaked shop B's data"
        assert ids["conversation_id"] not in body, f"{method} {rule.rule} leaked shop B's conversation"
        response.close()
        checked.append(f"{method} {rule.rule}")
    assert _state_of(services, two_shops["b"]) == before, "an endpoint changed shop B's data with shop A's token"
    assert len(checked) >= 14


@pytest.mark.parametrize("victim", ["shopify", "another_saleor"])
def test_no_admin_endpoint_lets_a_saleor_shop_touch_another_shops_data(app, client, standin, services, victim):
    """The same sweep with a Saleor Dashboard token: Saleor A against a Shopify shop, and
    against a second Saleor (tokens and keys made in tests/support/saleor_tokens.py)."""
    from joserfc.jwk import RSAKey

    from tests.support.saleor_tokens import (
        API_A,
        API_B,
        APP_A,
        APP_B,
        RecordingContext,
        claims_for,
        dashboard,
        install_saleor,
        saleor_shopper_writes,
        sign,
    )

    services.saleor.context = RecordingContext()
    key_a, key_b = (RSAKey.generate_key(2048, parameters={"kid": kid}) for kid in ("iso-a", "iso-b"))
    install_saleor(services, API_A, APP_A, key_a)
    saleor_shopper_writes(client, API_A, "hello from Saleor A")
    if victim == "shopify":
        standin.add_shop(OTHER, name="Other Shop")
        b = install(services, OTHER)
        theirs = shopper_writes(client, standin, OTHER, f"{SECRET_MARKER} private question")
    else:
        b = install_saleor(services, API_B, APP_B, key_b)
        theirs = saleor_shopper_writes(client, API_B, f"{SECRET_MARKER} private question")
    with services.db.transaction() as session:
        put_setting(session, b, "greeting", f"{SECRET_MARKER} greeting", utcnow())
        session.add(DataExport(shop_id=b, customer_id="1", content={"note": SECRET_MARKER}))
    with services.db.session() as session:
        export_id = session.exec(select(DataExport.id).where(DataExport.shop_id == b)).one()
    ids = {
        "conversation_id": theirs["conversation"]["id"],
        "export_id": export_id,
        "answer_id": _answer_of(services, b),
        "attachment_id": _picture_of(services, theirs["conversation"]["id"]),
    }
    headers = dashboard(sign(key_a, claims_for()))
    before = _state_of(services, b)
    checked = []
    for rule, method in _admin_routes(app):
        response = client.open(_fill(rule, ids), method=method, json=BODIES.get(rule.rule, {}), headers=headers)
        body = response.get_data(as_text=True) if not response.is_streamed else ""
        assert response.status_code in _allowed(rule.rule), f"{method} {rule.rule}: {response.status_code}"
        assert SECRET_MARKER not in body, f"{method} {rule.rule} leaked the other shop's data to Saleor A"
        assert ids["conversation_id"] not in body, f"{method} {rule.rule} leaked the other shop's conversation"
        response.close()
        checked.append(f"{method} {rule.rule}:{response.status_code}")
    assert "GET /admin/api/inbox:200" in checked, "Saleor A's token must be accepted for its own shop"
    assert _state_of(services, b) == before, "an endpoint changed the other shop's data with Saleor A's token"
    assert len(checked) >= 14


def test_a_token_for_another_shop_cannot_read_through_a_stream_ticket(client, standin, services, two_shops):
    ticket = client.post("/admin/api/stream-ticket", headers=bearer(standin, SHOP)).get_json()["ticket"]
    response = client.get(f"/admin/api/stream?ticket={ticket}", buffered=False)
    stream = Stream(response)
    try:
        # Backlog since 0 holds only shop A's message.
        event = stream.next_event()
        assert event["data"]["body"] == "hello from shop A"
        services.chat.send_agent_message(
            two_shops["b"], two_shops["theirs"]["conversation"]["id"], "9", f"{SECRET_MARKER} reply", "r-b"
        )
        services.chat.send_agent_message(
            two_shops["a"], two_shops["mine"]["conversation"]["id"], "42", "reply in A", "r-a"
        )
        assert stream.next_event()["data"]["body"] == "reply in A"
    finally:
        stream.close()


@pytest.mark.parametrize("token_kind", ["missing", "forged", "expired", "uninstalled"])
def test_bad_tokens_get_401_with_the_retry_header_and_change_nothing(client, standin, services, two_shops, token_kind):
    headers = {
        "missing": {},
        "forged": {"Authorization": "Bearer " + standin.mint_id_token(SHOP, secret="wrong-secret-" + "w" * 30)},
        "expired": {"Authorization": "Bearer " + standin.mint_id_token(SHOP, now=__import__("time").time() - 600)},
        "uninstalled": bearer(standin, "never-installed.myshopify.com"),
    }[token_kind]
    before = _state_of(services, two_shops["a"])
    response = client.post(
        f"/admin/api/conversations/{two_shops['mine']['conversation']['id']}/messages",
        json={"client_id": "z", "body": "should not be stored"},
        headers=headers,
    )
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert _state_of(services, two_shops["a"]) == before


# -- inbox ------------------------------------------------------------------------


def test_waiting_tab_weighs_waiting_time_and_cart_value(client, standin, services, clock):
    install(services, SHOP)
    start = utcnow() - timedelta(hours=1)
    clock.set(start)
    small_early = shopper_writes(client, standin, SHOP, "small cart, waiting longest", cart=cart(1000))
    clock.set(start + timedelta(minutes=5))
    big_later = shopper_writes(client, standin, SHOP, "big cart, 5 min later", cart=cart(48000))
    clock.set(start + timedelta(minutes=30))
    nothing_latest = shopper_writes(client, standin, SHOP, "no cart, latest")
    clock.set(start + timedelta(minutes=40))

    rows = client.get("/admin/api/inbox?tab=waiting", headers=bearer(standin)).get_json()["conversations"]
    order = [r["id"] for r in rows]
    # €480 counts as 48 minutes of extra waiting, so it passes the €10 cart that came 5 minutes earlier.
    assert order == [
        big_later["conversation"]["id"],
        small_early["conversation"]["id"],
        nothing_latest["conversation"]["id"],
    ]
    assert rows[0]["cart"] == {"total": "480.00", "currency": "EUR"}
    assert rows[0]["waiting_seconds"] == 35 * 60
    assert rows[0]["unread"] == 1


def test_reply_moves_a_conversation_out_of_waiting_and_resolve_into_resolved(client, standin, services):
    install(services, SHOP)
    sent = shopper_writes(client, standin, SHOP, "hello")
    conversation_id = sent["conversation"]["id"]
    reply = client.post(
        f"/admin/api/conversations/{conversation_id}/messages",
        json={"client_id": "r1", "body": "Hi!"},
        headers=bearer(standin),
    )
    assert reply.status_code == 201
    assert reply.get_json()["message"]["author_id"] == "42"
    counts = client.get("/admin/api/inbox", headers=bearer(standin)).get_json()["counts"]
    assert counts == {"open": 1, "waiting": 0, "resolved": 0}
    resolved = client.post(
        f"/admin/api/conversations/{conversation_id}/status", json={"status": "resolved"}, headers=bearer(standin)
    )
    assert resolved.get_json()["conversation"]["status"] == "resolved"
    assert (
        client.get("/admin/api/inbox?tab=resolved", headers=bearer(standin)).get_json()["conversations"][0]["id"]
        == conversation_id
    )


def test_inbox_pages_with_a_cursor_without_gaps_or_repeats(client, standin, services, clock):
    install(services, SHOP)
    base = utcnow() - timedelta(hours=2)
    expected = []
    for i in range(7):
        clock.set(base + timedelta(minutes=i))
        expected.append(shopper_writes(client, standin, SHOP, f"question {i}")["conversation"]["id"])
    seen, cursor = [], None
    while True:
        query = {"tab": "open", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/admin/api/inbox?{urlencode(query)}", headers=bearer(standin)).get_json()
        seen += [r["id"] for r in page["conversations"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(expected))


def test_search_finds_message_text_and_customer(client, standin, services):
    shop_id = install(services, SHOP)
    parka = shopper_writes(client, standin, SHOP, "Is the PARKA waterproof?")
    shopper_writes(client, standin, SHOP, "Where is my order?")
    anna = shopper_writes(client, standin, SHOP, "hello", customer_id="7001")
    with services.db.transaction() as session:
        visitor = session.exec(select(Visitor).where(Visitor.customer_id == "7001", Visitor.shop_id == shop_id)).one()
        visitor.email, visitor.name = "anna@example.com", "Anna Tamm"
        session.add(visitor)

    def search(q):
        return [
            r["id"]
            for r in client.get(f"/admin/api/inbox?{urlencode({'q': q})}", headers=bearer(standin)).get_json()[
                "conversations"
            ]
        ]

    assert search("parka") == [parka["conversation"]["id"]]
    assert search("anna@") == [anna["conversation"]["id"]]
    assert search("tamm") == [anna["conversation"]["id"]]
    assert search("nothing like this") == []


@pytest.mark.parametrize(
    "query, error",
    [("tab=archived", "invalid_tab"), ("cursor=not-a-cursor", "invalid_cursor"), ("limit=lots", "invalid_query")],
)
def test_bad_inbox_queries_get_400(client, standin, services, query, error):
    install(services, SHOP)
    response = client.get(f"/admin/api/inbox?{query}", headers=bearer(standin))
    assert (response.status_code, response.get_json()["error"]) == (400, error)


# -- query counts -------------------------------------------------------------------


def test_inbox_and_conversation_use_a_fixed_number_of_queries(client, standin, services, bind):
    install(services, SHOP)
    conversation_ids = [
        shopper_writes(client, standin, SHOP, f"q{i}", cart=cart(1000 + i))["conversation"]["id"] for i in range(3)
    ]
    headers = bearer(standin)
    with counted(bind) as few:
        client.get("/admin/api/inbox", headers=headers)
    with counted(bind) as few_thread:
        client.get(f"/admin/api/conversations/{conversation_ids[0]}", headers=headers)
    shop_id = installed_id(services)
    for i in range(12):
        sent = shopper_writes(client, standin, SHOP, f"more {i}", cart=cart(2000 + i))
        for j in range(3):
            services.chat.send_agent_message(shop_id, sent["conversation"]["id"], "42", f"r{j}", f"r{i}-{j}")
    for j in range(5):
        services.chat.send_agent_message(shop_id, conversation_ids[0], "42", f"more in the thread {j}", f"t-{j}")
    with counted(bind) as many:
        client.get("/admin/api/inbox", headers=headers)
    with counted(bind) as many_thread:
        client.get(f"/admin/api/conversations/{conversation_ids[0]}", headers=headers)
    assert len(many) == len(few) <= 6, many
    assert len(many_thread) == len(few_thread) <= 8, many_thread


# -- the customer panel --------------------------------------------------------------


@pytest.fixture
def identified(client, standin, services):
    # Installed the real way, so Parley holds a token the stand-in's Admin API accepts.
    assert (
        client.get(
            "/", query_string={"embedded": "1", "shop": SHOP, "id_token": standin.mint_id_token(SHOP)}
        ).status_code
        == 200
    )
    standin.add_customer(
        SHOP,
        7001,
        first_name="Anna",
        last_name="Tamm",
        email="anna@example.com",
        orders=[
            {
                "id": 1001,
                "name": "#1001",
                "created_at": "2026-11-01T10:00:00Z",
                "total": "129.90",
                "currency": "EUR",
                "financial_status": "paid",
                "fulfillment_status": "fulfilled",
            }
        ],
    )
    sent = shopper_writes(client, standin, SHOP, "Where is my parka?", customer_id="7001")
    # Starting the session learned the customer's name in the background (CustomerNames),
    # which asked Shopify and cached its answer: the panel's tests start from no cache.
    services.sessions.customers.wait()
    services.shopify.customers._cache.clear()
    return sent


def test_customer_panel_shows_the_customer_and_last_orders(client, standin, identified, services):
    conversation_id = identified["conversation"]["id"]
    panel = client.get(f"/admin/api/conversations/{conversation_id}/customer", headers=bearer(standin)).get_json()
    assert panel["source"] == "live" and panel["notice"] is None
    assert panel["customer"]["name"] == "Anna Tamm" and panel["customer"]["email"] == "anna@example.com"
    assert [(o["name"], Decimal(o["total"]), o["currency"]) for o in panel["orders"]] == [
        ("#1001", Decimal("129.90"), "EUR")
    ]
    # The name is kept for the inbox and its search.
    row = client.get("/admin/api/inbox", headers=bearer(standin)).get_json()["conversations"][0]
    assert row["customer"]["name"] == "Anna Tamm"


def test_customer_panel_when_shopify_is_throttled_shows_what_it_has_and_says_so(client, standin, identified, services):
    conversation_id = identified["conversation"]["id"]
    client.get(f"/admin/api/conversations/{conversation_id}/customer", headers=bearer(standin))
    clock = {"now": 1000.0}
    services.shopify.customers._clock = lambda: clock["now"]
    services.shopify.customers._cache.clear()
    client.get(f"/admin/api/conversations/{conversation_id}/customer", headers=bearer(standin))
    clock["now"] += 3600  # the cache has gone stale
    standin.throttle_next(SHOP)
    panel = client.get(f"/admin/api/conversations/{conversation_id}/customer", headers=bearer(standin)).get_json()
    assert panel["source"] == "cache"
    assert panel["customer"]["name"] == "Anna Tamm"
    assert re.match(r"Shopify asked us to slow down; trying again in \d+ s\.", panel["notice"])
    calls = len([r for r in standin.requests if r["path"].endswith("graphql.json")])
    # While paused, Parley does not ask again.
    again = client.get(f"/admin/api/conversations/{conversation_id}/customer", headers=bearer(standin)).get_json()
    assert again["source"] == "cache"
    assert len([r for r in standin.requests if r["path"].endswith("graphql.json")]) == calls


def test_customer_panel_when_shopify_is_down(client, standin, identified, services):
    standin.set_outage(SHOP, True)
    panel = client.get(
        f"/admin/api/conversations/{identified['conversation']['id']}/customer", headers=bearer(standin)
    ).get_json()
    assert panel == {
        "customer": None,
        "orders": [],
        "source": "none",
        "notice": "Shopify could not be reached just now.",
        "checkout": None,
    }


def test_customer_panel_for_an_anonymous_shopper(client, standin, services):
    install(services, SHOP)
    sent = shopper_writes(client, standin, SHOP, "hi")
    panel = client.get(
        f"/admin/api/conversations/{sent['conversation']['id']}/customer", headers=bearer(standin)
    ).get_json()
    assert panel["customer"] is None and panel["source"] == "none"


# -- conversation actions ---------------------------------------------------------------


def test_internal_note_is_kept_from_the_shopper(client, standin, services):
    install(services, SHOP)
    sent = shopper_writes(client, standin, SHOP, "hello")
    conversation_id = sent["conversation"]["id"]
    note = client.post(
        f"/admin/api/conversations/{conversation_id}/messages",
        json={"client_id": "n1", "body": "VIP!", "internal": True},
        headers=bearer(standin),
    )
    assert note.status_code == 201
    thread = client.get(f"/admin/api/conversations/{conversation_id}", headers=bearer(standin)).get_json()
    assert [m["body"] for m in thread["messages"]] == ["hello", "VIP!"]
    shopper = client.get(
        "/api/storefront/v1/messages", headers={"Authorization": f"Bearer {sent['visitor_token']}"}
    ).get_json()
    assert [m["body"] for m in shopper["messages"]] == ["hello"]
    # A note does not count as an answer.
    assert client.get("/admin/api/inbox?tab=waiting", headers=bearer(standin)).get_json()["counts"]["waiting"] == 1


def test_assign_to_me_and_back(client, standin, services):
    install(services, SHOP)
    conversation_id = shopper_writes(client, standin, SHOP, "hello")["conversation"]["id"]
    mine = client.post(
        f"/admin/api/conversations/{conversation_id}/assign", json={"to": "me"}, headers=bearer(standin, sub="77")
    )
    assert mine.get_json()["conversation"]["assignee"] == "77"
    nobody = client.post(
        f"/admin/api/conversations/{conversation_id}/assign", json={"to": None}, headers=bearer(standin, sub="77")
    )
    assert nobody.get_json()["conversation"]["assignee"] is None
    bad = client.post(
        f"/admin/api/conversations/{conversation_id}/assign", json={"to": "someone"}, headers=bearer(standin)
    )
    assert (bad.status_code, bad.get_json()["error"]) == (400, "invalid_assignee")


@pytest.mark.parametrize(
    "body, status, error",
    [
        ({"client_id": "e", "body": ""}, 400, "empty_message"),
        ({"client_id": "e", "body": "x" * 5001}, 413, "message_too_long"),
        ({"body": "no client id"}, 400, "invalid_client_id"),
    ],
)
def test_empty_or_over_long_reply_is_refused(client, standin, services, body, status, error):
    install(services, SHOP)
    conversation_id = shopper_writes(client, standin, SHOP, "hello")["conversation"]["id"]
    response = client.post(f"/admin/api/conversations/{conversation_id}/messages", json=body, headers=bearer(standin))
    assert (response.status_code, response.get_json()["error"]) == (status, error)
    with services.db.session() as session:
        assert session.exec(select(sa.func.count()).select_from(Message)).one() == 1


# -- settings -------------------------------------------------------------------------


def test_settings_are_saved_and_reach_the_widget(client, standin, services):
    install(services, SHOP)
    update = {
        "greeting": "Tere! Kuidas saame aidata?",
        "accent": "#AA3300",
        "hours": {"timezone": "Europe/Tallinn", "weekly": {"mon": [["09:00", "17:00"]]}},
        "saved_replies": [{"shortcut": "ship", "text": "We ship within 24 hours."}],
        "notification_email": "team@example.com",
        "attribution_window_days": 14,
        "storefront_origins": ["https://shop.example.com", "http://127.0.0.1:8002"],
    }
    response = client.put("/admin/api/settings", json=update, headers=bearer(standin))
    assert response.status_code == 200
    saved = response.get_json()["settings"]
    assert saved["accent"] == "#aa3300" and saved["saved_replies"][0]["shortcut"] == "ship"
    assert saved["attribution_window_days"] == 14
    assert saved["storefront_origins"] == ["https://shop.example.com", "http://127.0.0.1:8002"]
    widget = client.post(f"/proxy/session?{urlencode(standin.proxy_query(SHOP))}", json={}).get_json()
    assert widget["settings"]["greeting"] == "Tere! Kuidas saame aidata?"
    assert widget["settings"]["accent"] == "#aa3300"


ORIGINS = (
    "Storefront origins must be https:// addresses without a path, like https://shop.example.com "
    "(or http://localhost for development)"
)


# The sentences a merchant reads beside the field they are about, in the Settings page's words.
@pytest.mark.parametrize(
    "update, field, message",
    [
        ({"accent": "red"}, "accent", "The accent colour must be a colour like #008060, or left empty"),
        (
            {"hours": {"timezone": "Mars/Olympus", "weekly": {}}},
            "hours.timezone",
            "Mars/Olympus is not a time zone Parley knows; choose one from the list",
        ),
        (
            {"hours": {"timezone": "UTC", "weekly": {"tue": [["09:00", "09:00"]]}}},
            "hours.weekly.tue",
            "Tuesday opens and closes at the same time; to stay open past midnight, "
            "close at the time you stop on the next day",
        ),
        (
            {"replies_in_minutes": 0},
            "replies_in_minutes",
            "“Usually replies within” must be a whole number of minutes from 1 to 1440 (24 hours)",
        ),
        (
            {"saved_replies": [{"shortcut": "Ship It", "text": "x"}]},
            "saved_replies[0].shortcut",
            "a shortcut is 1–32 lower-case letters, digits, - or _",
        ),
        (
            {"notification_email": "not-an-address"},
            "notification_email",
            "The notification e-mail must be an e-mail address, like team@example.com",
        ),
        ({"favourite_colour": "blue"}, "favourite_colour", "favourite_colour is not a setting"),
        (
            {"attribution_window_days": 0},
            "attribution_window_days",
            "The attribution window must be a whole number of days from 1 to 90",
        ),
        (
            {"attribution_window_days": "7"},
            "attribution_window_days",
            "The attribution window must be a whole number of days from 1 to 90",
        ),
        ({"storefront_origins": ["http://shop.example.com"]}, "storefront_origins", ORIGINS),
        ({"storefront_origins": ["https://shop.example.com/cart"]}, "storefront_origins", ORIGINS),
        ({"greeting": " "}, "greeting", "The greeting must be text"),
        ({"away_message": "x" * 501}, "away_message", "The away message can hold at most 500 characters"),
        (
            {"saved_replies": [{"shortcut": "ship", "text": "a"}, {"shortcut": "ship", "text": "b"}]},
            "saved_replies[1].shortcut",
            "/ship is used twice",
        ),
    ],
)
def test_a_setting_out_of_range_gets_400_naming_the_field_and_nothing_is_saved(
    client, standin, services, update, field, message
):
    install(services, SHOP)
    response = client.put(
        "/admin/api/settings", json={"greeting": "should not be saved", **update}, headers=bearer(standin)
    )
    assert (response.status_code, response.get_json()) == (
        400,
        {"error": "invalid_setting", "field": field, "message": message},
    )
    assert client.get("/admin/api/settings", headers=bearer(standin)).get_json()["settings"]["greeting"] is None


def test_first_run_says_whether_the_widget_is_live_and_links_to_turn_it_on(client, standin, services, settings):
    install(services, SHOP)
    before = client.get("/admin/api/settings", headers=bearer(standin)).get_json()["embed"]
    assert before["active"] is False
    # The theme editor of the shop's admin (here the stand-in's, which serves the shop's admin).
    assert before["activate_url"] == (
        f"{standin.url}/store/{SHOP}/admin/themes/current/editor?context=apps&template=index"
        f"&activateAppId={settings.shopify_api_key}/parley-embed"
    )
    client.post(f"/proxy/session?{urlencode(standin.proxy_query(SHOP))}", json={})
    assert client.get("/admin/api/settings", headers=bearer(standin)).get_json()["embed"]["active"] is True


# -- stream tickets -----------------------------------------------------------------------


def test_forged_stream_ticket_gets_401(client):
    response = client.get("/admin/api/stream?ticket=forged")
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_ticket")


def test_expired_stream_ticket_gets_401(client, standin, services, monkeypatch):
    install(services, SHOP)
    long_ago = int(__import__("time").time()) - 120
    monkeypatch.setattr("itsdangerous.timed.TimestampSigner.get_timestamp", lambda self: long_ago)
    ticket = client.post("/admin/api/stream-ticket", headers=bearer(standin)).get_json()["ticket"]
    monkeypatch.undo()
    response = client.get(f"/admin/api/stream?ticket={ticket}")
    assert (response.status_code, response.get_json()["error"]) == (401, "expired_ticket")


def test_greeting_can_be_reset_to_the_widgets_own(client, standin, services):
    install(services, SHOP)
    client.put("/admin/api/settings", json={"greeting": "Hello from us"}, headers=bearer(standin))
    reset = client.put("/admin/api/settings", json={"greeting": None}, headers=bearer(standin))
    assert reset.status_code == 200
    assert reset.get_json()["settings"]["greeting"] is None


def test_stream_ticket_says_where_a_fresh_page_starts(client, standin, services):
    install(services, SHOP)
    sent = shopper_writes(client, standin, SHOP, "hello")
    ticket = client.post("/admin/api/stream-ticket", headers=bearer(standin)).get_json()
    assert ticket["last_event_id"] == sent["message"]["id"]
