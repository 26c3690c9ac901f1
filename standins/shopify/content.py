"""The stand-in Shopify's written content and order tracking, for the shop's assistant:
shop policies (`shop.shopPolicies`), online-store pages (`pages`), the `orders` search
by name, and each order's e-mail, status page and fulfilments with tracking.

Schema corner transcribed from the Admin GraphQL reference (2026-10): ShopPolicy
(body HTML!, type ShopPolicyType!, url URL!), Page (body HTML!, handle, isPublished),
Fulfillment.trackingInfo ([FulfillmentTrackingInfo!]! with company, number, url),
Order.email, Order.statusPageUrl (URL!).

Opt-in like the Online Store (storefront.py): `enable_content(standin)` before the first
request extends the stand-in's schema and resolvers.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

import flask
from graphql import GraphQLError, extend_schema, parse

if TYPE_CHECKING:
    from standins.shopify.standin import ShopifyStandin, _Shop

CONTENT_SDL = """
scalar HTML
enum ShopPolicyType { CONTACT_INFORMATION LEGAL_NOTICE PRIVACY_POLICY REFUND_POLICY SHIPPING_POLICY
  SUBSCRIPTION_POLICY TERMS_OF_SALE TERMS_OF_SERVICE }
enum PageSortKeys { ID PUBLISHED_AT RELEVANCE TITLE UPDATED_AT }
type ShopPolicy { id: ID! type: ShopPolicyType! title: String! body: HTML! url: URL! createdAt: DateTime!
  updatedAt: DateTime! }
type Page { id: ID! title: String! handle: String! body: HTML! bodySummary: String! isPublished: Boolean!
  createdAt: DateTime! updatedAt: DateTime! }
type PageEdge { cursor: String! node: Page! }
type PageConnection { nodes: [Page!]! edges: [PageEdge!]! pageInfo: PageInfo! }
type FulfillmentTrackingInfo { company: String number: String url: URL }
enum FulfillmentStatus { CANCELLED ERROR FAILURE SUCCESS OPEN PENDING }
type Fulfillment { id: ID! status: FulfillmentStatus! createdAt: DateTime!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]! }
extend type Shop { shopPolicies: [ShopPolicy!]! }
extend type Order { email: String statusPageUrl: URL! fulfillments(first: Int): [Fulfillment!]! }
extend type QueryRoot {
  pages(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false,
    sortKey: PageSortKeys = ID): PageConnection!
  orders(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean = false,
    sortKey: OrderSortKeys = PROCESSED_AT): OrderConnection!
}
"""
POLICY_HANDLES = {
    "REFUND_POLICY": "refund-policy",
    "SHIPPING_POLICY": "shipping-policy",
    "PRIVACY_POLICY": "privacy-policy",
    "TERMS_OF_SERVICE": "terms-of-service",
    "CONTACT_INFORMATION": "contact-information",
    "LEGAL_NOTICE": "legal-notice",
    "TERMS_OF_SALE": "terms-of-sale",
    "SUBSCRIPTION_POLICY": "subscription-policy",
}
# The search syntax's `name:` term, as Parley and most apps use it ("name:#1001", "name:1001").
_NAME_TERM = re.compile(r"\bname:(?:\"([^\"]*)\"|'([^']*)'|(\S+))")
_STAMP = "2026-11-01T09:00:00Z"


def enable_content(standin: ShopifyStandin, *, enforce_scopes: bool = False) -> StoreContent:
    """Give every shop of `standin` policies, pages, the orders search and order tracking.
    `enforce_scopes`: answer ACCESS_DENIED, as Shopify does, when the request's token lacks
    read_legal_policies (policies) or read_content / read_online_store_pages (pages)."""
    existing = getattr(standin, "content", None)
    if isinstance(existing, StoreContent):
        existing.enforce_scopes = existing.enforce_scopes or enforce_scopes
        return existing
    content = StoreContent()
    content.enforce_scopes = enforce_scopes
    standin.content = content  # type: ignore[attr-defined]
    standin._schema = extend_schema(standin._schema, parse(CONTENT_SDL))
    base_root, base_order = standin._root, standin._order_node

    def root(shop: _Shop) -> dict:
        answer = base_root(shop)
        extra = content_root(standin, shop)
        answer["shop"]["shopPolicies"] = extra.pop("shopPolicies")
        return {**answer, **extra}

    def order_node(shop: _Shop, order: dict | None) -> dict | None:
        node = base_order(shop, order)
        return {**node, **order_fields(standin, shop, order)} if node is not None and order is not None else node

    standin._root = root  # type: ignore[method-assign]
    standin._order_node = order_node  # type: ignore[method-assign,assignment]
    return content


class StoreContent:
    """Per shop: {policy type: {title, body}}, pages in creation order, fulfilments per order id."""

    def __init__(self) -> None:
        self.policies: dict[str, dict[str, dict[str, str]]] = {}
        self.pages: dict[str, list[dict[str, Any]]] = {}
        self.fulfillments: dict[str, dict[int, list[dict[str, Any]]]] = {}
        self._page_seq = 0
        self.enforce_scopes = False


def _content(standin: ShopifyStandin) -> StoreContent:
    return enable_content(standin)


def set_policy(standin: ShopifyStandin, domain: str, kind: str, title: str, body: str) -> None:
    """Write (or, with an empty body, clear) a policy: Shopify lists only policies with text."""
    standin._shop(domain)  # the shop must exist
    if kind not in POLICY_HANDLES:
        raise ValueError(f"{kind!r} is not a ShopPolicyType")
    with standin._lock:
        policies = _content(standin).policies.setdefault(domain, {})
        if body:
            policies[kind] = {"title": title, "body": body}
        else:
            policies.pop(kind, None)


def add_page(standin: ShopifyStandin, domain: str, title: str, body: str, *, published: bool = True) -> str:
    standin._shop(domain)
    with standin._lock:
        _content(standin)._page_seq += 1
        number = _content(standin)._page_seq
        handle = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or f"page-{number}"
        _content(standin).pages.setdefault(domain, []).append(
            {"id": number, "title": title, "handle": handle, "body": body, "published": published}
        )
    return f"gid://shopify/Page/{number}"


def update_page(standin: ShopifyStandin, domain: str, gid: str, **changes: Any) -> None:
    number = int(gid.rsplit("/", 1)[1])
    with standin._lock:
        for page in _content(standin).pages.get(domain, []):
            if page["id"] == number:
                page.update(changes)


def delete_page(standin: ShopifyStandin, domain: str, gid: str) -> None:
    number = int(gid.rsplit("/", 1)[1])
    with standin._lock:
        _content(standin).pages[domain] = [p for p in _content(standin).pages.get(domain, []) if p["id"] != number]


def add_fulfillment(
    standin: ShopifyStandin,
    domain: str,
    order_id: int,
    *,
    number: str | None,
    url: str | None = None,
    company: str | None = None,
) -> None:
    """Ship the order (all of it) with one parcel's tracking."""
    shop = standin._shop(domain)
    with standin._lock:
        order = shop.orders[order_id]
        order["fulfillment_status"] = "FULFILLED"
        _content(standin).fulfillments.setdefault(domain, {}).setdefault(order_id, []).append(
            {"number": number, "url": url, "company": company}
        )


def order_fields(standin: ShopifyStandin, shop: _Shop, order: dict) -> dict[str, Any]:
    """What the content corner adds to an Order node."""
    customer = shop.customers.get(order["customer_id"]) or {}
    parcels = _content(standin).fulfillments.get(shop.domain, {}).get(order["id"], [])
    token = base64.urlsafe_b64encode(f"{shop.domain}:{order['id']}".encode()).decode().rstrip("=")
    return {
        "email": customer.get("email"),
        "statusPageUrl": f"https://{shop.primary_domain}/{shop.number}/orders/{token}/authenticate",
        "fulfillments": lambda _info, first=None: [
            {
                "id": f"gid://shopify/Fulfillment/{order['id']}{index}",
                "status": "SUCCESS",
                "createdAt": order["created_at"],
                "trackingInfo": lambda _info, first=None, parcel=parcel: [parcel][:first],
            }
            for index, parcel in enumerate(parcels)
        ][:first],
    }


def _connection(nodes: list[dict], first: int | None, after: str | None) -> dict:
    if first is None:
        raise GraphQLError("you must provide one of first or last")
    start = 0
    if after:
        ids = [base64.b64encode(node["id"].encode()).decode() for node in nodes]
        start = ids.index(after) + 1 if after in ids else len(nodes)
    page = nodes[start : start + first]
    cursors = [base64.b64encode(node["id"].encode()).decode() for node in page]
    return {
        "nodes": page,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, page, strict=True)],
        "pageInfo": {
            "hasNextPage": start + first < len(nodes),
            "hasPreviousPage": start > 0,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


def _require(standin: ShopifyStandin, field: str, *scopes: str) -> None:
    """Shopify's ACCESS_DENIED for a field the request's token has no scope for."""
    if not _content(standin).enforce_scopes:
        return
    token = flask.request.headers.get("X-Shopify-Access-Token", "")
    with standin._lock:
        record = standin._access.get(token)
    granted = set((record.scope if record else "").split(","))
    if not granted & set(scopes):
        needed = " or ".join(f"`{scope}`" for scope in scopes)
        raise GraphQLError(
            f"Access denied for {field} field. Required access: {needed} access scope.",
            extensions={
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
                "requiredAccess": f"{needed} access scope.",
            },
        )


def content_root(standin: ShopifyStandin, shop: _Shop) -> dict[str, Any]:
    """Root fields of the content corner, and the shop's policies for `shop { … }`."""
    content = _content(standin)

    def policies(_info: Any) -> list[dict[str, Any]]:
        _require(standin, "shopPolicies", "read_legal_policies")
        return [
            {
                "id": f"gid://shopify/ShopPolicy/{shop.number}{index}",
                "type": kind,
                "title": policy["title"],
                "body": policy["body"],
                "url": f"https://{shop.primary_domain}/policies/{POLICY_HANDLES[kind]}",
                "createdAt": _STAMP,
                "updatedAt": _STAMP,
            }
            for index, (kind, policy) in enumerate(content.policies.get(shop.domain, {}).items())
        ]

    def pages(_info: Any, first: int | None = None, after: str | None = None, **_: Any) -> dict:
        _require(standin, "pages", "read_content", "read_online_store_pages")
        nodes = [
            {
                "id": f"gid://shopify/Page/{page['id']}",
                "title": page["title"],
                "handle": page["handle"],
                "body": page["body"],
                "bodySummary": re.sub(r"<[^>]+>", "", page["body"])[:150],
                "isPublished": page["published"],
                "createdAt": _STAMP,
                "updatedAt": _STAMP,
            }
            for page in content.pages.get(shop.domain, [])
        ]
        return _connection(nodes, first, after)

    def orders(_info: Any, first: int | None = None, after: str | None = None, query: str | None = None, **_: Any):
        wanted = None
        if query:
            found = _NAME_TERM.search(query)
            wanted = next((g for g in found.groups() if g is not None), "") if found else None
        matching = [
            standin._order_node(shop, order)
            for order in sorted(shop.orders.values(), key=lambda o: o["id"], reverse=True)
            if wanted is None or order["name"].lstrip("#") == wanted.lstrip("#")
        ]
        return _connection(matching, first, after)

    return {"pages": pages, "orders": orders, "shopPolicies": policies}
