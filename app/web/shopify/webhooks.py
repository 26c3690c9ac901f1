"""Shopify's webhook endpoints: one route per subscription in shopify.app.toml; the
topic header says what happened (app/platforms/shopify/webhooks.py decides what to do)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.platforms.shopify import commerce
from app.platforms.shopify.webhooks import APP_TOPICS, COMPLIANCE_TOPICS, parse_delivery, receive
from app.web.context import parley

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _receive(topics: set[str]) -> Response:
    services = parley()
    delivery = parse_delivery(
        services.shopify.installer.app,
        request.method,
        request.url,
        dict(request.headers),
        request.get_data(cache=False),
    )
    return jsonify(status=receive(services.inbound, delivery, topics))


@bp.post("/commerce")
def commerce_events() -> Response:
    """Orders, carts and checkouts: stored, acknowledged, then processed by the event worker."""
    return _receive(commerce.TOPICS)


@bp.post("/app")
def app_events() -> Response:
    return _receive(APP_TOPICS)


@bp.post("/compliance")
def compliance() -> Response:
    return _receive(COMPLIANCE_TOPICS)
