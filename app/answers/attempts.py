"""How many order look-ups a visitor, and an e-mail address, may try: few enough that
nobody can walk order numbers to find whose order is whose.

Counted in Redis when REDIS_URL is set (so every process shares the count), in memory
otherwise, and in memory while Redis is unreachable: a limit that cannot be counted
must still hold, but must never stop the shopper's message itself (it is stored
before the assistant looks at it).

Keys are hashed with the app's secret: the count of an address needs no address kept.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from limits import RateLimitItem, RateLimitItemPerHour, parse
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)

PER_VISITOR = "5/hour"
PER_ADDRESS = "5/hour"
REDIS_TIMEOUT_SECONDS = 0.5


class LookupAttempts:
    def __init__(
        self,
        secret: str,
        redis_url: str | None = None,
        per_visitor: str = PER_VISITOR,
        per_address: str = PER_ADDRESS,
    ):
        self._secret = secret.encode()
        self._memory = FixedWindowRateLimiter(MemoryStorage())
        self._shared: FixedWindowRateLimiter | None = None
        if redis_url:
            storage = storage_from_string(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            if not isinstance(storage, Storage):
                raise ConfigurationError("REDIS_URL must name a Redis the synchronous client can use")
            self._shared = FixedWindowRateLimiter(storage)
        visitor, address = parse(per_visitor), parse(per_address)
        self._per_visitor = visitor if visitor else RateLimitItemPerHour(5)
        self._per_address = address if address else RateLimitItemPerHour(5)

    def _key(self, kind: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"parley-order-lookup:{kind}:{digest}"

    def _hit(self, item: RateLimitItem, key: str) -> bool:
        if self._shared is not None:
            try:
                return self._shared.hit(item, key)
            except Exception:  # noqa: BLE001 - any Redis failure: count here instead (no key in the log)
                log.warning("order look-up limits count in memory: Redis did not answer")
        return self._memory.hit(item, key)

    def allow(self, shop_id: int, visitor_id: str, email: str) -> bool:
        """Count one try; False once the visitor or the address has used up its tries."""
        by_visitor = self._hit(self._per_visitor, self._key("visitor", f"{shop_id}:{visitor_id}"))
        by_address = self._hit(self._per_address, self._key("address", f"{shop_id}:{email.strip().casefold()}"))
        return by_visitor and by_address
