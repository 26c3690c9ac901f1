"""What a Saleor has already written down, and its orders' status, for the shop's
assistant: published pages to import as answers, and order look-ups for "where is my
order?".

Pages are public (`pages` lists the published ones to any caller; unpublished ones
need MANAGE_PAGES, which Parley does not ask for). `Page.content` is Editor.js JSON
(a JSONString: the JSON text of `{"blocks": [...]}`), turned into HTML here and into
text by the importer. Orders need MANAGE_ORDERS, which the manifest asks for;
`orders(filter: {numbers: [...]})` is the filter every Saleor from 3.1 on has.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any

from app.answers.importer import ImportRecord
from app.answers.order_status import LookupUnavailable, OrderRecord, Tracking
from app.errors import ParleyError
from app.models import Shop
from app.platforms.saleor.api import SaleorAPI, SaleorAPIError, SaleorTokenRefused, permission_denied

PAGE_SIZE = 100
MAX_PAGES = 300
PAGES = """
query ParleyAnswerPages($first: Int!, $after: String) {
  pages(first: $first, after: $after) {
    edges { node { id title slug content isPublished } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
_ORDER_FIELDS = "id number created status userEmail fulfillments { trackingNumber status }"
ORDER_BY_NUMBER = (
    "query ParleyOrderByNumber($numbers: [String!]) { orders(first: 5, filter: {numbers: $numbers}) {"
    " edges { node { " + _ORDER_FIELDS + " } } } }"
)
CUSTOMER_ORDERS = (
    "query ParleyCustomerOrders($id: ID!, $first: Int!) { user(id: $id) {"
    " orders(first: $first) { edges { node { " + _ORDER_FIELDS + " } } } } }"
)
_DIGITS = re.compile(r"^\d{1,12}$")
_HEADINGS = {1, 2, 3, 4, 5, 6}


def editorjs_html(content: Any) -> str:
    """Editor.js blocks as HTML (inline markup, which Editor.js keeps as HTML, stays)."""
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return escape(content)
    blocks = content.get("blocks") if isinstance(content, dict) else None
    parts: list[str] = []
    for block in blocks if isinstance(blocks, list) else []:
        data = block.get("data") if isinstance(block, dict) else None
        if not isinstance(data, dict):
            continue
        kind = block.get("type")
        if kind == "header":
            level = data.get("level") if data.get("level") in _HEADINGS else 2
            parts.append(f"<h{level}>{data.get('text') or ''}</h{level}>")
        elif kind == "list":
            items = [item.get("content") if isinstance(item, dict) else item for item in data.get("items") or []]
            parts.append("<ul>" + "".join(f"<li>{item}</li>" for item in items if isinstance(item, str)) + "</ul>")
        elif isinstance(data.get("text"), str):  # paragraph, quote
            parts.append(f"<p>{data['text']}</p>")
    return "".join(parts)


def answer_records(api: SaleorAPI, language: str) -> list[ImportRecord]:
    """The Saleor's published pages, as records to import in `language`."""
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    try:
        while len(nodes) < MAX_PAGES:
            result = api.execute(PAGES, {"first": PAGE_SIZE, "after": after}, partial_ok=True)
            connection = result.data.get("pages")
            if connection is None and permission_denied(result.errors):
                raise SaleorTokenRefused("pages denied")
            connection = connection or {}
            nodes.extend(edge.get("node") or {} for edge in connection.get("edges") or [] if isinstance(edge, dict))
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
    except SaleorTokenRefused:
        raise ParleyError(
            502, "platform_refused", "Saleor refused Parley's app token; reinstalling the app fixes this"
        ) from None
    except (SaleorAPIError, LookupError):
        raise ParleyError(
            503, "platform_unavailable", "Saleor could not be asked just now; try the import again"
        ) from None
    return [
        ImportRecord(
            "saleor_page",
            str(node.get("id") or ""),
            language,
            str(node.get("title") or ""),
            editorjs_html(node.get("content")),
        )
        for node in nodes
        if isinstance(node, dict) and node.get("isPublished") is not False
    ]


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _order(node: dict[str, Any]) -> OrderRecord:
    parcels = tuple(
        Tracking(number=fulfillment.get("trackingNumber"))
        for fulfillment in node.get("fulfillments") or []
        if isinstance(fulfillment, dict) and fulfillment.get("trackingNumber")
    )
    return OrderRecord(
        number=f"#{node.get('number')}",
        created_at=_moment(node.get("created")),
        fulfillment=node.get("status"),
        tracking=parcels,
        email=node.get("userEmail") if isinstance(node.get("userEmail"), str) else None,
    )


class SaleorOrders:
    def __init__(self, api_for: Callable[[Shop], SaleorAPI]):
        self._api_for = api_for

    def _execute(self, shop: Shop, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            result = self._api_for(shop).execute(query, variables, partial_ok=True)
        except (SaleorAPIError, LookupError):
            raise LookupUnavailable("Saleor could not be asked") from None
        if permission_denied(result.errors):
            raise LookupUnavailable("Saleor did not let Parley read orders (MANAGE_ORDERS)")
        return result.data

    def recent_orders(self, shop: Shop, customer_id: str, limit: int) -> list[OrderRecord]:
        data = self._execute(shop, CUSTOMER_ORDERS, {"id": customer_id, "first": limit})
        edges = ((data.get("user") or {}).get("orders") or {}).get("edges") or []
        return [_order(edge["node"]) for edge in edges if isinstance(edge, dict) and isinstance(edge.get("node"), dict)]

    def find_order(self, shop: Shop, number: str) -> OrderRecord | None:
        digits = number.lstrip("#")
        if not _DIGITS.match(digits):
            return None
        data = self._execute(shop, ORDER_BY_NUMBER, {"numbers": [digits]})
        for edge in (data.get("orders") or {}).get("edges") or []:
            node = edge.get("node") if isinstance(edge, dict) else None
            if isinstance(node, dict) and str(node.get("number")) == digits:
                return _order(node)
        return None
