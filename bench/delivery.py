"""Delivery and capacity of event streams, against `parley serve` (gunicorn,
one gevent worker, Redis broker) on loopback:

- latency merchant->shopper and shopper->merchant with 1,000 streams open,
  next to a raw Redis pub/sub round trip measured in the same run;
- capacity: 10,000 idle streams opened at once (a reconnect storm) on the one worker:
  failures, seconds to open them all and memory per stream, next to the same streams
  on bench/bare_sse.py (the least a gevent SSE server does) in the same run;
- a Redis outage with those streams open: /healthz latency while Redis is down (next
  to the same with Redis up, in the same run), the worker's CPU during the outage, and
  how long after Redis returns until the worker is quiet again.
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

from bench.services import PrivateRedis, private_redis, restartable_redis

ROOT = Path(__file__).resolve().parent.parent
SHOP = "bench-shop.myshopify.com"
LATENCY_STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
CAPACITY_STREAMS = int(os.environ.get("BENCH_CAPACITY_STREAMS", "10000"))


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

    def _worker_pid(self) -> str:
        return Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()[0]

    def worker_rss_kib(self) -> int:
        status = Path(f"/proc/{self._worker_pid()}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))

    def worker_cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self._worker_pid()}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

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
    if os.environ.get("BENCH_REDIS_URL"):
        with private_redis() as redis_url:
            assert redis_url is not None
            return _run(redis_url, None)  # a Redis not ours: no outage phase
    with restartable_redis() as redis:
        if redis is None:
            return {"skipped": "no redis-server binary to start a private Redis (or set BENCH_REDIS_URL)"}
        return _run(redis.url, redis)


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


def _bare_capacity(tokens: list[str], base: dict) -> dict:
    """The same streams opened on bench/bare_sse.py: the anchor for `capacity`."""
    port = _free_port()
    bare = subprocess.Popen([sys.executable, "-m", "bench.bare_sse", str(port)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        idle = _rss_kib(bare.pid)
        hold = _generator(
            {**base, "port": port, "tokens": tokens, "conversations": [], "connect_timeout": 300}, hold=True
        )
        line = hold.stdout.readline()
        opened = json.loads(line) if line else {}
        time.sleep(1)
        loaded = _rss_kib(bare.pid)
        hold.stdin.write("stop\n")
        hold.stdin.flush()
        hold.wait(timeout=60)
        return {
            "streams_open": opened.get("streams_open"),
            "failures": opened.get("failures"),
            "connect_seconds": opened.get("connect_seconds"),
            "kib_per_stream": round((loaded - idle) / max(opened.get("streams_open") or 1, 1), 1),
        }
    finally:
        bare.terminate()
        bare.wait(timeout=10)


def _healthz_ms(port: int, seconds: float) -> list[float]:
    """/healthz answered one after another for `seconds`: each answer's time in ms."""
    times = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        while time.monotonic() < deadline:
            start = time.perf_counter()
            http.get("/healthz")
            times.append((time.perf_counter() - start) * 1000)
            time.sleep(0.05)
    return times


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1) if ordered else float("nan")


def _outage(server: "Server", redis: PrivateRedis, seconds: float = 10.0) -> dict:
    up = _healthz_ms(server.port, 3)
    cpu_before = server.worker_cpu_seconds()
    redis.stop()
    started = time.monotonic()
    down = _healthz_ms(server.port, seconds)
    cpu_down = (server.worker_cpu_seconds() - cpu_before) / (time.monotonic() - started)
    redis.start()
    returned = time.monotonic()
    # Settled: the first half second after Redis's return in which the worker used < 10 % CPU.
    settled = None
    last = server.worker_cpu_seconds()
    while time.monotonic() - returned < 120:
        time.sleep(0.5)
        now = server.worker_cpu_seconds()
        if (now - last) / 0.5 < 0.10:
            settled = round(time.monotonic() - returned, 1)
            break
        last = now
    return {
        "healthz_up": {"p50_ms": _pct(up, 50), "p99_ms": _pct(up, 99)},
        "healthz_redis_down": {"p50_ms": _pct(down, 50), "p99_ms": _pct(down, 99), "max_ms": _pct(down, 100)},
        "healthz_p99_ratio_down_to_up": round(_pct(down, 99) / max(_pct(up, 99), 0.1), 1),
        "worker_cpu_share_while_down": round(cpu_down, 2),
        "seconds_to_settle_after_redis_returns": settled,
    }


def _run(redis_url: str, redis: PrivateRedis | None) -> dict:
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

        results["bare_sse_anchor"] = _bare_capacity(seeded["tokens"][:CAPACITY_STREAMS], base)
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
            if redis is not None and opened.get("streams_open"):
                _progress(f"{opened['streams_open']} streams open; stopping Redis for the outage phase")
                results["redis_outage"] = {"streams_open": opened["streams_open"], **_outage(server, redis)}
            hold.stdin.write("stop\n")
            hold.stdin.flush()
            hold.wait(timeout=60)
            streams = opened.get("streams_open", 0)
            bare = results["bare_sse_anchor"]
            results["capacity"] = {
                "streams_open": streams,
                "streams_requested": CAPACITY_STREAMS,
                "failures": opened.get("failures"),
                "connect_seconds": opened.get("connect_seconds"),
                "connect_ratio_to_bare_sse": (
                    round(opened["connect_seconds"] / bare["connect_seconds"], 2)
                    if opened.get("connect_seconds") and bare.get("connect_seconds")
                    else None
                ),
                "worker_rss_idle_mib": round(idle_rss / 1024, 1),
                "worker_rss_loaded_mib": round(loaded_rss / 1024, 1),
                "kib_per_stream": round((loaded_rss - idle_rss) / max(streams, 1), 1),
            }
        finally:
            server.stop()
    return results
