"""Server-Sent Events streams that lose nothing: every stored event is replayed
from the database after the client's Last-Event-ID; the broker only says "look now"."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

from app.realtime.broker import Broker

HEARTBEAT_SECONDS = 15.0
# While the broker is down, streams look at the database this often instead.
POLL_SECONDS = 2.0
# Kinds that are rows in the database (replayable, carry an id) versus passing hints.
STORED_KINDS = ("message", "resync")


def sse(event: str | None, data: dict[str, Any], event_id: int | None = None) -> str:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), ensure_ascii=False))
    return "\n".join(lines) + "\n\n"


def parse_last_event_id(*candidates: str | None) -> int:
    for value in candidates:
        if value and value.strip().isdigit():
            return int(value.strip())
    return 0


def event_stream(
    broker: Broker,
    channels: Sequence[str],
    last_id: int,
    fetch_after: Callable[[int], list[tuple[int, dict[str, Any]]]],
    heartbeat: float = HEARTBEAT_SECONDS,
    poll: float = POLL_SECONDS,
    passing_kinds: Sequence[str] = ("typing", "read", "status", "cart"),
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """Yield SSE text: a backlog after `last_id`, then live events, heartbeats between.

    `fetch_after(id)` returns `(id, data)` pairs stored after `id`, oldest first.
    Subscribing before reading the backlog closes the gap in which an event could
    be stored and announced between the two.
    """
    subscription = broker.subscribe(channels)
    try:
        yield "retry: 3000\n\n"
        last_id = yield from _replay(fetch_after, last_id)
        last_write = clock()
        while True:
            polling = broker.streams_must_poll
            event = subscription.get(timeout=poll if polling else heartbeat)
            if (event is None and polling) or (event is not None and event.kind in STORED_KINDS):
                before = last_id
                last_id = yield from _replay(fetch_after, last_id)
                if last_id != before:
                    last_write = clock()
            if event is not None and event.kind in passing_kinds:
                yield sse(event.kind, event.data)
                last_write = clock()
            if clock() - last_write >= heartbeat:
                yield ": ping\n\n"
                last_write = clock()
    finally:
        subscription.close()


def _replay(fetch_after: Callable[[int], list[tuple[int, dict[str, Any]]]], last_id: int) -> Generator[str, None, int]:
    while True:
        rows = fetch_after(last_id)
        for event_id, data in rows:
            yield sse("message", data, event_id)
            last_id = event_id
        if len(rows) < 200:
            return last_id
