"""Rate limits for the storefront API: per visitor token and per client IP.

Storage is Redis when REDIS_URL is set (limits then hold across processes),
memory otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.chat.visitor_tokens import InvalidVisitorToken
from app.web.context import parley

limiter = Limiter(key_func=get_remote_address, default_limits=[])

P = ParamSpec("P")
R = TypeVar("R")


@limiter.request_filter
def _platform_delivery() -> bool:
    """Signed platform webhooks are never limited: a refusal only makes Shopify or Saleor
    retry the same delivery later (and drop the subscription after enough failures).
    Skipping the check also keeps it off the acknowledgement's hot path."""
    return request.path.startswith(("/webhooks/", "/saleor/webhooks"))


def visitor_key() -> str:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or request.args.get("token")
    try:
        claim = parley().visitor_tokens.read(token)
    except InvalidVisitorToken:
        return f"ip:{get_remote_address()}"  # refused by the view anyway; count it against the IP
    return f"visitor:{claim.visitor_id}"


def visitor_limit() -> str:
    return parley().settings.rate_limit_visitor


def ip_limit() -> str:
    return parley().settings.rate_limit_ip


def limited_by_visitor_and_ip(view: Callable[P, R]) -> Callable[P, R]:
    """Both limits on one view; the visitor is known once the token is read."""
    view = limiter.limit(visitor_limit, key_func=visitor_key, scope="visitor")(view)
    return limiter.limit(ip_limit, key_func=get_remote_address, scope="ip")(view)
