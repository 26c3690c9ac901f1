"""The process dies after acknowledging an order webhook and before processing it;
the next start processes it, exactly once. Real `parley serve` processes, a real
SIGKILL, one SQLite file both lives share."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlmodel import select

from app import shops
from app.clock import utcnow
from app.config import load_settings
from app.db import Database, make_engine
from app.encryption import TokenCipher
from app.inbound.worker import Inbound
from app.models import Conversation, OrderLink, Platform, Visitor, WebhookEvent
from standins.shopify.payloads import order_payload
from standins.shopify.standin import ShopifyStandin

SHOP = "killed-midway.myshopify.com"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`parley serve` in its own process group, so SIGKILL takes gunicorn's worker too."""

    def __init__(self, env: dict[str, str], port: int, log: Path):
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen | None = None

    def start(self, **extra: str) -> "Server":
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env={**self.env, **extra},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"parley serve did not start:\n{self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(15)


@pytest.fixture
def environment(tmp_path):
    secret = "kill-test-secret"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARLEY_", "SHOPIFY_", "REDIS_", "DATABASE_"))}
    env.update(
        PARLEY_ENV="test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'parley.db'}",
        SHOPIFY_API_KEY="kill-test-key",
        SHOPIFY_API_SECRET=secret,
        SECRET_KEY="kill-test-" + "x" * 32,
        TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        APP_URL="http://127.0.0.1",
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    return env


def _seed(env: dict[str, str]) -> tuple[Database, str]:
    settings = load_settings(environ=env)
    db = Database(make_engine(settings.database_url))
    with db.transaction() as session:
        shop = shops.record_install(
            session,
            TokenCipher(settings.token_encryption_key),
            Platform.shopify,
            SHOP,
            shops.TokenGrant("shpat_kill", "read_orders"),
            utcnow(),
        )
        visitor = Visitor(shop_id=shop.id)
        session.add(visitor)
        session.flush()
        conversation = Conversation(shop_id=shop.id, visitor_id=visitor.id, last_message_at=utcnow())
        session.add(conversation)
        session.flush()
        return db, conversation.id


def _wait_for(check, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_an_event_acknowledged_before_a_kill_is_processed_once_after_restart(environment, tmp_path):
    server = Server(environment, _free_port(), tmp_path / "serve.log")
    # First life: the web process acknowledges, and (worker off) never gets to processing.
    server.start(PARLEY_EVENT_WORKER="off")
    db, conversation_id = _seed(environment)
    standin = ShopifyStandin(environment["SHOPIFY_API_KEY"], environment["SHOPIFY_API_SECRET"])
    body = json.dumps(order_payload(note_attributes={"parley_conversation": conversation_id})).encode()
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{server.port}/webhooks/commerce",
            content=body,
            headers=standin.webhook_headers("orders/create", SHOP, body),
            timeout=5,
        )
        assert (answer.status_code, answer.json()) == (200, {"status": "stored"})
        server.kill()

        with db.session() as session:
            [event] = session.exec(select(WebhookEvent)).all()
            assert (event.processed_at, event.attempts) == (None, 0)
            assert session.exec(select(sa.func.count()).select_from(OrderLink)).one() == 0

        # Second life, worker on: the sweep at start finds the event.
        server.start()

        def processed():
            with db.session() as session:
                return session.exec(select(WebhookEvent).where(WebhookEvent.processed_at.is_not(None))).first()

        event = _wait_for(processed)
        assert (event.attempts, event.error) == (1, None)
        server.stop()
        # A third life (and another sweep) changes nothing: processed exactly once.
        server.start()
        time.sleep(0.5)
    finally:
        server.stop()

    with db.session() as session:
        [link] = session.exec(select(OrderLink)).all()
        [event] = session.exec(select(WebhookEvent)).all()
    assert (link.conversation_id, link.rule, event.attempts) == (conversation_id, "conversation", 1)
    with db.session() as session:
        assert Inbound(db, utcnow, {}).pending_ids(session) == []
