"""Webhook deliveries, recorded once per platform event id.

Platforms deliver at least once and out of order. Recording the event before
acting on it makes a replay a no-op and leaves a trail of what arrived.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
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


def mark_processed(session: Session, event: WebhookEvent, now: datetime, error: str | None = None) -> None:
    event.processed_at = now
    event.error = error
    session.add(event)
    session.flush()
