"""Event streams read on threads of their own, so a test can hold several open at once
(a Flask streaming response must be iterated on the thread that started it) and do
other requests meanwhile. Each reader puts the parsed events on a queue."""

from __future__ import annotations

import queue
import threading

from tests.support.streams import parse_event


class StreamReader:
    def __init__(self, app, url: str, headers: dict[str, str] | None = None):
        self.events: queue.Queue[dict] = queue.Queue()
        self._app, self._url, self._headers = app, url, headers or {}
        self._stop = threading.Event()
        self._opened = threading.Event()
        self.status: int | None = None
        self._thread = threading.Thread(target=self._read, name=f"stream {url[:40]}", daemon=True)
        self._thread.start()
        assert self._opened.wait(10), "the stream did not open"

    def _read(self) -> None:
        response = self._app.test_client().get(self._url, headers=self._headers, buffered=False)
        self.status = response.status_code
        chunks = iter(response.response)
        try:
            next(chunks)  # `retry:`: the stream has subscribed
            self._opened.set()
            for chunk in chunks:
                text = chunk.decode() if isinstance(chunk, bytes) else chunk
                if not text.startswith(("retry:", ":")):
                    self.events.put(parse_event(text))
                if self._stop.is_set():
                    break
        finally:
            self._opened.set()
            response.close()

    def next_message(self, timeout: float = 10) -> dict:
        while True:
            event = self.events.get(timeout=timeout)
            if event.get("event") == "message":
                return event

    def close(self) -> None:
        """Stops after the next heartbeat or event (the stream's own thread closes it)."""
        self._stop.set()
        self._thread.join(10)
