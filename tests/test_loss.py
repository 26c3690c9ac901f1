"""Two `parley serve` processes on one PostgreSQL database and one Redis, both of the
test's own. Shoppers write and staff answer (at least a thousand messages each way)
through both processes while the shoppers' and the shop's streams are spread over
both; meanwhile one process is SIGKILLed and started again, Redis is stopped and
started again, and a message insert is held uncommitted while later ones commit.
Clients resume with Last-Event-ID wherever they can connect.

At the end every stream has received every message it should, exactly once and in
order, and no process answered a 5xx.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlmodel import select

from app import shops
from app.chat.conversations import Chat
from app.clock import utcnow
from app.db import Database, make_engine
from app.encryption import TokenCipher
from app.models import Conversation, Message, Platform
from app.realtime.broker import RedisBroker
from standins.shopify.standin import ShopifyStandin
from tests.support.processes import ParleyServer, PrivateRedis, parley_environment, private_database

SHOPS = ["north-gear.myshopify.com", "south-gear.myshopify.com", "east-gear.myshopify.com", "west-gear.myshopify.com"]
SHOPPERS = 20  # spread over the shops
EACH_WAY = 1000
SENDERS = 8
API_KEY, API_SECRET = "loss-test-key", "loss-test-secret-" + uuid.uuid4().hex[:8]


@dataclass
class Ledger:
    """Every answer each process gave, and every message acknowledged."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    acknowledged: dict[str, int] = field(default_factory=dict)  # client id → message id
    retries: int = 0

    def answered(self, server: str, status: int) -> None:
        with self.lock:
            by_status = self.statuses.setdefault(server, {})
            by_status[status] = by_status.get(status, 0) + 1

    def server_errors(self) -> dict[str, dict[int, int]]:
        return {
            name: {s: n for s, n in statuses.items() if s >= 500}
            for name, statuses in self.statuses.items()
            if any(s >= 500 for s in statuses)
        }


class Cluster:
    def __init__(self, servers: dict[str, ParleyServer], ledger: Ledger):
        self.servers = servers
        self.ledger = ledger
        # One client for every request: making an httpx client costs more than a request.
        self.http = httpx.Client(timeout=15, limits=httpx.Limits(max_connections=4 * SENDERS))

    def order(self, preferred: str) -> list[ParleyServer]:
        other = [s for name, s in self.servers.items() if name != preferred]
        return [self.servers[preferred], *other]

    def name_of(self, server: ParleyServer) -> str:
        return next(name for name, s in self.servers.items() if s is server)

    def request(self, preferred: str, method: str, path: str, **kwargs) -> httpx.Response:
        """Send to the preferred process, or to the other while it is down; a retry carries
        the same client id, so it never stores twice."""
        deadline = time.monotonic() + 60
        while True:
            for server in self.order(preferred):
                try:
                    response = self.http.request(method, server.url + path, **kwargs)
                except httpx.HTTPError:
                    with self.ledger.lock:
                        self.ledger.retries += 1
                    continue
                self.ledger.answered(self.name_of(server), response.status_code)
                if response.status_code < 500:
                    return response
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {path} found no process to answer it")
            time.sleep(0.1)


class Listener(threading.Thread):
    """An EventSource: reads message events, and on any break reconnects with
    Last-Event-ID to whichever process answers."""

    def __init__(self, name: str, cluster: Cluster, preferred: str, url: Callable[[ParleyServer], str | None]):
        super().__init__(name=name, daemon=True)
        self.cluster, self.preferred, self.url = cluster, preferred, url
        self.received: list[int] = []
        self.reconnects = 0
        self.stopped = threading.Event()
        self._client: httpx.Client | None = None

    def run(self) -> None:
        while not self.stopped.is_set():
            for server in self.cluster.order(self.preferred):
                if self.stopped.is_set():
                    return
                try:
                    self._listen(server)
                except (httpx.HTTPError, RuntimeError):
                    pass
                self.reconnects += 1
            time.sleep(0.1)

    def _listen(self, server: ParleyServer) -> None:
        url = self.url(server)
        if url is None:
            return
        last = str(self.received[-1]) if self.received else "0"
        with httpx.Client(timeout=httpx.Timeout(5.0, read=20.0)) as client:
            self._client = client
            with client.stream("GET", server.url + url, headers={"Last-Event-ID": last}) as response:
                self.cluster.ledger.answered(self.cluster.name_of(server), response.status_code)
                if response.status_code != 200:
                    time.sleep(0.2)
                    return
                event: dict[str, str] = {}
                for line in response.iter_lines():
                    if self.stopped.is_set():
                        return
                    if not line:
                        if event.get("event") == "message" and "id" in event:
                            self.received.append(int(event["id"]))
                        event = {}
                    elif not line.startswith(":"):
                        key, _, value = line.partition(": ")
                        event[key] = value

    def stop(self) -> None:
        self.stopped.set()
        if self._client is not None:
            self._client.close()


class HeldInsert:
    """Keeps one message's transaction open, its id drawn, until released."""

    def __init__(self) -> None:
        self.stored, self.release = threading.Event(), threading.Event()
        self.message_id: int | None = None

    def shopper_wrote(self, session, conversation, message, now) -> None:
        self.message_id = message.id
        self.stored.set()
        self.release.wait(30)

    agent_wrote = shopper_wrote


@pytest.fixture
def cluster_environment(tmp_path):
    with private_database("parley_loss") as database_url:
        redis_server = PrivateRedis(tmp_path)
        redis_server.start()
        env = parley_environment(
            PARLEY_ENV="test",
            DATABASE_URL=database_url,
            REDIS_URL=redis_server.url,
            SHOPIFY_API_KEY=API_KEY,
            SHOPIFY_API_SECRET=API_SECRET,
            SECRET_KEY="loss-test-" + "s" * 32,
            TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode(),
            APP_URL="http://127.0.0.1",
            RATE_LIMIT_VISITOR="1000000/minute",
            RATE_LIMIT_IP="1000000/minute",
            WEB_CONCURRENCY="1",
            PARLEY_EVENT_WORKER="off",
        )
        try:
            yield env, database_url, redis_server
        finally:
            redis_server.stop()


def test_two_processes_a_kill_and_a_redis_restart_lose_and_duplicate_nothing(cluster_environment, tmp_path):
    env, database_url, redis_server = cluster_environment
    db = Database(make_engine(database_url))
    shop_ids = []
    with db.transaction() as session:
        for domain in SHOPS:
            shop = shops.record_install(
                session,
                TokenCipher(env["TOKEN_ENCRYPTION_KEY"]),
                Platform.shopify,
                domain,
                shops.TokenGrant("shpat_loss", "read_orders"),
                utcnow(),
            )
            shop_ids.append(shop.id)
    ledger = Ledger()
    servers = {name: ParleyServer(env, tmp_path / f"serve-{name}.log") for name in ("a", "b")}
    for server in servers.values():
        server.start()
    cluster = Cluster(servers, ledger)
    standin = ShopifyStandin(API_KEY, API_SECRET)

    def shop_of(n: int) -> str:
        return SHOPS[n % len(SHOPS)]

    def staff_headers(shop: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {standin.mint_id_token(shop, sub='42')}"}

    listeners: list[Listener] = []
    try:
        # Shoppers start through the app proxy (each from an address of their own, as Shopify
        # forwards it), and each writes once so there is a conversation to answer.
        visitors = []
        for n in range(SHOPPERS):
            answer = cluster.request(
                "ab"[n % 2],
                "POST",
                f"/proxy/session?{urlencode(standin.proxy_query(shop_of(n)))}",
                json={},
                headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
            )
            assert answer.status_code == 200, answer.text
            visitors.append(answer.json())
        conversations = []
        for n, visitor in enumerate(visitors):
            sent = _shopper_sends(cluster, "ab"[n % 2], visitor, f"hello-{n}", f"Hello, I am shopper {n}")
            conversations.append(sent["conversation"]["id"])

        # Streams: each shopper's on one process or the other, and the shop's on both.
        for n, visitor in enumerate(visitors):
            token = visitor["visitor_token"]
            listeners.append(
                Listener(
                    f"shopper-{n}",
                    cluster,
                    "ab"[(n + 1) % 2],
                    lambda server, t=token: f"/api/storefront/v1/stream?token={t}",
                )
            )

        def shop_stream(server: ParleyServer, shop: str) -> str | None:
            try:
                ticket = cluster.http.post(
                    f"{server.url}/admin/api/stream-ticket", headers=staff_headers(shop), timeout=5
                )
            except httpx.HTTPError:
                return None
            ledger.answered(cluster.name_of(server), ticket.status_code)
            return f"/admin/api/stream?ticket={ticket.json()['ticket']}" if ticket.status_code == 200 else None

        listeners += [
            Listener(f"shop-{s}-{name}", cluster, name, lambda server, shop=shop: shop_stream(server, shop))
            for s, shop in enumerate(SHOPS)
            for name in ("a", "b")
        ]
        for listener in listeners:
            listener.start()

        # The traffic: a thousand and more each way, through both processes.
        work = [("shopper", n) for n in range(EACH_WAY)] + [("agent", n) for n in range(EACH_WAY)]
        work = [item for pair in zip(work[:EACH_WAY], work[EACH_WAY:], strict=True) for item in pair]
        progress = {"done": 0}
        chaos_log: list[str] = []

        def one(item: tuple[str, int]) -> None:
            kind, n = item
            who = n % SHOPPERS
            if kind == "shopper":
                _shopper_sends(cluster, "ab"[n % 2], visitors[who], f"s-{n}", f"Question {n} from shopper {who}")
            else:
                answer = cluster.request(
                    "ab"[(n + 1) % 2],
                    "POST",
                    f"/admin/api/conversations/{conversations[who]}/messages",
                    json={"body": f"Answer {n}", "client_id": f"a-{n}"},
                    headers=staff_headers(shop_of(who)),
                )
                assert answer.status_code in (200, 201), answer.text
                with ledger.lock:
                    ledger.acknowledged[f"a-{n}"] = answer.json()["message"]["id"]
            with ledger.lock:
                progress["done"] += 1

        def chaos() -> None:
            def at(fraction: float) -> None:
                while progress["done"] < fraction * len(work):
                    time.sleep(0.01)

            at(0.15)
            servers["a"].kill()
            chaos_log.append(f"killed a at {progress['done']} ({time.monotonic() - began:.1f} s)")
            time.sleep(0.5)
            servers["a"].start()  # while b takes everything
            chaos_log.append(f"restarted a at {progress['done']} ({time.monotonic() - began:.1f} s)")
            at(0.5)
            _hold_an_insert(database_url, redis_server.url, shop_ids[0], conversations[0], chaos_log, progress)
            at(0.65)
            redis_server.stop()
            chaos_log.append(f"stopped redis at {progress['done']} ({time.monotonic() - began:.1f} s)")
            time.sleep(1.5)
            redis_server.start()
            chaos_log.append(f"restarted redis at {progress['done']} ({time.monotonic() - began:.1f} s)")

        began = time.monotonic()
        disorder = threading.Thread(target=chaos, name="chaos")
        disorder.start()
        with ThreadPoolExecutor(SENDERS) as pool:
            list(pool.map(one, work))
        disorder.join(60)
        sent_in = time.monotonic() - began
        assert len(chaos_log) == 5, chaos_log

        # The truth is the database: what each stream should have had.
        with db.session() as session:
            rows = session.exec(
                select(Message.id, Conversation.visitor_id, Message.internal, Message.client_id, Message.shop_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .order_by(Message.id)
            ).all()
        by_visitor: dict[str, list[int]] = {}
        by_shop: dict[int, list[int]] = {}
        for message_id, visitor_id, internal, _client_id, shop_id in rows:
            by_shop.setdefault(shop_id, []).append(message_id)
            if not internal:
                by_visitor.setdefault(visitor_id, []).append(message_id)
        expected = {f"shopper-{n}": by_visitor[v["visitor_id"]] for n, v in enumerate(visitors)}
        expected |= {f"shop-{s}-{name}": by_shop[shop_ids[s]] for s in range(len(SHOPS)) for name in ("a", "b")}

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and any(
            len(listener.received) < len(expected[listener.name]) for listener in listeners
        ):
            time.sleep(0.2)
        delivered_in = time.monotonic() - began
        for listener in listeners:
            listener.stop()
        for listener in listeners:
            listener.join(10)

        # Every acknowledged send is stored once; and nothing else is.
        assert len(rows) == len({(row[1], row[3]) for row in rows}) == SHOPPERS + 2 * EACH_WAY + 1  # + the held one
        stored = {row[3]: row[0] for row in rows}  # client ids are unique across the test
        assert all(stored.get(client_id) == message_id for client_id, message_id in ledger.acknowledged.items())
        lost = {
            listener.name: sorted(set(expected[listener.name]) - set(listener.received))
            for listener in listeners
            if set(expected[listener.name]) - set(listener.received)
        }
        duplicated = {
            listener.name: len(listener.received) - len(set(listener.received))
            for listener in listeners
            if len(listener.received) != len(set(listener.received))
        }
        out_of_order = [listener.name for listener in listeners if listener.received != sorted(listener.received)]
        summary = {
            "messages": len(rows),
            "deliveries": sum(len(listener.received) for listener in listeners),
            "reconnects": sum(listener.reconnects for listener in listeners),
            "retried_requests": ledger.retries,
            "statuses": ledger.statuses,
            "chaos": chaos_log,
            "seconds_to_send": round(sent_in, 1),
            "seconds_to_deliver": round(delivered_in, 1),
        }
        print("\nloss test:", json.dumps(summary))
        assert lost == {}, f"lost: {lost}"
        assert duplicated == {}, f"duplicated: {duplicated}"
        assert out_of_order == []
        assert ledger.server_errors() == {}, ledger.statuses
    finally:
        for listener in listeners:
            listener.stop()
        for server in servers.values():
            server.stop()
        cluster.http.close()
        db.bind.dispose()  # type: ignore[union-attr]


def _shopper_sends(cluster: Cluster, preferred: str, visitor: dict, client_id: str, body: str) -> dict:
    answer = cluster.request(
        preferred,
        "POST",
        "/api/storefront/v1/messages",
        json={"client_id": client_id, "body": body},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    assert answer.status_code in (200, 201), answer.text
    sent = answer.json()
    with cluster.ledger.lock:
        cluster.ledger.acknowledged[client_id] = sent["message"]["id"]
    return sent


def _hold_an_insert(database_url: str, redis_url: str, shop_id: int, conversation_id: str, log: list, progress) -> None:
    """A third writer holds a reply's transaction open (its id drawn) for a while, as a
    process mid-commit would, while both processes keep taking messages."""
    engine = make_engine(database_url)
    broker = RedisBroker(redis_url)
    held = HeldInsert()
    chat = Chat(Database(engine), broker, utcnow, observers=[held])
    writer = threading.Thread(
        target=chat.send_agent_message, args=(shop_id, conversation_id, "7", "A held answer", "held-1"), daemon=True
    )
    writer.start()
    assert held.stored.wait(10)
    before = progress["done"]
    time.sleep(1.0)
    held.release.set()
    writer.join(10)
    log.append(f"held message {held.message_id} from {before} to {progress['done']}")
    with Database(engine).session() as session:
        assert (
            session.exec(select(sa.func.count()).select_from(Message).where(Message.id == held.message_id)).one() == 1
        )
    broker.close()
    engine.dispose()
