"""Delivery and capacity of event streams, against `parley serve` (gunicorn,
one gevent worker, Redis broker) on loopback:

- latency merchant->shopper and shopper->merchant with 1,000 streams open,
  next to a raw Redis pub/sub round trip measured in the same run;
- capacity: idle streams held by the one worker and its memory per stream.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.services import private_redis

ROOT = Path(__file__).resolve().parent.parent
SHOP = "bench-shop.myshopify.com"
LATENCY_STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
CAPACITY_STREAMS = int(os.environ.get("BENCH_CAPACITY_STREAMS", "5000"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(database_url: str, secret_key: str, visitors: int) -> dict:
    from cryptography.fernet import Fernet

    from app import shops
    from app.chat.visitor_tokens import VisitorTokens
    from app.clock import utcnow
    from app.db import Database, make_engine
    from app.encryption import TokenCipher
    from app.migrate import upgrade
    from app.models import Conversation, Platform, Visitor

    engine = make_engine(database_url)
    upgrade(engine)
    db = Database(engine)
    tokens, conversations = [], []
    issuer = VisitorTokens(secret_key)
    with db.transaction() as session:
        shop = shops.record_install(
            session,
            TokenCipher(Fernet.generate_key().decode()),
            Platform.shopify,
            SHOP,
            shops.TokenGrant("shpat_bench", ""),
            utcnow(),
        )
        for _ in range(visitors):
            visitor = Visitor(shop_id=shop.id)
            session.add(visitor)
            session.flush()
            conversation = Conversation(shop_id=shop.id, visitor_id=visitor.id)
            session.add(conversation)
            session.flush()
            tokens.append(issuer.issue(visitor.id, shop.id))
            conversations.append(conversation.id)
        shop_id = shop.id
    engine.dispose()
    return {"shop_id": shop_id, "tokens": tokens, "conversations": conversations}


class Server:
    def __init__(self, database_url: str, secret_key: str, redis_url: str):
        from cryptography.fernet import Fernet

        self.port = _free_port()
        self.redis_url = redis_url
        env = {
            **os.environ,
            "PARLEY_ENV": "development",
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": secret_key,
            "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "SHOPIFY_API_KEY": "bench",
            "SHOPIFY_API_SECRET": uuid.uuid4().hex,
            "APP_URL": f"http://127.0.0.1:{self.port}",
            "RATE_LIMIT_VISITOR": "100000/minute",
            "RATE_LIMIT_IP": "100000/minute",
            "WEB_CONCURRENCY": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("parley serve did not come up")

    def worker_rss_kib(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        status = Path(f"/proc/{children[0]}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _generator(spec: dict, hold: bool = False) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.stream_load"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    process.stdin.write(json.dumps({**spec, "hold_only": hold}) + "\n")
    process.stdin.flush()
    return process


def _progress(text: str) -> None:
    print(f"bench.delivery: {text}", file=sys.stderr, flush=True)


def run() -> dict:
    with private_redis() as redis_url:
        if redis_url is None:
            return {"skipped": "no redis-server binary to start a private Redis (or set BENCH_REDIS_URL)"}
        return _run(redis_url)


def _run(redis_url: str) -> dict:
    secret_key = uuid.uuid4().hex
    results: dict = {"what": "parley serve (gunicorn, 1 gevent worker, Redis broker, SQLite) on loopback"}
    with tempfile.TemporaryDirectory() as workdir:
        database_url = f"sqlite:///{workdir}/bench.db"
        _progress("seeding visitors and conversations")
        seeded = _seed(database_url, secret_key, max(LATENCY_STREAMS, CAPACITY_STREAMS))
        server = Server(database_url, secret_key, redis_url)
        try:
            base = {
                "host": "127.0.0.1",
                "port": server.port,
                "redis_url": redis_url,
                "database_url": database_url,
                "root": str(ROOT),
                "shop_id": seeded["shop_id"],
                "samples": 200,
            }
            latency = _generator(
                {
                    **base,
                    "tokens": seeded["tokens"][:LATENCY_STREAMS],
                    "conversations": seeded["conversations"][:LATENCY_STREAMS],
                }
            )
            out, _ = latency.communicate(timeout=600)
            _progress("latency measured; opening idle streams")
            measured = json.loads(out.strip().splitlines()[-1])
            results["latency_with_streams_open"] = measured
            if "merchant_to_shopper" in measured:
                raw = measured["raw_redis_round_trip"]["p99_ms"]
                results["p99_ratio_to_raw_redis"] = {
                    "merchant_to_shopper": round(measured["merchant_to_shopper"]["p99_ms"] / raw, 1),
                    "shopper_to_merchant": round(measured["shopper_to_merchant"]["p99_ms"] / raw, 1),
                }
        finally:
            server.stop()

        server = Server(database_url, secret_key, redis_url)
        try:
            idle_rss = server.worker_rss_kib()
            hold = _generator(
                {
                    **base,
                    "port": server.port,
                    "tokens": seeded["tokens"][:CAPACITY_STREAMS],
                    "conversations": [],
                    "connect_timeout": 300,
                },
                hold=True,
            )
            line = hold.stdout.readline()
            opened = json.loads(line) if line else {}
            time.sleep(1)
            loaded_rss = server.worker_rss_kib()
            hold.stdin.write("stop\n")
            hold.stdin.flush()
            hold.wait(timeout=60)
            streams = opened.get("streams_open", 0)
            results["capacity"] = {
                "streams_open": streams,
                "streams_requested": CAPACITY_STREAMS,
                "connect_seconds": opened.get("connect_seconds"),
                "worker_rss_idle_mib": round(idle_rss / 1024, 1),
                "worker_rss_loaded_mib": round(loaded_rss / 1024, 1),
                "kib_per_stream": round((loaded_rss - idle_rss) / max(streams, 1), 1),
            }
        finally:
            server.stop()
    return results
