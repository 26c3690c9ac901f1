"""App Home document loads, checked by the Shopify adapter (app/platforms/shopify/session_tokens.py)."""

from __future__ import annotations

from app.platforms.shopify.session_tokens import AppHomeVisit
from app.platforms.shopify.session_tokens import verify_document_load as verify
from app.web.context import parley
from app.web.requests import request_facts


def verify_document_load() -> AppHomeVisit:
    """A verified token, or where to bounce for a fresh one."""
    return verify(parley().shopify.installer.app, request_facts())
