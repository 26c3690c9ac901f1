"""The hostile inputs the fuzz run of issue 12 found, one by one, on SQLite and
PostgreSQL: each is refused with a 4xx and the usual error body, and nothing that
was stored changes. (tests/test_fuzz.py keeps generating new ones.)"""

from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from tests.support.fuzzing import deep, snapshot
from tests.support.shoppers import API, auth, say, start
from tests.support.shops import SHOP, bearer

SECRET = "kari.nordmann@example.com"


def _error(response) -> tuple[int, str]:
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"], response.data
    return response.status_code, body["error"]


@pytest.fixture
def shopper(client, standin, shop_id):
    session = start(client, standin)
    say(client, session, "Is the parka waterproof?")
    return session


# -- 5. nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["array", "open", "object", "nested"])
@pytest.mark.parametrize(
    "route", ["/api/storefront/v1/session", "/admin/api/inbox", "/webhooks/compliance", "/proxy/session"]
)
def test_json_nested_100000_deep_is_refused_before_anything_parses_it(client, standin, shop_id, services, route, kind):
    before = snapshot(services)
    query = f"?{urlencode(standin.proxy_query(SHOP))}" if route.startswith("/proxy/") else ""
    headers = {"Content-Type": "application/json"}
    if route.startswith("/admin/"):
        headers |= bearer(standin)
    if route.startswith("/webhooks/"):
        headers = standin.webhook_headers("customers/redact", SHOP, deep(kind, 100_000))
    response = client.post(route + query, data=deep(kind, 100_000), headers=headers)
    assert _error(response) == (400, "too_deep")
    assert snapshot(services) == before


def test_json_64_deep_is_not_refused_for_its_depth(client, standin, shopper):
    cart = {"currency": "EUR", "total_price": 100, "items": [], "token": "t"}
    deep_but_allowed = {"client_id": "c-64", "body": "hi", "cart": cart, "x": json.loads("[" * 61 + "]" * 61)}
    assert client.post(f"{API}/messages", json=deep_but_allowed, headers=auth(shopper)).status_code == 201
    too_deep = {**deep_but_allowed, "client_id": "c-65", "x": json.loads("[" * 64 + "]" * 64)}
    assert _error(client.post(f"{API}/messages", json=too_deep, headers=auth(shopper))) == (400, "too_deep")


# -- 6, 7. NUL and lone surrogates ------------------------------------------------------------


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfff"])
def test_nul_and_lone_surrogates_in_a_message_are_refused(client, shopper, services, bad):
    before = snapshot(services)
    for body in (
        {"client_id": str(uuid.uuid4()), "body": f"Hello {bad}"},
        {"client_id": f"c-{bad}", "body": "Hello"},
        {"client_id": str(uuid.uuid4()), "body": "Hello", "cart": {"currency": "EUR", "total_price": 1, "token": bad}},
    ):
        raw = json.dumps(body).encode()  # \u0000 and \ud800 as JSON escapes, as a browser sends them
        response = client.post(
            f"{API}/messages", data=raw, headers={**auth(shopper), "Content-Type": "application/json"}
        )
        assert _error(response) == (400, "invalid_text")
    assert snapshot(services) == before


def test_an_escaped_surrogate_pair_is_an_emoji_and_is_kept(client, shopper):
    raw = b'{"client_id": "c-pair", "body": "Thanks \\ud83d\\ude00"}'
    response = client.post(f"{API}/messages", data=raw, headers={**auth(shopper), "Content-Type": "application/json"})
    assert response.status_code == 201
    assert response.get_json()["message"]["body"] == "Thanks 😀"


@pytest.mark.parametrize(
    "request_args",
    [
        ("POST", f"{API}/session", {"json": {"shop": f"{SHOP}\x00"}}),
        ("POST", f"{API}/session", {"json": {"shop": SHOP, "locale": "et\x00"}}),
        ("POST", f"{API}/session", {"json": {"shop": SHOP, "visitor_token": "\udfff"}}),
        ("GET", f"{API}/messages?conversation_id=%00", {}),
        ("GET", "/admin/api/inbox?q=%00", {}),
        ("GET", "/admin/api/conversations/%00", {}),
        ("GET", "/admin/api/conversations/x%00y/messages", {}),
    ],
)
def test_nul_in_ids_locales_shop_names_search_and_paths_is_refused(client, standin, shopper, services, request_args):
    method, path, kwargs = request_args
    headers = auth(shopper) if path.startswith(API) else bearer(standin)
    before = snapshot(services)
    if "json" in kwargs:
        data = json.dumps(kwargs["json"]).encode()
        response = client.open(path, method=method, data=data, headers={**headers, "Content-Type": "application/json"})
    else:
        response = client.open(path, method=method, headers=headers)
    assert _error(response) == (400, "invalid_text")
    assert snapshot(services) == before


def test_a_signed_webhook_with_a_lone_surrogate_is_refused(client, standin, shop_id, services):
    body = json.dumps({"customer": {"id": 7001, "email": "\ud800@example.com"}, "orders_to_redact": []}).encode()
    before = snapshot(services)
    response = client.post(
        "/webhooks/compliance", data=body, headers=standin.webhook_headers("customers/redact", SHOP, body)
    )
    assert _error(response) == (400, "invalid_text")
    assert snapshot(services) == before


# -- 8. numbers out of range --------------------------------------------------------------------


@pytest.mark.parametrize(
    "cart, message",
    [
        (
            {"currency": "EUR", "total_price": 10**17},
            "total_price must be at most 1,000,000,000,000,000 minor units",
        ),
        ({"currency": "EUR", "total_price": 100, "item_count": 2**40}, "item_count must be at most 1,000,000"),
        (
            {"currency": "EUR", "total_price": 100, "items": [{"quantity": 2**40, "price": 1}]},
            "items[0].quantity must be at most 1,000,000",
        ),
    ],
)
def test_cart_numbers_out_of_range_are_refused(client, shopper, services, cart, message):
    before = snapshot(services)
    sent = client.post(
        f"{API}/messages", json={"client_id": "c-big", "body": "hi", "cart": cart}, headers=auth(shopper)
    )
    assert (sent.status_code, sent.get_json()) == (400, {"error": "invalid_cart", "message": message})
    put = client.put(f"{API}/cart", json=cart, headers=auth(shopper))
    assert put.status_code == 400
    assert snapshot(services) == before


def test_the_largest_cart_allowed_is_stored_and_its_priority_is_capped(client, shopper, services):
    cart = {"currency": "EUR", "total_price": 10**15, "item_count": 10**6}
    sent = client.post(
        f"{API}/messages", json={"client_id": "c-max", "body": "hi", "cart": cart}, headers=auth(shopper)
    )
    assert sent.status_code == 201


@pytest.mark.parametrize(
    "method, path, body, code",
    [
        ("POST", f"{API}/read", {"up_to": 2**70}, "invalid_up_to"),
        ("POST", f"{API}/read", {"up_to": -1}, "invalid_up_to"),
        ("GET", f"{API}/messages?before={2**70}", None, "invalid_query"),
        ("GET", f"{API}/messages?limit={2**70}&before=-1", None, "invalid_query"),
    ],
)
def test_ids_beyond_64_bits_are_refused(client, shopper, method, path, body, code):
    response = client.open(path, method=method, json=body, headers=auth(shopper))
    assert _error(response) == (400, code)


def test_no_route_lets_an_id_beyond_64_bits_reach_the_database(app, client, standin, shopper):
    """Every <int:…> in a path, with an id the database cannot hold: no route matches (404),
    for the shopper's and the merchant's routes alike, whatever the method (405 where the
    same path names another route that takes other methods)."""
    checked = []
    for rule in app.url_map.iter_rules():
        names = [name for name, converter in rule._converters.items() if converter.regex == r"\d+"]
        if not names:
            continue
        path = rule.rule
        for name in names:
            path = path.replace(f"<int:{name}>", str(2**64))
        headers = {**auth(shopper), **bearer(standin)} if path.startswith("/admin/") else auth(shopper)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, json={"body": "x"}, headers=headers)
            assert response.status_code in (404, 405), (method, path, response.data)
            _error(response)  # the usual error body
            checked.append((method, rule.rule))
    assert len(checked) >= 3, checked  # the sweep found the routes it is about


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_an_answer_id_beyond_its_32_bit_column_names_no_answer(client, standin, method):
    """Found by the fuzz suite: 10**10 fits 64 bits but not the answer table's INTEGER id."""
    response = client.open(f"/admin/api/answers/{10**10}", method=method, json={}, headers=bearer(standin))
    assert response.status_code in (404, 405), response.data


# -- 10. signed webhooks that cannot be stored ---------------------------------------------------


@pytest.mark.parametrize(
    "event_id, shop, customer, code",
    [
        ("e" * 129, SHOP, {"id": 7001, "email": SECRET}, "invalid_header"),
        (str(uuid.uuid4()), "x" * 250 + ".myshopify.com", {"id": 7001, "email": SECRET}, "invalid_shop"),
        (str(uuid.uuid4()), SHOP, {"id": 7001, "email": 5}, "invalid_field"),
        (str(uuid.uuid4()), SHOP, {"id": "7" * 65}, "invalid_field"),
        (str(uuid.uuid4()), SHOP, {"id": 7001, "email": "x" * 321}, "invalid_field"),
    ],
)
def test_signed_webhooks_that_could_not_be_stored_get_400(
    client, standin, shop_id, services, event_id, shop, customer, code
):
    """Shopify retries a 5xx for 48 hours; a 400 says the delivery itself is wrong."""
    body = json.dumps({"customer": customer, "orders_to_redact": []}).encode()
    before = snapshot(services)
    response = client.post(
        "/webhooks/compliance",
        data=body,
        headers=standin.webhook_headers("customers/redact", shop, body, event_id=event_id),
    )
    assert _error(response) == (400, code)
    assert snapshot(services) == before


def test_a_non_ascii_hmac_header_is_401_not_500(client, standin, shop_id):
    body = b'{"id": 1}'
    headers = standin.webhook_headers("app/uninstalled", SHOP, body)
    headers["X-Shopify-Hmac-Sha256"] = "\u00e9" * 10
    assert _error(client.post("/webhooks/app", data=body, headers=headers)) == (401, "invalid_hmac")


def test_a_number_longer_than_python_reads_is_refused_before_shopifyapp_logs_it(client, standin, shop_id):
    body = b'{"customer": {"id": ' + b"9" * 5000 + b"}}"
    response = client.post(
        "/webhooks/compliance", data=body, headers=standin.webhook_headers("customers/redact", SHOP, body)
    )
    assert _error(response) == (400, "number_too_long")
    # The same digits in a string are just text.
    text = json.dumps({"customer": {"id": 7001, "email": "9" * 5000}}).encode()
    answer = client.post(
        "/webhooks/compliance", data=text, headers=standin.webhook_headers("customers/redact", SHOP, text)
    )
    assert _error(answer) == (400, "invalid_field")


def test_a_signed_proxy_customer_id_that_is_not_a_number_is_refused(client, standin, shop_id, services):
    before = snapshot(services)
    query = urlencode(standin.proxy_query(SHOP, logged_in_customer_id="9" * 400))
    assert _error(client.post(f"/proxy/session?{query}", json={})) == (400, "invalid_customer")
    query = urlencode([*standin.proxy_query(SHOP), ("signature", "é")])
    assert _error(client.post(f"/proxy/session?{query}", json={}))[0] == 401
    assert snapshot(services) == before


# -- 14. headers ---------------------------------------------------------------------------------


def test_every_answer_says_nosniff_and_keeps_urls_out_of_referers(client, standin, shopper):
    answers = [
        client.get("/"),  # the landing page
        client.get("/healthz"),
        client.get(f"{API}/messages", headers=auth(shopper)),
        client.get(f"{API}/messages"),  # 401
        client.get("/no/such/page"),  # 404
        client.post("/webhooks/app", data=b"{}"),  # 401
        client.get("/widget/parley.js"),
        client.get("/saleor/manifest"),
    ]
    stream = client.get(f"{API}/stream?token={shopper['visitor_token']}", buffered=False)
    answers.append(stream)
    for answer in answers:
        assert answer.headers["X-Content-Type-Options"] == "nosniff", answer.request.path
        assert answer.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", answer.request.path
    stream.close()


# -- 12. what the logs may hold --------------------------------------------------------------------


def test_a_database_error_never_shows_what_was_bound(bind):
    from app.db import Database
    from app.models import Message

    secret = "kari.secret@example.com asked about her order"
    with pytest.raises(sa.exc.IntegrityError) as failed, Database(bind).transaction() as session:
        session.add(Message(shop_id=999_999, conversation_id="no-such", body=secret, client_id="c-1"))
    assert secret not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)


def test_a_failed_delivery_is_logged_without_its_payload(client, standin, shop_id, services, monkeypatch, caplog):
    from app.models import Message
    from app.platforms.shopify import webhooks

    def failing(session, event, payload, now):
        # As a processor that hits the database with what the payload said.
        session.add(Message(shop_id=999_999, conversation_id="no-such", body=payload["note"], client_id="c"))
        session.flush()

    monkeypatch.setattr(webhooks, "_dispatch", failing)
    body = json.dumps({"id": 1, "note": SECRET, "line_items": []}).encode()
    assert (
        client.post(
            "/webhooks/commerce", data=body, headers=standin.webhook_headers("carts/update", SHOP, body)
        ).status_code
        == 200
    )
    with caplog.at_level(logging.INFO):
        assert services.inbound.run_pending() == {"retry": 1}
    assert "processing webhook event" in caplog.text
    assert SECRET not in caplog.text
