"""Reading a request: the guard every request passes before a view (or a library a view
calls) parses anything, its JSON body, and its facts as the platform adapters take them;
and the headers every answer carries."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from flask import Response, request

from app.errors import ParleyError
from app.platforms.port import RequestFacts

# Deeper than any payload Parley or a platform sends (a Saleor order is about ten levels),
# far shallower than the recursion limit of the parsers and walkers behind the views.
MAX_JSON_DEPTH = 64
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_EMPTY_PAIRS = re.compile(rb"\[\]|\{\}")
# A JSON escape of NUL: `\u0000` after an even number of backslashes (`\\u0000` is text).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# Longer integers than the JSON parser reads raise ValueError in every parser, shopifyapp's
# log redaction (which runs before the signature is checked) included.
MAX_DIGITS = sys.get_int_max_str_digits() or 4300
_LONG_DIGITS = re.compile(rb"[0-9]{%d}" % (MAX_DIGITS + 1))


def _refuse_text(where: str) -> ParleyError:
    return ParleyError(
        400, "invalid_text", f"{where} holds a character text cannot hold (NUL or a lone surrogate)", field=where
    )


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `body`, read as JSON, nests deeper than `limit` (an upper bound: malformed
    JSON may count as deeper than it is, and the parser refuses it anyway).

    Done on the raw bytes, before any parser recurses: strings are dropped, then
    everything that is not a bracket, then innermost pairs a few rounds at a time, so
    an ordinary payload costs a handful of C-speed passes."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    # Each round takes one level off every branch; an ordinary payload is gone in as
    # many rounds as it is deep, and whatever is left is that many levels shallower.
    rounds = 0
    while rounds < 8 and brackets:
        reduced = _EMPTY_PAIRS.sub(b"", brackets)
        if reduced == brackets:
            break
        brackets, rounds = reduced, rounds + 1
    depth = rounds
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
        depth = max(depth, rounds)
    return False


def _holds_bad_text(value: Any) -> bool:
    """A parsed JSON value with a NUL or a lone surrogate in any key or string."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def check_body(body: bytes) -> None:
    """Refuse a body no view should see: nested past MAX_JSON_DEPTH, or carrying text that
    neither PostgreSQL nor UTF-8 can hold (NUL, lone surrogates) in any form."""
    if not body:
        return
    if b"\x00" in body:
        raise _refuse_text("the request body")
    if json_depth_exceeds(body):
        raise ParleyError(
            400, "too_deep", f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep; send a flatter one"
        )
    if _LONG_DIGITS.search(body) and _LONG_DIGITS.search(_STRINGS.sub(b"", body)):
        # Python reads no longer integer (and in a string it is just text).
        raise ParleyError(400, "number_too_long", f"the JSON body holds a number of more than {MAX_DIGITS} digits")
    if b"\\u" in body:
        if _NUL_ESCAPE.search(body):
            raise _refuse_text("the request body")
        if _SURROGATE_ESCAPE.search(body):
            # Pairs are fine (an emoji escaped); only parsing tells a pair from a lone half.
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                return  # not JSON: the view refuses it as it refuses any malformed body
            if _holds_bad_text(parsed):
                raise _refuse_text("the request body")
    if b"%00" in body and request.mimetype == "application/x-www-form-urlencoded":
        raise _refuse_text("the form")


# Endpoints whose body is a file (app/web/attachments.py), with the most bytes they take;
# every other body is checked here and capped by MAX_CONTENT_LENGTH.
BINARY_BODIES: dict[str, int] = {}


def guard_request() -> None:
    """Before every view: text in the path, query string, headers and body that no view
    could store, and JSON deep enough to exhaust a parser's recursion, are a 400 here,
    before a view or a library behind it (shopifyapp's log redaction, pydantic, the JSON
    parser) touches them. The body is read once and cached; views read it again from
    the cache."""
    if "\x00" in request.path:
        raise _refuse_text("the path")
    for key, value in request.args.items(multi=True):
        if "\x00" in key or "\x00" in value:
            raise _refuse_text(key if "\x00" not in key else "the query string")
    for name, value in request.headers.items():
        if "\x00" in value:
            raise _refuse_text(name)
    cap = BINARY_BODIES.get(request.endpoint or "")
    if cap is not None:
        # A picture's bytes are neither JSON nor text; the view caps and reads them itself.
        request.max_content_length = cap
    elif request.method not in ("GET", "HEAD", "OPTIONS") or request.content_length:
        check_body(request.get_data(cache=True, parse_form_data=False))


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


# Every answer: no MIME sniffing (an uploaded or echoed text never runs as a script), and
# no path or query (visitor tokens, stream tickets, ID tokens) in the Referer sent elsewhere.
HARDENING_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def harden_response(response: Response) -> Response:
    for name, value in HARDENING_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
