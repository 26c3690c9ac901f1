"""Reading an SSE response chunk by chunk, in the test's own thread."""

from __future__ import annotations

import json

from tests.support.shoppers import API


class Stream:
    def __init__(self, response):
        self.response = response
        self._chunks = iter(response.response)
        # The stream subscribes when it starts: read its first line so what the test
        # does next happens while it listens.
        first = next(self._chunks)
        assert (first.decode() if isinstance(first, bytes) else first).startswith("retry:")

    def next_event(self) -> dict:
        while True:
            text = next(self._chunks)
            text = text.decode() if isinstance(text, bytes) else text
            if text.startswith("retry:"):
                continue
            return parse_event(text)

    def close(self) -> None:
        self.response.close()


def parse_event(text: str) -> dict:
    if text.startswith(":"):
        return {"comment": text.strip()}
    event: dict = {}
    for line in text.strip().splitlines():
        key, _, value = line.partition(": ")
        event[key] = json.loads(value) if key == "data" else value
    return event


def open_stream(client, session: dict, last_event_id: int | None = None) -> Stream:
    """The shopper's stream, resuming after `last_event_id` when given."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    response = client.get(f"{API}/stream?token={session['visitor_token']}", headers=headers, buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    return Stream(response)
