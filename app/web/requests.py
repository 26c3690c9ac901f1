"""Reading a request: its JSON body, and its facts as the platform adapters take them."""

from __future__ import annotations

from typing import Any

from flask import request

from app.errors import ParleyError
from app.platforms.port import RequestFacts


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ParleyError(400, "invalid_json", "the request body must be a JSON object")
    return data


def request_facts() -> RequestFacts:
    return RequestFacts(
        method=request.method, url=request.url, headers=dict(request.headers), body=request.get_data(as_text=True)
    )


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return (header[7:].strip() or None) if header.startswith("Bearer ") else None
