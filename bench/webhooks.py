"""Webhook acknowledgement: signed `orders/create` deliveries to Parley's
/webhooks/commerce (HMAC, field check, one INSERT, commit; the event worker
attributes the orders in the same process meanwhile) against a bare Flask handler
that only checks the HMAC.

Each server runs in its own process under gunicorn with one gevent worker (what
`parley serve` runs), so the load generator's threads do not share a GIL with what
they measure.
Both are driven by the same load generator in the same run. Afterwards the
benchmark waits until the worker has attributed every order and reports how long
that took.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from flask import Flask, request

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
    from app.clock import utcnow
    from app.db import Database, make_engine
    from app.encryption import TokenCipher
    from app.migrate import upgrade
    from app.models import Conversation, Platform, Visitor

    upgrade(make_engine(url))
    db = Database(make_engine(url))
    with db.transaction() as session:
        shop = shops.record_install(
            session,
            TokenCipher(token_key),
            Platform.shopify,
            SHOP,
            shops.TokenGrant("shpat_bench", "read_orders"),
            utcnow(),
        )
        visitor = Visitor(shop_id=shop.id)
        session.add(visitor)
        session.flush()
        conversation = Conversation(shop_id=shop.id, visitor_id=visitor.id)
        session.add(conversation)
        session.flush()
        conversation_id = conversation.id
    db.bind.dispose()
    return conversation_id


def wsgi_app():
    """What each gunicorn process serves, from BENCH_* variables: the bare handler, or
    Parley built as `parley serve` builds it (app factory, then the event worker)."""
    import logging

    logging.disable(logging.INFO)  # per-request log lines would be measured too
    secret = os.environ["BENCH_SECRET"]
    if os.environ["BENCH_KIND"] == "bare":
        return _bare_app(secret)
    from app import create_app

    app = create_app(_settings(secret, os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_TOKEN_KEY"]))
    app.extensions["parley"].inbound.start_worker()
    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """gunicorn with one gevent worker, the production server (`parley serve`), in its own
    process so the load generator does not share a GIL with what it measures."""

    def __init__(self, kind: str, secret: str, url: str = "", token_key: str = ""):
        port = _free_port()
        env = {
            **os.environ,
            "BENCH_KIND": kind,
            "BENCH_SECRET": secret,
            "BENCH_DATABASE_URL": url,
            "BENCH_TOKEN_KEY": token_key,
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-k",
                "gevent",
                "-w",
                "1",
                "--worker-connections",
                "1000",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "bench.webhooks:wsgi_app()",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(f"{self.url}/webhooks/commerce", content=b"{}", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise RuntimeError(f"the {kind} server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(15)


def _signed(secret: str, conversation_id: str) -> tuple[bytes, dict]:
    from standins.shopify.payloads import customer, order_payload

    order = order_payload(
        note_attributes={"parley_conversation": conversation_id}, buyer=customer(7001, "kari@example.com")
    )
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


def run(database_url: str | None = None) -> dict:
    """On SQLite by default; `database_url` (an empty PostgreSQL database) measures that instead."""
    from cryptography.fernet import Fernet

    secret = uuid.uuid4().hex
    token_key = Fernet.generate_key().decode()
    with tempfile.TemporaryDirectory() as workdir:
        url = database_url or f"sqlite:///{workdir}/bench.db"
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
        "what": "signed orders/create webhooks (REST 2026-10 shape, ~5 KB) over loopback, 8 concurrent senders, servers in their own processes",
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "bare_hmac_handler": baseline,
        "parley": {**ours, "orders_attributed": linked - REQUESTS, "all_attributed_after_s": round(drained, 2)},
        "throughput_ratio": round(ours["throughput_per_s"] / baseline["throughput_per_s"], 3),
        "p99_ratio": round(ours["p99_ms"] / baseline["p99_ms"], 3),
    }
