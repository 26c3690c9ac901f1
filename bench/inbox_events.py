"""What the Support page asks for after one live event (issue 16 item 7, issue 13): before,
the whole first page of the inbox with its tab counts; now, the one row the event names
(GET /admin/api/inbox/rows) and the unread count for the title (GET
/admin/api/notifications/unread). Also the first page sorted by due time. Each measured for
a big shop and a small one in the same database, in the same run: the ratios say how the
cost per event compares with the old reload, and whether it grows with the shop.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.inbox import _seed as _seed_shop
from bench.services import private_postgres_url

BIG = int(os.environ.get("BENCH_INBOX_EVENTS_CONVERSATIONS", "20000"))
SMALL = 1000
RUNS = int(os.environ.get("BENCH_INBOX_EVENTS_RUNS", "200"))


def _progress(text: str) -> None:
    print(f"bench.inbox_events: {text}", file=sys.stderr, flush=True)


def _p50(engine, work: Callable) -> float:
    from sqlmodel import Session

    def once() -> float:
        with Session(engine) as session:
            start = time.perf_counter()
            work(session)
            return (time.perf_counter() - start) * 1000

    for _ in range(10):
        once()
    return round(statistics.median(once() for _ in range(RUNS)), 3)


def _with_due_times(engine, shop_id: int, now: datetime) -> None:
    """Open conversations owed an answer get a due time around now, as the targets set them."""
    from app.models import Conversation

    table = Conversation.__table__
    with engine.begin() as conn:
        ids = conn.execute(
            sa.select(table.c.id).where(table.c.shop_id == shop_id, table.c.waiting_since.is_not(None))
        ).scalars()
        for n, conversation_id in enumerate(ids):
            conn.execute(
                sa.update(table)
                .where(table.c.id == conversation_id)
                .values(due_at=now + timedelta(minutes=n % 90 - 30))
            )


def _shop(engine, shop_id: int, now: datetime) -> dict:
    from sqlmodel import select

    from app.chat import inbox
    from app.models import Conversation
    from app.web.admin.notifications import unread_counts

    with engine.connect() as conn:
        one = conn.execute(
            sa.select(Conversation.__table__.c.id)
            .where(Conversation.__table__.c.shop_id == shop_id, Conversation.__table__.c.status == "open")
            .limit(1)
        ).scalar_one()

    def reload(session) -> None:
        inbox.page(session, shop_id, "open", now, limit=50)

    def row(session) -> None:
        found = list(session.exec(select(Conversation).where(Conversation.id == one)).all())
        inbox.summaries(session, found, now)

    def unread(session) -> None:
        unread_counts(session, shop_id)

    def due_page(session) -> None:
        inbox.page(session, shop_id, "open", now, limit=50, sort="due")

    times = {
        "old_reload_p50_ms": _p50(engine, reload),
        "row_p50_ms": _p50(engine, row),
        "unread_p50_ms": _p50(engine, unread),
        "due_sorted_page_p50_ms": _p50(engine, due_page),
    }
    times["event_p50_ms"] = round(times["row_p50_ms"] + times["unread_p50_ms"], 3)
    times["event_to_old_reload"] = round(times["event_p50_ms"] / times["old_reload_p50_ms"], 3)
    return times


def _measure(engine, label: str) -> dict:
    from app.migrate import upgrade

    upgrade(engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    big = _seed_shop(engine, f"big-{uuid.uuid4().hex[:6]}.myshopify.com", BIG, now)
    small = _seed_shop(engine, f"small-{uuid.uuid4().hex[:6]}.myshopify.com", SMALL, now)
    for shop_id in (big, small):
        _with_due_times(engine, shop_id, now)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    _progress(f"{label}: seeded in {time.perf_counter() - started:.0f} s")
    big_t, small_t = _shop(engine, big, now), _shop(engine, small, now)
    return {
        "conversations": {"big": BIG, "small": SMALL},
        "big_shop": big_t,
        "small_shop": small_t,
        "big_to_small": {
            key: round(big_t[key] / small_t[key], 2)
            for key in ("old_reload_p50_ms", "row_p50_ms", "unread_p50_ms", "due_sorted_page_p50_ms")
        },
    }


def run() -> dict:
    from app.db import make_engine

    results: dict = {
        "what": "per live event on the inbox: the old whole-page reload with counts vs one row + the unread count",
        "target": "event_to_old_reload well under 1; row and unread flat from the small shop to the big one",
    }
    with tempfile.TemporaryDirectory() as workdir:
        engine = make_engine(f"sqlite:///{workdir}/inbox_events.db")
        results["sqlite"] = _measure(engine, "sqlite")
        engine.dispose()
    postgres_url = private_postgres_url()
    if postgres_url is None:
        results["postgresql"] = {"skipped": "no PostgreSQL server answered (set BENCH_POSTGRES_URL)"}
        return results
    schema = "bench_inbox_events"
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


if __name__ == "__main__":
    import json

    json.dump(run(), sys.stdout, indent=2)
    print()
