"""What chat did for a shop over a period: the figures of the Insights page.

Definitions (the Insights page shows them too):

- **Period**: the half-open interval [start, end) of UTC instants. The web layer
  turns the merchant's inclusive dates into instants at local midnight in the
  shop's time zone (the `hours.timezone` setting); daily figures use that zone's days.
- **Conversations started**: conversations whose `created_at` is in the period.
  **Answered**: of those, the ones with a `first_response_at`.
- **First-response time**: `first_response_at − created_at` over the answered
  conversations started in the period. **Resolution time**: `resolved_at −
  created_at` over the conversations started in the period that are resolved now
  (reopening clears `resolved_at`).
- **Median and p90** are nearest-rank percentiles: the p-th percentile of n sorted
  durations is the one at rank ⌈p/100 · n⌉ (1-based). The median is the 50th
  percentile, so with an even count it is the lower of the two middle values, and
  every figure is a time some shopper actually waited. Durations are whole seconds
  (rounded down); a negative one (clock skew) counts as 0.
- **Orders and revenue**: order links whose `ordered_at` is in the period and that
  count (app/commerce/attribution.py: not cancelled, not fully refunded, not
  flagged). Revenue is the sum of net revenue (total − refunded) per currency,
  exact, never added across currencies. Links that do not count are reported by
  reason, checked in this order: flagged (including a link without a currency),
  cancelled, refunded. An order without `ordered_at` falls in no period.
- **Chat conversion**: conversations started in the period with at least one
  counted order (whenever it was placed) ÷ conversations started; none without
  conversations.
- **Abandoned carts**: conversations started in the period with no order link at
  all whose latest cart snapshot holds items and is at least one attribution
  window old at `now`. Younger such carts are **still open**: counted, not listed.
  The list is sorted by cart value, largest first.
- **By rule**: counted orders of the period per attribution rule, with revenue per
  currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.commerce.attribution import RULES, counts, net_revenue
from app.commerce.orders import not_counted_reason
from app.models import CartSnapshot, Conversation, OrderLink, Visitor

NOT_COUNTED_REASONS = ("flagged", "cancelled", "refunded")


@dataclass(frozen=True)
class AbandonedCart:
    conversation_id: str
    name: str | None
    email: str | None
    item_count: int
    value: Decimal | None
    currency: str | None
    titles: list[str]
    checkout_url: str | None
    at: datetime


@dataclass(frozen=True)
class RuleFigures:
    rule: str
    orders: int
    revenue: dict[str, Decimal]
    # The discount those orders were given (agent codes show what selling in the chat cost).
    discount: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Day:
    day: date
    conversations: int
    revenue: dict[str, Decimal]


@dataclass(frozen=True)
class Insights:
    start: datetime
    end: datetime
    window: timedelta
    conversations_started: int
    conversations_answered: int
    conversations_resolved: int
    first_response_median: int | None
    first_response_p90: int | None
    resolution_median: int | None
    orders: int
    orders_by_currency: dict[str, int]
    revenue: dict[str, Decimal]
    not_counted: dict[str, int]
    converted_conversations: int
    conversion: Fraction | None
    by_rule: list[RuleFigures]
    abandoned: list[AbandonedCart]
    abandoned_value: dict[str, Decimal]
    still_open_carts: int
    days: list[Day] = field(default_factory=list)


def percentile(sorted_values: list[int], p: int) -> int | None:
    """Nearest rank: the value at rank ⌈p/100 · n⌉ of the sorted list; None when empty."""
    if not sorted_values:
        return None
    # Integer arithmetic: ceil(p * n / 100) without a float that could land a hair off.
    rank = max(1, -(-p * len(sorted_values) // 100))
    return sorted_values[rank - 1]


def percent(fraction: Fraction | None) -> str | None:
    """A share as a percentage with one decimal, half up: Fraction(1, 3) → "33.3"."""
    if fraction is None:
        return None
    value = Decimal(fraction.numerator * 100) / Decimal(fraction.denominator)
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _seconds(delta: timedelta) -> int:
    return max(0, delta // timedelta(seconds=1))


def _days(start: datetime, end: datetime, tz: tzinfo) -> list[date]:
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _add(totals: dict[str, Decimal], currency: str, amount: Decimal) -> None:
    totals[currency] = totals.get(currency, Decimal(0)) + amount


def _sorted(totals: dict[str, Any]) -> dict[str, Any]:
    return {currency: totals[currency] for currency in sorted(totals)}


def compute(
    session: Session,
    shop_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    window: timedelta,
    tz: tzinfo = UTC,
) -> Insights:
    """The period's figures in four queries, however many conversations and orders it holds."""
    in_period = sa.and_(
        col(Conversation.shop_id) == shop_id, col(Conversation.created_at) >= start, col(Conversation.created_at) < end
    )

    # 1. The period's conversations: counts, response and resolution times, the daily series.
    started = session.execute(
        select(Conversation.created_at, Conversation.first_response_at, Conversation.resolved_at).where(in_period)
    ).all()
    first_responses = sorted(_seconds(first - created) for created, first, _ in started if first is not None)
    resolutions = sorted(_seconds(resolved - created) for created, _, resolved in started if resolved is not None)
    conversations_per_day: dict[date, int] = defaultdict(int)
    for created, _, _ in started:
        conversations_per_day[created.astimezone(tz).date()] += 1

    # 2. Orders placed in the period, whichever conversation they came from.
    orders = session.exec(
        select(OrderLink).where(
            OrderLink.shop_id == shop_id, col(OrderLink.ordered_at) >= start, col(OrderLink.ordered_at) < end
        )
    ).all()
    revenue: dict[str, Decimal] = {}
    orders_by_currency: dict[str, int] = defaultdict(int)
    not_counted = {reason: 0 for reason in NOT_COUNTED_REASONS}
    rule_orders: dict[str, int] = {rule: 0 for rule in RULES}
    rule_revenue: dict[str, dict[str, Decimal]] = {rule: {} for rule in RULES}
    rule_discount: dict[str, dict[str, Decimal]] = {rule: {} for rule in RULES}
    revenue_per_day: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for link in orders:
        reason = not_counted_reason(link)
        if reason is not None:
            not_counted[reason] += 1
            continue
        # A counted link has a currency (not_counted_reason), and the query bounds its ordered_at.
        assert link.currency is not None and link.ordered_at is not None
        amount = net_revenue(link)
        _add(revenue, link.currency, amount)
        orders_by_currency[link.currency] += 1
        rule_orders[link.rule] = rule_orders.get(link.rule, 0) + 1
        _add(rule_revenue.setdefault(link.rule, {}), link.currency, amount)
        if link.discount:
            _add(rule_discount.setdefault(link.rule, {}), link.currency, link.discount)
        _add(revenue_per_day[link.ordered_at.astimezone(tz).date()], link.currency, amount)

    # 3. Orders of the period's conversations, whenever placed: chat conversion.
    their_orders = session.exec(
        select(OrderLink)
        .join(Conversation, col(Conversation.id) == OrderLink.conversation_id)
        .where(in_period, OrderLink.shop_id == shop_id)
    ).all()
    converted = len({link.conversation_id for link in their_orders if counts(link)})

    # 4. Latest cart of each of the period's conversations that has no order at all.
    abandoned, still_open = _carts(session, shop_id, in_period, now, window)
    abandoned_value: dict[str, Decimal] = {}
    for cart in abandoned:
        if cart.value is not None and cart.currency:
            _add(abandoned_value, cart.currency, cart.value)

    return Insights(
        start=start,
        end=end,
        window=window,
        conversations_started=len(started),
        conversations_answered=len(first_responses),
        conversations_resolved=len(resolutions),
        first_response_median=percentile(first_responses, 50),
        first_response_p90=percentile(first_responses, 90),
        resolution_median=percentile(resolutions, 50),
        orders=sum(orders_by_currency.values()),
        orders_by_currency=_sorted(orders_by_currency),
        revenue=_sorted(revenue),
        not_counted=not_counted,
        converted_conversations=converted,
        conversion=Fraction(converted, len(started)) if started else None,
        by_rule=[
            RuleFigures(rule, rule_orders[rule], _sorted(rule_revenue[rule]), _sorted(rule_discount.get(rule, {})))
            for rule in rule_orders
        ],
        abandoned=abandoned,
        abandoned_value=_sorted(abandoned_value),
        still_open_carts=still_open,
        days=[
            Day(day, conversations_per_day.get(day, 0), _sorted(revenue_per_day.get(day, {})))
            for day in _days(start, end, tz)
        ],
    )


def _carts(
    session: Session, shop_id: int, in_period: sa.ColumnElement[bool], now: datetime, window: timedelta
) -> tuple[list[AbandonedCart], int]:
    latest = (
        select(sa.func.max(CartSnapshot.id))
        .join(Conversation, col(Conversation.id) == CartSnapshot.conversation_id)
        .where(in_period, CartSnapshot.shop_id == shop_id)
        .group_by(CartSnapshot.conversation_id)
    )
    ordered = select(OrderLink.id).where(OrderLink.conversation_id == CartSnapshot.conversation_id).exists()
    rows = session.execute(
        select(CartSnapshot, Visitor.name, Visitor.email)
        .join(Conversation, col(Conversation.id) == CartSnapshot.conversation_id)
        .join(Visitor, col(Visitor.id) == Conversation.visitor_id)
        .where(col(CartSnapshot.id).in_(latest), CartSnapshot.item_count > 0, ~ordered)
    ).all()
    abandoned = []
    still_open = 0
    for snapshot, name, email in rows:
        if now - snapshot.created_at < window:
            still_open += 1
            continue
        abandoned.append(
            AbandonedCart(
                conversation_id=snapshot.conversation_id,
                name=name,
                email=email,
                item_count=snapshot.item_count,
                value=snapshot.total,
                currency=snapshot.currency,
                titles=[str(line.get("title") or "") for line in (snapshot.lines or []) if isinstance(line, dict)],
                checkout_url=snapshot.checkout_url,
                at=snapshot.created_at,
            )
        )
    # Biggest first for follow-up; carts without a value last; ties in a fixed order.
    abandoned.sort(key=lambda c: (c.value is None, -(c.value or 0), c.at, c.conversation_id))
    return abandoned, still_open
