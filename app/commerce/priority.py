"""Who to answer first: the longest wait, with a bigger cart counting as extra waiting.

Folding both into one timestamp keeps the inbox's ordering an indexed query
even with a hundred thousand conversations in the shop.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

# Each 10 units of cart value count as one minute of waiting, up to two hours.
VALUE_PER_MINUTE = Decimal(10)
MAX_BONUS = timedelta(hours=2)


def cart_bonus(cart_value: Decimal | None) -> timedelta:
    if not cart_value or not cart_value.is_finite() or cart_value <= 0:
        return timedelta(0)
    minutes = cart_value / VALUE_PER_MINUTE
    # Capped before a timedelta is made: a cart worth 10**17 would overflow one.
    if minutes >= Decimal(MAX_BONUS.total_seconds()) / 60:
        return MAX_BONUS
    return timedelta(minutes=float(minutes))


def priority_at(waiting_since: datetime | None, cart_value: Decimal | None) -> datetime | None:
    if waiting_since is None:
        return None
    return waiting_since - cart_bonus(cart_value)
