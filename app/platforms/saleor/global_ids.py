"""Saleor's global ids: base64 of `<Type>:<pk>` (graphene's relay ids).

Checkouts and orders have UUID primary keys, so `Checkout:<uuid>` carries the
checkout token that Parley keeps on cart snapshots (`CartSnapshot.cart_token`).
"""

from __future__ import annotations

import base64
import binascii
import uuid


def to_global_id(kind: str, pk: object) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def from_global_id(value: str) -> tuple[str, str] | None:
    """(`Type`, pk) or None when the value is not a global id."""
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, sep, pk = decoded.partition(":")
    return (kind, pk) if sep and kind.isidentifier() and pk else None


def checkout_token(value: str | None) -> str | None:
    """The checkout token (a UUID) from a Checkout global id or from the token itself."""
    if not value or not isinstance(value, str):
        return None
    if _is_uuid(value):
        return str(uuid.UUID(value))
    parsed = from_global_id(value)
    if parsed and parsed[0] == "Checkout" and _is_uuid(parsed[1]):
        return str(uuid.UUID(parsed[1]))
    return None


def checkout_id(value: str) -> str | None:
    """A Checkout global id from a token or an id; None when it is neither."""
    token = checkout_token(value)
    return to_global_id("Checkout", token) if token else None


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return len(value) == 36
