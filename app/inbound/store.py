"""Webhook deliveries, recorded once per platform event id.

Platforms deliver at least once and out of order. Recording the event before
acting on it makes a replay a no-op and leaves a trail of what arrived.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Insert

from app.models import Platform, WebhookEvent


def _insert_statement(dialect: str) -> Insert:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    # The model's Table, looked up by name: SQLModel does not declare `__table__` for type checkers.
    table = WebhookEvent.metadata.tables["webhook_event"]
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(table.c.id)  # rowcount is not reliable for this statement across drivers
    )


# Built once per dialect: building the statement per delivery cost as much as running it.
_INSERTS = {name: _insert_statement(name) for name in ("postgresql", "sqlite")}


def insert_once(
    connection: Connection, platform: Platform, event_id: str, topic: str, shop_domain: str, payload: str, now: datetime
) -> int | None:
    """Store an event for processing in one statement; its id, or None when already stored.

    The acknowledgement path: one INSERT … ON CONFLICT DO NOTHING, no read first,
    so a delivery is answered as soon as one row is committed.
    """
    row = connection.execute(
        _INSERTS[connection.dialect.name],
        {
            "platform": platform.name,
            "event_id": event_id,
            "topic": topic,
            "shop_domain": shop_domain,
            "payload": payload,
            "received_at": now,
            "attempts": 0,
        },
    ).first()  # at most one row: the id, when this delivery was new
    return int(row[0]) if row is not None else None
