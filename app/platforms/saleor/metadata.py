"""The metadata key that ties a Saleor checkout (and the order made from it) to a
Parley conversation.

It is *public* metadata on purpose:
- Saleor copies checkout metadata, public and private alike, onto the order at
  checkoutComplete, so either would reach the order; public adds nothing to leak:
  the value is a random conversation UUID that grants no access by itself (reading
  a conversation needs the shopper's signed visitor token), and an order naming a
  conversation of another shop is ignored by attribution.
- A headless storefront can set it itself when it creates the checkout
  (`checkoutCreate(input: {metadata: …})`, Saleor 3.21+) and read it back without
  an app token, while private metadata needs staff or app permissions.
- Merchants see it in the Dashboard's metadata card of the order, which explains
  where the link came from.
"""

from __future__ import annotations

from typing import Any

CONVERSATION_KEY = "parley.conversation_id"


def metadata_value(items: Any, key: str = CONVERSATION_KEY) -> str | None:
    """The value of `key` in a `[{key, value}]` metadata list; None when absent or malformed."""
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and item.get("key") == key and isinstance(item.get("value"), str):
            return item["value"] or None
    return None
