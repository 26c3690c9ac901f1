"""`customers/redact` erases the customer everywhere Parley keeps anything: every table
is searched for what identifies them (their stored webhook deliveries and data exports
included), and another customer's data is left whole. Processed deliveries are not kept
forever either: the event worker prunes them after WEBHOOK_RETENTION_DAYS."""

from __future__ import annotations

import base64
import io
import json
import threading
from datetime import timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import SQLModel, select

from app import create_app
from app.chat.privacy import ERASED_PAYLOAD
from app.inbound.worker import Inbound
from app.models import (
    Answer,
    Attachment,
    DataExport,
    Outbox,
    Platform,
    ResumeLink,
    Shop,
    StaffPresence,
    Visitor,
    WebhookEvent,
)
from standins.shopify.payloads import cart_payload, checkout_payload, customer, order_payload, simple_lines
from tests.support.shops import OTHER, SHOP, install
from tests.test_attachments import GPS_PHOTO

API = "/api/storefront/v1"


class Customer:
    """A signed-in shopper with everything Parley can come to hold about them, each piece
    marked with text found nowhere else."""

    def __init__(self, client, standin, services, shop_id: int, customer_id: int, tag: str):
        self.customer_id, self.tag = customer_id, tag
        self.email = f"kari.{tag}@example.com"
        self.phone = f"+372 5550 {customer_id}"
        self.street = f"{tag.capitalize()}gatan 12"
        self.words = f"Is the {tag} parka waterproof?"
        self.cart_token = f"c1-{tag}-cart"
        self.product = f"{tag.capitalize()} Parka"
        query = urlencode(standin.proxy_query(SHOP, logged_in_customer_id=str(customer_id)))
        session = client.post(f"/proxy/session?{query}", json={}).get_json()
        self.visitor_id = session["visitor_id"]
        headers = {"Authorization": f"Bearer {session['visitor_token']}"}
        cart = {
            "token": f"{self.cart_token}?key=k{tag}",
            "currency": "EUR",
            "total_price": 24900,
            "items": [{"title": self.product, "quantity": 1, "price": 24900}],
        }
        sent = client.post(
            f"{API}/messages", json={"client_id": f"{tag}-1", "body": self.words, "cart": cart}, headers=headers
        ).get_json()
        self.conversation_id = sent["conversation"]["id"]
        services.chat.send_agent_message(shop_id, self.conversation_id, "42", f"Yes! ({tag} reply)", f"{tag}-r")
        # A photo of theirs (the one carrying a GPS position), cleaned and kept as a picture message.
        picture = client.post(
            f"{API}/attachments",
            data={"file": (io.BytesIO(GPS_PHOTO), "label.jpg"), "client_id": f"{tag}-pic"},
            headers=headers,
            content_type="multipart/form-data",
        )
        assert picture.status_code == 201, picture.data
        self.picture_id = picture.get_json()["message"]["meta"]["attachment"]["id"]
        services.chat.remember_customer(shop_id, self.visitor_id, f"Kari {tag.capitalize()}", self.email)
        with services.db.transaction() as session_:
            visitor = session_.get(Visitor, self.visitor_id)
            visitor.contact_email = self.email
            visitor.page_url = f"https://{SHOP}/products/{tag}-parka"
            session_.add(visitor)
            # What the e-mail channels keep beside a conversation (app/notify).
            session_.add(
                Outbox(
                    shop_id=shop_id,
                    conversation_id=self.conversation_id,
                    channel="email",
                    kind="reply",
                    recipient=self.email,
                    dedupe_key=f"reply-{tag}",
                    payload={"body": f"Yes! ({tag} reply)"},
                )
            )
            session_.add(
                Outbox(
                    shop_id=shop_id,
                    channel="email",
                    kind="resume_link",
                    recipient=self.email.upper(),
                    dedupe_key=f"resume-{tag}",
                    payload={"to": self.email},
                )
            )
            session_.add(ResumeLink(shop_id=shop_id, visitor_id=self.visitor_id, conversation_id=self.conversation_id))
            session_.add(StaffPresence(shop_id=shop_id, user_id=f"staff-{tag}", conversation_id=self.conversation_id))

        # The platform's word on them, stored as delivered: an order, a cart, a checkout.
        buyer = {**customer(customer_id, self.email, "Kari", tag.capitalize()), "phone": self.phone}
        order = order_payload(
            order_id=customer_id * 10,
            note_attributes={"parley_conversation": self.conversation_id},
            buyer=buyer,
            cart_token=self.cart_token,
            lines=None,
        )
        order["phone"] = self.phone
        order["billing_address"] = {"address1": self.street, "phone": self.phone, "name": f"Kari {tag}"}
        lines = simple_lines((self.product, "249.00", 1))
        for topic, payload in (
            ("orders/create", order),
            ("carts/update", cart_payload(self.cart_token, lines)),
            ("checkouts/update", checkout_payload(f"ck-{tag}", self.cart_token, lines, email=self.email)),
        ):
            body = json.dumps(payload).encode()
            answer = client.post("/webhooks/commerce", data=body, headers=standin.webhook_headers(topic, SHOP, body))
            assert answer.status_code == 200, answer.data
        self.order_id = str(customer_id * 10)

    @property
    def marks(self) -> list[str]:
        return [
            self.email,
            self.phone,
            self.street,
            self.words,
            self.cart_token,
            self.product,
            self.conversation_id,
            self.visitor_id,
            self.picture_id,
            f"{self.tag} reply",
            f"{self.tag}-parka",
        ]


def compliance(client, standin, topic: str, who: Customer, **extra) -> dict:
    payload = {
        "shop_id": 954889,
        "shop_domain": SHOP,
        "customer": {"id": who.customer_id, "email": who.email, "phone": who.phone},
        **extra,
    }
    body = json.dumps(payload).encode()
    answer = client.post("/webhooks/compliance", data=body, headers=standin.webhook_headers(topic, SHOP, body))
    assert answer.status_code == 200, answer.data
    return answer.get_json()


def everything_stored(services) -> list[tuple[str, str]]:
    """(table, row as text) for every row of every table Parley has."""
    rows = []
    with services.db.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            for row in session.execute(sa.select(table)):
                rows.append((table.name, json.dumps([str(v) for v in row], ensure_ascii=False).lower()))
    return rows


def where_found(services, marks: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table, text in everything_stored(services):
        for mark in marks:
            if mark.lower() in text or json.dumps(mark.lower())[1:-1] in text:
                found.setdefault(table, []).append(mark)
    return found


def test_customer_redaction_leaves_nothing_of_them_in_any_table(client, standin, services, shop_id):
    kari = Customer(client, standin, services, shop_id, 7001, "erase")
    other = Customer(client, standin, services, shop_id, 7002, "keep")
    services.inbound.run_pending()  # orders attributed, carts followed: the deliveries processed
    compliance(client, standin, "customers/data_request", kari, data_request={"id": 31})
    compliance(client, standin, "customers/data_request", other, data_request={"id": 32})
    # Everything about both is stored somewhere, deliveries and exports included.
    before = where_found(services, kari.marks)
    assert {
        "message",
        "visitor",
        "conversation",
        "cart_snapshot",
        "webhook_event",
        "data_export",
        "outbox",
        "resume_link",
        "attachment",
    } <= set(before), before

    outcome = compliance(client, standin, "customers/redact", kari, orders_to_redact=[int(kari.order_id)])
    assert outcome == {"status": "processed"}

    assert where_found(services, kari.marks) == {}
    with services.db.session() as session:
        assert session.exec(select(Visitor).where(Visitor.customer_id == str(kari.customer_id))).all() == []
        events = session.exec(select(WebhookEvent).order_by(WebhookEvent.id)).all()
    # The deliveries themselves are still known (a redelivery stays a duplicate), emptied.
    scrubbed = [e for e in events if e.payload == ERASED_PAYLOAD]
    assert {e.topic for e in scrubbed} == {
        "orders/create",
        "carts/update",
        "checkouts/update",
        "customers/data_request",
        "customers/redact",
    }
    # The other customer keeps everything: what was theirs is where it was.
    assert where_found(services, other.marks).keys() == before.keys()


def test_a_redelivered_redaction_changes_nothing_more(client, standin, services, shop_id):
    kari = Customer(client, standin, services, shop_id, 7001, "erase")
    payload = json.dumps({"customer": {"id": kari.customer_id, "email": kari.email}, "orders_to_redact": []}).encode()
    headers = standin.webhook_headers("customers/redact", SHOP, payload, event_id="redact-1")
    assert client.post("/webhooks/compliance", data=payload, headers=headers).get_json() == {"status": "processed"}
    stored = everything_stored(services)
    assert client.post("/webhooks/compliance", data=payload, headers=headers).get_json() == {"status": "duplicate"}
    assert everything_stored(services) == stored


def test_a_delivery_not_processed_yet_is_erased_and_settled(client, standin, services, shop_id):
    kari = Customer(client, standin, services, shop_id, 7001, "erase")  # its deliveries wait for the worker
    compliance(client, standin, "customers/redact", kari)
    with services.db.session() as session:
        waiting = session.exec(select(WebhookEvent).where(WebhookEvent.topic == "orders/create")).one()
    assert (waiting.payload, waiting.error) == (ERASED_PAYLOAD, "erased before processing (customer redaction)")
    assert waiting.processed_at is not None
    assert services.inbound.run_pending() == {}  # nothing left to process, nothing re-created


# -- retention ------------------------------------------------------------------------------------


def _event(services, event_id: str, received_days_ago: float, processed_days_ago: float | None) -> None:
    now = services.now()
    with services.db.transaction() as session:
        session.add(
            WebhookEvent(
                platform=Platform.shopify,
                event_id=event_id,
                topic="orders/create",
                shop_domain=SHOP,
                payload="{}",
                received_at=now - timedelta(days=received_days_ago),
                processed_at=None if processed_days_ago is None else now - timedelta(days=processed_days_ago),
            )
        )


def _event_ids(services) -> set[str]:
    with services.db.session() as session:
        return set(session.exec(select(WebhookEvent.event_id)).all())


def test_processed_deliveries_older_than_the_retention_are_pruned(services, shop_id):
    assert services.inbound.retention_days == 7  # WEBHOOK_RETENTION_DAYS' default
    _event(services, "old-processed", 10, 9)
    _event(services, "old-failed", 30, 29)  # given up on: processed_at set, an error kept
    _event(services, "recent", 3, 3)
    _event(services, "old-unprocessed", 30, None)  # never processed: kept whatever its age
    assert services.inbound.prune() == 2
    assert _event_ids(services) == {"recent", "old-unprocessed"}


class Watched(Inbound):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pruned = threading.Event()

    def prune(self) -> int:
        pruned = super().prune()
        self.pruned.set()
        return pruned


def test_the_retention_setting_reaches_the_worker_and_the_worker_prunes(settings, bind, clock):
    app = create_app(settings.override(webhook_retention_days=2), bind=bind, clock=clock)
    assert app.extensions["parley"].inbound.retention_days == 2
    worker_services = app.extensions["parley"]
    _event(worker_services, "three-days", 3, 3)
    _event(worker_services, "one-day", 1, 1)
    inbound = Watched(worker_services.db, clock, {}, sweep_seconds=0.05, retention_days=2)
    inbound.start_worker()
    try:
        # Waited for, not polled: the test's database connection is one, and the worker's too.
        assert inbound.pruned.wait(10)
    finally:
        inbound.stop_worker()
    assert _event_ids(worker_services) == {"one-day"}


# -- the export holds what the erasure erases -------------------------------------------------


def test_the_export_holds_the_contact_address_the_emails_resume_links_and_pictures(client, standin, services, shop_id):
    kari = Customer(client, standin, services, shop_id, 7001, "erase")
    Customer(client, standin, services, shop_id, 7002, "keep")
    compliance(client, standin, "customers/data_request", kari, data_request={"id": 31})
    with services.db.session() as session:
        export = session.exec(select(DataExport).where(DataExport.customer_id == str(kari.customer_id))).one()
        stored = session.get(Attachment, kari.picture_id)
    content = export.content
    assert [v["contact_email"] for v in content["visitors"]] == [kari.email]
    assert content["visitors"][0]["page_url"] == f"https://{SHOP}/products/erase-parka"
    # Both e-mails addressed to her (one with the address in capitals), and nobody else's.
    assert sorted(e["kind"] for e in content["emails"]) == ["reply", "resume_link"]
    assert {e["to"].lower() for e in content["emails"]} == {kari.email}
    (conversation,) = content["conversations"]
    assert len(conversation["resume_links"]) == 1 and conversation["resume_links"][0]["devices"] == 0
    (picture,) = conversation["pictures"]
    assert picture["id"] == kari.picture_id and picture["sent_by"] == "shopper"
    header, data = picture["data_url"].split(",", 1)
    assert header == "data:image/jpeg;base64"
    assert base64.b64decode(data) == stored.data  # the cleaned picture, the GPS position gone
    assert b"Parley Test Camera" not in base64.b64decode(data)
    assert [m.get("picture") for m in conversation["messages"]] == [None, None, kari.picture_id]
    assert "keep" not in json.dumps(content)  # nothing of the other customer


# -- shop/redact: every table ---------------------------------------------------------------------


def rows_of_shop(services, shop_id: int) -> dict[str, int]:
    """How many rows of each table that holds a shop id belong to the shop."""
    counts = {}
    with services.db.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            if "shop_id" in table.c:
                counts[table.name] = session.execute(
                    sa.select(sa.func.count()).select_from(table).where(table.c.shop_id == shop_id)
                ).scalar_one()
    return counts


def test_shop_redaction_leaves_no_row_of_the_shop_in_any_table(client, standin, services, shop_id):
    standin.add_shop(OTHER, name="Other Shop")
    other_id = install(services, OTHER)
    kari = Customer(client, standin, services, shop_id, 7001, "erase")
    with services.db.transaction() as session:
        for owner in (shop_id, other_id):
            session.add(Answer(shop_id=owner, language="en", question="Do you ship?", answer="Yes, everywhere."))
            session.add(StaffPresence(shop_id=owner, user_id="staff-inbox"))
    theirs = client.post(f"/proxy/session?{urlencode(standin.proxy_query(OTHER))}", json={}).get_json()
    their_picture = client.post(
        f"{API}/attachments",
        data={"file": (io.BytesIO(GPS_PHOTO), "theirs.jpg"), "client_id": "theirs-pic"},
        headers={"Authorization": f"Bearer {theirs['visitor_token']}"},
        content_type="multipart/form-data",
    )
    assert their_picture.status_code == 201, their_picture.data
    services.inbound.run_pending()
    compliance(client, standin, "customers/data_request", kari, data_request={"id": 31})
    before = rows_of_shop(services, shop_id)
    assert all(before[name] for name in ("answer", "attachment", "staff_presence", "outbox", "resume_link")), before
    others = rows_of_shop(services, other_id)

    body = json.dumps({"shop_id": 954889, "shop_domain": SHOP}).encode()
    answer = client.post("/webhooks/compliance", data=body, headers=standin.webhook_headers("shop/redact", SHOP, body))
    assert answer.status_code == 200, answer.data

    assert {name: n for name, n in rows_of_shop(services, shop_id).items() if n} == {}
    assert where_found(services, kari.marks) == {}
    assert rows_of_shop(services, other_id) == others  # the other shop keeps all it had
    with services.db.session() as session:
        assert session.get(Shop, shop_id) is None
        assert session.exec(select(WebhookEvent.topic).where(WebhookEvent.shop_domain == SHOP)).all() == ["shop/redact"]
