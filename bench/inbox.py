"""The inbox query at scale: a shop with 100,000 conversations and 1,000,000
messages next to a shop with 1,000 conversations in the same database, on SQLite
and PostgreSQL. Reports p50/p99 of the first page of 50 per tab, and the ratio
big/small so growth shows.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from bench.services import private_postgres_url

BIG = int(os.environ.get("BENCH_INBOX_CONVERSATIONS", "100000"))
SMALL = 1000
MESSAGES_PER_CONVERSATION = 10
RUNS = int(os.environ.get("BENCH_INBOX_RUNS", "200"))


def _progress(text: str) -> None:
    print(f"bench.inbox: {text}", file=sys.stderr, flush=True)


def _seed_shop(engine, domain: str, conversations: int, now: datetime) -> int:
    from app.commerce.priority import priority_at
    from app.models import Conversation, Message, Shop, Visitor

    rng = random.Random(domain)
    with engine.begin() as conn:
        shop_id = conn.execute(
            sa.insert(Shop.__table__)
            .values(
                platform="shopify", domain=domain, install_state="installed", scopes="", token_version=1, created_at=now
            )
            .returning(Shop.__table__.c.id)
        ).scalar_one()
    batch = 2000
    next_message = [0]
    for start in range(0, conversations, batch):
        visitors, convs, messages = [], [], []
        for _ in range(min(batch, conversations - start)):
            vid, cid = str(uuid.uuid4()), str(uuid.uuid4())
            kind = rng.random()
            last = now - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
            waiting = last if kind < 0.05 else None
            cart = Decimal(rng.randint(0, 60000)) / 100 if rng.random() < 0.4 else None
            visitors.append(
                {
                    "id": vid,
                    "shop_id": shop_id,
                    "created_at": last,
                    "last_seen_at": last,
                    "email": f"{vid[:8]}@example.com",
                }
            )
            convs.append(
                {
                    "id": cid,
                    "shop_id": shop_id,
                    "visitor_id": vid,
                    "status": "resolved" if kind >= 0.2 else "open",
                    "waiting_since": waiting,
                    "priority_at": priority_at(waiting, cart),
                    "cart_value": cart,
                    "cart_currency": "EUR" if cart is not None else None,
                    "last_message_at": last,
                    "unread_by_agent": 1 if waiting else 0,
                    "created_at": last - timedelta(minutes=30),
                    "resolved_at": last if kind >= 0.2 else None,
                }
            )
            for m in range(MESSAGES_PER_CONVERSATION):
                messages.append(
                    {
                        "shop_id": shop_id,
                        "conversation_id": cid,
                        "author_kind": "shopper" if m % 2 == 0 else "agent",
                        "body": f"message {m} about order {rng.randint(1000, 9999)}",
                        "client_id": f"c{m}",
                        "internal": False,
                        "created_at": last - timedelta(minutes=MESSAGES_PER_CONVERSATION - m),
                    }
                )
        with engine.begin() as conn:
            conn.execute(sa.insert(Visitor.__table__), visitors)
            conn.execute(sa.insert(Conversation.__table__), convs)
            conn.execute(sa.insert(Message.__table__), messages)
        next_message[0] += len(messages)
        if start and start % 20000 == 0:
            _progress(f"{domain}: {start} conversations seeded")
    return shop_id


def _time(engine, shop_id: int, tab: str, now: datetime) -> dict:
    from sqlmodel import Session

    from app.chat import inbox

    def once(full: bool) -> float:
        with Session(engine) as session:
            start = time.perf_counter()
            if full:
                inbox.page(session, shop_id, tab, now, limit=50)
            else:
                column, descending = inbox._order(tab)
                query = inbox._filtered(shop_id, tab, None)
                order = (
                    (column.desc(), inbox.Conversation.id.desc())
                    if descending
                    else (column.asc(), inbox.Conversation.id.asc())
                )
                rows = list(session.exec(query.order_by(*order).limit(51)).all())
                inbox.summaries(session, rows[:50], now)
            return (time.perf_counter() - start) * 1000

    for _ in range(10):
        once(True)
    page = sorted(once(False) for _ in range(RUNS))
    full = sorted(once(True) for _ in range(RUNS))
    pick = lambda xs, p: xs[min(len(xs) - 1, int(len(xs) * p))]  # noqa: E731
    return {
        "page_p50_ms": round(statistics.median(page), 2),
        "page_p99_ms": round(pick(page, 0.99), 2),
        "with_counts_p50_ms": round(statistics.median(full), 2),
        "with_counts_p99_ms": round(pick(full, 0.99), 2),
    }


def _measure(engine, label: str) -> dict:
    from app.migrate import upgrade

    upgrade(engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    big = _seed_shop(engine, f"big-{uuid.uuid4().hex[:6]}.myshopify.com", BIG, now)
    small = _seed_shop(engine, f"small-{uuid.uuid4().hex[:6]}.myshopify.com", SMALL, now)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    _progress(f"{label}: seeded in {time.perf_counter() - started:.0f} s")
    result: dict = {
        "conversations": {"big": BIG, "small": SMALL},
        "messages": {"big": BIG * MESSAGES_PER_CONVERSATION, "small": SMALL * MESSAGES_PER_CONVERSATION},
    }
    for tab in ("waiting", "open", "resolved"):
        big_t, small_t = _time(engine, big, tab, now), _time(engine, small, tab, now)
        result[tab] = {
            "big_shop": big_t,
            "small_shop": small_t,
            "page_p50_ratio_big_to_small": round(big_t["page_p50_ms"] / small_t["page_p50_ms"], 2),
        }
    return result


def run() -> dict:
    from app.db import make_engine

    results: dict = {
        "what": "inbox first page of 50 per tab (the page query, and with the tab counts)",
        "target": "page p50 <= 20 ms",
    }
    with tempfile.TemporaryDirectory() as workdir:
        engine = make_engine(f"sqlite:///{workdir}/inbox.db")
        results["sqlite"] = _measure(engine, "sqlite")
        engine.dispose()
    schema = "bench_inbox"
    postgres_url = private_postgres_url()
    if postgres_url is None:
        results["postgresql"] = {"skipped": "no PostgreSQL server answered (set BENCH_POSTGRES_URL)"}
        return results
    admin = make_engine(postgres_url)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:
        results["postgresql"] = {"skipped": f"PostgreSQL not reachable ({exc.__class__.__name__})"}
        return results
    engine = sa.create_engine(postgres_url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        results["postgresql"] = _measure(engine, "postgresql")
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    return results
