"""Saleor webhooks as a Saleor delivers them (signed by the stand-in's key), the checkout
stamp that ties orders to conversations, and what a dead token means; on SQLite and
PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlmodel import select

from app.errors import ParleyError
from app.inbound import worker
from app.models import CartSnapshot, Conversation, InstallState, OrderLink, Visitor, WebhookEvent
from app.platforms.saleor.api import SaleorAPI
from app.platforms.saleor.apps import REFETCH_SECONDS
from app.platforms.saleor.checkouts import CheckoutUnavailable
from app.platforms.saleor.context import SaleorCommerceContext
from app.platforms.saleor.keys import JWKSUnavailable, KeyRing, SignatureError, check_claims
from app.platforms.saleor.metadata import CONVERSATION_KEY
from tests.support.saleor import (
    conversation_with_checkout,
    count,
    deliver_and_process,
    install,
    post_webhook,
    shop_of,
    token_of,
)

PARKA = [{"name": "Parka", "variant": "M", "quantity": 2, "price": "64.95"}]


def order_payload(order_id: str = "T3JkZXI6MQ==") -> dict:
    return {
        "__typename": "OrderCreated",
        "issuedAt": "2026-11-02T10:00:00+00:00",
        "version": "3.23.28",
        "recipient": {"id": "QXBwOjE="},
        "order": {
            "id": order_id,
            "number": "7",
            "status": "UNFULFILLED",
            "created": "2026-11-02T10:00:00+00:00",
            "updatedAt": "2026-11-02T10:00:00+00:00",
            "userEmail": "anna@example.com",
            "checkoutId": None,
            "chargeStatus": "NONE",
            "user": None,
            "metadata": [],
            "total": {"gross": {"amount": 12.5, "currency": "EUR"}},
            "totalRefunded": {"amount": 0.0, "currency": "EUR"},
        },
    }


# ---- authentication of deliveries --------------------------------------------------


def test_good_signature_is_stored_once_and_answered_200(saleor, client, services):
    install(saleor)
    body = json.dumps(order_payload()).encode()
    first = post_webhook(client, saleor, "ORDER_CREATED", None, raw=body)
    again = post_webhook(client, saleor, "ORDER_CREATED", None, raw=body)  # Saleor's retry: same bytes
    assert (first.status_code, first.get_json()) == (200, {"status": "stored"})
    assert (again.status_code, again.get_json()) == (200, {"status": "duplicate"})
    assert count(services, WebhookEvent) == 1
    with services.db.session() as session:
        event = session.exec(select(WebhookEvent)).one()
    assert (event.topic, event.shop_domain, event.payload) == ("ORDER_CREATED", saleor.api_url, body.decode())


def test_bad_signature_is_401_and_nothing_stored(saleor, client, services):
    install(saleor)
    body = json.dumps(order_payload()).encode()
    forged = saleor.sign(body.replace(b"12.5", b"99.5"))
    answer = post_webhook(client, saleor, "ORDER_CREATED", None, raw=body, signature=forged)
    assert answer.status_code == 401
    assert answer.get_json() == {
        "error": "invalid_signature",
        "message": "the Saleor-Signature does not match the body (BadSignatureError)",
    }
    assert count(services, WebhookEvent) == 0


def test_missing_signature_is_401(saleor, client, services):
    install(saleor)
    answer = post_webhook(client, saleor, "ORDER_CREATED", order_payload(), drop=("Saleor-Signature",))
    assert answer.status_code == 401
    assert answer.get_json() == {"error": "invalid_signature", "message": "the Saleor-Signature header is missing"}
    assert count(services, WebhookEvent) == 0


def test_unknown_api_url_is_401(saleor, client, services):
    install(saleor)
    answer = post_webhook(client, saleor, "ORDER_CREATED", order_payload(), api_url="https://stranger.example/graphql/")
    assert answer.status_code == 401
    assert answer.get_json() == {
        "error": "unknown_saleor",
        "message": "Saleor-Api-Url names no Saleor where Parley is installed",
    }
    assert count(services, WebhookEvent) == 0


def test_rotated_key_is_fetched_once_and_accepted(saleor, client, services):
    install(saleor)
    jwks_fetches = lambda: sum(1 for r in saleor.requests if r["path"] == "/.well-known/jwks.json")  # noqa: E731
    before = jwks_fetches()
    new_kid = saleor.rotate_key()
    answer = post_webhook(client, saleor, "ORDER_CREATED", order_payload())
    assert answer.status_code == 200
    assert jwks_fetches() == before + 1
    assert json.loads(shop_of(services, saleor).jwks)["keys"][0]["kid"] == new_kid
    # The refreshed cache serves the next delivery without another fetch.
    assert post_webhook(client, saleor, "ORDER_CREATED", order_payload("T3JkZXI6Mg==")).status_code == 200
    assert jwks_fetches() == before + 1


def test_forged_key_ids_cannot_make_parley_fetch_keys_over_and_over(saleor, client, services):
    """An unknown kid earns one refetch per Saleor in ten seconds, not one per request."""
    install(saleor)
    jwks_fetches = lambda: sum(1 for r in saleor.requests if r["path"] == "/.well-known/jwks.json")  # noqa: E731
    before = jwks_fetches()
    body = json.dumps(order_payload()).encode()
    for n in range(5):
        header = _b64url(json.dumps({"alg": "RS256", "b64": False, "crit": ["b64"], "kid": f"forged-{n}"}).encode())
        headers = saleor.webhook_headers("ORDER_CREATED", body)
        headers["Saleor-Signature"] = f"{header}..{_b64url(b'not a signature')}"
        answer = client.post("/saleor/webhooks", data=body, headers=headers)
        assert answer.status_code == 401
    assert jwks_fetches() == before + 1
    assert count(services, WebhookEvent) == 0


def test_malformed_json_with_a_good_signature_is_400_and_nothing_stored(saleor, client, services):
    install(saleor)
    answer = post_webhook(client, saleor, "ORDER_CREATED", None, raw=b'{"order": {"id": ')
    assert answer.status_code == 400
    assert answer.get_json() == {"error": "malformed_json", "message": "the webhook body is not valid JSON"}
    missing = post_webhook(client, saleor, "ORDER_CREATED", {"__typename": "OrderCreated", "order": None})
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "missing_field", "message": "the payload has no order with an id"}
    mismatch = post_webhook(client, saleor, "ORDER_CREATED", {"__typename": "CheckoutCreated", "order": {"id": "x"}})
    assert mismatch.status_code == 400
    assert mismatch.get_json()["error"] == "event_mismatch"
    unknown = post_webhook(client, saleor, "PRODUCT_CREATED", {"product": {"id": "x"}})
    assert unknown.status_code == 400
    assert unknown.get_json() == {"error": "unknown_event", "message": "Parley does not subscribe to product_created"}
    assert count(services, WebhookEvent) == 0


def test_our_outages_are_503_so_saleor_retries(saleor, client, services, monkeypatch):
    install(saleor)
    saleor.rotate_key()

    def jwks_down(api_url: str) -> str:
        raise JWKSUnavailable("network down")

    monkeypatch.setattr(services.saleor.apps, "fetch", jwks_down)
    answer = post_webhook(client, saleor, "ORDER_CREATED", order_payload())
    assert answer.status_code == 503
    assert answer.get_json() == {
        "error": "keys_unavailable",
        "message": "Parley could not fetch this Saleor's signing keys; retry later",
    }
    monkeypatch.undo()
    # Saleor's keys can be fetched again once the failed attempt's refetch window has passed
    # (attempts are throttled, not only successes: app/platforms/saleor/apps.py).
    later = time.monotonic() + 2 * REFETCH_SECONDS
    monkeypatch.setattr(services.saleor.apps, "_clock", lambda: later)

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(worker, "insert_once", database_down)
    answer = post_webhook(client, saleor, "ORDER_CREATED", order_payload())
    assert answer.status_code == 503
    assert answer.get_json() == {
        "error": "database_unavailable",
        "message": "Parley's database is unavailable; retry later",
    }
    assert count(services, WebhookEvent) == 0


def test_tenant_a_key_cannot_speak_for_tenant_b(saleor, saleor_b, client, services):
    install(saleor)
    install(saleor_b)
    answer = post_webhook(
        client,
        saleor,
        "APP_DELETED",
        {"__typename": "AppDeleted", "app": {"id": saleor_b.installed_app.id}},
        api_url=saleor_b.api_url,
    )
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "invalid_signature"
    assert count(services, WebhookEvent) == 0
    assert shop_of(services, saleor_b).install_state == InstallState.installed


# ---- signature vectors made without the code under test ---------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_made_key() -> tuple[rsa.RSAPrivateKey, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = private.public_key().public_numbers()
    jwk = {
        "kty": "RSA",
        "kid": "hand-1",
        "alg": "RS256",
        "use": "sig",
        "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": _b64url(numbers.e.to_bytes(3, "big")),
    }
    return private, json.dumps({"keys": [jwk]})


def test_hand_made_detached_jws_is_accepted_and_a_flipped_byte_refused():
    private, jwks = _hand_made_key()
    ring = KeyRing("https://shop.example/graphql/", lambda: jwks, lambda _: None, lambda _: jwks)
    body = b'{"__typename":"OrderCreated","order":{"id":"T3JkZXI6MQ=="}}'
    header = _b64url(
        json.dumps({"alg": "RS256", "b64": False, "crit": ["b64"], "kid": "hand-1", "typ": "JWT"}).encode()
    )
    signature = private.sign(header.encode() + b"." + body, padding.PKCS1v15(), hashes.SHA256())
    compact = f"{header}..{_b64url(signature)}"
    ring.verify_webhook(compact, body)
    flipped = body.replace(b"MQ==", b"Mg==")
    with pytest.raises(SignatureError):
        ring.verify_webhook(compact, flipped)


def test_hand_made_dashboard_jwt_is_verified_and_a_tampered_one_refused():
    private, jwks = _hand_made_key()
    ring = KeyRing("https://shop.example/graphql/", lambda: jwks, lambda _: None, lambda _: jwks)
    claims = {
        "iat": 1_800_000_000,
        "exp": 1_800_000_300,
        "iss": "https://shop.example/graphql/",
        "owner": "saleor",
        "type": "thirdparty",
        "email": "staff@example.com",
        "user_id": "VXNlcjox",
        "is_staff": True,
        "app": "QXBwOjc=",
        "permissions": ["MANAGE_ORDERS"],
        "user_permissions": ["MANAGE_ORDERS"],
    }
    header = _b64url(json.dumps({"alg": "RS256", "kid": "hand-1", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signature = _b64url(private.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()))
    verified = ring.verify_jwt(f"{header}.{payload}.{signature}")
    assert verified == claims
    check_claims(verified, now=1_800_000_100, iss="https://shop.example/graphql/", app="QXBwOjc=")
    tampered = _b64url(json.dumps({**claims, "app": "QXBwOjg="}).encode())
    with pytest.raises(SignatureError):
        ring.verify_jwt(f"{header}.{tampered}.{signature}")
    with pytest.raises(SignatureError, match="exp"):
        check_claims(verified, now=1_800_000_301, iss="https://shop.example/graphql/")


# ---- the checkout stamp and the order it leads to ------------------------------------------


def test_checkout_is_stamped_once_and_its_order_attributed_through_the_stamp(saleor, client, services):
    install(saleor)
    shop = shop_of(services, saleor)
    checkout_id = saleor.add_checkout(PARKA, email="anna@example.com")
    conversation_id = conversation_with_checkout(services, shop.id, token_of(checkout_id))
    deliver_and_process(services, saleor)  # CHECKOUT_CREATED → stamp → Saleor queues CHECKOUT_UPDATED
    assert saleor.checkout(checkout_id)["metadata"] == {CONVERSATION_KEY: conversation_id}
    assert len(saleor.calls("updateMetadata")) == 1
    sent = deliver_and_process(services, saleor)  # CHECKOUT_UPDATED carries the stamp: nothing to write
    assert [d.event for d in sent] == ["CHECKOUT_UPDATED"]
    post_webhook(
        client, saleor, "CHECKOUT_UPDATED", None, raw=sent[0].body.replace(b'"issuedAt": "', b'"issuedAt": "1')
    )
    deliver_and_process(services, saleor)
    assert len(saleor.calls("updateMetadata")) == 1
    assert saleor.pending == []
    # The checkout's snapshot beside the conversation, from the webhook, in exact money.
    with services.db.session() as session:
        latest = session.exec(
            select(CartSnapshot).where(CartSnapshot.conversation_id == conversation_id).order_by(CartSnapshot.id.desc())
        ).first()
    assert (latest.total, latest.currency, latest.item_count) == (Decimal("129.9"), "EUR", 2)

    order_id = saleor.complete_checkout(checkout_id)
    deliver_and_process(services, saleor)
    with services.db.session() as session:
        link = session.exec(select(OrderLink).where(OrderLink.order_id == order_id)).one()
    assert (link.conversation_id, link.rule, link.total, link.currency, link.order_name) == (
        conversation_id,
        "conversation",
        Decimal("129.9"),
        "EUR",
        "#1",
    )
    saleor.cancel_order(order_id)
    deliver_and_process(services, saleor)
    with services.db.session() as session:
        assert session.exec(select(OrderLink).where(OrderLink.order_id == order_id)).one().cancelled_at is not None


def test_order_naming_another_shops_conversation_is_ignored(saleor, saleor_b, services):
    install(saleor)
    install(saleor_b)
    other = conversation_with_checkout(services, shop_of(services, saleor_b).id, None)
    saleor.add_order(PARKA, email="anna@example.com", metadata={CONVERSATION_KEY: other})
    deliver_and_process(services, saleor)
    assert count(services, OrderLink) == 0


def test_order_links_by_checkout_token_when_unstamped(saleor, services):
    install(saleor)
    shop = shop_of(services, saleor)
    checkout_id = saleor.add_checkout(PARKA)
    saleor.deliver_pending()  # delivered before any conversation knew the checkout: nothing stamped
    conversation_id = conversation_with_checkout(services, shop.id, token_of(checkout_id))
    order_id = saleor.complete_checkout(checkout_id)
    deliver_and_process(services, saleor)
    with services.db.session() as session:
        link = session.exec(select(OrderLink).where(OrderLink.order_id == order_id)).one()
    assert (link.conversation_id, link.rule) == (conversation_id, "cart_token")


def test_remember_checkout_snapshots_and_stamps(saleor, services):
    install(saleor)
    shop = shop_of(services, saleor)
    conversation_id = conversation_with_checkout(services, shop.id, None)
    checkout_id = saleor.add_checkout(PARKA, email="anna@example.com")
    cart = services.saleor.checkouts.remember(shop, conversation_id, checkout_id)
    assert cart == {
        "token": token_of(checkout_id),
        "currency": "EUR",
        "total": "129.90",
        "item_count": 2,
        "lines": [
            {
                "title": "Parka – M",
                "quantity": 2,
                "price": "64.95",
                "line_price": "129.90",  # with the currency's decimals, as the total
                "variant_id": cart["lines"][0]["variant_id"],
                "product_id": None,
                "url": None,
            }
        ],
    }
    with services.db.session() as session:
        conversation = session.get(Conversation, conversation_id)
    assert (conversation.cart_value, conversation.cart_currency) == (Decimal("129.9"), "EUR")
    assert saleor.checkout(checkout_id)["metadata"] == {CONVERSATION_KEY: conversation_id}
    assert services.saleor.checkouts.stamp(shop, checkout_id, conversation_id) is False  # already there
    assert len(saleor.calls("updateMetadata")) == 1
    with pytest.raises(ParleyError, match="no such conversation in this shop"):
        services.saleor.checkouts.remember(shop, "no-such-conversation", checkout_id)
    with pytest.raises(CheckoutUnavailable, match="Saleor knows no such checkout"):
        services.saleor.checkouts.remember(
            shop, conversation_id, "Q2hlY2tvdXQ6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"
        )


# ---- uninstall ---------------------------------------------------------------------


def test_app_deleted_uninstalls_and_another_apps_deletion_does_not(saleor, client, services):
    install(saleor)
    other_app = post_webhook(client, saleor, "APP_DELETED", {"__typename": "AppDeleted", "app": {"id": "QXBwOjk5"}})
    assert other_app.status_code == 200

    services.inbound.run_pending()
    assert shop_of(services, saleor).install_state == InstallState.installed  # Saleor ≤ 3.23.4 tells every app
    saleor.delete_app()
    deliver_and_process(services, saleor)
    shop = shop_of(services, saleor)
    assert shop.install_state == InstallState.uninstalled and shop.access_token_enc is None


def test_a_refused_token_uninstalls_when_saleor_never_says_so(saleor, services):
    install(saleor)
    shop = shop_of(services, saleor)
    checkout_id = saleor.add_checkout(PARKA)
    conversation_id = conversation_with_checkout(services, shop.id, token_of(checkout_id))
    saleor.delete_app(notify_app=False)  # Saleor up to 3.23.4: the deleted app hears nothing
    assert [d.event for d in saleor.pending] == ["CHECKOUT_CREATED"]
    assert services.saleor.checkouts.stamp(shop, checkout_id, conversation_id) is False
    assert saleor.calls("updateMetadata") == []
    assert shop_of(services, saleor).install_state == InstallState.uninstalled


def test_an_http_401_from_saleor_uninstalls_too(saleor, services, monkeypatch):
    install(saleor)
    shop = shop_of(services, saleor)
    conversation_id = conversation_with_checkout(services, shop.id, None)
    refusing = httpx.MockTransport(lambda request: httpx.Response(401, json={"errors": [{"message": "Unauthorized"}]}))
    monkeypatch.setattr(services.saleor.apps, "api", lambda shop: SaleorAPI(shop.domain, "t" * 30, refusing))
    with pytest.raises(CheckoutUnavailable, match="refused Parley's app token"):
        services.saleor.checkouts.remember(shop, conversation_id, saleor.add_checkout(PARKA))
    assert shop_of(services, saleor).install_state == InstallState.uninstalled


def test_customer_updated_renames_the_identified_visitor(saleor, services):
    install(saleor)
    shop = shop_of(services, saleor)
    user_id = saleor.add_customer("anna@example.com", first_name="Anna", last_name="Tamm")
    conversation_with_checkout(services, shop.id, None, customer_id=user_id, email="anna@example.com")
    conversation_with_checkout(services, shop.id, None, customer_id="VXNlcjo5OQ==", email="other@example.com")
    saleor.update_customer(user_id, email="anna.tamm@example.com", last_name="Kask")
    deliver_and_process(services, saleor)
    with services.db.session() as session:
        visitors = {v.customer_id: (v.email, v.name) for v in session.exec(select(Visitor))}
    assert visitors[user_id] == ("anna.tamm@example.com", "Anna Kask")
    assert visitors["VXNlcjo5OQ=="] == ("other@example.com", None)


# ---- the commerce context beside a conversation ------------------------------------------


def test_context_lookup_has_the_shopify_shape_and_turns_outages_into_notices(saleor, services):
    install(saleor)
    shop = shop_of(services, saleor)
    user_id = saleor.add_customer("anna@example.com", first_name="Anna", last_name="Tamm")
    order_id = saleor.add_order(PARKA, user_id=user_id)
    context = SaleorCommerceContext(services.saleor.apps)
    found = context.lookup(shop, None, "anna@example.com")
    assert found == {
        "customer": {"id": user_id, "name": "Anna Tamm", "email": "anna@example.com", "orders_count": 1},
        "orders": [
            {
                "id": order_id,
                "name": "#1",
                "created_at": saleor.order(order_id)["created"],
                "financial_status": "NONE",
                "fulfillment_status": "UNFULFILLED",
                "status_label": "not paid yet · not sent yet",
                "total": "129.90",
                "currency": "EUR",
            }
        ],
        "source": "live",
        "notice": None,
    }
    assert context.lookup(shop, user_id, None)["customer"]["email"] == "anna@example.com"
    assert context.lookup(shop, None, "anna@example.com")["source"] == "cache"
    assert context.checkout(shop, token_of(saleor.add_checkout(PARKA)))["total"] == "129.90"

    down = SaleorCommerceContext(
        services.saleor.apps, api_for=lambda shop: SaleorAPI("http://127.0.0.1:9/graphql/", "t" * 30)
    )
    assert down.lookup(shop, None, "anna@example.com") == {
        "customer": None,
        "orders": [],
        "source": "none",
        "notice": "Saleor could not be reached just now.",
    }
    assert down.checkout(shop, "not-a-token") is None
    saleor.delete_app(notify_app=False)
    refused = SaleorCommerceContext(services.saleor.apps).lookup(shop, user_id, None)
    assert refused["notice"] == "Saleor refused Parley's app token; reinstalling the app fixes this."
