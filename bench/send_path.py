"""A shopper's send, counted and timed (issue 16, item 4): what `POST /api/storefront/v1/
messages` does between the request and the publish (statements by kind, ORM flushes,
commits, savepoints), for a shopper's first message (a new conversation) and for the
next ones, and its p50 next to a bare "insert the row, commit, publish" Flask handler
in the same run (`ratio`), on SQLite and PostgreSQL.

The counts are exact and machine-independent; the times are min–max over
BENCH_SEND_ROUNDS rounds of BENCH_SEND_RUNS sends each. Private resources: a temporary
SQLite file and the PostgreSQL database `bench_s_send`, rebuilt each run.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.services import SERVER_URL

RUNS = int(os.environ.get("BENCH_SEND_RUNS", "200"))
ROUNDS = int(os.environ.get("BENCH_SEND_ROUNDS", "3"))
POSTGRES_DATABASE = "bench_s_send"
API = "/api/storefront/v1"


def _kind(statement: str) -> str:
    word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
    if word in ("SAVEPOINT", "RELEASE", "ROLLBACK") or word.startswith("PRAGMA"):
        return word.lower()
    return word.lower()


@contextmanager
def counting(engine: sa.Engine) -> Iterator[Counter[str]]:
    """Statements by kind, ORM flushes and commits while the block runs."""
    from sqlalchemy.orm import Session as OrmSession

    counts: Counter[str] = Counter()

    def statement(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        counts[_kind(text)] += 1

    def flush(*_: Any) -> None:
        counts["orm_flush"] += 1

    def commit(*_: Any) -> None:
        counts["commit"] += 1

    sa.event.listen(engine, "before_cursor_execute", statement)
    sa.event.listen(engine, "commit", commit)
    sa.event.listen(OrmSession, "after_flush", flush)
    try:
        yield counts
    finally:
        sa.event.remove(engine, "before_cursor_execute", statement)
        sa.event.remove(engine, "commit", commit)
        sa.event.remove(OrmSession, "after_flush", flush)


def _app(engine: sa.Engine) -> tuple[Any, int, str]:
    """Parley on `engine` (its in-process broker, no workers), a shop and a visitor's token."""
    from cryptography.fernet import Fernet

    from app import create_app, shops
    from app.clock import utcnow
    from app.config import load_settings
    from app.models import Platform, Visitor

    settings = load_settings(
        environ={"PARLEY_ENV": "test"},
        database_url=str(engine.url),
        shopify_api_key="bench",
        shopify_api_secret="bench-secret",
        secret_key=secrets.token_urlsafe(32),
        token_encryption_key=Fernet.generate_key().decode(),
        app_url="http://parley.test",
        event_worker=False,
        # The bench sends far more than a shopper may: the limits are not what is measured.
        rate_limit_visitor="1000000/minute",
        rate_limit_ip="1000000/minute",
    )
    app = create_app(settings, bind=engine)
    services = app.extensions["parley"]
    with services.db.transaction() as session:
        shop = shops.record_install(
            session,
            services.cipher,
            Platform.shopify,
            f"send-{uuid.uuid4().hex[:6]}.myshopify.com",
            shops.TokenGrant("shpat_" + uuid.uuid4().hex, "read_orders"),
            utcnow(),
        )
        assert shop.id is not None
        visitor = Visitor(shop_id=shop.id)
        session.add(visitor)
        session.flush()
        shop_id, visitor_id = shop.id, visitor.id
    return app, shop_id, services.visitor_tokens.issue(visitor_id, shop_id)


def _bare_app(engine: sa.Engine, shop_id: int, conversation_id: str) -> Any:
    """The anchor: a route that inserts the message row, commits and publishes."""
    from flask import Flask, jsonify, request

    from app.models import Message
    from app.realtime.broker import Event, InProcessBroker

    app = Flask("bare")
    broker = InProcessBroker()
    table = Message.__table__  # type: ignore[attr-defined]

    @app.post("/send")
    def send() -> Any:
        body = request.get_json()
        with engine.begin() as conn:
            message_id = conn.execute(
                sa.insert(table)
                .values(
                    shop_id=shop_id,
                    conversation_id=conversation_id,
                    author_kind="shopper",
                    body=body["body"],
                    client_id=body["client_id"],
                    internal=False,
                    channel="chat",
                    created_at=sa.func.now(),
                )
                .returning(table.c.id)
            ).scalar_one()
        broker.publish(Event(f"shop:{shop_id}", "message", {"id": message_id}))
        return jsonify(id=message_id), 201

    return app


def _measure(engine: sa.Engine) -> dict[str, Any]:
    from app.migrate import upgrade

    upgrade(engine)
    app, shop_id, token = _app(engine)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def send(n: int) -> dict[str, Any]:
        answer = client.post(
            f"{API}/messages", json={"client_id": f"k{n}-{uuid.uuid4().hex}", "body": f"hello {n}"}, headers=headers
        )
        assert answer.status_code in (200, 201), answer.get_data(as_text=True)
        return dict(answer.get_json())

    result: dict[str, Any] = {}
    with counting(engine) as first:
        conversation_id = send(0)["conversation"]["id"]
    result["first_message"] = dict(sorted(first.items()))
    with counting(engine) as later:
        send(1)
    result["next_message"] = dict(sorted(later.items()))
    with counting(engine) as resend:
        client.post(f"{API}/messages", json={"client_id": "k-same", "body": "once"}, headers=headers)
        client.post(f"{API}/messages", json={"client_id": "k-same", "body": "once"}, headers=headers)
    result["a_message_and_its_resend"] = dict(sorted(resend.items()))

    bare = _bare_app(engine, shop_id, conversation_id).test_client()

    def bare_send(n: int) -> None:
        assert (
            bare.post("/send", json={"client_id": f"b{n}-{uuid.uuid4().hex}", "body": f"hello {n}"}).status_code == 201
        )

    def p50(fn: Any) -> float:
        times = []
        for n in range(RUNS):
            start = time.perf_counter()
            fn(n)
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    p50(send), p50(bare_send)  # warm
    rounds = [(p50(send), p50(bare_send)) for _ in range(ROUNDS)]
    result["send_p50_ms"] = [round(min(r[0] for r in rounds), 2), round(max(r[0] for r in rounds), 2)]
    result["bare_insert_publish_p50_ms"] = [round(min(r[1] for r in rounds), 2), round(max(r[1] for r in rounds), 2)]
    ratios = [r[0] / r[1] for r in rounds]
    result["ratio_send_to_bare"] = [round(min(ratios), 2), round(max(ratios), 2)]
    return result


def _fresh_postgres() -> sa.Engine | str:
    from app.db import make_engine

    url = make_url(os.environ.get("BENCH_SEND_POSTGRES_URL") or make_url(SERVER_URL).set(database=POSTGRES_DATABASE))
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    except sa.exc.OperationalError as exc:
        return f"PostgreSQL not reachable ({exc.__class__.__name__})"
    finally:
        server.dispose()
    return make_engine(url.render_as_string(hide_password=False))


def run() -> dict[str, Any]:
    from app.db import make_engine

    results: dict[str, Any] = {
        "what": "a shopper's send through POST /api/storefront/v1/messages: statements, flushes, commits; p50",
        "anchor": "a bare Flask route that inserts the message row, commits and publishes, in the same run",
    }
    with tempfile.TemporaryDirectory() as workdir:
        engine = make_engine(f"sqlite:///{workdir}/send.db")
        try:
            results["sqlite"] = _measure(engine)
        finally:
            engine.dispose()
    postgres = _fresh_postgres()
    if isinstance(postgres, str):
        results["postgresql"] = {"skipped": postgres}
        return results
    try:
        results["postgresql"] = _measure(postgres)
    finally:
        postgres.dispose()
    return results


if __name__ == "__main__":
    import json

    json.dump(run(), sys.stdout, indent=2)
    print()
