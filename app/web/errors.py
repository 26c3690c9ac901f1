"""Every error answers as `{"error": code, "message": sentence}` (and `field` when it is
about one input) with the right status; document routes get the same words as a
small readable page."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from app.errors import ParleyError

log = logging.getLogger(__name__)

# Paths whose callers are programs (widget, admin fetches, Shopify), never people.
JSON_PREFIXES = (
    "/api/",
    "/admin/api/",
    "/webhooks/",
    "/healthz",
    "/proxy/",
    "/saleor/manifest",
    "/saleor/register",
    "/saleor/webhooks",
)


SALEOR_REGISTER = "/saleor/register"


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, field: str | None = None
) -> Response:
    if request.path == SALEOR_REGISTER:
        # Saleor shows the installer `error.message` of a refused token POST (saleor.md A2).
        response = jsonify(error={"code": code.upper(), "message": message})
    elif request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == "application/json":
        body = {"error": code, "message": message}
        if field is not None:
            body["field"] = field
        response = jsonify(body)
    else:
        response = Response(
            render_template("error.html", status=status, code=code, message=message), mimetype="text/html"
        )
    response.status_code = status
    response.headers.update(dict(headers or {}))
    return response


def register(app: Flask) -> None:
    @app.errorhandler(ParleyError)
    def _parley_error(exc: ParleyError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.headers, exc.field)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if exc.code == 429:
            return error_response(429, "rate_limited", "too many requests; wait a moment and try again")
        if exc.code == 413:
            return error_response(413, "too_large", "the request body is too large")
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        # Not "nothing was lost": the request may not have been stored. The caller retries
        # (the widget resends with the same client id, which never stores twice).
        return error_response(
            500, "internal_error", "Parley hit an unexpected error and did not finish this; try again"
        )
