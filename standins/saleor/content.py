"""The stand-in Saleor's pages (Editor.js content) and order fulfilments, and the
`orders` list filtered by number, for the shop's assistant.

Transcribed from saleor/graphql/schema.graphql (3.20): `pages` lists published pages to
anyone and unpublished ones only with MANAGE_PAGES; `Page.content` is a JSONString
(Editor.js blocks); `orders(filter: {numbers})` needs MANAGE_ORDERS; `Order.fulfillments`
is `[Fulfillment!]!` with `trackingNumber: String!` (Saleor keeps no tracking URL).

Opt-in: `enable_content(standin)` before the first request.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from graphql import extend_schema, parse

if TYPE_CHECKING:
    from standins.saleor.standin import SaleorStandin, _Caller

CONTENT_SDL = """
scalar JSONString
type Page implements Node { id: ID! title: String! slug: String! content: JSONString isPublished: Boolean!
  created: DateTime! }
type PageCountableEdge { node: Page! cursor: String! }
type PageCountableConnection { pageInfo: PageInfo! edges: [PageCountableEdge!]! totalCount: Int }
enum FulfillmentStatus { FULFILLED REFUNDED RETURNED REFUNDED_AND_RETURNED REPLACED CANCELED
  WAITING_FOR_APPROVAL }
type Fulfillment implements Node { id: ID! fulfillmentOrder: Int! status: FulfillmentStatus! trackingNumber: String!
  created: DateTime! }
input OrderFilterInput { numbers: [String!] search: String customer: String }
extend type Order { fulfillments: [Fulfillment!]! }
extend type Query {
  pages(before: String, after: String, first: Int, last: Int): PageCountableConnection
  orders(filter: OrderFilterInput, channel: String, before: String, after: String, first: Int, last: Int):
    OrderCountableConnection
}
"""


class SaleorContent:
    def __init__(self) -> None:
        self.pages: list[dict[str, Any]] = []
        # order pk -> [{tracking, status}]
        self.fulfillments: dict[str, list[dict[str, str]]] = {}


def enable_content(standin: SaleorStandin) -> SaleorContent:
    existing = getattr(standin, "content", None)
    if isinstance(existing, SaleorContent):
        return existing
    content = SaleorContent()
    standin.content = content  # type: ignore[attr-defined]
    standin._schema = extend_schema(standin._schema, parse(CONTENT_SDL))
    base_root, base_order = standin._root, standin._order_node

    def order_node(order: dict, caller: _Caller | None = None) -> dict:
        node = base_order(order, caller)
        node["fulfillments"] = [
            {
                "id": base64.b64encode(f"Fulfillment:{order['pk'][:8]}{index}".encode()).decode(),
                "fulfillmentOrder": index + 1,
                "status": parcel["status"],
                "trackingNumber": parcel["tracking"],
                "created": order["updated"],
            }
            for index, parcel in enumerate(content.fulfillments.get(order["pk"], []))
        ]
        return node

    def root(caller: _Caller) -> dict:
        from standins.saleor.standin import permission_denied

        def pages(_info: Any, first: int | None = None, after: str | None = None, **_: Any) -> dict:
            visible = [p for p in content.pages if p["published"] or "MANAGE_PAGES" in caller.permissions]
            start = int(base64.b64decode(after).decode()) if after else 0
            page = visible[start : start + (first or 100)]
            edges = [
                {
                    "cursor": base64.b64encode(str(start + i + 1).encode()).decode(),
                    "node": {
                        "id": base64.b64encode(f"Page:{p['pk']}".encode()).decode(),
                        "title": p["title"],
                        "slug": p["slug"],
                        "content": json.dumps(p["content"]),
                        "isPublished": p["published"],
                        "created": "2026-11-01T09:00:00+00:00",
                    },
                }
                for i, p in enumerate(page)
            ]
            more = start + len(page) < len(visible)
            return {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": more,
                    "hasPreviousPage": start > 0,
                    "startCursor": edges[0]["cursor"] if edges else None,
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
                "totalCount": len(visible),
            }

        def orders(_info: Any, filter: dict | None = None, first: int | None = None, **_: Any) -> dict:
            if "MANAGE_ORDERS" not in caller.permissions:
                raise permission_denied("orders", ["MANAGE_ORDERS"])
            numbers = set((filter or {}).get("numbers") or [])
            found = [o for o in standin._orders.values() if not numbers or o["number"] in numbers]
            found.sort(key=lambda o: int(o["number"]), reverse=True)
            nodes = [standin._order_node(o, caller) for o in found[: first or 100]]
            return {
                "edges": [{"node": n, "cursor": base64.b64encode(n["number"].encode()).decode()} for n in nodes],
                "pageInfo": {"hasNextPage": len(found) > len(nodes), "hasPreviousPage": False},
                "totalCount": len(found),
            }

        return {**base_root(caller), "pages": pages, "orders": orders}

    standin._root = root  # type: ignore[method-assign]
    standin._order_node = order_node  # type: ignore[method-assign]
    return content


def add_page(standin: SaleorStandin, title: str, blocks: list[dict], *, published: bool = True) -> str:
    """A page with Editor.js `blocks` ([{type: paragraph|header|list, data: {...}}])."""
    content = enable_content(standin)
    with standin._lock:
        pk = len(content.pages) + 1
        slug = "-".join(title.lower().split()) or f"page-{pk}"
        content.pages.append(
            {"pk": pk, "title": title, "slug": slug, "content": {"time": 1, "blocks": blocks}, "published": published}
        )
    return base64.b64encode(f"Page:{pk}".encode()).decode()


def update_page(standin: SaleorStandin, page_id: str, **changes: Any) -> None:
    pk = int(base64.b64decode(page_id).decode().split(":", 1)[1])
    with standin._lock:
        for page in enable_content(standin).pages:
            if page["pk"] == pk:
                if "blocks" in changes:
                    page["content"] = {"time": 2, "blocks": changes.pop("blocks")}
                page.update(changes)


def fulfil_order(standin: SaleorStandin, order_id: str, tracking: str) -> None:
    """Ship the whole order with one parcel (status FULFILLED, as Saleor's orderFulfill leaves it)."""
    content = enable_content(standin)
    with standin._lock:
        order = standin.order(order_id)
        order["status"] = "FULFILLED"
        content.fulfillments.setdefault(order["pk"], []).append({"tracking": tracking, "status": "FULFILLED"})


def paragraph(text: str) -> dict:
    return {"type": "paragraph", "data": {"text": text}}
