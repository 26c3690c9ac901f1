"""The storefront API as the widget uses it, on SQLite and PostgreSQL: sessions
through the signed app proxy, idempotent sends, history, carts, identity, CORS,
rate limits, and what every bad input gets."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app import shops
from app.clock import utcnow
from app.models import CartSnapshot, Conversation, Message, Platform, Visitor
from tests.support.shops import SHOP

API = "/api/storefront/v1"
STOREFRONT = f"https://{SHOP}"


def proxy_session(
    client, standin, customer_id: str = "", body: dict | None = None, shop: str = SHOP, headers: dict | None = None
):
    query = standin.proxy_query(shop, logged_in_customer_id=customer_id)
    return client.post(f"/proxy/session?{urlencode(query)}", json=body or {}, headers=headers)


def visitor(client, standin, shop_id, **kwargs) -> dict:
    response = proxy_session(client, standin, **kwargs)
    assert response.status_code == 200, response.data
    return response.get_json()


def auth(session: dict) -> dict:
    return {"Authorization": f"Bearer {session['visitor_token']}"}


def send(
    client,
    session: dict,
    body="Is the parka waterproof?",
    client_id: str | None = None,
    headers_extra: dict | None = None,
    **extra,
):
    payload = {"client_id": client_id or str(uuid.uuid4()), "body": body, **extra}
    return client.post(f"{API}/messages", json=payload, headers={**auth(session), **(headers_extra or {})})


def count(services, model, *where) -> int:
    with services.db.session() as session:
        return session.exec(select(sa.func.count()).select_from(model).where(*where)).one()


CART = {
    "token": "c1-7a2b3c?key=5f1e",
    "currency": "EUR",
    "total_price": 25980,
    "item_count": 2,
    "items": [
        {
            "variant_id": 11,
            "product_id": 1,
            "title": "Parka",
            "quantity": 2,
            "price": 12990,
            "line_price": 25980,
            "url": "/products/parka",
        }
    ],
}


def test_session_through_the_app_proxy_starts_an_anonymous_visitor(client, standin, shop_id, settings):
    session = visitor(client, standin, shop_id)
    assert session["identified"] is False
    assert session["conversation"] is None
    assert session["api_base"] == "http://parley.test/api/storefront/v1"
    assert session["settings"]["team"] == {"state": "online", "replies_in_minutes": 5, "back_at": None}
    # No greeting of the merchant's own: the widget greets in the shopper's language.
    assert session["settings"]["greeting"] is None


def test_first_message_opens_a_conversation_with_the_cart(client, standin, shop_id, services):
    session = visitor(client, standin, shop_id)
    response = send(client, session, cart=CART)
    assert response.status_code == 201
    data = response.get_json()
    assert data["message"]["body"] == "Is the parka waterproof?"
    assert data["message"]["author"] == "shopper"
    with services.db.session() as db:
        conversation = db.get(Conversation, data["conversation"]["id"])
        snapshot = db.exec(select(CartSnapshot)).one()
    assert conversation.waiting_since is not None and conversation.unread_by_agent == 1
    assert (conversation.cart_value, conversation.cart_currency) == (Decimal("259.80"), "EUR")
    assert snapshot.cart_token == "c1-7a2b3c"  # stored without ?key=, as orders carry it
    assert snapshot.lines[0]["price"] == "129.90"


def test_resend_with_the_same_client_id_returns_the_original_and_stores_once(client, standin, shop_id, services):
    session = visitor(client, standin, shop_id)
    first = send(client, session, client_id="c-1")
    again = send(client, session, body="a different body on retry", client_id="c-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["message"] == first.get_json()["message"]
    assert count(services, Message) == 1


def test_history_pages_backwards_and_hides_internal_notes(client, standin, shop_id, services):
    session = visitor(client, standin, shop_id)
    ids = [send(client, session, body=f"m{i}").get_json()["message"]["id"] for i in range(5)]
    conversation_id = send(client, session, body="m5").get_json()["conversation"]["id"]
    services.chat.send_agent_message(shop_id, conversation_id, "42", "internal: VIP", "note-1", internal=True)
    services.chat.send_agent_message(shop_id, conversation_id, "42", "Yes, it is!", "reply-1")

    page = client.get(f"{API}/messages?limit=3", headers=auth(session)).get_json()
    assert [m["body"] for m in page["messages"]] == ["m4", "m5", "Yes, it is!"]
    assert page["has_more"] is True
    older = client.get(f"{API}/messages?limit=10&before={page['messages'][0]['id']}", headers=auth(session)).get_json()
    assert [m["id"] for m in older["messages"]] == ids[:4]
    assert older["has_more"] is False


def test_markup_is_stored_and_returned_as_plain_text(client, standin, shop_id):
    session = visitor(client, standin, shop_id)
    markup = '<img src=x onerror="alert(1)"><b>hi</b>'
    send(client, session, body=markup)
    response = client.get(f"{API}/messages", headers=auth(session))
    assert response.mimetype == "application/json"
    assert response.get_json()["messages"][0]["body"] == markup


def test_reload_resumes_the_same_visitor_and_thread(client, standin, shop_id):
    first = visitor(client, standin, shop_id)
    sent = send(client, first).get_json()
    again = visitor(client, standin, shop_id, body={"visitor_token": first["visitor_token"]})
    assert again["visitor_id"] == first["visitor_id"]
    assert again["conversation"]["id"] == sent["conversation"]["id"]


def test_unread_counts_agent_messages_until_read(client, standin, shop_id, services):
    session = visitor(client, standin, shop_id)
    conversation_id = send(client, session).get_json()["conversation"]["id"]
    reply = services.chat.send_agent_message(shop_id, conversation_id, "42", "Hello!", "r1")
    assert visitor(client, standin, shop_id, body={"visitor_token": session["visitor_token"]})["unread"] == 1
    assert client.post(f"{API}/read", json={"up_to": reply.message.id}, headers=auth(session)).status_code == 204
    assert visitor(client, standin, shop_id, body={"visitor_token": session["visitor_token"]})["unread"] == 0


def test_cart_updates_are_kept_only_when_they_change(client, standin, shop_id, services):
    session = visitor(client, standin, shop_id)
    send(client, session, cart=CART)
    assert client.put(f"{API}/cart", json=CART, headers=auth(session)).status_code == 204
    bigger = {
        **CART,
        "total_price": 38970,
        "item_count": 3,
        "items": [{**CART["items"][0], "quantity": 3, "line_price": 38970}],
    }
    assert client.put(f"{API}/cart", json=bigger, headers=auth(session)).status_code == 204
    assert count(services, CartSnapshot) == 2


# -- identity --------------------------------------------------------------------


def test_signed_in_customer_takes_over_the_anonymous_thread(client, standin, shop_id, services):
    anonymous = visitor(client, standin, shop_id)
    conversation_id = send(client, anonymous).get_json()["conversation"]["id"]
    signed_in = visitor(
        client, standin, shop_id, customer_id="7001", body={"visitor_token": anonymous["visitor_token"]}
    )
    assert signed_in["identified"] is True
    assert signed_in["conversation"]["id"] == conversation_id
    with services.db.session() as db:
        assert db.get(Visitor, signed_in["visitor_id"]).customer_id == "7001"


def test_customer_signing_in_on_a_second_device_sees_one_history(client, standin, shop_id):
    laptop = visitor(client, standin, shop_id, customer_id="7001")
    send(client, laptop, body="from the laptop")
    phone = visitor(client, standin, shop_id)
    send(client, phone, body="from the phone, before signing in")
    phone_signed_in = visitor(
        client, standin, shop_id, customer_id="7001", body={"visitor_token": phone["visitor_token"]}
    )
    assert phone_signed_in["visitor_id"] == laptop["visitor_id"]
    bodies = {m["body"] for m in client.get(f"{API}/messages", headers=auth(phone_signed_in)).get_json()["messages"]}
    assert bodies == {"from the laptop", "from the phone, before signing in"}


def test_a_customer_id_asserted_by_the_browser_is_ignored(client, standin, shop_id, services):
    response = client.post(
        f"{API}/session", json={"shop": SHOP, "customer_id": "7001", "logged_in_customer_id": "7001"}
    )
    assert response.status_code == 200
    assert response.get_json()["identified"] is False
    forged = proxy_session(client, standin, customer_id="7001")
    assert forged.get_json()["identified"] is True  # the same id, but signed by Shopify
    query = dict(standin.proxy_query(SHOP, logged_in_customer_id=""))
    query["logged_in_customer_id"] = "7001"  # added by the browser after Shopify signed
    tampered = client.post(f"/proxy/session?{urlencode(query)}", json={})
    assert tampered.status_code == 401


def test_after_sign_out_the_browser_does_not_show_the_customers_thread(client, standin, shop_id):
    signed_in = visitor(client, standin, shop_id, customer_id="7001")
    send(client, signed_in, body="private order question")
    signed_out = visitor(client, standin, shop_id, body={"visitor_token": signed_in["visitor_token"]})
    assert signed_out["visitor_id"] != signed_in["visitor_id"]
    assert client.get(f"{API}/messages", headers=auth(signed_out)).get_json()["messages"] == []


# -- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, status, expected",
    [
        ("", 400, {"error": "empty_message", "message": "the message is empty"}),
        ("   \n ", 400, {"error": "empty_message", "message": "the message is empty"}),
        ("x" * 5001, 413, {"error": "message_too_long", "message": "a message can hold at most 5000 characters"}),
        (None, 400, {"error": "empty_message", "message": "the message is empty"}),
    ],
)
def test_empty_or_over_long_messages_are_refused_and_nothing_is_stored(
    client, standin, shop_id, services, body, status, expected
):
    session = visitor(client, standin, shop_id)
    response = send(client, session, body=body)
    assert (response.status_code, response.get_json()) == (status, expected)
    assert count(services, Message) == 0
    assert count(services, Conversation) == 0


def test_a_message_of_exactly_5000_characters_is_accepted(client, standin, shop_id):
    assert send(client, visitor(client, standin, shop_id), body="x" * 5000).status_code == 201


@pytest.mark.parametrize(
    "cart, message",
    [
        ("not a cart", "the cart must be a JSON object"),
        ({**CART, "currency": "euro"}, "currency must be a three-letter ISO code such as EUR"),
        ({**CART, "total_price": -5}, "total_price must be a non-negative whole number of minor units"),
        ({**CART, "total_price": 12.5}, "total_price must be a non-negative whole number of minor units"),
        (
            {**CART, "items": [{"quantity": "two", "price": 100}]},
            "items[0].quantity must be a non-negative whole number",
        ),
        ({**CART, "items": "parka"}, "items must be a list of at most 250 lines"),
    ],
)
def test_malformed_cart_gets_400_and_nothing_is_stored(client, standin, shop_id, services, cart, message):
    session = visitor(client, standin, shop_id)
    response = send(client, session, cart=cart)
    assert (response.status_code, response.get_json()) == (400, {"error": "invalid_cart", "message": message})
    assert count(services, Message) == 0
    put = client.put(f"{API}/cart", json=cart, headers=auth(session))
    assert put.status_code == 400
    assert count(services, CartSnapshot) == 0


@pytest.mark.parametrize(
    "token, message",
    [
        (None, "a visitor token is required"),
        ("forged.token.value", "the visitor token is not valid"),
    ],
)
def test_forged_or_missing_visitor_token_gets_401(client, shop_id, token, message):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post(f"{API}/messages", json={"client_id": "c", "body": "hi"}, headers=headers)
    assert (response.status_code, response.get_json()) == (401, {"error": "invalid_token", "message": message})


def test_expired_visitor_token_gets_401(client, standin, shop_id, monkeypatch):
    long_ago = int(time.time()) - 181 * 24 * 3600
    monkeypatch.setattr("itsdangerous.timed.TimestampSigner.get_timestamp", lambda self: long_ago)
    session = visitor(client, standin, shop_id)
    monkeypatch.undo()
    response = send(client, session)
    assert (response.status_code, response.get_json()["message"]) == (401, "the visitor token has expired")


def test_token_signed_with_another_key_gets_401(client, shop_id):
    from app.chat.visitor_tokens import VisitorTokens

    foreign = VisitorTokens("another-secret-key").issue(str(uuid.uuid4()), shop_id)
    response = client.post(
        f"{API}/messages", json={"client_id": "c", "body": "hi"}, headers={"Authorization": f"Bearer {foreign}"}
    )
    assert response.status_code == 401


def test_another_visitors_conversation_gets_404(client, standin, shop_id):
    alice = visitor(client, standin, shop_id)
    conversation_id = send(client, alice).get_json()["conversation"]["id"]
    bob = visitor(client, standin, shop_id)
    response = client.get(f"{API}/messages?conversation_id={conversation_id}", headers=auth(bob))
    assert (response.status_code, response.get_json()) == (
        404,
        {"error": "not_found", "message": "no such conversation"},
    )
    assert client.get(f"{API}/messages", headers=auth(bob)).get_json()["messages"] == []


def test_unknown_shop_gets_404(client, standin):
    standin.add_shop("no-parley.myshopify.com")
    response = proxy_session(client, standin, shop="no-parley.myshopify.com")
    assert (response.status_code, response.get_json()["error"]) == (404, "unknown_shop")
    direct = client.post(f"{API}/session", json={"shop": "no-parley.myshopify.com"})
    assert (direct.status_code, direct.get_json()["error"]) == (404, "unknown_shop")


def test_uninstalled_shop_gets_404_even_with_a_valid_token(client, standin, shop_id, services):
    session = visitor(client, standin, shop_id)
    with services.db.transaction() as db:
        shops.mark_uninstalled(db, shops.find_shop(db, Platform.shopify, SHOP), utcnow())
    response = send(client, session)
    assert (response.status_code, response.get_json()) == (
        404,
        {"error": "unknown_shop", "message": "this shop does not use Parley"},
    )


def test_bad_proxy_signature_gets_401(client, standin, shop_id):
    query = standin.proxy_query(SHOP)
    query = [(k, ("0" * 64 if k == "signature" else v)) for k, v in query]
    response = client.post(f"/proxy/session?{urlencode(query)}", json={})
    assert (response.status_code, response.get_json()) == (
        401,
        {"error": "invalid_signature", "message": "the proxy signature does not match the request"},
    )


def test_stale_proxy_timestamp_gets_401(client, standin, shop_id):
    query = standin.proxy_query(SHOP, now=time.time() - 600)
    response = client.post(f"/proxy/session?{urlencode(query)}", json={})
    assert (response.status_code, response.get_json()["error"]) == (401, "timestamp_too_old")


def test_body_that_is_not_json_gets_400(client, standin, shop_id):
    session = visitor(client, standin, shop_id)
    response = client.post(f"{API}/messages", data="hello", headers={**auth(session), "Content-Type": "text/plain"})
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_json")


# -- CORS and rate limits ---------------------------------------------------------------


def test_preflight_from_the_storefront_is_allowed_and_from_elsewhere_not(client, shop_id):
    allowed = client.options(f"{API}/messages", headers={"Origin": STOREFRONT, "Access-Control-Request-Method": "POST"})
    assert allowed.headers["Access-Control-Allow-Origin"] == STOREFRONT
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    elsewhere = client.options(
        f"{API}/messages", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in elsewhere.headers


def test_a_call_from_a_foreign_page_gets_403(client, standin, shop_id):
    session = visitor(client, standin, shop_id)
    response = client.post(
        f"{API}/messages",
        json={"client_id": "c", "body": "hi"},
        headers={**auth(session), "Origin": "https://evil.example"},
    )
    assert (response.status_code, response.get_json()) == (
        403,
        {"error": "origin_not_allowed", "message": "https://evil.example is not a storefront of this shop"},
    )


def test_merchant_configured_storefront_domain_is_allowed(client, standin, shop_id, services):
    from app.chat.shop_settings import put_setting

    with services.db.transaction() as db:
        put_setting(db, shop_id, "storefront_origins", ["https://fjordgear.com"], utcnow())
    session = visitor(client, standin, shop_id)
    response = send(client, session)
    assert response.status_code == 201
    ok = client.post(
        f"{API}/typing", json={"typing": True}, headers={**auth(session), "Origin": "https://fjordgear.com"}
    )
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == "https://fjordgear.com"


def test_sending_too_fast_gets_429(standin, settings, bind, shop_id):
    from app import create_app

    client = create_app(settings.override(rate_limit_visitor="3/minute"), bind=bind).test_client()
    session = visitor(client, standin, shop_id)
    statuses = [send(client, session).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    limited = send(client, session)
    assert limited.get_json() == {"error": "rate_limited", "message": "too many requests; wait a moment and try again"}


# -- tokens that outlive their visitor -------------------------------------------------------


def test_a_token_merged_into_a_signed_in_customer_gets_401_and_a_new_session_finds_the_thread(
    client, standin, shop_id, services
):
    laptop = visitor(client, standin, shop_id, customer_id="7001")
    send(client, laptop, body="from the laptop")
    phone = visitor(client, standin, shop_id)
    send(client, phone, body="from the phone, before signing in")
    # The phone's shopper signs in: their anonymous visitor is merged into the customer's.
    visitor(client, standin, shop_id, customer_id="7001", body={"visitor_token": phone["visitor_token"]})
    with services.db.session() as db:
        assert db.get(Visitor, phone["visitor_id"]) is None

    # A tab still holding the old token: a clear 401 on every call, never a 500.
    for response in (
        send(client, phone, body="a draft typed before the sign-in"),
        client.get(f"{API}/messages", headers=auth(phone)),
        client.put(f"{API}/cart", json=CART, headers=auth(phone)),
        client.post(f"{API}/typing", json={"typing": True}, headers=auth(phone)),
        client.get(f"{API}/stream?token={phone['visitor_token']}"),
    ):
        assert (response.status_code, response.get_json()["error"]) == (401, "invalid_token")
    assert "start a new session" in send(client, phone).get_json()["message"]

    # What the widget does on that 401: a new session (the proxy still vouches for the
    # customer), then the draft again, into the customer's one thread.
    again = visitor(client, standin, shop_id, customer_id="7001", body={"visitor_token": phone["visitor_token"]})
    assert again["visitor_id"] == laptop["visitor_id"]
    resent = send(client, again, body="a draft typed before the sign-in")
    assert resent.status_code == 201
    bodies = [m["body"] for m in client.get(f"{API}/messages", headers=auth(again)).get_json()["messages"]]
    assert bodies[-1] == "a draft typed before the sign-in" and "from the phone, before signing in" in bodies


def test_an_erased_visitors_token_gets_401_and_a_new_session_starts_afresh(client, standin, shop_id, services):
    shopper = visitor(client, standin, shop_id, customer_id="7001")
    send(client, shopper, body="please forget me")
    body = json.dumps({"customer": {"id": 7001, "email": None}, "orders_to_redact": []}).encode()
    erased = client.post(
        "/webhooks/compliance", data=body, headers=standin.webhook_headers("customers/redact", SHOP, body)
    )
    assert erased.status_code == 200
    response = send(client, shopper)
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_token")
    fresh = visitor(client, standin, shop_id, body={"visitor_token": shopper["visitor_token"]})
    assert fresh["visitor_id"] != shopper["visitor_id"] and fresh["conversation"] is None
    assert send(client, fresh).status_code == 201


def test_a_visitor_erased_between_the_check_and_the_insert_is_401_not_a_foreign_key_error(services, shop_id):
    """Another process erased or merged the visitor after the request read it: the new
    conversation's foreign key refuses it, and that is the same 401."""
    from app.chat.conversations import GoneVisitor

    with pytest.raises(GoneVisitor) as refused:
        services.chat.send_shopper_message(shop_id, str(uuid.uuid4()), "c-gone", "hello?")
    assert (refused.value.status, refused.value.code) == (401, "invalid_token")
    assert count(services, Message) == count(services, Conversation) == 0


# -- limits behind a proxy, and fresh sessions ------------------------------------------------


def test_behind_trusted_proxies_limits_count_per_forwarded_address(standin, settings, bind, shop_id):
    from app import create_app

    proxied = create_app(
        settings.override(rate_limit_visitor="100/minute", rate_limit_ip="2/minute", trusted_proxies=1), bind=bind
    )
    client = proxied.test_client()
    session = visitor(client, standin, shop_id)

    def from_address(address: str) -> int:
        return send(client, session, headers_extra={"X-Forwarded-For": address}).status_code

    assert [from_address("203.0.113.5"), from_address("203.0.113.5"), from_address("203.0.113.5")] == [201, 201, 429]
    assert from_address("203.0.113.6") == 201  # another shopper behind the same proxy
    # Without trusted proxies, a forwarded address is anyone's claim: the socket counts.
    direct = create_app(settings.override(rate_limit_ip="2/minute"), bind=bind).test_client()
    statuses = [
        direct.post(
            f"{API}/messages",
            json={"client_id": str(uuid.uuid4()), "body": "hi"},
            headers={**auth(session), "X-Forwarded-For": f"198.51.100.{n}"},
        ).status_code
        for n in range(3)
    ]
    assert statuses == [201, 201, 429]


def test_new_visitors_per_address_are_limited_and_resumed_sessions_are_not(client, standin, shop_id, monkeypatch):
    from app.web import rate_limits

    monkeypatch.setattr(rate_limits, "NEW_VISITORS_PER_ADDRESS", "3/minute")
    fresh = [client.post(f"{API}/session", json={"shop": SHOP}) for _ in range(4)]
    assert [r.status_code for r in fresh] == [200, 200, 200, 429]
    assert fresh[3].get_json()["error"] == "rate_limited"
    # The shoppers who have a token come back as often as they load a page.
    token = fresh[0].get_json()["visitor_token"]
    resumed = [client.post(f"{API}/session", json={"shop": SHOP, "visitor_token": token}) for _ in range(5)]
    assert {r.status_code for r in resumed} == {200}
    # Through the app proxy the address is the shopper's, as Shopify forwards it.
    through_proxy = [
        proxy_session(client, standin, headers={"X-Forwarded-For": address}).status_code
        for address in ("192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.2")
    ]
    assert through_proxy == [200, 200, 200, 429, 200]
