"""One way to answer an EventSource: a lossless stream over the broker, read
after the client's Last-Event-ID (app/realtime/sse.py), as an HTTP response."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Response, request, stream_with_context

from app.realtime.sse import event_stream, parse_last_event_id
from app.web.context import parley


def sse_response(channels: Sequence[str], fetch_after: Callable[[int], list[tuple[int, dict[str, Any]]]]) -> Response:
    services = parley()
    last_id = parse_last_event_id(request.headers.get("Last-Event-ID"), request.args.get("last_event_id"))
    events = event_stream(
        services.broker,
        channels,
        last_id,
        fetch_after,
        heartbeat=services.settings.sse_heartbeat_seconds,
        poll=services.settings.sse_poll_seconds,
    )
    return Response(
        stream_with_context(events),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
