"""The `parley` command: serve, worker, demo, db upgrade."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


# Each open stream is a connection and a file descriptor. A reconnect storm (every stream
# dropped at once, as after a deploy) arrives faster than one worker accepts: the listen
# backlog holds it instead of the kernel resetting connections (the kernel caps it at
# net.core.somaxconn; README, Scaling).
STREAMS_PER_WORKER = 12000
LISTEN_BACKLOG = 16384


def serve_options(host: str, port: int, workers: int, environ: Mapping[str, str]) -> dict[str, Any]:
    """gunicorn's settings for `parley serve`."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gevent",
        "worker_connections": int(environ.get("STREAMS_PER_WORKER") or STREAMS_PER_WORKER),
        "backlog": int(environ.get("LISTEN_BACKLOG") or LISTEN_BACKLOG),
        "graceful_timeout": 10,
        "accesslog": None,
    }


def raise_file_limit(wanted: int) -> int:
    """Lifts this process's open-file limit towards `wanted` (up to the hard limit a
    non-root process may reach); its workers inherit it. Returns the soft limit now."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def cmd_serve(args: argparse.Namespace) -> int:
    """gunicorn with gevent workers: each worker holds thousands of idle streams cheaply."""
    from gunicorn.app.base import BaseApplication

    from app.config import load_settings
    from app.db import make_engine
    from app.migrate import upgrade

    settings = load_settings()
    upgrade(make_engine(settings.database_url))
    port = int(args.port or os.environ.get("PORT") or 8000)
    # Without Redis each process has its own in-process broker: one worker, or
    # streams on one worker would not hear messages stored by another.
    workers = int(os.environ.get("WEB_CONCURRENCY") or 2) if settings.redis_url else 1

    options = serve_options(args.host, port, workers, os.environ)
    raise_file_limit(options["worker_connections"] * workers + 1024)

    class Server(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints: its classes are Any
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Flask:
            from app import create_app

            app = create_app(settings)
            if settings.event_worker:
                # In each worker process, after the fork: a thread does not survive one.
                services = app.extensions["parley"]
                services.inbound.start_worker()
                services.notify.outbox.start()
            # Questions wait for the assistant in this process's memory: it runs where they arrive.
            app.extensions["parley"].auto_replies.start()
            return app

    print(
        f"Parley ({settings.env}) on http://{args.host}:{port} with {workers} gevent worker(s); public URL {settings.app_url}",
        flush=True,
    )
    Server().run()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Webhook events and the outbox alone, for deployments that keep them out of the web processes."""
    import signal
    import threading

    from app import wiring
    from app.config import load_settings
    from app.db import make_engine
    from app.migrate import upgrade

    settings = load_settings()
    upgrade(make_engine(settings.database_url))
    services = wiring.build(settings)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    services.inbound.start_worker()
    services.notify.outbox.start()
    print(f"Parley worker: webhook events every {settings.event_sweep_seconds:g} s, and the outbox", flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    services.inbound.stop_worker()
    services.notify.outbox.stop()
    return 0


def cmd_mail_in(args: argparse.Namespace) -> int:
    """The SMTP listener for shoppers' e-mail replies (point MX or a relay at it)."""
    import signal
    import threading

    from app import wiring
    from app.config import load_settings
    from app.db import make_engine
    from app.migrate import upgrade
    from app.notify.mail_in import controller

    settings = load_settings()
    upgrade(make_engine(settings.database_url))
    services = wiring.build(settings)
    host, port = args.host or settings.mail_in_host, int(args.port or settings.mail_in_port)
    listener = controller(services.notify.inbound, host, port)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    listener.start()
    print(f"Parley mail-in on {host}:{port}: replies to reply+…@{services.notify.courier.domain}", flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    listener.stop()
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from app.config import load_settings
    from app.db import make_engine
    from app.migrate import upgrade

    settings = load_settings()
    upgrade(make_engine(settings.database_url), args.revision)
    print(f"database at revision {args.revision}: {_safe_url(settings.database_url)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The stand-ins live outside the product, in the `demo` extra; say how to get them."""
    try:
        import standins.demo as demo
    except ImportError as exc:
        print(
            f"parley demo needs the stand-ins and their libraries ({exc.name or exc}); "
            "install them with: pip install -e '.[demo]'  (make demo does this for you)",
            file=sys.stderr,
        )
        return 2
    return demo.run_demo(port=int(args.port or os.environ.get("PORT") or 8000), host=args.host)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parley", description="Live chat and support for online stores.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server (migrates the database first)")
    serve.add_argument("--port", type=int, help="port to listen on (default: $PORT or 8000)")
    serve.add_argument("--host", default="0.0.0.0", help="interface to listen on (default: 0.0.0.0)")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="run Parley with local Shopify and Saleor stand-ins and a demo shop on each")
    demo.add_argument(
        "--port",
        type=int,
        help="Parley's port (default: $PORT or 8000); the Shopify stand-in uses the next one, Saleor's the one after",
    )
    demo.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    demo.set_defaults(func=cmd_demo)

    worker = sub.add_parser(
        "worker", help="process stored webhook events and the outbox (when PARLEY_EVENT_WORKER=off)"
    )
    worker.set_defaults(func=cmd_worker)

    mail_in = sub.add_parser("mail-in", help="the SMTP listener that takes shoppers' e-mail replies")
    mail_in.add_argument("--host", help="interface to listen on (default: $MAIL_IN_HOST or 127.0.0.1)")
    mail_in.add_argument("--port", type=int, help="port to listen on (default: $MAIL_IN_PORT or 2525)")
    mail_in.set_defaults(func=cmd_mail_in)

    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)

    args = parser.parse_args(argv)
    if args.command == "demo":
        # Before anything imports socket or ssl: every wait then yields to other requests.
        # (`serve` leaves this to gunicorn's gevent worker.)
        from gevent import monkey

        monkey.patch_all()
    from app.config import ConfigError

    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print(f"parley: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
