"""The outbox against raw smtplib, on the same local SMTP server in the same run.

- **baseline** (`raw_smtplib`): N messages sent one connection each with smtplib, as the
  SMTP mailer sends them, with nothing stored or rendered.
- **Parley** (`outbox`): N queued reply e-mails (each for its own conversation with an
  unseen agent reply), delivered by the outbox worker: claimed, rendered from the
  templates in the shopper's language with a fresh resume link, sent, marked sent.

`throughput_ratio` is Parley's e-mails per second over the baseline's. `due_to_sent_ms`
is how long a due row waits for the background worker (its wake-up interval, 5 s, caps
it; `notify()` cuts it short); an alert therefore goes out within its batching window
plus that.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import socket
import tempfile
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _Sink:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.arrived = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        self.arrived.set()
        return "250 OK"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _raw(port: int, n: int) -> float:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@bench.test", "b@bench.test", "bench"
    message.set_content("x" * 2000)
    started = time.perf_counter()
    for _ in range(n):
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(message)
    return n / (time.perf_counter() - started)


def _parley(port: int, n: int, workdir: Path, sink: _Sink) -> tuple[float, float, int]:
    from cryptography.fernet import Fernet

    from app import create_app, shops
    from app.clock import utcnow
    from app.config import load_settings
    from app.db import make_engine
    from app.migrate import upgrade
    from app.models import AuthorKind, Conversation, Message, Platform, Visitor
    from app.notify import outbox

    url = f"sqlite:///{workdir / 'outbox.db'}"
    upgrade(make_engine(url))
    settings = load_settings(
        environ={"PARLEY_ENV": "test"},
        database_url=url,
        app_url="http://parley.bench",
        secret_key=secrets.token_urlsafe(32),
        token_encryption_key=Fernet.generate_key().decode(),
        shopify_api_key="bench",
        shopify_api_secret="bench-secret",
        mailer="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
    )
    services = create_app(settings).extensions["parley"]
    now = utcnow()
    with services.db.transaction() as session:
        shop = shops.record_install(
            session,
            services.cipher,
            Platform.shopify,
            "bench.myshopify.com",
            shops.TokenGrant("t", "read_orders"),
            now,
            name="Bench Shop",
        )
        assert shop.id is not None
        for i in range(n):
            visitor = Visitor(shop_id=shop.id, contact_email=f"shopper{i}@bench.test", locale="et")
            session.add(visitor)
            session.flush()
            conversation = Conversation(shop_id=shop.id, visitor_id=visitor.id, last_message_at=now)
            session.add(conversation)
            session.flush()
            question = Message(
                shop_id=shop.id,
                conversation_id=conversation.id,
                body="Kas saadate Tartusse?",
                client_id=f"q{i}",
                created_at=now,
            )
            answer = Message(
                shop_id=shop.id,
                conversation_id=conversation.id,
                author_kind=AuthorKind.agent,
                body="Jah, 2–3 päevaga. " * 20,
                client_id=f"a{i}",
                created_at=now,
            )
            session.add_all([question, answer])
            session.flush()
            outbox.queue(
                session,
                shop_id=shop.id,
                channel="email",
                kind="reply",
                recipient=visitor.contact_email or "",
                dedupe_key=f"reply:{answer.id}",
                payload={"messages": [answer.id]},
                not_before=now - timedelta(seconds=1),
                conversation_id=conversation.id,
            )
    worker = services.notify.outbox
    started = time.perf_counter()
    outcomes = worker.run_due()
    while sum(outcomes.values()) < n and worker.due_ids():
        more = worker.run_due()
        outcomes = {k: outcomes.get(k, 0) + more.get(k, 0) for k in {*outcomes, *more}}
    rate = n / (time.perf_counter() - started)
    return rate, _due_to_sent(services, shop.id, conversation.id, sink), outcomes.get("sent", 0)


def _due_to_sent(services: Any, shop_id: int, conversation_id: str, sink: _Sink) -> float:
    """One row made due while the background worker sleeps: milliseconds until the SMTP
    server has it."""
    from app.clock import utcnow
    from app.notify import outbox

    worker = services.notify.outbox
    worker.start()
    time.sleep(0.2)  # the worker's first (empty) round is done; it sleeps now
    sink.arrived.clear()
    with services.db.transaction() as session:
        outbox.queue(
            session,
            shop_id=shop_id,
            channel="email",
            kind="resume_link",
            recipient="late@bench.test",
            dedupe_key="bench:delay",
            payload={},
            not_before=utcnow(),
            conversation_id=conversation_id,
        )
    started = time.perf_counter()
    sink.arrived.wait(30)
    elapsed = (time.perf_counter() - started) * 1000
    worker.stop()
    return elapsed


def run(n: int | None = None) -> dict[str, Any]:
    n = n or int(os.environ.get("BENCH_OUTBOX", "300"))
    sink = _Sink()
    port = _port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    try:
        raw = _raw(port, n)
        with tempfile.TemporaryDirectory() as workdir:
            parley, delay_ms, sent = _parley(port, n, Path(workdir), sink)
    finally:
        controller.stop()
    return {
        "what": "e-mails per second through the outbox (claim, render, send, mark) vs raw smtplib, same SMTP server",
        "messages": n,
        "raw_smtplib_per_s": round(raw, 1),
        "outbox_per_s": round(parley, 1),
        "throughput_ratio": round(parley / raw, 3),
        "sent": sent,
        "due_to_sent_ms": round(delay_ms, 1),
        "received_by_server": sink.count,
    }
