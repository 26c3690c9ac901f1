"""Webhook acknowledgement: signed `orders/create` deliveries to Parley's
/webhooks/commerce (HMAC, field check, one INSERT, commit; the event worker
attributes the orders in the same process meanwhile) against a bare Flask handler
that only checks the HMAC.

Each server runs in its own process (werkzeug's threaded server, the same for
both), so the load generator's threads do not share a GIL with what they measure.
Both are driven by the same load generator in the same run. Afterwards the
benchmark waits until the worker has attributed every order and reports how long
that took.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from flask import Flask, request
from werkzeug.serving import make_server

REQUESTS = int(os.environ.get("BENCH_WEBHOOKS", "1000"))
CONCURRENCY = 8
SHOP = "bench-shop.myshopify.com"


def _bare_app(secret: str) -> Flask:
    app = Flask("bare")

    @app.post("/webhooks/commerce")
    def receive():
        digest = base64.b64encode(hmac.new(secret.encode(), request.get_data(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(digest, request.headers.get("X-Shopify-Hmac-Sha256", "")):
            return {"error": "invalid_hmac"}, 401
        return {"status": "ok"}, 200

    return app


def _settings(secret: str, url: str, token_key: str):
    from app.config import load_settings

    return load_settings(
        environ={"PARLEY_ENV": "test"},
        database_url=url,
        shopify_api_key="bench",
        shopify_api_secret=secret,
        secret_key="bench-secret-key-" + "x" * 32,
        token_encryption_key=token_key,
    )


def _seed(secret: str, url: str, token_key: str) -> str:
    """The database, an installed shop and one conversation the orders name."""
    from app import shops
    from app.db import Database, make_engine, utcnow
    from app.migrate import upgrade
    from app.models import Conversation, Platform, Visitor
    from app.services import Parley

    upgrade(make_engine(url))
    services = Parley.build(_settings(secret, url, token_key))
    with services.db.transaction() as session:
        shop = shops.record_install(session, services.cipher, Platform.shopify, SHOP, shops.TokenGrant("shpat_bench", "read_orders"), utcnow())
        visitor = Visitor(shop_id=shop.id)
        session.add(visitor)
        session.flush()
        conversation = Conversation(shop_id=shop.id, visitor_id=visitor.id)
        session.add(conversation)
        session.flush()
        conversation_id = conversation.id
    # No SQLite connection may cross the fork: a child closing an inherited one drops the
    # POSIX locks of its own connections to the same file (a SQLite rule, not ours).
    services.db.bind.dispose()
    return conversation_id


def _serve(kind: str, secret: str, url: str, token_key: str, ports) -> None:
    """The child process: build the app after the fork, serve until terminated."""
    import logging

    logging.disable(logging.INFO)  # per-request log lines would be measured too
    if kind == "bare":
        app = _bare_app(secret)
    else:
        from app import create_app

        app = create_app(_settings(secret, url, token_key))
        app.extensions["parley"].start_event_worker()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    ports.put(server.server_port)
    server.serve_forever()


class _Server:
    def __init__(self, kind: str, secret: str, url: str = "", token_key: str = ""):
        context = multiprocessing.get_context("fork")
        ports = context.Queue()
        self._process = context.Process(target=_serve, args=(kind, secret, url, token_key, ports), daemon=True)
        self._process.start()
        self.url = f"http://127.0.0.1:{ports.get(timeout=30)}"

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(10)


def _signed(secret: str, conversation_id: str) -> tuple[bytes, dict]:
    from app.platforms.shopify.standin_payloads import customer, order_payload

    order = order_payload(note_attributes={"parley_conversation": conversation_id}, buyer=customer(7001, "kari@example.com"))
    body = json.dumps(order).encode()  # about 5 KB, like a real one-line order
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


def _load(url: str, secret: str, conversation_id: str) -> dict:
    deliveries = [_signed(secret, conversation_id) for _ in range(REQUESTS)]  # signed before the clock starts
    latencies: list[float] = []
    lock = threading.Lock()

    def one(delivery):
        body, headers = delivery
        start = time.perf_counter()
        response = client.post(f"{url}/webhooks/commerce", content=body, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.text
        with lock:
            latencies.append(elapsed)

    with httpx.Client(timeout=10, limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(one, deliveries))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": REQUESTS,
        "throughput_per_s": round(REQUESTS / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


def _attributed(url: str) -> int:
    import sqlalchemy as sa

    from app.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM order_link")).scalar_one()
    finally:
        engine.dispose()


def _wait_until_attributed(url: str, expected: int, seconds: float = 180.0) -> int:
    deadline = time.monotonic() + seconds
    while True:
        linked = _attributed(url)
        if linked >= expected or time.monotonic() > deadline:
            return linked
        time.sleep(0.05)


def run() -> dict:
    from cryptography.fernet import Fernet

    secret = uuid.uuid4().hex
    token_key = Fernet.generate_key().decode()
    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{workdir}/bench.db"
        conversation_id = _seed(secret, url, token_key)
        bare, parley = _Server("bare", secret), _Server("parley", secret, url, token_key)
        try:
            _load(bare.url, secret, conversation_id)  # warm both before measuring
            _load(parley.url, secret, conversation_id)
            _wait_until_attributed(url, REQUESTS)  # the warm-up's processing is not measured
            baseline = _load(bare.url, secret, conversation_id)
            started = time.perf_counter()
            ours = _load(parley.url, secret, conversation_id)
            linked = _wait_until_attributed(url, 2 * REQUESTS)
            drained = time.perf_counter() - started
        finally:
            bare.stop()
            parley.stop()
    return {
        "what": "signed orders/create webhooks (REST 2026-10 shape, ~5 KB) over loopback, SQLite, 8 concurrent senders, servers in their own processes",
        "bare_hmac_handler": baseline,
        "parley": {**ours, "orders_attributed": linked - REQUESTS, "all_attributed_after_s": round(drained, 2)},
        "throughput_ratio": round(ours["throughput_per_s"] / baseline["throughput_per_s"], 3),
        "p99_ratio": round(ours["p99_ms"] / baseline["p99_ms"], 3),
    }
