"""Saleor's side of the app protocol: the manifest, the token POST and the webhooks.

The Dashboard pages under /saleor/app and /saleor/extensions live in
app/web/saleor_dashboard.py.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, send_from_directory

from app import event_worker
from app.config import ROOT
from app.platforms.saleor import install, webhooks
from app.platforms.saleor.manifest import build_manifest
from app.web.context import parley

bp = Blueprint("saleor_app", __name__, url_prefix="/saleor")

STATIC = ROOT / "app" / "web" / "static" / "saleor"


def _error(status: int, code: str, message: str) -> Response:
    response = jsonify(error=code, message=message)
    response.status_code = status
    return response


@bp.get("/manifest")
def manifest():
    return jsonify(build_manifest(parley().settings))


@bp.get("/logo.png")
def logo():
    return send_from_directory(STATIC, "logo.png", mimetype="image/png", max_age=86400)


@bp.post("/register")
def register():
    services = parley()
    try:
        registration = install.parse_registration(
            services.settings, request.headers.get("Saleor-Api-Url"), request.get_json(silent=True),
            request.headers.get("Saleor-Domain"))
        install.register(services, registration)
    except install.RegisterError as exc:
        # Saleor shows `error.message` to the installer and deletes the app (saleor.md A2).
        response = jsonify(error={"code": exc.code, "message": exc.message})
        response.status_code = exc.status
        return response
    return jsonify(success=True)


@bp.post("/webhooks")
def receive_webhook():
    services = parley()
    try:
        delivery = webhooks.verify_delivery(services, request.headers, request.get_data(cache=False))
        outcome = webhooks.store(services, delivery)
    except webhooks.WebhookError as exc:
        return _error(exc.status, exc.code, exc.message)
    event_worker.received(services)
    return jsonify(status=outcome)


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest: str):
    # Callers under /saleor/ are Saleor and the Dashboard's fetches: JSON, never an HTML page.
    return _error(404, "not_found", f"/saleor/{rest} is not a Parley endpoint")
