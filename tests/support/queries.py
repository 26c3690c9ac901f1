"""Counting the SQL statements a request runs, so an N+1 fails a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event


@contextmanager
def counted(bind) -> Iterator[list[str]]:
    statements: list[str] = []
    target = bind if isinstance(bind, sa.engine.Engine) else bind.engine

    def record(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(target, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", record)
