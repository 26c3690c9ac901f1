"""What the browser tests stand on: Parley and the Shopify stand-in (with its demo
storefront) on real loopback sockets, a migrated SQLite file, and the demo shop
installed through the real App Home flow.

Parley's socket is bound before its app exists, because the stand-in's app proxy
must know Parley's URL and Parley's settings must know the stand-in's.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from app import create_app
from app.config import load_settings
from app.db import make_engine
from app.migrate import upgrade
from standins.demo import DEMO_SHOP, demo_settings, install_demo_shop, with_demo_pages
from standins.server import StandinServer
from standins.shopify.standin import ShopifyStandin
from standins.shopify.storefront import Storefront, enable_storefront
from standins.shopify.transport import standin_http
from tests.support.services import service_unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
API_KEY = "parley-browser-client-id"
CUSTOMER_ID = 7001
LOCALES = Path(__file__).resolve().parents[2] / "extensions" / "parley-chat" / "locales"


def widget_strings(name: str) -> dict[str, str]:
    """The widget's words in one language (`et`, `en.default`), as the theme extension ships them."""
    return json.loads((LOCALES / f"{name}.json").read_text(encoding="utf-8"))["parley"]


def watch(page: Any, errors: list[str]) -> None:
    """Uncaught exceptions fail the test; so does any dialog (an alert() is an injection)."""
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

    def on_dialog(dialog: Any) -> None:
        errors.append(f"dialog on {page.url}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)


@contextmanager
def browser_contexts(browser: Any, timeout_ms: int) -> Iterator[Callable[..., Any]]:
    """A maker of fresh browser contexts (each a device or shopper of its own), closed at
    the end; an error or dialog on any of their pages fails the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(width: int = 1280, height: int = 860, locale: str = "en-US") -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, reduced_motion="reduce"
        )
        context.set_default_timeout(timeout_ms)
        context.on("page", lambda page: watch(page, errors))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not errors, errors


def artifacts_dir() -> Path:
    path = Path(os.environ.get("PARLEY_ARTIFACTS", "artifacts")) / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class _NotReady:
    def __call__(self, environ: dict, start_response: Callable) -> list[bytes]:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"starting"]


class LiveServer:
    """A WSGI app on a loopback socket in a daemon thread; the app may be attached after binding."""

    def __init__(self, app: Any = None):
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app or _NotReady(), threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"live-{self._server.server_port}",
            daemon=True,
        )

    def serve(self, app: Any) -> "LiveServer":
        self._server.app = app
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class Stack:
    app: Any
    services: Any
    standin: ShopifyStandin
    storefront: Storefront
    parley_url: str
    standin_url: str
    shop_id: int
    # The time Parley's services read, when start_stack was given one.
    clock: Callable[[], datetime] | None = None

    @property
    def storefront_url(self) -> str:
        return f"{self.standin_url}/store/{DEMO_SHOP}/"


@contextmanager
def launch_chromium(timeout_ms: int):
    """Debian's Chromium through Playwright; never a downloaded browser. Missing: skip, or fail under CI."""

    if not chromium_available():
        service_unavailable(f"{CHROMIUM} is missing (apt-get install chromium); browser tests never download a browser")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=timeout_ms)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def start_stack(
    tmp: Path,
    *,
    settings: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] | None = None,
    assistant: bool = False,
):
    """(Stack, stop): Parley and the stand-in serving, the demo shop installed.

    `settings`: Settings fields over the browser defaults (say mailer="smtp" and smtp_port
    for a test's SMTP server, mail_inbound_domain). `clock`: the time Parley's services read
    (a MovableClock, to move past an outbox wait). The stand-in keeps the real time: Parley
    checks its ID tokens and app proxy signatures with shopify_app, against the real time.
    `assistant`: the shop's assistant answers in the background, as `parley serve` runs it
    (off by default: other tests' threads stay free of bot messages)."""
    api_secret = "parley-browser-secret-" + secrets.token_hex(8)
    parley_server = LiveServer()
    standin = ShopifyStandin(API_KEY, api_secret)
    standin.add_shop(DEMO_SHOP, name="Parley Demo Store")
    storefront = enable_storefront(standin, parley_server.url)
    storefront.add_demo_customer(DEMO_SHOP, CUSTOMER_ID)
    standin_server = StandinServer(standin).start()

    database_url = f"sqlite:///{tmp / 'parley.db'}"
    upgrade(make_engine(database_url))
    fields: dict[str, Any] = {
        "database_url": database_url,
        "shopify_api_key": API_KEY,
        "shopify_api_secret": api_secret,
        "secret_key": secrets.token_urlsafe(32),
        "token_encryption_key": Fernet.generate_key().decode(),
        "sse_heartbeat_seconds": 1.0,
        "sse_poll_seconds": 0.5,
        # Every browser request comes from 127.0.0.1; the per-visitor limit stays as shipped.
        "rate_limit_ip": "100000/minute",
    }
    parley_settings = load_settings(
        environ={"PARLEY_ENV": "test"},
        **demo_settings(parley_server.url, standin_server.url, **{**fields, **dict(settings or {})}),
    )
    app = with_demo_pages(
        create_app(parley_settings, shopify_http=standin_http(standin_server.url), clock=clock), standin
    )
    status = install_demo_shop(app, standin)
    if status != 200:
        raise RuntimeError(f"installing {DEMO_SHOP} answered HTTP {status}")
    parley_server.serve(app)

    from app import shops
    from app.models import Platform

    services = app.extensions["parley"]
    with services.db.session() as session:
        shop_id = shops.find_installed_shop(session, Platform.shopify, DEMO_SHOP).id
    if assistant:
        services.auto_replies.start()

    def stop() -> None:
        parley_server.stop()
        standin_server.stop()
        storefront.close()

    stack = Stack(app, services, standin, storefront, parley_server.url, standin_server.url, shop_id, clock)
    return stack, stop


# ---- the whole `make demo`, in-process ------------------------------------------------------


@dataclass
class DemoStack:
    """What `parley demo` runs, on loopback sockets: Parley on a port N, the Shopify
    stand-in (demo storefront) on N+1, the Saleor stand-in (Dashboard and storefront
    pages) on N+2, both demo shops installed the way run_demo installs them."""

    app: Any
    services: Any
    shopify: ShopifyStandin
    storefront: Storefront
    saleor: Any  # standins.saleor.standin.SaleorStandin
    saleor_install: dict
    parley_url: str
    shopify_url: str
    saleor_url: str

    @property
    def storefront_url(self) -> str:
        return f"{self.shopify_url}/store/{DEMO_SHOP}/"


def _consecutive_free_ports(count: int) -> int:
    """A port N such that N … N+count-1 are free now (build_demo wants them in a row)."""
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        try:
            for port in range(base, base + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no {count} consecutive free loopback ports")


def _serve_on(app: Any, port: int) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"demo-{port}", daemon=True
    )
    thread.start()
    return server, thread


def start_demo(tmp: Path, *, assistant: bool = False):
    """(DemoStack, stop): standins.demo.build_demo served on threads instead of gevent. The
    development secrets are made under `tmp`, never in the checkout's instance/. `assistant`:
    the shop's assistant answers in the background, as `parley demo` runs it."""
    from app import config as config_module
    from standins.demo import build_demo, install_saleor_demo

    port = _consecutive_free_ports(3)
    instance, config_module.INSTANCE = config_module.INSTANCE, tmp
    try:
        app, shopify = build_demo(port, database_url=f"sqlite:///{tmp / 'parley.db'}")
    finally:
        config_module.INSTANCE = instance
    saleor = app.extensions["parley.demo_saleor"]
    servers = [_serve_on(shopify.app, port + 1), _serve_on(saleor.app, port + 2)]
    status = install_demo_shop(app, shopify)
    if status != 200:
        raise RuntimeError(f"installing {DEMO_SHOP} answered HTTP {status}")
    servers.append(_serve_on(app, port))
    outcome = install_saleor_demo(app, saleor)
    if assistant:
        app.extensions["parley"].auto_replies.start()

    def stop() -> None:
        for server, thread in servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        shopify.storefront.close()
        saleor.client.close()

    stack = DemoStack(
        app,
        app.extensions["parley"],
        shopify,
        shopify.storefront,
        saleor,
        outcome,
        f"http://127.0.0.1:{port}",
        f"http://127.0.0.1:{port + 1}",
        saleor.url,
    )
    return stack, stop


# ---- geometry: what a person would see ---------------------------------------------------

# For each element: its box, and the box of its text alone (a Range over its contents),
# so a test can tell a box that is shorter than its text (clipped or overlapping).
_BOXES_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.getClientRects().length)
  .map((el) => {
    const box = el.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect();
    return {top: box.top, bottom: box.bottom, left: box.left, right: box.right, height: box.height,
            width: box.width, text_height: text.height, scroll_height: el.scrollHeight,
            client_height: el.clientHeight, text: (el.textContent || '').slice(0, 40)};
  })"""


def element_boxes(page: Any, selector: str) -> list[dict]:
    """The rendered boxes (viewport pixels) of the visible elements matching `selector`, in
    document order, each with `text_height` (the height its text needs)."""
    return page.evaluate(_BOXES_JS, selector)


def overlapping(boxes: list[dict], tolerance: float = 0.5) -> list[tuple[dict, dict]]:
    """Every pair of boxes that cover one another by more than `tolerance` pixels."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if (
                min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > tolerance
                and min(a["right"], b["right"]) - max(a["left"], b["left"]) > tolerance
            ):
                pairs.append((a, b))
    return pairs
