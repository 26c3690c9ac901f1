"""Parley: live chat and support for Shopify and Saleor stores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from flask import Flask

    from app.config import Settings


def create_app(config: "Settings | Mapping[str, object] | None" = None, *, bind=None) -> "Flask":
    """The Flask app factory.

    `config` is a finished Settings, or overrides (Settings field names) applied on
    top of the environment. `bind` is a SQLAlchemy engine or connection to use
    instead of DATABASE_URL (the tests' rollback pattern).
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
    app.extensions["parley"] = Parley.build(settings, bind=bind)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from app.web import admin_api, errors, health, shopify_auth, webhooks

    errors.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(shopify_auth.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(admin_api.bp)
    if settings.demo:
        from app.web import demo

        app.register_blueprint(demo.bp)
    return app
