"""Engine, sessions and the two column types every table shares.

SQLite (WAL) by default, PostgreSQL through DATABASE_URL. Time is stored in UTC
and always comes back timezone-aware; money is stored exactly, as a count of
ten-thousandths, and always comes back as Decimal.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite has no time zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


MONEY_SCALE = 10_000


class Money(sa.types.TypeDecorator[Decimal]):
    """An exact amount as an integer of ten-thousandths; sums stay exact in SQL."""

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * MONEY_SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than four decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).scaleb(-4)


def _cooperative_psycopg() -> None:
    """psycopg chooses how it waits for the server when it is first imported: a C poll
    that blocks the whole process, unless gevent has patched `select` by then. `parley
    serve` migrates in gunicorn's master, before its gevent workers patch, so the workers
    inherit the blocking choice, and one request waiting for a lock (the shop's message
    lock, app/chat/conversations.py) would stall every stream of its process. Choose
    again once patched."""
    monkey = sys.modules.get("gevent.monkey")
    waiting = sys.modules.get("psycopg.waiting")
    if monkey is None or waiting is None or not monkey.is_module_patched("select"):
        return
    if getattr(waiting, "wait", None) is getattr(waiting, "wait_c", object()):
        importlib.reload(waiting)


def make_engine(url: str) -> Engine:
    # Bound parameters are shoppers' messages, e-mails and tokens: a database error that
    # reaches a log says which statement failed, never with what.
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    _cooperative_psycopg()
    return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Database:
    """Hands out sessions bound to an engine, or to one shared connection in tests."""

    def __init__(self, bind: Engine | Connection):
        self.bind = bind
        # SQLite has one writer at a time, and a writer that finds the file locked
        # sleeps in growing steps (up to 100 ms) before retrying. Taking turns on a
        # lock in the process instead hands the database over as soon as it is free.
        self._writer = threading.RLock() if bind.dialect.name == "sqlite" else nullcontext()

    @property
    def dialect(self) -> str:
        return self.bind.dialect.name

    def session(self) -> Session:
        if isinstance(self.bind, Connection):
            # Tests run each case inside an outer transaction; commits become savepoints.
            return Session(bind=self.bind, join_transaction_mode="create_savepoint", expire_on_commit=False)
        return Session(bind=self.bind, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A Core connection in a transaction, for hot single-statement writes (a webhook's
        acknowledgement) that do not need an ORM session."""
        with self._writer:
            if isinstance(self.bind, Connection):
                with self.bind.begin_nested():  # inside the tests' outer transaction
                    yield self.bind
            else:
                with self.bind.begin() as connection:
                    yield connection

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        with self._writer, self.session() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
