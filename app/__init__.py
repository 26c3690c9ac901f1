"""Parley: live chat and support for Shopify and Saleor stores."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Connection, Engine

    from app.clock import Clock
    from app.config import Settings
    from app.notify.mailer import Mailer
    from app.platforms.shopify.http import ShopifyHTTP
    from app.realtime.broker import Broker


def create_app(
    config: "Settings | Mapping[str, object] | None" = None,
    *,
    bind: "Engine | Connection | None" = None,
    broker: "Broker | None" = None,
    clock: "Clock | None" = None,
    shopify_http: "ShopifyHTTP | None" = None,
    mailer: "Mailer | None" = None,
) -> "Flask":
    """The Flask app factory.

    `config` is a finished Settings, or overrides (Settings field names) applied on
    top of the environment. The keyword arguments replace what the settings would
    choose: `bind` a SQLAlchemy engine or connection (the tests' rollback pattern),
    `broker` the event broker, `clock` the time, `shopify_http` where Shopify requests
    go (a stand-in's transport; production refuses it), `mailer` how e-mail leaves.
    """
    # Imported here, not at module level, so `parley serve` can patch sockets with
    # gevent before any library opens one.
    import logging

    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from app import wiring
    from app.config import ROOT, Settings, load_settings
    from app.web import register
    from app.web.rate_limits import quiet_rate_limit_log, rate_limit_config
    from app.web.requests import guard_request, harden_response

    settings = config if isinstance(config, Settings) else load_settings(environ=None, **dict(config or {}))
    services = wiring.build(settings, bind=bind, broker=broker, clock=clock, shopify_http=shopify_http, mailer=mailer)

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=None)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=1024 * 1024)
    app.config.update(rate_limit_config(settings.redis_url))
    app.extensions["parley"] = services
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    quiet_rate_limit_log()
    if settings.trusted_proxies > 0:
        # The client's address (rate limits) and scheme from the proxies in front; the
        # host stays ours: public URLs come from APP_URL, and Shopify's app proxy sends
        # the shop's domain as X-Forwarded-Host.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies, x_host=0
        )
    app.before_request(guard_request)
    register(app)
    app.after_request(harden_response)
    return app
