"""Parley: live chat and support for Shopify and Saleor stores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from flask import Flask

    from app.config import Settings


def create_app(config: "Settings | Mapping[str, object] | None" = None, *, bind=None, broker=None) -> "Flask":
    """The Flask app factory.

    `config` is a finished Settings, or overrides (Settings field names) applied on
    top of the environment. `bind` is a SQLAlchemy engine or connection to use
    instead of DATABASE_URL (the tests' rollback pattern); `broker` replaces the
    one REDIS_URL would choose.
    """
    # Imported here, not at module level, so `parley serve` can patch sockets with
    # gevent before any library opens one.
    import logging

    from flask import Flask

    from app.config import ROOT, Settings, load_settings
    from app.services import Parley

    settings = config if isinstance(config, Settings) else load_settings(**dict(config or {}))

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=None)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=1024 * 1024)
    app.extensions["parley"] = Parley.build(settings, bind=bind, broker=broker)
    app.config["RATELIMIT_STORAGE_URI"] = settings.redis_url or "memory://"
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from app.web import about, admin_api, admin_insights, admin_pages, admin_support, app_proxy, errors, health, saleor_app, saleor_dashboard, shopify_auth, storefront, webhooks
    from app.web.rate_limits import limiter

    limiter.init_app(app)
    errors.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(about.bp)
    app.register_blueprint(shopify_auth.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(admin_api.bp)
    app.register_blueprint(admin_support.bp)
    app.register_blueprint(admin_insights.bp)
    app.register_blueprint(admin_pages.bp)
    app.register_blueprint(storefront.bp)
    app.register_blueprint(app_proxy.bp)
    app.register_blueprint(saleor_dashboard.bp)
    app.register_blueprint(saleor_app.bp)
    if settings.demo:
        from app.web import demo

        app.register_blueprint(demo.bp)
    return app
