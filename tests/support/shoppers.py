"""Shoppers on the storefront: a session through the signed app proxy, and messages."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from tests.support.shops import SHOP

API = "/api/storefront/v1"


def start(client, standin, shop: str = SHOP, customer_id: str = "") -> dict:
    """A widget session through Shopify's signed app proxy."""
    query = standin.proxy_query(shop, logged_in_customer_id=customer_id)
    return client.post(f"/proxy/session?{urlencode(query)}", json={}).get_json()


def auth(session: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['visitor_token']}"}


def say(client, session: dict, body: str) -> dict:
    return client.post(
        f"{API}/messages", json={"client_id": str(uuid.uuid4()), "body": body}, headers=auth(session)
    ).get_json()


def shopper_writes(client, standin, shop: str, body: str, customer_id: str = "", cart: dict | None = None) -> dict:
    """A fresh shopper of `shop` writes once; the send's answer plus their visitor token."""
    session = start(client, standin, shop, customer_id)
    payload: dict = {"client_id": str(uuid.uuid4()), "body": body}
    if cart:
        payload["cart"] = cart
    sent = client.post(f"{API}/messages", json=payload, headers=auth(session))
    assert sent.status_code == 201, sent.data
    return {**sent.get_json(), "visitor_token": session["visitor_token"]}


def cart(total_minor: int) -> dict:
    """A one-line cart as the widget sends it (Shopify's /cart.js shape)."""
    return {
        "token": "c1-x",
        "currency": "EUR",
        "total_price": total_minor,
        "item_count": 1,
        "items": [{"title": "Parka", "quantity": 1, "price": total_minor, "line_price": total_minor}],
    }
