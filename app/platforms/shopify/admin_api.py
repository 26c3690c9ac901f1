"""Shopify's Admin GraphQL API through `gql`, with Shopify's cost and throttle rules.

A throttled answer is HTTP 200 with `errors[].extensions.code == "THROTTLED"`;
every answer carries `extensions.cost.throttleStatus`, from which we say how long
to wait instead of hammering the bucket.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportError, TransportQueryError, TransportServerError
from gql.transport.httpx import HTTPXTransport

from app.platforms.shopify.http import REAL_SHOPIFY, ShopifyHTTP


class AdminAPIError(Exception):
    """The Admin API gave no usable answer."""


class AdminAPIUnauthorized(AdminAPIError):
    """The token was refused: the app was uninstalled or the token revoked."""


class AdminAPIUnavailable(AdminAPIError):
    """Shopify could not be reached or answered with a server error."""


class AdminAPIAccessDenied(AdminAPIError):
    """The token lacks a scope the query needs (`ACCESS_DENIED`): the merchant has not
    approved it yet (an install from before Parley asked for it)."""


class AdminAPIThrottled(AdminAPIError):
    def __init__(self, retry_after: float, cost: dict[str, Any] | None):
        super().__init__(f"Admin API throttled; retry in {retry_after:.1f}s")
        self.retry_after = retry_after
        self.cost = cost


@dataclass
class AdminResult:
    data: dict[str, Any]
    cost: dict[str, Any] = field(default_factory=dict)

    @property
    def currently_available(self) -> float | None:
        status = self.cost.get("throttleStatus") or {}
        return status.get("currentlyAvailable")


SHOP_QUERY = """
query ShopBasics {
  shop { id name myshopifyDomain ianaTimezone currencyCode primaryDomain { url } }
}
"""


class AdminAPI:
    def __init__(self, shop: str, access_token: str, api_version: str, http: ShopifyHTTP = REAL_SHOPIFY):
        self.shop = shop
        self.url = f"https://{shop}/admin/api/{api_version}/graphql.json"
        self._http = http
        self._headers = {"X-Shopify-Access-Token": access_token}

    def __repr__(self) -> str:
        return f"AdminAPI(shop={self.shop!r})"

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> AdminResult:
        # Shopify's 401 and 5xx bodies are JSON with an `errors` string, which gql would
        # take for a GraphQL answer; the status decides first.
        transport = HTTPXTransport(
            url=self.url,
            headers=self._headers,
            **self._http.client_kwargs(),
            event_hooks={"response": [_raise_for_status]},
        )
        client = Client(transport=transport, fetch_schema_from_transport=False)
        request = GraphQLRequest(query, variable_values=variables)
        try:
            result = client.execute(request, get_execution_result=True)
        except TransportQueryError as exc:
            _raise_for_graphql_errors(exc)
            raise AdminAPIError(str(exc)) from exc
        except TransportServerError as exc:
            if exc.code in (401, 403):
                raise AdminAPIUnauthorized(f"Shopify refused the access token ({exc.code})") from exc
            raise AdminAPIUnavailable(f"Shopify answered {exc.code}") from exc
        except (TransportError, httpx.HTTPError) as exc:
            # gql wraps what our status hook raised; surface it as it was.
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, AdminAPIError):
                raise cause from None
            raise AdminAPIUnavailable(f"Shopify could not be reached: {exc.__class__.__name__}") from exc
        extensions = result.extensions or {}
        return AdminResult(data=result.data or {}, cost=extensions.get("cost") or {})


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code in (401, 403):
        raise AdminAPIUnauthorized(f"Shopify refused the access token ({response.status_code})")
    if response.status_code == 429 or response.status_code >= 500:
        raise AdminAPIUnavailable(f"Shopify answered {response.status_code}")


def _raise_for_graphql_errors(exc: TransportQueryError) -> None:
    errors = exc.errors or []
    if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
        cost = (exc.extensions or {}).get("cost") if isinstance(exc.extensions, dict) else None
        raise AdminAPIThrottled(retry_after_for(cost), cost) from exc
    denied = [e for e in errors if isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "ACCESS_DENIED"]
    if denied:
        raise AdminAPIAccessDenied(str(denied[0].get("message") or "access denied")[:300]) from exc


def retry_after_for(cost: dict[str, Any] | None) -> float:
    """Seconds until the bucket holds enough points for the query that was refused."""
    if not cost:
        return 1.0
    status = cost.get("throttleStatus") or {}
    needed = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
    rate = float(status.get("restoreRate") or 50)
    return max(1.0, math.ceil(needed / rate)) if needed > 0 else 1.0
