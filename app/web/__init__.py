"""The web layer: blueprints that parse a request, call the core or a platform
adapter, and shape the answer. Shared pieces sit here; the Support page's API and
documents in admin/; each platform's own routes (install, App Home, manifest,
webhooks, Dashboard) in shopify/ and saleor/."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.web import (
        about,
        assistant,
        attachments,
        email,
        errors,
        health,
        mail_inbound,
        shopper_email,
        storefront,
        storefront_cart,
        widget,
    )
    from app.web.admin import exports, insights, notifications, pages, products, support
    from app.web.queries import StoredId
    from app.web.rate_limits import limiter
    from app.web.saleor import app as saleor_app
    from app.web.saleor import dashboard as saleor_dashboard
    from app.web.shopify import app_proxy, auth, webhooks
    from app.web.shopify import pages as shopify_pages

    app.url_map.converters["int"] = StoredId  # before any blueprint adds its rules
    limiter.init_app(app)
    errors.register(app)
    for blueprint in (
        health.bp,
        about.bp,
        storefront.bp,
        storefront_cart.bp,
        shopper_email.bp,
        assistant.shopper_bp,
        assistant.admin_bp,
        attachments.shopper_bp,
        attachments.admin_bp,
        email.bp,
        mail_inbound.bp,
        widget.bp,
        pages.bp,
        support.bp,
        products.bp,
        insights.bp,
        exports.bp,
        notifications.bp,
        auth.bp,
        shopify_pages.bp,
        webhooks.bp,
        app_proxy.bp,
        saleor_dashboard.bp,
        saleor_app.bp,
    ):
        app.register_blueprint(blueprint)
