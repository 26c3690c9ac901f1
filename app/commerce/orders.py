"""Orders a conversation led to, as the merchant reads them beside the thread: whether
each counts, why not, and the revenue they bring, per currency, exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.clock import iso
from app.commerce.attribution import counts, net_revenue
from app.commerce.money import amount_text
from app.models import OrderLink

FLAG_LABELS = {
    "missing_currency": "not counted: no currency",
    "missing_amount": "not counted: no amount",
    "negative_amount": "not counted: negative amount",
}
# How far payment got, in the merchant's words: Shopify's financial_status and Saleor's
# chargeStatus are stored as the platform sends them.
PAYMENT_WORDS = {
    # Shopify
    "pending": "payment pending",
    "authorized": "payment authorized",
    "partially_paid": "partly paid",
    "paid": "paid",
    "partially_refunded": "partially refunded",
    "refunded": "refunded",
    "voided": "payment voided",
    "expired": "payment expired",
    # Saleor
    "NONE": "not paid yet",
    "PARTIAL": "partly paid",
    "FULL": "paid",
    "OVERCHARGED": "paid more than the total",
}
# How far delivery got: Shopify's displayFulfillmentStatus, Saleor's order status.
FULFILMENT_WORDS = {
    "UNFULFILLED": "not sent yet",
    "UNCONFIRMED": "not confirmed yet",
    "PARTIALLY_FULFILLED": "partly sent",
    "FULFILLED": "sent",
    "PARTIALLY_RETURNED": "partly returned",
    "RETURNED": "returned",
    "CANCELED": "cancelled",
    "DRAFT": "draft",
    "EXPIRED": "expired",
    "IN_PROGRESS": "being prepared",
    "ON_HOLD": "on hold",
    "OPEN": "not sent yet",
    "PENDING_FULFILLMENT": "not sent yet",
    "RESTOCKED": "restocked",
    "SCHEDULED": "scheduled",
    "REQUEST_DECLINED": "request declined",
}
# Why the order counts as chat's, as the Support page says it beside the order.
RULE_WORDS = {
    "agent_code": "used the code sent in this chat",
    "agent_cart": "bought what the agent sent",
    "conversation": "ordered from this chat",
    "cart_token": "cart seen in this chat",
    "customer": "customer chatted before ordering",
}


def payment_words(status: str | None) -> str:
    """A platform's payment status as a merchant reads it ("NONE" → "not paid yet")."""
    if not status:
        return "payment pending"
    return PAYMENT_WORDS.get(status) or PAYMENT_WORDS.get(status.lower()) or status.replace("_", " ").lower()


def fulfilment_words(status: str | None) -> str | None:
    if not status:
        return None
    return FULFILMENT_WORDS.get(status.upper()) or status.replace("_", " ").lower()


def status_words(payment: str | None, fulfilment: str | None) -> str:
    """ "paid · sent": an order's payment and delivery, as the customer panel shows them."""
    return " · ".join(part for part in (payment_words(payment), fulfilment_words(fulfilment)) if part)


def not_counted_reason(link: OrderLink) -> str | None:
    """Why a link does not count (flagged, cancelled, refunded), or None when it counts."""
    if counts(link) and link.currency:
        return None
    # An unflagged link without a currency predates flagging; it cannot be added up either.
    if link.flag or link.total is None or not link.currency:
        return "flagged"
    if link.cancelled_at is not None:
        return "cancelled"
    return "refunded"


def order_status(link: OrderLink) -> str:
    """What the merchant reads beside an attributed order."""
    reason = not_counted_reason(link)
    if reason == "flagged":
        return FLAG_LABELS.get(link.flag, f"not counted: {link.flag}") if link.flag else "not counted"
    if reason is not None:
        return reason
    if link.refunded:
        return "partially refunded"
    return payment_words(link.financial_status)


def order_json(link: OrderLink) -> dict[str, Any]:
    def money(amount: Decimal | None) -> str | None:
        return amount_text(amount, link.currency) if amount is not None else None

    return {
        "id": link.order_id,
        "name": link.order_name,
        "total": money(link.total),
        "refunded": money(link.refunded) if link.refunded else None,
        "discount": money(link.discount) if link.discount else None,
        "net": money(net_revenue(link)) if link.total is not None else None,
        "currency": link.currency,
        "financial_status": link.financial_status,
        "status": order_status(link),
        "counted": counts(link),
        "cancelled": link.cancelled_at is not None,
        "rule": link.rule,
        "rule_label": RULE_WORDS.get(link.rule, link.rule.replace("_", " ")),
        "ordered_at": iso(link.ordered_at),
    }


def revenue_by_currency(links: list[OrderLink]) -> dict[str, Decimal]:
    """Net revenue per currency of the counted orders, summed exactly, currencies sorted."""
    totals: dict[str, Decimal] = {}
    for link in links:
        if counts(link) and link.currency:
            totals[link.currency] = totals.get(link.currency, Decimal(0)) + net_revenue(link)
    return dict(sorted(totals.items()))


def money_list(amounts: dict[str, Decimal], orders: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """`{currency: amount}` as JSON rows, with each currency's order count when given."""
    rows = []
    for currency, amount in amounts.items():
        row: dict[str, Any] = {"currency": currency, "amount": amount_text(amount, currency)}
        if orders is not None:
            row["orders"] = orders.get(currency, 0)
        rows.append(row)
    return rows
