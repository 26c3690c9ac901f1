"""Parley: live chat and support for Shopify and Saleor stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Connection, Engine

    from app.clock import Clock
    from app.config import Settings
    from app.platforms.shopify.http import ShopifyHTTP
    from app.realtime.broker import Broker


def create_app(
    config: "Settings | Mapping[str, object] | None" = None,
    *,
    bind: "Engine | Connection | None" = None,
    broker: "Broker | None" = None,
    clock: "Clock | None" = None,
    shopify_http: "ShopifyHTTP | None" = None,
) -> "Flask":
    """The Flask app factory.

    `config` is a finished Settings, or overrides (Settings field names) applied on
    top of the environment. The keyword arguments replace what the settings would
    choose: `bind` a SQLAlchemy engine or connection (the tests' rollback pattern),
    `broker` the event broker, `clock` the time, `shopify_http` where Shopify requests
    go (a stand-in's transport; production refuses it).
    """
    # Imported here, not at module level, so `parley serve` can patch sockets with
    # gevent before any library opens one.
    import logging

    from flask import Flask

    from app import wiring
    from app.config import ROOT, Settings, load_settings
    from app.web import register

    settings = config if isinstance(config, Settings) else load_settings(environ=None, **dict(config or {}))
    services = wiring.build(settings, bind=bind, broker=broker, clock=clock, shopify_http=shopify_http)

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=None)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=1024 * 1024)
    app.config["RATELIMIT_STORAGE_URI"] = settings.redis_url or "memory://"
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    app.extensions["parley"] = services
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    register(app)
    return app
