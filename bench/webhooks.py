"""Webhook acknowledgement: Parley's full path (HMAC, record once, act, commit)
against a bare Flask handler that only checks the HMAC, both served by werkzeug's
threaded server on loopback and driven by the same load generator in the same run."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
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

REQUESTS = int(os.environ.get("BENCH_WEBHOOKS", "600"))
CONCURRENCY = 8
SHOP = "bench-shop.myshopify.com"


def _bare_app(secret: str) -> Flask:
    app = Flask("bare")

    @app.post("/webhooks/app")
    def receive():
        digest = base64.b64encode(hmac.new(secret.encode(), request.get_data(), hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(digest, request.headers.get("X-Shopify-Hmac-Sha256", "")):
            return {"error": "invalid_hmac"}, 401
        return {"status": "ok"}, 200

    return app


def _parley_app(secret: str, workdir: str):
    from cryptography.fernet import Fernet

    from app import create_app
    from app import shops
    from app.config import load_settings
    from app.db import make_engine, utcnow
    from app.migrate import upgrade
    from app.models import Platform

    url = f"sqlite:///{workdir}/bench.db"
    upgrade(make_engine(url))
    settings = load_settings(
        environ={"PARLEY_ENV": "test"},
        database_url=url,
        shopify_api_key="bench",
        shopify_api_secret=secret,
        secret_key="bench-" + uuid.uuid4().hex,
        token_encryption_key=Fernet.generate_key().decode(),
    )
    app = create_app(settings)
    services = app.extensions["parley"]
    with services.db.transaction() as session:
        shops.record_install(session, services.cipher, Platform.shopify, SHOP, shops.TokenGrant("shpat_bench", "read_orders"), utcnow())
    return app


class _Server:
    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()


def _signed(secret: str) -> tuple[bytes, dict]:
    body = json.dumps({"id": 1, "previous": ["read_orders"], "current": ["read_orders", "read_customers"]}).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Topic": "app/scopes_update",
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


def _load(url: str, secret: str) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_):
        body, headers = _signed(secret)
        start = time.perf_counter()
        response = client.post(f"{url}/webhooks/app", content=body, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.text
        with lock:
            latencies.append(elapsed)

    with httpx.Client(timeout=10) as client:
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(one, range(REQUESTS)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": REQUESTS,
        "throughput_per_s": round(REQUESTS / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


def run() -> dict:
    import logging

    logging.disable(logging.INFO)  # per-request log lines would be measured too
    secret = uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as workdir:
        bare, parley = _Server(_bare_app(secret)), _Server(_parley_app(secret, workdir))
        try:
            _load(bare.url, secret)  # warm both before measuring
            _load(parley.url, secret)
            baseline = _load(bare.url, secret)
            ours = _load(parley.url, secret)
        finally:
            bare.stop()
            parley.stop()
    return {
        "what": "signed app/scopes_update webhooks over loopback, SQLite, 8 concurrent senders",
        "bare_hmac_handler": baseline,
        "parley": ours,
        "throughput_ratio": round(ours["throughput_per_s"] / baseline["throughput_per_s"], 3),
        "p99_ratio": round(ours["p99_ms"] / baseline["p99_ms"], 3),
    }
