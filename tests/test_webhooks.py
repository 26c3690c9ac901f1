"""Webhooks as Shopify delivers them (signed by the stand-in), on SQLite and
PostgreSQL: compliance does the real thing, and bad deliveries get what they deserve."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from app import shops
from app.clock import utcnow
from app.models import (
    CartSnapshot,
    Conversation,
    DataExport,
    Message,
    OrderLink,
    Platform,
    Shop,
    ShopSetting,
    Visitor,
    WebhookEvent,
)
from tests.support.shops import SHOP

OTHER_SHOP = "other-shop.myshopify.com"


def install(db, cipher, domain: str) -> int:
    with db.transaction() as session:
        shop = shops.record_install(
            session, cipher, Platform.shopify, domain, shops.TokenGrant("shpat_" + domain[:5], "read_orders"), utcnow()
        )
        return shop.id


def seed_customer(db, shop_id: int, customer_id: str | None, email: str | None, text: str) -> str:
    """A visitor with one conversation, two messages, a cart snapshot and an attributed order."""
    now = utcnow()
    with db.transaction() as session:
        visitor = Visitor(shop_id=shop_id, customer_id=customer_id, email=email, name="Shopper")
        session.add(visitor)
        session.flush()
        conversation = Conversation(shop_id=shop_id, visitor_id=visitor.id, last_message_at=now)
        session.add(conversation)
        session.flush()
        session.add(Message(shop_id=shop_id, conversation_id=conversation.id, body=text, client_id="c1"))
        session.add(
            Message(shop_id=shop_id, conversation_id=conversation.id, body="Agent note", client_id="c2", internal=True)
        )
        session.add(
            CartSnapshot(
                shop_id=shop_id,
                conversation_id=conversation.id,
                total=Decimal("129.90"),
                currency="EUR",
                lines=[{"title": "Parka", "quantity": 1}],
            )
        )
        session.add(
            OrderLink(
                shop_id=shop_id,
                conversation_id=conversation.id,
                order_id=f"{shop_id}{customer_id}",
                order_name="#1001",
                rule="note_attribute",
                total=Decimal("129.90"),
                currency="EUR",
            )
        )
        return conversation.id


def deliver(
    client,
    standin,
    address: str,
    topic: str,
    payload,
    shop: str = SHOP,
    event_id: str | None = None,
    raw: bytes | None = None,
):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = standin.webhook_headers(topic, shop, body, event_id=event_id)
    return client.post(address, data=body, headers=headers)


def count(db, model, *where) -> int:
    with db.session() as session:
        return session.exec(select(sa.func.count()).select_from(model).where(*where)).one()


def data_request(customer_id=207119551, email="anna@example.com", request_id=9999):
    return {
        "shop_id": 954889,
        "shop_domain": SHOP,
        "orders_requested": [299938, 280263],
        "customer": {"id": customer_id, "email": email, "phone": "555-625-1199"},
        "data_request": {"id": request_id},
    }


def test_data_request_exports_only_that_customers_conversations(client, standin, db, services):
    shop_id = install(db, services.cipher, SHOP)
    seed_customer(db, shop_id, "207119551", "anna@example.com", "Is the parka waterproof?")
    seed_customer(db, shop_id, "555", "bo@example.com", "Someone else's question")

    response = deliver(client, standin, "/webhooks/compliance", "customers/data_request", data_request())

    assert response.status_code == 200
    with db.session() as session:
        export = session.exec(select(DataExport)).one()
    conversations = export.content["conversations"]
    assert [m["body"] for c in conversations for m in c["messages"]] == ["Is the parka waterproof?"]
    assert conversations[0]["carts"][0]["total"] == "129.9000"
    assert conversations[0]["orders"][0]["order"] == "#1001"
    assert export.request_id == "9999"


def test_merchant_downloads_the_export_and_another_shop_cannot(client, standin, db, services):
    shop_id = install(db, services.cipher, SHOP)
    standin.add_shop(OTHER_SHOP)
    install(db, services.cipher, OTHER_SHOP)
    seed_customer(db, shop_id, "207119551", "anna@example.com", "Hello")
    deliver(client, standin, "/webhooks/compliance", "customers/data_request", data_request())

    own = {"Authorization": f"Bearer {standin.mint_id_token(SHOP)}"}
    listing = client.get("/admin/api/exports", headers=own).get_json()["exports"]
    assert len(listing) == 1 and listing[0]["conversations"] == 1
    download = client.get(f"/admin/api/exports/{listing[0]['id']}", headers=own)
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_json()["customer"] == {"id": "207119551", "email": "anna@example.com"}

    other = {"Authorization": f"Bearer {standin.mint_id_token(OTHER_SHOP)}"}
    assert client.get("/admin/api/exports", headers=other).get_json() == {"exports": []}
    stolen = client.get(f"/admin/api/exports/{listing[0]['id']}", headers=other)
    assert stolen.status_code == 404
    assert stolen.get_json() == {"error": "not_found", "message": "no such export in this shop"}


def test_customer_redaction_erases_that_customer_and_nothing_else(client, standin, db, services):
    shop_id = install(db, services.cipher, SHOP)
    gone = seed_customer(db, shop_id, "207119551", None, "Erase me")
    kept = seed_customer(db, shop_id, "555", "bo@example.com", "Keep me")
    payload = {
        "shop_id": 954889,
        "shop_domain": SHOP,
        "customer": {"id": 207119551, "email": "anna@example.com"},
        "orders_to_redact": [299938],
    }

    assert deliver(client, standin, "/webhooks/compliance", "customers/redact", payload).status_code == 200

    for model in (Message, CartSnapshot, OrderLink):
        assert count(db, model, model.conversation_id == gone) == 0
        assert count(db, model, model.conversation_id == kept) > 0
    assert count(db, Conversation, Conversation.id == gone) == 0
    assert count(db, Visitor, Visitor.customer_id == "207119551") == 0
    assert count(db, Conversation, Conversation.id == kept) == 1


def test_customer_redaction_by_email_alone(client, standin, db, services):
    shop_id = install(db, services.cipher, SHOP)
    seed_customer(db, shop_id, None, "Anna@Example.com", "Anonymous, but left an email")
    payload = {"shop_id": 1, "shop_domain": SHOP, "customer": {"email": "anna@example.com"}}
    assert deliver(client, standin, "/webhooks/compliance", "customers/redact", payload).status_code == 200
    assert count(db, Message) == 0


def test_shop_redaction_erases_the_shop_and_spares_other_shops(client, standin, db, services):
    shop_id = install(db, services.cipher, SHOP)
    other_id = install(db, services.cipher, OTHER_SHOP)
    seed_customer(db, shop_id, "1", "a@example.com", "Mine")
    seed_customer(db, other_id, "1", "a@example.com", "Theirs")
    with db.transaction() as session:
        session.add(ShopSetting(shop_id=shop_id, key="greeting", value="Hi"))
    deliver(
        client,
        standin,
        "/webhooks/compliance",
        "customers/data_request",
        data_request(customer_id=1, email="a@example.com"),
    )

    response = deliver(client, standin, "/webhooks/compliance", "shop/redact", {"shop_id": 954889, "shop_domain": SHOP})

    assert response.status_code == 200
    for model in (Message, CartSnapshot, OrderLink, Conversation, Visitor, ShopSetting, DataExport):
        assert count(db, model, model.shop_id == shop_id) == 0, model.__name__
        assert model is ShopSetting or model is DataExport or count(db, model, model.shop_id == other_id) > 0, (
            model.__name__
        )
    assert count(db, Shop, Shop.id == shop_id) == 0
    assert count(db, Shop, Shop.id == other_id) == 1
    # Only the redaction request itself remains, so a redelivery is still a no-op.
    with db.session() as session:
        topics = session.exec(select(WebhookEvent.topic).where(WebhookEvent.shop_domain == SHOP)).all()
    assert topics == ["shop/redact"]


def test_replayed_webhook_gets_200_and_is_processed_once(client, standin, db, services):
    shop_id = install(db, services.cipher, SHOP)
    seed_customer(db, shop_id, "207119551", "anna@example.com", "Hi")
    first = deliver(client, standin, "/webhooks/compliance", "customers/data_request", data_request(), event_id="evt-1")
    again = deliver(client, standin, "/webhooks/compliance", "customers/data_request", data_request(), event_id="evt-1")

    assert (first.status_code, first.get_json()) == (200, {"status": "processed"})
    assert (again.status_code, again.get_json()) == (200, {"status": "duplicate"})
    assert count(db, DataExport) == 1
    assert count(db, WebhookEvent) == 1


def test_wrong_hmac_gets_401_and_nothing_is_stored(client, standin, db, services):
    install(db, services.cipher, SHOP)
    body = json.dumps(data_request()).encode()
    headers = standin.webhook_headers("customers/data_request", SHOP, body, secret="not-the-secret")
    response = client.post("/webhooks/compliance", data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {
        "error": "invalid_hmac",
        "message": "the X-Shopify-Hmac-Sha256 header does not match the body",
    }
    assert count(db, WebhookEvent) == 0


def test_missing_hmac_gets_401(client, standin, db):
    body = b"{}"
    headers = standin.webhook_headers("shop/redact", SHOP, body)
    del headers["X-Shopify-Hmac-Sha256"]
    response = client.post("/webhooks/compliance", data=body, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_hmac"


def test_malformed_json_gets_400_and_nothing_is_stored(client, standin, db, services):
    install(db, services.cipher, SHOP)
    response = deliver(client, standin, "/webhooks/compliance", "customers/redact", None, raw=b'{"customer": {"id": 1')
    assert response.status_code == 400
    assert response.get_json() == {"error": "malformed_json", "message": "the webhook body is not valid JSON"}
    assert count(db, WebhookEvent) == 0


def test_payload_without_the_customer_gets_400_and_nothing_is_erased(client, standin, db, services):
    shop_id = install(db, services.cipher, SHOP)
    seed_customer(db, shop_id, "1", "a@example.com", "Stay")
    response = deliver(client, standin, "/webhooks/compliance", "customers/redact", {"shop_id": 1, "shop_domain": SHOP})
    assert response.status_code == 400
    assert response.get_json() == {"error": "missing_field", "message": "the payload has no customer object"}
    assert count(db, Message) == 2
    assert count(db, WebhookEvent) == 0


def test_topic_sent_to_the_wrong_address_gets_400(client, standin, db):
    response = deliver(client, standin, "/webhooks/app", "customers/redact", {"customer": {"id": 1}})
    assert response.status_code == 400
    assert response.get_json()["error"] == "unexpected_topic"


def test_webhook_for_an_unknown_shop_is_acknowledged(client, standin, db):
    response = deliver(
        client,
        standin,
        "/webhooks/compliance",
        "shop/redact",
        {"shop_id": 1, "shop_domain": "never-installed.myshopify.com"},
        shop="never-installed.myshopify.com",
    )
    assert (response.status_code, response.get_json()) == (200, {"status": "unknown_shop"})


def test_scopes_update_records_the_new_scopes(client, standin, db, services):
    install(db, services.cipher, SHOP)
    payload = {
        "id": 1,
        "previous": ["read_orders"],
        "current": ["read_orders", "read_customers"],
        "updated_at": "2026-11-23T10:00:00Z",
    }
    assert deliver(client, standin, "/webhooks/app", "app/scopes_update", payload).status_code == 200
    with db.session() as session:
        assert shops.find_shop(session, Platform.shopify, SHOP).scopes == "read_orders,read_customers"


def test_uninstall_deletes_tokens_but_keeps_conversations_until_shop_redact(client, standin, db, services):
    shop_id = install(db, services.cipher, SHOP)
    seed_customer(db, shop_id, "1", None, "Still here for the merchant")
    assert deliver(client, standin, "/webhooks/app", "app/uninstalled", {"id": 1, "domain": SHOP}).status_code == 200
    with db.session() as session:
        shop = session.get(Shop, shop_id)
    assert shop.access_token_enc is None and shop.refresh_token_enc is None
    assert shop.uninstalled_at is not None and shop.uninstalled_at <= utcnow() + timedelta(seconds=1)
    assert count(db, Message) == 2
