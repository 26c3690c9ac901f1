"""Load generator for bench/delivery.py, run as its own process under gevent:
holds N event streams open and measures how fast events cross them.

Input: one JSON object on stdin. Output: one JSON object on stdout.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event as Flag  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def summary(latencies: list[float]) -> dict:
    if not latencies:
        return {"count": 0}
    ms = [v * 1000 for v in latencies]
    return {"count": len(ms), "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(percentile(ms, 0.99), 2)}


class StreamClient:
    def __init__(self, host: str, port: int, token: str, received: dict, connected: Flag, counter: list):
        self.host, self.port, self.token = host, port, token
        self.received, self.connected, self.counter = received, connected, counter

    def run(self) -> None:
        try:
            self._run()
        except OSError:  # reset or refused: a failure to open, counted
            self.counter[2] += 1
            if self.counter[0] + self.counter[2] >= self.counter[1]:
                self.connected.set()

    def _run(self) -> None:
        sock = socket.create_connection((self.host, self.port))
        sock.sendall(
            f"GET /api/storefront/v1/stream?token={self.token} HTTP/1.1\r\nHost: {self.host}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        buffer = b""
        announced = False
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return
            buffer += chunk
            if not announced and b"retry:" in buffer:
                announced = True
                self.counter[0] += 1
                if self.counter[0] + self.counter[2] >= self.counter[1]:
                    self.connected.set()
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                for line in block.split(b"\n"):
                    if line.startswith(b"data: ") and b"bench-sent=" in line:
                        now = time.time()
                        body = json.loads(line[6:])["body"]
                        self.received[body] = now


def main() -> None:
    import resource

    spec = json.loads(sys.stdin.readline())
    # A socket per stream, and a few over: up to the hard limit this process may reach.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = len(spec["tokens"]) + 1024
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))
    host, port, tokens = spec["host"], spec["port"], spec["tokens"]
    received: dict[str, float] = {}
    connected = Flag()
    counter = [0, len(tokens), 0]  # open, asked for, failed
    clients = [gevent.spawn(StreamClient(host, port, t, received, connected, counter).run) for t in tokens]
    started = time.time()
    all_connected = connected.wait(timeout=spec.get("connect_timeout", 120)) and counter[2] == 0
    out: dict = {
        "streams_requested": len(tokens),
        "streams_open": counter[0],
        "failures": counter[2],
        "connect_seconds": round(time.time() - started, 2),
    }
    if spec.get("hold_only"):
        # Capacity run: tell the parent how many are open, then hold them until told to stop.
        print(json.dumps(out), flush=True)
        sys.stdin.readline()
        return
    if not all_connected:
        print(json.dumps(out))
        return

    out.update(measure(spec, received))
    print(json.dumps(out))
    for c in clients:
        c.kill(block=False)


def measure(spec: dict, received: dict) -> dict:
    import httpx

    from app.chat.conversations import Chat, shop_channel
    from app.clock import utcnow
    from app.db import Database, make_engine
    from app.realtime.broker import RedisBroker

    broker = RedisBroker(spec["redis_url"])
    broker.wait_until_connected(5)
    chat = Chat(Database(make_engine(spec["database_url"])), broker, clock=utcnow)

    # Merchant -> shopper: an agent reply stored and published by "another worker" (this process).
    sent: dict[str, float] = {}
    targets = random.Random(7).sample(
        range(len(spec["conversations"])), min(spec["samples"], len(spec["conversations"]))
    )
    for index in targets:
        body = f"bench-sent={uuid.uuid4()}"
        sent[body] = time.time()
        chat.send_agent_message(spec["shop_id"], spec["conversations"][index], "bench", body, str(uuid.uuid4()))
        gevent.sleep(spec.get("interval", 0.01))
    deadline = time.time() + 10
    while time.time() < deadline and not all(b in received for b in sent):
        gevent.sleep(0.01)
    to_shopper = [received[b] - t for b, t in sent.items() if b in received]

    # Shopper -> merchant: an HTTP send, seen by a merchant-side subscriber on the shop channel.
    subscription = broker.subscribe([shop_channel(spec["shop_id"])])
    to_merchant = []
    with httpx.Client(base_url=f"http://{spec['host']}:{spec['port']}", timeout=10) as http:
        for token in spec["tokens"][: spec["samples"]]:
            start = time.time()
            r = http.post(
                "/api/storefront/v1/messages",
                json={"client_id": str(uuid.uuid4()), "body": "hi"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 201, r.text
            while True:
                event = subscription.get(timeout=5)
                if event is None or event.kind == "message":
                    break
            if event is not None:
                to_merchant.append(time.time() - start)

    # Baseline: a raw Redis pub/sub round trip, in the same process and run.
    import redis

    client = redis.Redis.from_url(spec["redis_url"])
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("bench:raw")
    gevent.sleep(0.1)
    raw = []
    for _ in range(spec["samples"]):
        start = time.time()
        client.publish("bench:raw", "x")
        while pubsub.get_message(timeout=5) is None:
            pass
        raw.append(time.time() - start)
    broker.close()
    return {
        "merchant_to_shopper": summary(to_shopper),
        "shopper_to_merchant": summary(to_merchant),
        "raw_redis_round_trip": summary(raw),
        "lost": len(sent) - len(to_shopper),
    }


if __name__ == "__main__":
    main()
