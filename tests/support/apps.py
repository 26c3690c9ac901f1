"""Parley apps for tests, wired to the Shopify stand-in the way `parley demo` is."""

from __future__ import annotations

from typing import Any

from app import create_app
from standins.shopify.transport import standin_http


def make_app(settings, standin, bind=None, clock=None, **kwargs: Any):
    app = create_app(settings, bind=bind, clock=clock, shopify_http=standin_http(standin.url), **kwargs)
    app.config["TESTING"] = True
    return app
