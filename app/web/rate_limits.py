"""Rate limits for the storefront API: per visitor token, per client address, and on
new visitors per client address.

Storage is Redis when REDIS_URL is set (limits then hold across processes), memory
otherwise. While Redis is unreachable the limits count in memory instead
(flask-limiter's fallback, said once in the log) and Redis is tried again after a
growing pause until it answers: a rate limit is never the reason a shopper's message
is refused. Behind reverse proxies, TRUSTED_PROXIES makes the client's address the one
they forwarded (Werkzeug's ProxyFix in app/__init__.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.chat.visitor_tokens import InvalidVisitorToken
from app.models import Visitor
from app.web.context import parley

limiter = Limiter(key_func=get_remote_address, default_limits=[])

P = ParamSpec("P")
R = TypeVar("R")

# A hung Redis must not hold a shopper's request: give up quickly and count in memory.
REDIS_TIMEOUT_SECONDS = 0.5
# New visitors (sessions without a token of their own) one client address may start: a
# person opens a few browsers, a flood opens hundreds to multiply the per-visitor limit.
NEW_VISITORS_PER_ADDRESS = "20/minute;200/hour"


def rate_limit_config(redis_url: str | None) -> dict[str, Any]:
    """flask-limiter's settings for an app whose limits count in `redis_url` (or memory)."""
    config: dict[str, Any] = {
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # Anything else the storage raises lets the request through rather than failing it.
        "RATELIMIT_SWALLOW_ERRORS": True,
    }
    if redis_url:
        config["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        }
    return config


class _HideLimitKeys(logging.Filter):
    """flask-limiter logs each refusal with its key: a client address or a visitor id,
    personal data that has no place in a log. The limit and the route stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("ratelimit ") and len(record.args or ()) == 3:
            limit, _key, scope = record.args  # type: ignore[misc]  # the three arguments of that message
            record.args = (limit, "key hidden", scope)
        return True


_FILTER = _HideLimitKeys()


def quiet_rate_limit_log() -> None:
    logger = logging.getLogger("flask-limiter")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


@limiter.request_filter
def _platform_delivery() -> bool:
    """Signed platform webhooks are never limited: a refusal only makes Shopify or Saleor
    retry the same delivery later (and drop the subscription after enough failures).
    Skipping the check also keeps it off the acknowledgement's hot path."""
    return request.path.startswith(("/webhooks/", "/saleor/webhooks"))


def client_address() -> str:
    """Who is asking, by address. Shopify's app proxy forwards the shopper's address as the
    last X-Forwarded-For entry it adds, just before the ones our own proxies add; every
    other route is called by the browser itself, whose address ProxyFix has put in place."""
    if request.path.startswith("/proxy/"):
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        ours = parley().settings.trusted_proxies
        if len(forwarded) > ours:
            return forwarded[-(ours + 1)][:64]
    return get_remote_address()


def visitor_key() -> str:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip() or request.args.get("token")
    try:
        claim = parley().visitor_tokens.read(token)
    except InvalidVisitorToken:
        return f"ip:{client_address()}"  # refused by the view anyway; count it against the address
    return f"visitor:{claim.visitor_id}"


def visitor_limit() -> str:
    return parley().settings.rate_limit_visitor


def ip_limit() -> str:
    return parley().settings.rate_limit_ip


def new_visitor_limit() -> str:
    # A setting once app/config.py has one (RATE_LIMIT_NEW_VISITORS); the default until then.
    value = getattr(parley().settings, "rate_limit_new_visitors", None)
    return value if isinstance(value, str) and value else NEW_VISITORS_PER_ADDRESS


def _resuming() -> bool:
    """A session call that brings a visitor token Parley signed resumes a visitor; only the
    ones that start a new visitor count against the address."""
    body = request.get_json(silent=True)
    token = body.get("visitor_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        return False
    try:
        claim = parley().visitor_tokens.read(token)
    except InvalidVisitorToken:
        return False
    # A signed token of a visitor since merged or erased starts a new one: it counts too.
    with parley().db.session() as session:
        visitor = session.get(Visitor, claim.visitor_id)
    return visitor is not None and visitor.shop_id == claim.shop_id


def limited_by_visitor_and_ip(view: Callable[P, R]) -> Callable[P, R]:
    """Both limits on one view; the visitor is known once the token is read."""
    view = limiter.limit(visitor_limit, key_func=visitor_key, scope="visitor")(view)
    return limiter.limit(ip_limit, key_func=client_address, scope="ip")(view)


def limited_sessions(view: Callable[P, R]) -> Callable[P, R]:
    """Session calls: all of them per address, and new visitors per address more tightly."""
    view = limiter.limit(new_visitor_limit, key_func=client_address, scope="new-visitor", exempt_when=_resuming)(view)
    return limiter.limit(ip_limit, key_func=client_address, scope="session")(view)
