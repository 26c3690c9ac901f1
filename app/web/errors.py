"""Every error answers as `{"error": code, "message": sentence}` with the right
status; document routes get the same words as a small readable page."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from app.chat.conversations import ChatError
from app.platforms.shopify.install import InstallError
from app.platforms.shopify.requests import ShopifyRequestError

log = logging.getLogger(__name__)

# Paths whose callers are programs (widget, admin fetches, Shopify), never people.
JSON_PREFIXES = ("/api/", "/admin/api/", "/webhooks/", "/healthz", "/proxy/", "/saleor/manifest", "/saleor/register", "/saleor/webhooks")


class APIError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    if request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == "application/json":
        response = jsonify(error=code, message=message)
    else:
        response = Response(render_template("error.html", status=status, code=code, message=message), mimetype="text/html")
    response.status_code = status
    response.headers.update(headers or {})
    return response


def register(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(exc: APIError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.errorhandler(ShopifyRequestError)
    def _shopify_error(exc: ShopifyRequestError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(ChatError)
    def _chat_error(exc: ChatError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(InstallError)
    def _install_error(exc: InstallError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code == 429:
            return error_response(429, "rate_limited", "too many requests; wait a moment and try again")
        if exc.code == 413:
            return error_response(413, "too_large", "the request body is too large")
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Parley hit an unexpected error; nothing was lost, try again")
