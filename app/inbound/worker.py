"""Processing stored webhook events after their delivery was acknowledged.

A delivery is answered as soon as its event row is committed (`Inbound.store`);
the processing comes after. Each event is claimed and processed in one
transaction: the claim is a conditional UPDATE of `processed_at`, so two workers
(threads, processes, machines) never both process an event, and a crash before the
commit leaves it unprocessed for the next sweep. Together with the row being stored
before the acknowledgement, every acknowledged event is processed exactly once.

Which code processes an event is decided by its platform: the composition root
hands in one processor per platform, all of one signature.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.clock import Clock
from app.db import Database
from app.inbound.errors import PermanentError
from app.inbound.store import insert_once
from app.models import CartSnapshot, Platform, WebhookEvent

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 100


class Processor(Protocol):
    def __call__(self, session: Session, event: WebhookEvent, now: datetime) -> str:
        """Act on one stored event inside the claiming transaction; return a short outcome
        for the log. Raise PermanentError for a payload that can never be processed."""
        ...


@dataclass(frozen=True)
class Outcome:
    # processed, taken (someone else has it), retry or failed
    state: str
    # What the processor said it did (linked:conversation, unknown_shop, …)
    detail: str | None = None


class Inbound:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        processors: Mapping[Platform, Processor],
        sweep_seconds: float = 30.0,
        retention_days: int = 7,
        cart_retention_days: int = 90,
    ):
        self.db = db
        self.clock = clock
        self.processors = dict(processors)
        self.sweep_seconds = sweep_seconds
        # Processed deliveries are kept this long (WEBHOOK_RETENTION_DAYS): long enough to
        # know a platform's redelivery (Shopify retries for 48 hours), not forever.
        self.retention_days = retention_days
        # Cart snapshots (CART_RETENTION_DAYS): one per cart change, so a long-lived shop
        # would otherwise keep every cart every shopper ever had.
        self.cart_retention_days = cart_retention_days
        self._worker: _Worker | None = None

    # -- acknowledging ------------------------------------------------------------

    def store(self, platform: Platform, event_id: str, topic: str, shop_domain: str, payload: str) -> int | None:
        """Record a verified delivery; its event id, or None when it was stored before.
        Database errors propagate: the platform adapter decides what to answer."""
        with self.db.write() as connection:
            stored = insert_once(connection, platform, event_id, topic, shop_domain, payload, self.clock())
        if stored is not None and self._worker is not None:
            self._worker.notify()
        return stored

    # -- processing ----------------------------------------------------------------

    def pending_ids(self, session: Session, limit: int = BATCH) -> list[int]:
        return [
            int(event_id)
            for event_id in session.exec(
                select(WebhookEvent.id)
                .where(col(WebhookEvent.processed_at).is_(None))
                .order_by(col(WebhookEvent.id))
                .limit(limit)
            ).all()
            if event_id is not None
        ]

    def process_one(self, event_id: int) -> Outcome:
        """Claim and process one event."""
        now = self.clock()
        try:
            with self.db.transaction() as session:
                claimed = session.exec(
                    sa.update(WebhookEvent)
                    .where(col(WebhookEvent.id) == event_id, col(WebhookEvent.processed_at).is_(None))
                    .values(processed_at=now, attempts=WebhookEvent.attempts + 1)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if claimed != 1:
                    return Outcome("taken")
                event = session.get(WebhookEvent, event_id)
                assert event is not None  # claimed just now, inside this transaction
                session.refresh(event)
                processor = self.processors.get(event.platform)
                if processor is None:
                    raise PermanentError(f"no processor for {event.platform.value} events")
                detail = processor(session, event, now)
            return Outcome("processed", detail)
        except PermanentError as exc:
            return self._give_up(event_id, str(exc))
        except Exception as exc:
            log.exception("processing webhook event %s failed", event_id)
            return self._count_failure(event_id, f"{type(exc).__name__}: {exc}")

    def run_pending(self, limit: int = BATCH) -> dict[str, int]:
        """Process what is waiting, oldest first; returns how many ended which way."""
        with self.db.session() as session:
            ids = self.pending_ids(session, limit)
        outcomes: dict[str, int] = {}
        for event_id in ids:
            state = self.process_one(event_id).state
            outcomes[state] = outcomes.get(state, 0) + 1
        return outcomes

    def prune(self) -> int:
        """Delete deliveries processed (or given up on) more than `retention_days` ago;
        returns how many. Unprocessed ones stay whatever their age."""
        cutoff = self.clock() - timedelta(days=self.retention_days)
        with self.db.transaction() as session:
            result = session.execute(
                sa.delete(WebhookEvent).where(
                    col(WebhookEvent.processed_at).is_not(None), col(WebhookEvent.processed_at) < cutoff
                )
            )
        pruned = int(getattr(result, "rowcount", 0) or 0)
        if pruned:
            log.info("pruned %d webhook deliveries processed more than %d days ago", pruned, self.retention_days)
        self.prune_carts()
        return pruned

    def prune_carts(self, batch: int = 5000) -> int:
        """Delete cart snapshots older than `cart_retention_days` that a newer snapshot of
        the same conversation replaced; returns how many. A batch per transaction, so the
        writer is never held long (the first run on an old database has the most to do)."""
        cutoff = self.clock() - timedelta(days=self.cart_retention_days)
        newer = aliased(CartSnapshot)
        replaced = (
            select(CartSnapshot.id)
            .where(
                col(CartSnapshot.created_at) < cutoff,
                sa.exists().where(
                    col(newer.conversation_id) == col(CartSnapshot.conversation_id),
                    col(newer.id) > col(CartSnapshot.id),
                ),
            )
            .limit(batch)
        )
        pruned = 0
        while True:
            with self.db.transaction() as session:
                ids = list(session.exec(replaced))
                if ids:
                    session.execute(sa.delete(CartSnapshot).where(col(CartSnapshot.id).in_(ids)))
            pruned += len(ids)
            if len(ids) < batch:
                break
        if pruned:
            log.info("pruned %d cart snapshots older than %d days", pruned, self.cart_retention_days)
        return pruned

    def _give_up(self, event_id: int, reason: str) -> Outcome:
        with self.db.transaction() as session:
            session.execute(
                sa.update(WebhookEvent)
                .where(col(WebhookEvent.id) == event_id, col(WebhookEvent.processed_at).is_(None))
                .values(processed_at=self.clock(), error=reason[:2000], attempts=WebhookEvent.attempts + 1)
            )
        return Outcome("failed", reason)

    def _count_failure(self, event_id: int, reason: str) -> Outcome:
        with self.db.transaction() as session:
            event = session.get(WebhookEvent, event_id)
            if event is None or event.processed_at is not None:
                return Outcome("taken")
            event.attempts += 1
            event.error = reason[:2000]
            if event.attempts >= MAX_ATTEMPTS:
                event.processed_at = self.clock()
            session.add(event)
            given_up = event.attempts >= MAX_ATTEMPTS
        return Outcome("failed" if given_up else "retry", reason)

    # -- in the background -----------------------------------------------------------

    def start_worker(self) -> None:
        """Process events in the background of this process (`parley serve`, `parley worker`,
        the demo); tests call run_pending instead."""
        if self._worker is None:
            self._worker = _Worker(self, interval=self.sweep_seconds)
            self._worker.start()

    def stop_worker(self, timeout: float = 5.0) -> None:
        if self._worker is not None:
            self._worker.stop(timeout)
            self._worker = None


class _Worker:
    """A background thread (a greenlet under `parley serve`) that processes events
    when told one arrived, and sweeps every `interval` seconds for any left behind
    (a previous process killed between acknowledging and processing).

    Acknowledging comes first: while deliveries keep arriving the worker waits for a
    quiet moment (`quiet` seconds without one), but never more than `max_defer`
    seconds, so a steady stream is processed too. On SQLite, where one writer at a
    time holds the database, this keeps processing out of the acknowledgements' way.
    """

    def __init__(self, inbound: Inbound, interval: float = 30.0, quiet: float = 0.05, max_defer: float = 5.0):
        self.inbound = inbound
        self.interval = interval
        self.quiet = quiet
        self.max_defer = max_defer
        self._last_notice = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="parley-events", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._last_notice = time.monotonic()
        self._wake.set()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        pruned_at = float("-inf")
        while not self._stop.is_set():
            try:
                self._drain()
            except Exception:
                log.exception("webhook event sweep failed")
            # Pruning is housekeeping: once per sweep interval, never between deliveries.
            if time.monotonic() - pruned_at >= self.interval:
                pruned_at = time.monotonic()
                try:
                    self.inbound.prune()
                except Exception:
                    log.exception("pruning processed webhook deliveries failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def _drain(self) -> None:
        deferred_since = time.monotonic()
        while not self._stop.is_set():
            if not self._may_go(deferred_since):
                time.sleep(self.quiet)
                continue
            with self.inbound.db.session() as session:
                ids = self.inbound.pending_ids(session)
            if not ids:
                return
            for event_id in ids:
                self.inbound.process_one(event_id)
                if not self._may_go(deferred_since):
                    break  # deliveries are arriving again: let them be acknowledged first
            else:
                deferred_since = time.monotonic()

    def _may_go(self, deferred_since: float) -> bool:
        now = time.monotonic()
        return now - self._last_notice >= self.quiet or now - deferred_since >= self.max_defer
