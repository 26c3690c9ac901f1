"""Saleor stand-ins on real sockets whose outgoing requests (manifest GET, token
POST, webhooks) reach the Flask app in-process (the `saleor` and `saleor_b` fixtures
in tests/conftest.py), and helpers to install Parley and run what Saleor delivered."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
import sqlalchemy as sa
from sqlmodel import select

from app.models import CartSnapshot, Conversation, Platform, Shop, Visitor
from standins.saleor.standin import SaleorStandin
from standins.server import StandinServer

APP_URL = "http://parley.test"  # tests/conftest.py's settings use this APP_URL
MANIFEST_URL = f"{APP_URL}/saleor/manifest"


@contextmanager
def running_saleor(app) -> Iterator[SaleorStandin]:
    client = httpx.Client(transport=httpx.WSGITransport(app=app), timeout=30)
    standin = SaleorStandin(client=client)
    with StandinServer(standin):
        yield standin
    client.close()


class LateApp:
    """A WSGI app to hand a Saleor stand-in before Parley's app exists (a test whose
    settings must name the stand-in's own API URL)."""

    def __init__(self) -> None:
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def install(standin: SaleorStandin) -> dict:
    outcome = standin.install_app(MANIFEST_URL)
    assert outcome["status"] == "installed", outcome
    return outcome


def shop_of(services, standin: SaleorStandin) -> Shop | None:
    with services.db.session() as session:
        return session.exec(
            select(Shop).where(Shop.platform == Platform.saleor, Shop.domain == standin.api_url)
        ).first()


def deliver_and_process(services, standin: SaleorStandin) -> list:
    """Saleor's workers send what is queued, then Parley's event worker runs (it is not
    started under the test client)."""
    sent = standin.deliver_pending()
    services.inbound.run_pending()
    return sent


def conversation_with_checkout(
    services, shop_id: int, token: str | None, *, customer_id: str | None = None, email: str | None = None
) -> str:
    """A visitor's conversation; with a token, a cart snapshot of that Saleor checkout."""
    with services.db.transaction() as session:
        visitor = Visitor(shop_id=shop_id, customer_id=customer_id, email=email)
        session.add(visitor)
        session.flush()
        conversation = Conversation(shop_id=shop_id, visitor_id=visitor.id, last_message_at=services.now())
        session.add(conversation)
        session.flush()
        if token:
            session.add(
                CartSnapshot(
                    shop_id=shop_id,
                    conversation_id=conversation.id,
                    cart_token=token,
                    currency="EUR",
                    total=Decimal("10"),
                    lines=[],
                )
            )
        return conversation.id


def count(services, model, *where) -> int:
    with services.db.session() as session:
        return session.exec(select(sa.func.count()).select_from(model).where(*where)).one()


def token_of(checkout_id: str) -> str:
    return base64.b64decode(checkout_id).decode().split(":", 1)[1]


def post_webhook(
    client,
    standin: SaleorStandin,
    event: str,
    payload,
    *,
    raw: bytes | None = None,
    api_url: str | None = None,
    signature: str | None = None,
    drop: tuple[str, ...] = (),
):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = standin.webhook_headers(event, body, api_url=api_url, signature=signature)
    for name in drop:
        headers.pop(name, None)
        headers.pop(f"X-{name}", None)
    return client.post("/saleor/webhooks", data=body, headers=headers)
