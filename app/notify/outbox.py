"""The outbox: everything Parley sends outside itself, stored first, delivered after.

An action that decides to send (a shopper wrote and nobody is looking; a reply went
unseen) adds a row in its own transaction, so the intent commits or rolls back with
what caused it. The worker claims due rows one at a time with a conditional UPDATE
(two workers never take the same row), hands each to a `Courier` that renders and
sends it, and records the outcome: sent, retried later with growing waits, given up
with its reason (the merchant sees failures in Settings), or cancelled when it is no
longer needed (the shopper read the reply in the chat meanwhile).

Once the other side accepted a message the row is marked sent straight away; the one
window left, a process killed between the relay's "250 OK" and that commit, resends
with the same Message-ID, which receiving servers use to drop the copy.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, select

from app.clock import Clock
from app.db import Database
from app.models import Outbox

log = logging.getLogger(__name__)

# Waits between attempts; after the last the row is given up on.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6))
MAX_ATTEMPTS = len(BACKOFF) + 1
# A row left `sending` this long by a process that died is taken up again.
STALE_SENDING = timedelta(minutes=10)


@dataclass(frozen=True)
class Outcome:
    # sent, retry, failed, cancelled
    state: str
    detail: str | None = None


class Courier(Protocol):
    def deliver(self, row: Outbox) -> Outcome:
        """Render and send one due row (its channel says how); never raises for a failed send."""
        ...


def queue(
    session: Session,
    *,
    shop_id: int,
    channel: str,
    kind: str,
    recipient: str,
    dedupe_key: str,
    payload: dict[str, Any],
    not_before: datetime,
    conversation_id: str | None = None,
) -> Outbox:
    """Add the row unless one with this dedupe key exists; the row either way."""
    existing = pending(session, shop_id, dedupe_key)
    if existing is not None:
        return existing
    row = Outbox(
        shop_id=shop_id,
        conversation_id=conversation_id,
        channel=channel,
        kind=kind,
        recipient=recipient[:500],
        dedupe_key=dedupe_key[:200],
        payload=payload,
        next_attempt_at=not_before,
        created_at=not_before,
    )
    try:
        with session.begin_nested():  # a concurrent writer may have queued the same intent
            session.add(row)
    except sa.exc.IntegrityError:
        found = session.exec(select(Outbox).where(Outbox.shop_id == shop_id, Outbox.dedupe_key == dedupe_key)).first()
        assert found is not None  # the unique key that refused ours is this row's
        return found
    return row


def pending(session: Session, shop_id: int, dedupe_key: str) -> Outbox | None:
    return session.exec(select(Outbox).where(Outbox.shop_id == shop_id, Outbox.dedupe_key == dedupe_key)).first()


def append(row: Outbox, key: str, value: Any) -> None:
    """Add to a list in a pending row's payload (a batched alert gathering messages)."""
    items = list(row.payload.get(key) or [])
    if value not in items:
        items.append(value)
    row.payload = {**row.payload, key: items}
    flag_modified(row, "payload")


class OutboxWorker:
    def __init__(self, db: Database, clock: Clock, courier: Courier, interval: float = 5.0):
        self.db = db
        self.clock = clock
        self.courier = courier
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due_ids(self, limit: int = 50) -> list[int]:
        now = self.clock()
        with self.db.session() as session:
            rows = session.exec(
                select(Outbox.id)
                .where(
                    sa.or_(
                        sa.and_(col(Outbox.status) == "pending", col(Outbox.next_attempt_at) <= now),
                        sa.and_(col(Outbox.status) == "sending", col(Outbox.next_attempt_at) <= now - STALE_SENDING),
                    )
                )
                .order_by(col(Outbox.next_attempt_at))
                .limit(limit)
            ).all()
        return [row for row in rows if row is not None]

    def run_due(self) -> dict[str, int]:
        """Deliver what is due now, oldest first; how many ended which way."""
        outcomes: dict[str, int] = {}
        for row_id in self.due_ids():
            state = self.deliver_one(row_id).state
            outcomes[state] = outcomes.get(state, 0) + 1
        return outcomes

    def deliver_one(self, row_id: int) -> Outcome:
        now = self.clock()
        with self.db.transaction() as session:
            claimed = session.exec(
                sa.update(Outbox)
                .where(
                    col(Outbox.id) == row_id,
                    sa.or_(
                        sa.and_(col(Outbox.status) == "pending", col(Outbox.next_attempt_at) <= now),
                        sa.and_(col(Outbox.status) == "sending", col(Outbox.next_attempt_at) <= now - STALE_SENDING),
                    ),
                )
                .values(status="sending", attempts=Outbox.attempts + 1, next_attempt_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
        if claimed != 1:
            return Outcome("taken")
        with self.db.session() as session:
            row = session.get(Outbox, row_id)
        if row is None:
            return Outcome("taken")  # erased meanwhile, with its conversation
        try:
            outcome = self.courier.deliver(row)
        except Exception as exc:
            log.exception("outbox row %s could not be delivered", row_id)
            outcome = Outcome("retry", f"{type(exc).__name__}: {exc}")
        self._record(row_id, row.attempts, outcome)
        return outcome

    def _record(self, row_id: int, attempts: int, outcome: Outcome) -> None:
        now = self.clock()
        state = outcome.state
        if state == "retry" and attempts >= MAX_ATTEMPTS:
            state = "failed"
        values: dict[str, Any] = {"error": (outcome.detail or None) and outcome.detail[:2000]}
        if state == "sent":
            values.update(status="sent", sent_at=now)
        elif state == "retry":
            values.update(status="pending", next_attempt_at=now + BACKOFF[min(attempts, len(BACKOFF)) - 1])
        else:
            values.update(status=state)
        with self.db.transaction() as session:
            session.exec(sa.update(Outbox).where(col(Outbox.id) == row_id).values(**values))

    # -- in the background -------------------------------------------------------------

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="parley-outbox", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:
                log.exception("outbox sweep failed")
            self._wake.wait(self.interval)
            self._wake.clear()
