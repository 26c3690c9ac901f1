"""The anchor for stream capacity: the least an SSE server under gevent can do. One
process, gevent's WSGI server with the same listen backlog and file limit as `parley
serve`, answering every GET with `retry:` and then a heartbeat every 15 s; no
authentication, no database, no broker. Run as `python -m bench.bare_sse PORT`."""

from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import gevent  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

from app.cli import LISTEN_BACKLOG, STREAMS_PER_WORKER, raise_file_limit  # noqa: E402


def app(environ: dict, start_response) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
    if environ["PATH_INFO"] == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"ok"])
    start_response("200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")])

    def events() -> Iterator[bytes]:
        yield b"retry: 3000\n\n"
        while True:
            gevent.sleep(15)
            yield b": ping\n\n"

    return events()


if __name__ == "__main__":
    raise_file_limit(STREAMS_PER_WORKER + 1024)
    server = WSGIServer(("127.0.0.1", int(sys.argv[1])), app, backlog=LISTEN_BACKLOG, log=None)
    server.serve_forever()
