"""Processing stored webhook events after their delivery was acknowledged.

A delivery is answered as soon as its event row is committed (app/web/webhooks.py);
this worker does the work. Each event is claimed and processed in one transaction:
the claim is a conditional UPDATE of `processed_at`, so two workers (threads,
processes, machines) never both process an event, and a crash before the commit
leaves it unprocessed for the next sweep. Together with the row being stored
before the acknowledgement, every acknowledged event is processed exactly once.

Which code processes an event is decided by its platform (PROCESSORS below).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Callable

import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import Platform, WebhookEvent

if TYPE_CHECKING:
    from app.services import Parley

log = logging.getLogger(__name__)

# Processes one stored event inside the claiming transaction. Raise PermanentError
# for a payload that can never be processed; any other exception is retried later.
Processor = Callable[["Parley", Session, WebhookEvent], None]

MAX_ATTEMPTS = 5
BATCH = 100


class PermanentError(ValueError):
    """The event cannot be processed, now or later; the reason is kept on the event."""


def processors() -> dict[Platform, Processor]:
    from app.platforms.shopify.webhooks import process_event as shopify

    found: dict[Platform, Processor] = {Platform.shopify: shopify}
    try:
        from app.platforms.saleor.webhooks import process_event as saleor
    except ImportError:  # pragma: no cover - until the Saleor adapter processes events
        pass
    else:
        found[Platform.saleor] = saleor
    return found


def pending_ids(session: Session, limit: int = BATCH) -> list[int]:
    return list(
        session.exec(
            select(WebhookEvent.id).where(WebhookEvent.processed_at.is_(None)).order_by(WebhookEvent.id).limit(limit)
        ).all()
    )


def process_one(parley: "Parley", event_id: int, table: dict[Platform, Processor] | None = None) -> str:
    """Claim and process one event; returns processed, taken (someone else has it), retry or failed."""
    table = table or processors()
    now = parley.now()
    try:
        with parley.db.transaction() as session:
            claimed = session.execute(
                sa.update(WebhookEvent)
                .where(WebhookEvent.id == event_id, WebhookEvent.processed_at.is_(None))
                .values(processed_at=now, attempts=WebhookEvent.attempts + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                return "taken"
            event = session.get(WebhookEvent, event_id)
            session.refresh(event)
            processor = table.get(event.platform)
            if processor is None:
                raise PermanentError(f"no processor for {event.platform.value} events")
            processor(parley, session, event)
        return "processed"
    except PermanentError as exc:
        return _give_up(parley, event_id, str(exc))
    except Exception as exc:  # noqa: BLE001 - any failure leaves the event for a later sweep
        log.exception("processing webhook event %s failed", event_id)
        return _count_failure(parley, event_id, f"{type(exc).__name__}: {exc}")


def _give_up(parley: "Parley", event_id: int, reason: str) -> str:
    with parley.db.transaction() as session:
        session.execute(
            sa.update(WebhookEvent)
            .where(WebhookEvent.id == event_id, WebhookEvent.processed_at.is_(None))
            .values(processed_at=parley.now(), error=reason[:2000], attempts=WebhookEvent.attempts + 1)
        )
    return "failed"


def _count_failure(parley: "Parley", event_id: int, reason: str) -> str:
    with parley.db.transaction() as session:
        event = session.get(WebhookEvent, event_id)
        if event is None or event.processed_at is not None:
            return "taken"
        event.attempts += 1
        event.error = reason[:2000]
        if event.attempts >= MAX_ATTEMPTS:
            event.processed_at = parley.now()
        session.add(event)
    return "failed" if event.attempts >= MAX_ATTEMPTS else "retry"


def run_pending(parley: "Parley", limit: int = BATCH) -> dict[str, int]:
    """Process what is waiting, oldest first; returns how many ended which way."""
    table = processors()
    with parley.db.session() as session:
        ids = pending_ids(session, limit)
    outcomes: dict[str, int] = {}
    for event_id in ids:
        outcome = process_one(parley, event_id, table)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


class EventWorker:
    """A background thread (a greenlet under `parley serve`) that processes events
    when told one arrived, and sweeps every `interval` seconds for any left behind
    (a previous process killed between acknowledging and processing).

    Acknowledging comes first: while deliveries keep arriving the worker waits for a
    quiet moment (`quiet` seconds without one), but never more than `max_defer`
    seconds, so a steady stream is processed too. On SQLite, where one writer at a
    time holds the database, this keeps processing out of the acknowledgements' way.
    """

    def __init__(self, parley: "Parley", interval: float = 30.0, quiet: float = 0.05, max_defer: float = 5.0):
        self.parley = parley
        self.interval = interval
        self.quiet = quiet
        self.max_defer = max_defer
        self._last_notice = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="parley-events", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        self._last_notice = time.monotonic()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._drain()
            except Exception:  # noqa: BLE001 - the database may be briefly away; try again next round
                log.exception("webhook event sweep failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def _drain(self) -> None:
        table = processors()
        deferred_since = time.monotonic()
        while not self._stop.is_set():
            if not self._may_go(deferred_since):
                time.sleep(self.quiet)
                continue
            with self.parley.db.session() as session:
                ids = pending_ids(session)
            if not ids:
                return
            for event_id in ids:
                process_one(self.parley, event_id, table)
                if not self._may_go(deferred_since):
                    break  # deliveries are arriving again: let them be acknowledged first
            else:
                deferred_since = time.monotonic()

    def _may_go(self, deferred_since: float) -> bool:
        now = time.monotonic()
        return now - self._last_notice >= self.quiet or now - deferred_since >= self.max_defer


def received(parley: "Parley") -> None:
    """Called after a delivery is stored: wake this process's worker, if it runs one."""
    worker = getattr(parley, "event_worker", None)
    if worker is not None:
        worker.notify()
