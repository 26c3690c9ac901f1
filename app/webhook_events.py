"""Webhook deliveries, recorded once per platform event id.

Platforms deliver at least once and out of order. Recording the event before
acting on it makes a replay a no-op and leaves a trail of what arrived.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from app.models import Platform, WebhookEvent


def record_once(
    session: Session,
    platform: Platform,
    event_id: str,
    topic: str,
    shop_domain: str,
    payload: str,
    now: datetime,
) -> WebhookEvent | None:
    """Store the event; None when this event id was already stored."""
    if session.exec(
        select(WebhookEvent.id).where(WebhookEvent.platform == platform, WebhookEvent.event_id == event_id)
    ).first():
        return None
    event = WebhookEvent(
        platform=platform, event_id=event_id, topic=topic, shop_domain=shop_domain, payload=payload, received_at=now
    )
    try:
        # A concurrent delivery of the same event may win the race; the unique key decides.
        with session.begin_nested():
            session.add(event)
    except sa.exc.IntegrityError:
        return None
    return event


def _insert_statement(dialect: str):
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(WebhookEvent.__table__)
        .on_conflict_do_nothing(index_elements=["platform", "event_id"])
        .returning(WebhookEvent.__table__.c.id)  # rowcount is not reliable for this statement across drivers
    )


# Built once per dialect: building the statement per delivery cost as much as running it.
_INSERTS = {name: _insert_statement(name) for name in ("postgresql", "sqlite")}


def insert_once(
    connection: Connection, platform: Platform, event_id: str, topic: str, shop_domain: str, payload: str, now: datetime
) -> bool:
    """Store an event for later processing in one statement; False when already stored.

    The acknowledgement path: one INSERT … ON CONFLICT DO NOTHING, no read first,
    so a delivery is answered as soon as one row is committed.
    """
    rows = connection.execute(
        _INSERTS[connection.dialect.name],
        {"platform": platform.name, "event_id": event_id, "topic": topic, "shop_domain": shop_domain,
         "payload": payload, "received_at": now, "attempts": 0},
    ).all()  # at most one row: the id, when this delivery was new
    return bool(rows)


def mark_processed(session: Session, event: WebhookEvent, now: datetime, error: str | None = None) -> None:
    event.processed_at = now
    event.error = error
    session.add(event)
    session.flush()
