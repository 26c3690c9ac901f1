"""Parley's Saleor app manifest, served at `{APP_URL}/saleor/manifest`.

Every URL is built from the APP_URL setting, never from the request: Saleor fetches
the manifest server-side with a Host header that has lost its port (saleor.md A2).
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

from app.config import Settings

APP_IDENTIFIER = "app.parley.chat"  # becomes App.identifier; unique among a Saleor's apps
# MANAGE_DISCOUNTS: the agent's vouchers (issue 15); products in a channel need no permission.
PERMISSIONS = ["MANAGE_CHECKOUTS", "MANAGE_DISCOUNTS", "MANAGE_ORDERS", "MANAGE_USERS"]

# The events Parley acts on (app/platforms/saleor/webhooks.py), grouped per object.
CHECKOUT_EVENTS = ["CHECKOUT_CREATED", "CHECKOUT_UPDATED"]
ORDER_EVENTS = ["ORDER_CREATED", "ORDER_UPDATED", "ORDER_FULLY_PAID", "ORDER_CANCELLED"]
CUSTOMER_EVENTS = ["CUSTOMER_UPDATED"]
APP_EVENTS = ["APP_DELETED"]
EVENTS = CHECKOUT_EVENTS + ORDER_EVENTS + CUSTOMER_EVENTS + APP_EVENTS

# `subscription { event { ... on X { … } } }` works on every 3.x; the top-level
# `checkoutCreated(channels:)` style needs 3.21. Every query asks for `issuedAt` so
# two distinct events never have byte-identical bodies (the delivery id hashes the body),
# and for `recipient { id }` so a payload names the app it was meant for.
_EVENT_FIELDS = "__typename issuedAt version recipient { id }"

CHECKOUT_FRAGMENT = """
fragment ParleyCheckout on Checkout {
  id token email updatedAt
  user { id email }
  metadata { key value }
  totalPrice { gross { amount currency } }
  lines { id quantity variant { id name sku product { name } } totalPrice { gross { amount currency } } }
}"""

ORDER_FRAGMENT = """
fragment ParleyOrder on Order {
  id number status created updatedAt userEmail checkoutId chargeStatus
  user { id email }
  metadata { key value }
  total { gross { amount currency } }
  totalRefunded { amount currency }
  voucherCode undiscountedTotal { gross { amount currency } }
  lines { variant { id } }
}"""

CHECKOUT_SUBSCRIPTION = (
    "subscription ParleyCheckoutEvents { event { "
    + _EVENT_FIELDS
    + " ... on CheckoutCreated { checkout { ...ParleyCheckout } }"
    + " ... on CheckoutUpdated { checkout { ...ParleyCheckout } } } }"
    + CHECKOUT_FRAGMENT
)
ORDER_SUBSCRIPTION = (
    "subscription ParleyOrderEvents { event { "
    + _EVENT_FIELDS
    + " ... on OrderCreated { order { ...ParleyOrder } }"
    + " ... on OrderUpdated { order { ...ParleyOrder } }"
    + " ... on OrderFullyPaid { order { ...ParleyOrder } }"
    + " ... on OrderCancelled { order { ...ParleyOrder } } } }"
    + ORDER_FRAGMENT
)
CUSTOMER_SUBSCRIPTION = (
    "subscription ParleyCustomerEvents { event { "
    + _EVENT_FIELDS
    + " ... on CustomerUpdated { user { id email firstName lastName } } } }"
)
APP_SUBSCRIPTION = "subscription ParleyAppEvents { event { " + _EVENT_FIELDS + " ... on AppDeleted { app { id } } } }"

SUBSCRIPTIONS = {
    "Parley checkouts": (CHECKOUT_SUBSCRIPTION, CHECKOUT_EVENTS),
    "Parley orders": (ORDER_SUBSCRIPTION, ORDER_EVENTS),
    "Parley customers": (CUSTOMER_SUBSCRIPTION, CUSTOMER_EVENTS),
    "Parley app lifecycle": (APP_SUBSCRIPTION, APP_EVENTS),
}


def package_version() -> str:
    try:
        return importlib.metadata.version("parley")
    except importlib.metadata.PackageNotFoundError:  # a source checkout that was never installed
        return "0.0.0"


def build_manifest(settings: Settings) -> dict[str, Any]:
    base = settings.app_url.rstrip("/")
    webhook_url = f"{base}/saleor/webhooks"
    return {
        "id": APP_IDENTIFIER,
        "name": "Parley",
        "version": package_version(),
        "about": "Live chat and support for your store: shoppers chat from every page, "
        "you answer with their cart and orders beside the thread.",
        "author": "Parley",
        "permissions": PERMISSIONS,
        "appUrl": f"{base}/saleor/app",
        "tokenTargetUrl": f"{base}/saleor/register",
        # Parley is self-hosted: the links lead to this deployment, which the store runs.
        "dataPrivacyUrl": f"{base}/privacy",
        "homepageUrl": f"{base}/",
        "supportUrl": settings.support_url or f"{base}/",
        # WIDGET and NEW_TAB targets and the *_WIDGETS mounts arrived in 3.22; on 3.20/3.21
        # Saleor itself rejected unknown mounts/targets, so the install would fail with a
        # confusing validation error. Requiring 3.22 makes Saleor say why, up front.
        "requiredSaleorVersion": ">=3.22",
        "brand": {"logo": {"default": f"{base}/saleor/logo.png"}},
        # APP_PAGE urls must be paths (Saleor joins them to appUrl); the Dashboard POSTs
        # WIDGET and NEW_TAB forms straight to their url, so those are absolute.
        "extensions": [
            {
                "label": "Support",
                "mount": "NAVIGATION_CUSTOMERS",
                "target": "APP_PAGE",
                "permissions": ["MANAGE_USERS"],
                "url": "/saleor/app",
            },
            {
                "label": "Parley conversations",
                "mount": "ORDER_DETAILS_WIDGETS",
                "target": "WIDGET",
                "permissions": ["MANAGE_ORDERS"],
                "url": f"{base}/saleor/extensions/order-widget",
                "options": {"widgetTarget": {"method": "POST"}},
            },
            {
                "label": "Chat with this customer",
                "mount": "CUSTOMER_DETAILS_MORE_ACTIONS",
                "target": "NEW_TAB",
                "permissions": ["MANAGE_USERS"],
                "url": f"{base}/saleor/extensions/customer-chat",
                "options": {"newTabTarget": {"method": "POST"}},
            },
        ],
        "webhooks": [
            {"name": name, "targetUrl": webhook_url, "query": query, "asyncEvents": events, "isActive": True}
            for name, (query, events) in SUBSCRIPTIONS.items()
        ],
    }
