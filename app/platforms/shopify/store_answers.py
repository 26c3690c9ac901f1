"""What a Shopify store has already written down, and its orders' status, for the shop's
assistant: shop policies and pages to import as answers (app/answers/importer.py), and
order look-ups for "where is my order?" (app/answers/order_desk.py).

Admin GraphQL: `shop.shopPolicies` (needs read_legal_policies), `pages` (read_content or
read_online_store_pages), `orders(query: "name:#1001")` and a customer's `orders`
(read_orders; Shopify returns the last 60 days without read_all_orders, which is the
window a shopper asks about anyway).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.answers.importer import ImportRecord
from app.answers.order_status import LookupUnavailable, OrderRecord, Tracking
from app.errors import ParleyError
from app.platforms.shopify.admin_api import AdminAPI, AdminAPIAccessDenied, AdminAPIError, AdminAPIUnauthorized

PAGE_SIZE = 50
MAX_PAGES = 250  # five requests; a shop with more pages than that keeps the rest for later
POLICIES_AND_PAGES = """
query ParleyAnswerSources($first: Int!, $after: String) {
  shop { shopPolicies { id type title body url } }
  pages(first: $first, after: $after) {
    nodes { id title handle body isPublished }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MORE_PAGES = """
query ParleyMorePages($first: Int!, $after: String) {
  pages(first: $first, after: $after) {
    nodes { id title handle body isPublished }
    pageInfo { hasNextPage endCursor }
  }
}
"""
_ORDER_FIELDS = """
  id name createdAt email displayFulfillmentStatus statusPageUrl
  fulfillments(first: 5) { trackingInfo { number url company } }
"""
ORDER_BY_NAME = "query ParleyOrderByName($query: String!) { orders(first: 5, query: $query) { nodes {" + (
    _ORDER_FIELDS + "} } }"
)
CUSTOMER_ORDERS = (
    "query ParleyCustomerOrders($id: ID!, $first: Int!) { customer(id: $id) {"
    " orders(first: $first, sortKey: CREATED_AT, reverse: true) { nodes {" + _ORDER_FIELDS + "} } } }"
)
_DIGITS = re.compile(r"^\d{1,12}$")


def _unavailable(exc: AdminAPIError) -> ParleyError:
    if isinstance(exc, AdminAPIAccessDenied):
        return ParleyError(
            403,
            "missing_scope",
            "Parley may not read your policies and pages yet: open Parley from the Shopify admin and approve "
            "the new permissions (read_content, read_legal_policies)",
        )
    if isinstance(exc, AdminAPIUnauthorized):
        return ParleyError(
            502, "platform_refused", "Shopify refused Parley's access token; reinstalling the app fixes this"
        )
    return ParleyError(503, "platform_unavailable", "Shopify could not be asked just now; try the import again")


def answer_records(api: AdminAPI, language: str) -> list[ImportRecord]:
    """The shop's policies and published pages, as records to import in `language`."""
    try:
        result = api.execute(POLICIES_AND_PAGES, {"first": PAGE_SIZE, "after": None})
        data = result.data
        records = [
            ImportRecord(
                "shopify_policy",
                str(policy.get("type") or policy.get("id") or ""),
                language,
                str(policy.get("title") or ""),
                str(policy.get("body") or ""),
                url=policy.get("url") if isinstance(policy.get("url"), str) else None,
            )
            for policy in ((data.get("shop") or {}).get("shopPolicies") or [])
            if isinstance(policy, dict)
        ]
        connection = data.get("pages") or {}
        pages: list[dict[str, Any]] = list(connection.get("nodes") or [])
        while (connection.get("pageInfo") or {}).get("hasNextPage") and len(pages) < MAX_PAGES:
            after = (connection.get("pageInfo") or {}).get("endCursor")
            connection = api.execute(MORE_PAGES, {"first": PAGE_SIZE, "after": after}).data.get("pages") or {}
            pages.extend(connection.get("nodes") or [])
    except AdminAPIError as exc:
        raise _unavailable(exc) from None
    for page in pages:
        if not isinstance(page, dict) or page.get("isPublished") is False:
            continue  # a hidden page is not for shoppers
        records.append(
            ImportRecord(
                "shopify_page",
                str(page.get("id") or ""),
                language,
                str(page.get("title") or ""),
                str(page.get("body") or ""),
            )
        )
    return records


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _order(node: dict[str, Any]) -> OrderRecord:
    parcels = []
    for fulfillment in node.get("fulfillments") or []:
        for info in (fulfillment or {}).get("trackingInfo") or []:
            if isinstance(info, dict):
                parcels.append(Tracking(info.get("number"), info.get("url"), info.get("company")))
    return OrderRecord(
        number=str(node.get("name") or ""),
        created_at=_moment(node.get("createdAt")),
        fulfillment=node.get("displayFulfillmentStatus"),
        tracking=tuple(parcels),
        status_url=node.get("statusPageUrl") if isinstance(node.get("statusPageUrl"), str) else None,
        email=node.get("email") if isinstance(node.get("email"), str) else None,
    )


class ShopifyOrders:
    """Order look-ups through the Admin API of a shop (by its permanent domain)."""

    def __init__(self, api_for: Callable[[str], AdminAPI]):
        self._api_for = api_for

    def _execute(self, domain: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._api_for(domain).execute(query, variables).data
        except AdminAPIError:
            raise LookupUnavailable("Shopify could not be asked") from None

    def recent_orders(self, domain: str, customer_id: str, limit: int) -> list[OrderRecord]:
        if not _DIGITS.match(customer_id):
            return []
        data = self._execute(domain, CUSTOMER_ORDERS, {"id": f"gid://shopify/Customer/{customer_id}", "first": limit})
        nodes = ((data.get("customer") or {}).get("orders") or {}).get("nodes") or []
        return [_order(node) for node in nodes if isinstance(node, dict)]

    def find_order(self, domain: str, number: str) -> OrderRecord | None:
        digits = number.lstrip("#")
        if not _DIGITS.match(digits):
            return None
        # Digits only, so nothing a shopper typed can change the search beyond the number.
        data = self._execute(domain, ORDER_BY_NAME, {"query": f"name:#{digits}"})
        nodes = (data.get("orders") or {}).get("nodes") or []
        return next(
            (_order(node) for node in nodes if isinstance(node, dict) and str(node.get("name")).lstrip("#") == digits),
            None,
        )
