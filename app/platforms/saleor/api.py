"""Saleor's GraphQL API through `gql`, with the app token.

Saleor answers a GraphQL request with HTTP 200 (400 for a malformed one) even when
the token is unknown: a revoked app token simply makes the request anonymous, and
each permission-gated field comes back null with a `PermissionDenied` error
(saleor/graphql/views.py). So "our token no longer works" is read from the answer,
not only from an HTTP 401 (which a proxy in front of Saleor may still send).

Amounts (`Money.amount`, a GraphQL Float) are parsed straight from the JSON text
into Decimal, so no binary float ever touches money.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError, TransportServerError
from gql.transport.httpx import HTTPXTransport

TIMEOUT = httpx.Timeout(10.0, connect=3.0)
PERMISSION_DENIED = "PermissionDenied"

WHOAMI = "query ParleyWhoAmI { app { id } }"


class SaleorAPIError(Exception):
    """Saleor gave no usable answer."""


class SaleorTokenRefused(SaleorAPIError):
    """The app token was refused (HTTP 401/403, or the answer says we are anonymous)."""


class SaleorUnavailable(SaleorAPIError):
    """Saleor could not be reached, or answered with a server error."""


@dataclass
class SaleorResult:
    data: dict[str, Any]
    # Field-level errors Saleor sent beside partial data (e.g. orders hidden by permissions).
    errors: list[dict[str, Any]] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)


def permission_denied(errors: list[Any] | None) -> bool:
    return any(
        isinstance(e, dict) and ((e.get("extensions") or {}).get("exception") or {}).get("code") == PERMISSION_DENIED
        for e in errors or []
    )


class SaleorAPI:
    def __init__(self, api_url: str, token: str | None, transport: httpx.BaseTransport | None = None):
        self.api_url = api_url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._transport = transport

    def __repr__(self) -> str:  # the token stays out of logs
        return f"SaleorAPI({self.api_url!r})"

    def execute(self, query: str, variables: dict[str, Any] | None = None, *, partial_ok: bool = False) -> SaleorResult:
        """Run one operation. `partial_ok` accepts data that came with field errors."""
        kwargs: dict[str, Any] = {"timeout": TIMEOUT, "event_hooks": {"response": [_raise_for_status]}}
        if self._transport is not None:
            kwargs["transport"] = self._transport
        transport = HTTPXTransport(
            url=self.api_url,
            headers=self._headers,
            json_deserialize=partial(json.loads, parse_float=Decimal),
            **kwargs,
        )
        client = Client(transport=transport, fetch_schema_from_transport=False)
        try:
            result = client.execute(GraphQLRequest(query, variable_values=variables), get_execution_result=True)
        except TransportQueryError as exc:
            if partial_ok and isinstance(exc.data, dict):
                return SaleorResult(exc.data, list(exc.errors or []), exc.extensions or {})
            if permission_denied(exc.errors):
                raise SaleorTokenRefused(_first_message(exc.errors)) from None
            raise SaleorAPIError(_first_message(exc.errors)) from None
        except TransportServerError as exc:
            if exc.code in (401, 403):
                raise SaleorTokenRefused(f"Saleor refused the app token ({exc.code})") from None
            raise SaleorUnavailable(f"Saleor answered {exc.code}") from None
        except (TransportError, httpx.HTTPError) as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, SaleorAPIError):
                raise cause from None
            raise SaleorUnavailable(f"Saleor could not be reached: {exc.__class__.__name__}") from None
        return SaleorResult(result.data or {}, [], result.extensions or {})

    def app_id(self) -> str | None:
        """Our App's global id as this token sees it; None when the token is not an app token there."""
        try:
            result = self.execute(WHOAMI, partial_ok=True)
        except SaleorTokenRefused:
            return None
        app = result.data.get("app")
        return app.get("id") if isinstance(app, dict) and isinstance(app.get("id"), str) else None


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code in (401, 403):
        raise SaleorTokenRefused(f"Saleor refused the app token ({response.status_code})")
    if response.status_code == 429 or response.status_code >= 500:
        raise SaleorUnavailable(f"Saleor answered {response.status_code}")


def _first_message(errors: list[Any] | None) -> str:
    for error in errors or []:
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
    return "Saleor answered with an error"


def money(value: Any) -> Decimal | None:
    """A `Money.amount` as Decimal (already Decimal when parsed by SaleorAPI, text or int otherwise)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):  # never expected: payloads are parsed with parse_float=Decimal
        value = repr(value)
    try:
        return Decimal(value) if not isinstance(value, Decimal) else value
    except (ArithmeticError, ValueError, TypeError):
        return None
