"""Webhook endpoints. One route per subscription in shopify.app.toml; the
topic header says what happened."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app import event_worker
from app.platforms.shopify import webhooks as shopify_webhooks
from app.web.context import parley

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

APP_TOPICS = {"app/uninstalled", "app/scopes_update"}
COMPLIANCE_TOPICS = {"customers/data_request", "customers/redact", "shop/redact"}


def _receive(allowed: set[str]):
    services = parley()
    delivery = shopify_webhooks.parse_delivery(
        services.shopify.app, request.method, request.url, request.headers, request.get_data(cache=False)
    )
    if delivery.topic not in allowed:
        return jsonify(error="unexpected_topic", message=f"{delivery.topic} is not delivered to this address"), 400
    outcome = shopify_webhooks.handle(services.db, delivery, services.now())
    return jsonify(status=outcome), 200


@bp.post("/commerce")
def commerce_events():
    """Orders, carts and checkouts: stored, acknowledged, then processed by the event worker."""
    services = parley()
    delivery = shopify_webhooks.parse_delivery(
        services.shopify.app, request.method, request.url, request.headers, request.get_data(cache=False)
    )
    outcome = shopify_webhooks.store(services.db, delivery, services.now())
    if outcome == "stored":
        event_worker.received(services)
    return jsonify(status=outcome), 200


@bp.post("/app")
def app_events():
    return _receive(APP_TOPICS)


@bp.post("/compliance")
def compliance():
    return _receive(COMPLIANCE_TOPICS)
