"""A development stand-in (Shopify's or Saleor's) served on a real loopback socket in
a daemon thread, for tests and the demo. Platform-neutral: each platform's stand-in
module re-exports it as StandinServer."""

from __future__ import annotations

import threading
from typing import Any, Protocol

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class Served(Protocol):
    app: Any
    url: str


class StandinServer:
    def __init__(self, standin: Served, host: str = "127.0.0.1", port: int = 0):
        self.standin = standin
        self.host = host
        self.port = port
        self.url = ""
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "StandinServer":
        self._server = make_server(self.host, self.port, self.standin.app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://{self.host}:{self._server.server_port}"
        # The stand-in builds absolute URLs (JWKS issuer, redirects) from its own address.
        self.standin.url = self.url
        # A short poll interval keeps stop() (and so each test) from waiting half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self.standin).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)  # type: ignore[union-attr]
            self._server = self._thread = None

    def __enter__(self) -> "StandinServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # one access-log line per test request drowns the test output
