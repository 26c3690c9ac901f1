"""Insights as the merchant takes them away: the page's JSON and the same figures as
CSV. The definitions live in app/commerce/insights.py."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from app.clock import iso
from app.commerce.insights import AbandonedCart, Insights, percent
from app.commerce.money import amount_text
from app.commerce.orders import money_list
from app.commerce.periods import Period

# The JSON lists this many abandoned carts; the CSV always has them all.
LIST_LIMIT = 200
# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(…) can
# leak data or lure a click); shoppers choose their names and merchants their titles.
# Spreadsheets skip leading blanks and quotes before deciding, so " =1+1" and "\"=1+1"
# are formulas too: those are looked past.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_SKIPPED_BEFORE_FORMULA = " \t\r\n\u00a0\u3000\"'"


def _cart_json(cart: AbandonedCart) -> dict[str, Any]:
    return {
        "conversation_id": cart.conversation_id,
        "customer": {"name": cart.name, "email": cart.email},
        "item_count": cart.item_count,
        "value": amount_text(cart.value, cart.currency) if cart.value is not None else None,
        "currency": cart.currency,
        "titles": cart.titles,
        "checkout_url": cart.checkout_url,
        "at": iso(cart.at),
    }


def insights_json(period: Period, result: Insights) -> dict[str, Any]:
    """The figures as the Insights page reads them (the page adds its charts)."""
    return {
        "period": {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "days": period.days,
            "timezone": period.zone_name,
            "start": iso(result.start),
            "end": iso(result.end),
        },
        "attribution_window_days": result.window.days,
        "conversations": {
            "started": result.conversations_started,
            "answered": result.conversations_answered,
            "resolved": result.conversations_resolved,
        },
        "first_response_seconds": {"median": result.first_response_median, "p90": result.first_response_p90},
        "resolution_seconds": {"median": result.resolution_median},
        "orders": {"counted": result.orders, "not_counted": result.not_counted},
        "revenue": money_list(result.revenue, result.orders_by_currency),
        "conversion": {
            "converted": result.converted_conversations,
            "conversations": result.conversations_started,
            "percent": percent(result.conversion),
        },
        "by_rule": [
            {
                "rule": rule.rule,
                "orders": rule.orders,
                "revenue": money_list(rule.revenue),
                "discount": money_list(rule.discount),
            }
            for rule in result.by_rule
        ],
        "abandoned_carts": {
            "count": len(result.abandoned),
            "still_open": result.still_open_carts,
            "value": money_list(result.abandoned_value),
            "carts": [_cart_json(cart) for cart in result.abandoned[:LIST_LIMIT]],
            "truncated": len(result.abandoned) > LIST_LIMIT,
        },
        "daily": [
            {"date": day.day.isoformat(), "conversations": day.conversations, "revenue": money_list(day.revenue)}
            for day in result.days
        ],
    }


def safe_cell(value: Any) -> Any:
    """A text cell a shopper or merchant wrote, defused: prefixed with ' when a spreadsheet
    would read it as a formula (CSV injection). Our own numbers are never passed here."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) or text.lstrip(_SKIPPED_BEFORE_FORMULA).startswith(_FORMULA_START):
        return "'" + text
    return text


def _seconds(value: int | None) -> Any:
    return "" if value is None else value


def insights_csv(shop_domain: str, period: Period, result: Insights) -> str:
    out = io.StringIO()
    # A byte-order mark: Excel otherwise opens UTF-8 as a legacy code page and garbles
    # the names and titles of shops selling in Estonian, Russian, Hebrew …
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow(["Parley insights", shop_domain])
    w.writerow(["from", period.first.isoformat()])
    w.writerow(["to", period.last.isoformat()])
    w.writerow(["timezone", period.zone_name])
    w.writerow(["attribution_window_days", result.window.days])
    w.writerow([])
    w.writerow(["Summary"])
    w.writerow(["figure", "value"])
    for name, value in (
        ("conversations_started", result.conversations_started),
        ("conversations_answered", result.conversations_answered),
        ("conversations_resolved", result.conversations_resolved),
        ("first_response_median_seconds", _seconds(result.first_response_median)),
        ("first_response_p90_seconds", _seconds(result.first_response_p90)),
        ("resolution_median_seconds", _seconds(result.resolution_median)),
        ("orders_counted", result.orders),
        *((f"orders_not_counted_{reason}", count) for reason, count in result.not_counted.items()),
        ("chat_conversion_converted", result.converted_conversations),
        ("chat_conversion_percent", percent(result.conversion) or ""),
        ("abandoned_carts", len(result.abandoned)),
        ("still_open_carts", result.still_open_carts),
    ):
        w.writerow([name, value])
    w.writerow([])
    w.writerow(["Revenue by currency"])
    w.writerow(["currency", "orders", "revenue"])
    for currency, amount in result.revenue.items():
        w.writerow([currency, result.orders_by_currency.get(currency, 0), amount_text(amount, currency)])
    w.writerow([])
    w.writerow(["By attribution rule"])
    w.writerow(["rule", "orders", "currency", "revenue"])
    for rule in result.by_rule:
        if not rule.revenue:
            w.writerow([rule.rule, rule.orders, "", ""])
        for currency, amount in rule.revenue.items():
            w.writerow([rule.rule, rule.orders, currency, amount_text(amount, currency)])
    w.writerow([])
    w.writerow(["Daily"])
    currencies = sorted(result.revenue)
    w.writerow(["date", "conversations_started", *(f"revenue_{c}" for c in currencies)])
    for day in result.days:
        w.writerow(
            [
                day.day.isoformat(),
                day.conversations,
                *(amount_text(day.revenue.get(c, Decimal(0)), c) for c in currencies),
            ]
        )
    w.writerow([])
    w.writerow(["Abandoned carts"])
    w.writerow(
        ["conversation_id", "name", "email", "item_count", "value", "currency", "products", "checkout_url", "cart_at"]
    )
    for cart in result.abandoned:
        w.writerow(
            [
                cart.conversation_id,
                safe_cell(cart.name),
                safe_cell(cart.email),
                cart.item_count,
                amount_text(cart.value, cart.currency) if cart.value is not None else "",
                safe_cell(cart.currency),
                safe_cell("; ".join(cart.titles)),
                safe_cell(cart.checkout_url),
                iso(cart.at),
            ]
        )
    return out.getvalue()
