"""Saleor's side of the app protocol: the manifest, the token POST and the webhooks.

The Dashboard pages under /saleor/app and /saleor/extensions live in dashboard.py.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, jsonify, request, send_from_directory

from app.errors import ParleyError
from app.platforms.saleor import install, webhooks
from app.platforms.saleor.manifest import build_manifest
from app.web.context import parley

bp = Blueprint("saleor_app", __name__, url_prefix="/saleor")

STATIC = Path(__file__).resolve().parent / "static"


@bp.get("/manifest")
def manifest() -> Response:
    return jsonify(build_manifest(parley().settings))


@bp.get("/logo.png")
def logo() -> Response:
    return send_from_directory(STATIC, "logo.png", mimetype="image/png", max_age=86400)


@bp.post("/register")
def register() -> Response:
    services = parley()
    try:
        registration = install.parse_registration(
            services.settings,
            request.headers.get("Saleor-Api-Url"),
            request.get_json(silent=True),
            request.headers.get("Saleor-Domain"),
        )
        install.register(services.saleor.apps, registration)
    except install.RegisterError as exc:
        # Saleor shows `error.message` to the installer and deletes the app (saleor.md A2).
        response = jsonify(error={"code": exc.code, "message": exc.message})
        response.status_code = exc.status
        return response
    return jsonify(success=True)


@bp.post("/webhooks")
def receive_webhook() -> Response:
    services = parley()
    delivery = webhooks.verify_delivery(services.saleor.apps, dict(request.headers), request.get_data(cache=False))
    return jsonify(status=webhooks.store(services.inbound, delivery))


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest: str) -> Response:
    # Callers under /saleor/ are Saleor and the Dashboard's fetches: JSON, never an HTML page.
    error = ParleyError(404, "not_found", f"/saleor/{rest} is not a Parley endpoint")
    return _json_error(error)


def _json_error(error: ParleyError) -> Response:
    response = jsonify(error.as_json())
    response.status_code = error.status
    return response
