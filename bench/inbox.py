"""The inbox at scale (issue 16): the first page with its tab counts, the counts alone, and
search in six languages, in shops of 1,000, 100,000 and 1,000,000 conversations living in
one database (as tenants do), on SQLite and PostgreSQL; and the work that used to grow
with a thread (the shopper's unread count, a read receipt, an inbox row) at 100 and
100,000 messages; and the customer attribution rule at the biggest shop.

Every figure is the p50 of BENCH_INBOX_RUNS calls, measured in BENCH_INBOX_ROUNDS rounds
and reported as min–max over the rounds, next to its anchor measured in the same round:
a bare indexed SELECT of the same page's conversation ids (`anchor`), so `…_ratio` is
"how many bare page queries this costs". The old counts (counting the rows, as the inbox
did before) are measured beside the counters for comparison.

Seeded with bulk inserts (COPY on PostgreSQL, with the trigram index and the counter
triggers put back afterwards, as a restore would); SQLite keeps its triggers on, so its
seeding also shows what indexing every message costs.

Private resources only: a temporary SQLite file, and the PostgreSQL database `bench_s`
(BENCH_INBOX_POSTGRES_URL to choose another), dropped and rebuilt each run.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.services import SERVER_URL

SIZES = [int(s) for s in os.environ.get("BENCH_INBOX_SIZES", "1000,100000,1000000").split(",") if s]
MESSAGES_PER_CONVERSATION = int(os.environ.get("BENCH_INBOX_MESSAGES", "3"))
RUNS = int(os.environ.get("BENCH_INBOX_RUNS", "30"))
ROUNDS = int(os.environ.get("BENCH_INBOX_ROUNDS", "3"))
THREAD_SIZES = tuple(int(s) for s in os.environ.get("BENCH_INBOX_THREADS", "100,100000").split(","))
POSTGRES_DATABASE = "bench_s"
BACKENDS = os.environ.get("BENCH_INBOX_BACKENDS", "sqlite,postgresql").split(",")
RARE = "ZX-4821-QK"

# What shoppers write, in the six languages that matter; {n} is an order number.
BODIES = (
    "Hi, where is my parcel? Order #{n} was due on Monday.",
    "Can I change the size of the jacket in order {n}?",
    "Tere! Kus on minu tellimus {n}? Kas see on juba teel?",
    "Kas õunakook on veel müügil ja kui kaua tarne võtab?",
    "Dzień dobry, gdzie jest moja przesyłka {n}? Zamówiłem żółty płaszcz.",
    "Czy mogę zwrócić buty z zamówienia {n}?",
    "Здравствуйте, где мой заказ {n}? Оплатил картой неделю назад.",
    "Можно ли поменять размер куртки в заказе {n}?",
    "שלום, איפה ההזמנה שלי {n}? הזמנתי לפני שבוע",
    "האם אפשר להחליף מידה בהזמנה {n}?",
    "مرحبا، أين طلبي {n}؟ لقد دفعت بالبطاقة",
    "هل يمكنني تغيير مقاس السترة في الطلب {n}؟",
)
ANSWERS = (
    "Thanks! Your order {n} left our warehouse today.",
    "Aitäh! Tellimus {n} on teel.",
    "Dziękujemy, zamówienie {n} jest w drodze.",
    "Спасибо! Заказ {n} уже в пути.",
    "תודה! ההזמנה {n} בדרך אליך.",
    "شكرا! طلبك {n} في الطريق.",
)
NAMES = ("Anna Tamm", "Jüri Õunapuu", "Zofia Wójcik", "Иван Петров", "לאה כהן", "محمد علي", "Mari Maasikas", "Ben Ng")
# (label, query): a rare code, each language's common word, a name, an e-mail part, two characters.
QUERIES = (
    ("rare_code", RARE.lower()),
    ("en_common", "parcel"),
    ("et", "tellimus"),
    ("pl", "przesyłka"),
    ("ru", "ЗАКАЗ"),
    ("he", "ההזמנה"),
    ("ar", "طلبي"),
    ("name", "õunapuu"),
    ("email", "wojcik"),
    ("two_chars", "42"),
)


def _progress(text: str) -> None:
    print(f"bench.inbox: {text}", file=sys.stderr, flush=True)


# -- seeding ------------------------------------------------------------------------------


def _rows(shop_id: int, conversations: int, now: datetime, seed: str) -> tuple[list, list, list]:
    from app.commerce.priority import priority_at

    rng = random.Random(seed)
    visitors, convs, messages = [], [], []
    rare_at = rng.randrange(conversations)
    for n in range(conversations):
        vid, cid = str(uuid.uuid4()), str(uuid.uuid4())
        kind = 0.1 if n == rare_at else rng.random()  # the rare code's conversation is open
        last = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365))
        waiting = last if kind < 0.05 else None
        cart = Decimal(rng.randint(0, 60000)) / 100 if rng.random() < 0.4 else None
        name = rng.choice(NAMES) if rng.random() < 0.5 else None
        email = f"{(name or 'shopper').split()[0].lower()}.{vid[:6]}@example.{rng.choice(('com', 'ee', 'pl'))}"
        if name == "Zofia Wójcik":
            email = f"zofia.wojcik.{vid[:4]}@example.pl"
        visitors.append((vid, shop_id, name, email if rng.random() < 0.7 else None, last, last))
        resolved = kind >= 0.2
        convs.append(
            (
                cid,
                shop_id,
                vid,
                "resolved" if resolved else "open",
                waiting,
                priority_at(waiting, cart),
                cart,
                "EUR" if cart is not None else None,
                last,
                1 if waiting else 0,
                last - timedelta(minutes=30),
                last if resolved else None,
            )
        )
        for m in range(MESSAGES_PER_CONVERSATION):
            number = rng.randint(1000, 99999)
            body = (rng.choice(BODIES) if m % 2 == 0 else rng.choice(ANSWERS)).format(n=number)
            if n == rare_at and m == 0:
                body = f"My discount code {RARE} did not work"
            messages.append(
                (
                    shop_id,
                    cid,
                    "shopper" if m % 2 == 0 else "agent",
                    body,
                    f"c{m}",
                    False,
                    "chat",
                    last - timedelta(minutes=MESSAGES_PER_CONVERSATION - m),
                )
            )
    return visitors, convs, messages


VISITOR_COLUMNS = ("id", "shop_id", "name", "email", "created_at", "last_seen_at")
CONVERSATION_COLUMNS = (
    "id",
    "shop_id",
    "visitor_id",
    "status",
    "waiting_since",
    "priority_at",
    "cart_value",
    "cart_currency",
    "last_message_at",
    "unread_by_agent",
    "created_at",
    "resolved_at",
)
MESSAGE_COLUMNS = (
    "shop_id",
    "conversation_id",
    "author_kind",
    "body",
    "client_id",
    "internal",
    "channel",
    "created_at",
)


def _new_shop(engine: sa.Engine, domain: str, now: datetime) -> int:
    from app.models import Shop

    with engine.begin() as conn:
        return int(
            conn.execute(
                sa.insert(Shop.__table__)  # type: ignore[arg-type]
                .values(platform="shopify", domain=domain, install_state="installed", scopes="", token_version=1)
                .values(created_at=now)
                .returning(Shop.__table__.c.id)  # type: ignore[attr-defined]
            ).scalar_one()
        )


def _insert(engine: sa.Engine, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    from sqlmodel import SQLModel

    if engine.dialect.name == "postgresql":
        from app.db import MONEY_SCALE

        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row([int(v * MONEY_SCALE) if isinstance(v, Decimal) else v for v in row])
            raw.commit()
        finally:
            raw.close()
        return
    target = SQLModel.metadata.tables[table]
    with engine.begin() as conn:
        conn.execute(sa.insert(target), [dict(zip(columns, row, strict=True)) for row in rows])


def _seed(engine: sa.Engine, domain: str, conversations: int, now: datetime) -> int:
    shop_id = _new_shop(engine, domain, now)
    batch = 20_000
    for start in range(0, conversations, batch):
        visitors, convs, messages = _rows(shop_id, min(batch, conversations - start), now, f"{domain}{start}")
        _insert(engine, "visitor", VISITOR_COLUMNS, visitors)
        _insert(engine, "conversation", CONVERSATION_COLUMNS, convs)
        _insert(engine, "message", MESSAGE_COLUMNS, messages)
        if start and start % 200_000 == 0:
            _progress(f"{domain}: {start:,} conversations")
    return shop_id


def _prepare_postgresql(engine: sa.Engine, before: bool) -> None:
    """Around a bulk load, as a restore does: the trigram indexes and counter triggers
    off, then built again and the counters counted once (the migration's recount)."""
    from app.schema_extras import POSTGRESQL_SEARCH, RECOUNT, TRGM_SCHEMA

    with engine.begin() as conn:
        if before:
            conn.exec_driver_sql("DROP INDEX ix_message_body_trgm")
            conn.exec_driver_sql("DROP INDEX ix_visitor_search_trgm")
            conn.exec_driver_sql("ALTER TABLE conversation DISABLE TRIGGER USER")
            return
        trgm = conn.exec_driver_sql(TRGM_SCHEMA).scalar_one()
        for statement in POSTGRESQL_SEARCH[1:]:
            conn.exec_driver_sql(statement.replace("{trgm}", f'"{trgm}"'))
        conn.exec_driver_sql("ALTER TABLE conversation ENABLE TRIGGER USER")
        for statement in RECOUNT:
            conn.exec_driver_sql(statement)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


# -- measuring ----------------------------------------------------------------------------


def _p50(fn: Callable[[], Any], runs: int = RUNS) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _rounds(measures: dict[str, Callable[[], Any]], anchor: str = "anchor") -> dict[str, Any]:
    """Each measure's p50 per round, min–max over the rounds, and its ratio to the anchor's
    p50 of the same round (min–max too)."""
    per_round: list[dict[str, float]] = []
    for _ in range(ROUNDS):
        per_round.append({name: _p50(fn) for name, fn in measures.items()})
    out: dict[str, Any] = {}
    for name in measures:
        values = [r[name] for r in per_round]
        entry: dict[str, Any] = {"p50_ms": [round(min(values), 3), round(max(values), 3)]}
        if name != anchor and anchor in measures:
            ratios = [r[name] / r[anchor] for r in per_round]
            entry["ratio"] = [round(min(ratios), 2), round(max(ratios), 2)]
        out[name] = entry
    return out


def _shop_measures(engine: sa.Engine, shop_id: int, now: datetime) -> dict[str, Any]:
    from sqlmodel import Session

    from app.chat import inbox
    from app.commerce import attribution

    def session_call(fn: Callable[[Session], Any]) -> Callable[[], Any]:
        def call() -> Any:
            with Session(engine) as session:
                return fn(session)

        return call

    anchor_sql = sa.text(
        "SELECT id FROM conversation WHERE shop_id = :shop AND status = 'open' ORDER BY last_message_at DESC, id DESC "
        "LIMIT 51"
    )
    old_counts = sa.text(
        "SELECT status, count(*), count(priority_at) FROM conversation WHERE shop_id = :shop GROUP BY status"
    )
    with Session(engine) as session:
        email = session.execute(
            sa.text("SELECT email FROM visitor WHERE shop_id = :shop AND email IS NOT NULL LIMIT 1"), {"shop": shop_id}
        ).scalar_one()
    facts = attribution.OrderFacts(order_id="1", email=email.upper(), ordered_at=now)
    measures: dict[str, Callable[[], Any]] = {
        "anchor": session_call(lambda s: s.execute(anchor_sql, {"shop": shop_id}).all()),
        "page_open_with_counts": session_call(lambda s: inbox.page(s, shop_id, "open", now)),
        "page_waiting_with_counts": session_call(lambda s: inbox.page(s, shop_id, "waiting", now)),
        "page_resolved_with_counts": session_call(lambda s: inbox.page(s, shop_id, "resolved", now)),
        "counts": session_call(lambda s: inbox.counts(s, shop_id)),
        "counts_by_scanning_before": session_call(lambda s: s.execute(old_counts, {"shop": shop_id}).all()),
        "attribution_by_email": session_call(
            lambda s: attribution.find_conversation(s, shop_id, facts, timedelta(days=30))
        ),
    }
    for label, q in QUERIES:
        measures[f"search_{label}"] = session_call(lambda s, q=q: inbox.page(s, shop_id, "open", now, q=q))
    result = _rounds(measures)
    with Session(engine) as session:
        hits = {label: len(inbox.page(session, shop_id, "open", now, q=q).rows) for label, q in QUERIES}
    result["search_rows_on_first_page"] = hits
    return result


def _thread_measures(engine: sa.Engine, now: datetime) -> dict[str, Any]:
    """One conversation at 100 and at 100,000 messages: what the widget's session, a read
    receipt and the conversation's inbox row cost (each used to grow with the thread)."""

    from app.chat.conversations import Chat
    from app.db import Database
    from app.realtime.broker import InProcessBroker

    db = Database(engine)
    chat = Chat(db, InProcessBroker(), lambda: datetime.now(UTC))
    out: dict[str, Any] = {}
    for size in THREAD_SIZES:
        shop_id = _new_shop(engine, f"thread-{size}-{uuid.uuid4().hex[:6]}.myshopify.com", now)
        vid, cid = str(uuid.uuid4()), str(uuid.uuid4())
        _insert(engine, "visitor", VISITOR_COLUMNS, [(vid, shop_id, "Thread Shopper", None, now, now)])
        _insert(
            engine,
            "conversation",
            CONVERSATION_COLUMNS,
            [(cid, shop_id, vid, "open", None, None, None, None, now, 0, now, None)],
        )
        rows = [
            (shop_id, cid, "shopper" if m % 2 == 0 else "agent", f"message {m}", f"t{m}", False, "chat", now)
            for m in range(size)
        ]
        _insert(engine, "message", MESSAGE_COLUMNS, rows)
        with engine.begin() as conn:
            last = conn.exec_driver_sql(f"SELECT max(id) FROM message WHERE conversation_id = '{cid}'").scalar_one()
            # Where the receipts so far got to: all but the last message read.
            conn.exec_driver_sql(
                f"UPDATE conversation SET shopper_read_up_to = {last - 1}, agent_read_up_to = {last - 1} "
                f"WHERE id = '{cid}'"
            )
        measures = _thread_calls(engine, chat, shop_id, vid, cid, now)
        out[f"{size}_messages"] = _rounds(measures)
    for name in ("session_unread", "send_and_read_receipt", "inbox_row"):
        small = out[f"{THREAD_SIZES[0]}_messages"][name]["p50_ms"]
        big = out[f"{THREAD_SIZES[-1]}_messages"][name]["p50_ms"]
        out[f"{name}_growth_{THREAD_SIZES[-1]}_to_{THREAD_SIZES[0]}"] = round(
            statistics.mean(big) / statistics.mean(small), 2
        )
    return out


def _thread_calls(engine: sa.Engine, chat: Any, shop_id: int, vid: str, cid: str, now: datetime) -> dict[str, Any]:
    from sqlmodel import Session

    from app.chat import inbox
    from app.chat.conversations import unread_for_shopper
    from app.models import Conversation

    counter = [0]

    def receipt() -> None:
        counter[0] += 1
        sent = chat.send_agent_message(shop_id, cid, "7", "one more answer", f"r{counter[0]}")
        chat.shopper_read(shop_id, vid, int(sent.message.id or 0))

    def unread() -> int:
        with Session(engine) as session:
            return int(unread_for_shopper(session, vid))

    def row() -> Any:
        with Session(engine) as session:
            conversation = session.get(Conversation, cid)
            assert conversation is not None
            return inbox.summaries(session, [conversation], now)

    anchor = sa.text("SELECT id FROM conversation WHERE id = :id")

    def bare() -> Any:
        with engine.connect() as conn:
            return conn.execute(anchor, {"id": cid}).all()

    return {"anchor": bare, "session_unread": unread, "send_and_read_receipt": receipt, "inbox_row": row}


def _measure(engine: sa.Engine, label: str) -> dict[str, Any]:
    from app.migrate import upgrade

    upgrade(engine)
    now = datetime.now(UTC)
    result: dict[str, Any] = {"messages_per_conversation": MESSAGES_PER_CONVERSATION}
    shops = {}
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        _prepare_postgresql(engine, before=True)
    for size in SIZES:
        shops[size] = _seed(engine, f"shop-{size}-{uuid.uuid4().hex[:6]}.myshopify.com", size, now)
        _progress(f"{label}: {size:,} conversations seeded ({time.perf_counter() - started:.0f} s so far)")
    if engine.dialect.name == "postgresql":
        _prepare_postgresql(engine, before=False)
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    result["seed_seconds"] = round(time.perf_counter() - started, 1)
    _progress(f"{label}: seeded in {result['seed_seconds']} s")
    for size, shop_id in shops.items():
        result[f"shop_{size}"] = _shop_measures(engine, shop_id, now)
        _progress(f"{label}: measured the shop of {size:,}")
        _keep(label, result)
    biggest, smallest = result[f"shop_{max(SIZES)}"], result[f"shop_{min(SIZES)}"]
    result[f"growth_{max(SIZES)}_to_{min(SIZES)}"] = {
        name: round(statistics.mean(biggest[name]["p50_ms"]) / statistics.mean(smallest[name]["p50_ms"]), 2)
        for name in biggest
        if isinstance(biggest[name], dict) and "p50_ms" in biggest[name]
    }
    result["thread"] = _thread_measures(engine, now)
    _keep(label, result)
    return result


def _keep(label: str, result: dict[str, Any]) -> None:
    """What is measured so far, in BENCH_INBOX_PARTIAL (a file) when set: a long run that
    stops still leaves its figures."""
    path = os.environ.get("BENCH_INBOX_PARTIAL")
    if path:
        import json

        with open(f"{path}.{label}.json", "w") as out:
            json.dump(result, out, indent=1, ensure_ascii=False)


def _postgres_url() -> str:
    if os.environ.get("BENCH_INBOX_POSTGRES_URL"):
        return os.environ["BENCH_INBOX_POSTGRES_URL"]
    return make_url(SERVER_URL).set(database=POSTGRES_DATABASE).render_as_string(hide_password=False)


def _fresh_postgres() -> sa.Engine | str:
    """The bench's own database, emptied; or why there is none."""
    from app.db import make_engine

    url = make_url(_postgres_url())
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
        "what": (
            "inbox first page with its tab counts, the counts, search in six languages and the customer rule, "
            f"in shops of {', '.join(f'{s:,}' for s in SIZES)} conversations in one database; a thread's "
            "unread count, read receipt and inbox row at 100 and 100,000 messages"
        ),
        "figures": f"p50 of {RUNS} calls, min-max over {ROUNDS} rounds; ratio: to the bare page SELECT (anchor)",
        "targets": "search p50 <= 50 ms at 1M; page with counts p50 <= 20 ms at 1M, flat with data",
    }
    if "sqlite" in BACKENDS:
        with tempfile.TemporaryDirectory() as workdir:
            engine = make_engine(f"sqlite:///{workdir}/inbox.db")
            try:
                results["sqlite"] = _measure(engine, "sqlite")
            finally:
                engine.dispose()
    if "postgresql" not in BACKENDS:
        return results
    postgres = _fresh_postgres()
    if isinstance(postgres, str):
        results["postgresql"] = {"skipped": postgres}
        return results
    try:
        results["postgresql"] = _measure(postgres, "postgresql")
    finally:
        postgres.dispose()
    return results


if __name__ == "__main__":
    import json

    json.dump(run(), sys.stdout, indent=2, ensure_ascii=False)
    print()
