"""Discount codes an agent offers: the merchant's limits, checked before any platform
call, and the one shape a platform's codes are listed in.

Limits live in the shop's settings (Settings → Selling from the chat):
`discount_max_percent`, `discount_max_amount` (in the shop's currency) and
`discount_max_days` (how long a new code may stay valid). A request beyond them is
refused with a 400 that names the limit, and nothing is created.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.commerce.money import amount_text
from app.errors import ParleyError

CODE = re.compile(r"^[A-Za-z0-9_-]{4,40}$")
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed from a phone


@dataclass(frozen=True)
class NewCode:
    """A single-use code to create: `kind` percent or amount, `value` the percent or the money off."""

    code: str
    kind: str
    value: Decimal
    currency: str
    starts_at: datetime
    ends_at: datetime
    title: str

    def describe(self) -> str:
        return (
            f"{self.value.normalize():f}% off"
            if self.kind == "percent"
            else f"{amount_text(self.value, self.currency)} {self.currency} off"
        )


@dataclass(frozen=True)
class ExistingCode:
    """A code the shop already has, as the agent's list shows it."""

    id: str
    code: str
    title: str
    summary: str
    ends_at: str | None = None

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "title": self.title, "summary": self.summary, "ends_at": self.ends_at}


def _refuse(code: str, message: str) -> ParleyError:
    return ParleyError(400, code, message)


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _refuse("invalid_discount", f"{name} must be a number written as text or a whole number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise _refuse("invalid_discount", f"{name} must be a number") from None
    if not amount.is_finite() or amount <= 0:
        raise _refuse("invalid_discount", f"{name} must be more than 0")
    return amount


def new_code(
    request: Mapping[str, Any], settings: Mapping[str, Any], currency: str, now: datetime, conversation_id: str
) -> NewCode:
    """The code to create, checked against the merchant's limits; ParleyError(400) naming the limit."""
    kind = request.get("kind")
    if kind not in ("percent", "amount"):
        raise _refuse("invalid_discount", 'kind must be "percent" or "amount"')
    value = _decimal(request.get("value"), "value")
    if kind == "percent":
        limit = Decimal(str(settings.get("discount_max_percent") or 0))
        if value > 100:
            raise _refuse("invalid_discount", "a percentage discount is at most 100")
        if value > limit:
            raise _refuse(
                "discount_over_limit",
                f"{value.normalize():f}% is more than the shop allows (discount_max_percent: {limit.normalize():f}%)",
            )
    else:
        limit = Decimal(str(settings.get("discount_max_amount") or 0))
        if value > limit:
            raise _refuse(
                "discount_over_limit",
                f"{amount_text(value, currency)} {currency} is more than the shop allows "
                f"(discount_max_amount: {amount_text(limit, currency)} {currency})",
            )
        value = Decimal(amount_text(value, currency))
    max_days = int(settings.get("discount_max_days") or 0)
    days = request.get("days", max_days)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise _refuse("invalid_discount", "days must be a whole number of days, at least 1")
    if days > max_days:
        raise _refuse(
            "discount_over_limit", f"{days} days is longer than the shop allows (discount_max_days: {max_days})"
        )
    code = request.get("code")
    if code is None or code == "":
        code = "CHAT-" + "".join(secrets.choice(ALPHABET) for _ in range(8))
    if not isinstance(code, str) or not CODE.match(code):
        raise _refuse("invalid_code", "code must be 4 to 40 letters, digits, - or _")
    return NewCode(
        code=code.upper(),
        kind=kind,
        value=value,
        currency=currency,
        starts_at=now,
        ends_at=now + timedelta(days=days),
        title=f"Parley chat {conversation_id[:8]}",
    )


def check_code(value: object) -> str:
    if not isinstance(value, str) or not CODE.match(value.strip()):
        raise _refuse("invalid_code", "code must be 4 to 40 letters, digits, - or _")
    return value.strip()
