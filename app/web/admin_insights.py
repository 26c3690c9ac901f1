"""Insights for the Support page: the figures as JSON (with server-drawn SVG charts)
and the same figures as CSV. The definitions live in app/commerce/insights.py.

The merchant picks inclusive dates; they mean days in the shop's time zone (the
`hours.timezone` setting), so the period runs from local midnight of `from` to local
midnight after `to`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Response, jsonify, request

from app.chat.conversations import iso
from app.chat.shop_settings import get_settings
from app.commerce import insights as figures
from app.commerce.attribution import attribution_window
from app.web import charts
from app.web.admin_support import staff
from app.web.context import parley
from app.web.errors import APIError

bp = Blueprint("admin_insights", __name__, url_prefix="/admin/api")

DEFAULT_DAYS = 30
MAX_DAYS = 366
# The JSON lists this many abandoned carts; the CSV always has them all.
LIST_LIMIT = 200
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(…) can
# leak data or lure a click); shoppers choose their names and merchants their titles.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    zone_name: str
    zone: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.zone).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone).astimezone(timezone.utc)


def _invalid(message: str) -> APIError:
    return APIError(400, "invalid_period", message)


def _date(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise _invalid(f"{name} must be a date written YYYY-MM-DD") from None


def _zone(settings: dict) -> tuple[str, tzinfo]:
    name = (settings.get("hours") or {}).get("timezone") or "UTC"
    try:
        return name, ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        # Settings are validated on save; an unreadable zone still must not break the page.
        return "UTC", timezone.utc


def period_from_request(settings: dict, now: datetime) -> Period:
    zone_name, zone = _zone(settings)
    first, last = _date("from"), _date("to")
    today = now.astimezone(zone).date()
    if last is None:
        last = today if first is None else first + timedelta(days=DEFAULT_DAYS - 1)
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise _invalid("from must be on or before to")
    if (last - first).days + 1 > MAX_DAYS:
        raise _invalid(f"a period can be at most {MAX_DAYS} days long")
    return Period(first, last, zone_name, zone)


def _load() -> tuple[Any, Period, figures.Insights]:
    who = staff()
    services = parley()
    now = services.now()
    with services.db.session() as session:
        settings = get_settings(session, who.shop.id)
        period = period_from_request(settings, now)
        window = attribution_window(settings)
        result = figures.compute(session, who.shop.id, period.start, period.end, now, window, tz=period.zone)
    return who, period, result


def _money_list(amounts: dict[str, Decimal], orders: dict[str, int] | None = None) -> list[dict[str, Any]]:
    rows = []
    for currency, amount in amounts.items():
        row: dict[str, Any] = {"currency": currency, "amount": figures.amount_text(amount)}
        if orders is not None:
            row["orders"] = orders.get(currency, 0)
        rows.append(row)
    return rows


def _cart_json(cart: figures.AbandonedCart) -> dict[str, Any]:
    return {
        "conversation_id": cart.conversation_id,
        "customer": {"name": cart.name, "email": cart.email},
        "item_count": cart.item_count,
        "value": figures.amount_text(cart.value) if cart.value is not None else None,
        "currency": cart.currency,
        "titles": cart.titles,
        "checkout_url": cart.checkout_url,
        "at": iso(cart.at),
    }


def insights_json(period: Period, result: figures.Insights) -> dict[str, Any]:
    return {
        "period": {
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "days": (period.last - period.first).days + 1,
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
        "revenue": _money_list(result.revenue, result.orders_by_currency),
        "conversion": {
            "converted": result.converted_conversations,
            "conversations": result.conversations_started,
            "percent": figures.percent(result.conversion),
        },
        "by_rule": [
            {
                "rule": rule.rule,
                "orders": rule.orders,
                "revenue": _money_list(rule.revenue),
            }
            for rule in result.by_rule
        ],
        "abandoned_carts": {
            "count": len(result.abandoned),
            "still_open": result.still_open_carts,
            "value": _money_list(result.abandoned_value),
            "carts": [_cart_json(cart) for cart in result.abandoned[:LIST_LIMIT]],
            "truncated": len(result.abandoned) > LIST_LIMIT,
        },
        "daily": [
            {"date": day.day.isoformat(), "conversations": day.conversations, "revenue": _money_list(day.revenue)}
            for day in result.days
        ],
        "charts": {
            "conversations": charts.conversations_chart(result.days),
            "revenue": charts.revenue_chart(result.days),
        },
    }


@bp.get("/insights")
def show_insights():
    _, period, result = _load()
    return jsonify(insights_json(period, result))


# -- CSV ------------------------------------------------------------------------------------


def safe_cell(value: Any) -> Any:
    """A text cell a shopper or merchant wrote, defused: prefixed with ' when a spreadsheet
    would read it as a formula (CSV injection). Our own numbers are never passed here."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _seconds(value: int | None) -> Any:
    return "" if value is None else value


def insights_csv(shop_domain: str, period: Period, result: figures.Insights) -> str:
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
        ("chat_conversion_percent", figures.percent(result.conversion) or ""),
        ("abandoned_carts", len(result.abandoned)),
        ("still_open_carts", result.still_open_carts),
    ):
        w.writerow([name, value])
    w.writerow([])
    w.writerow(["Revenue by currency"])
    w.writerow(["currency", "orders", "revenue"])
    for currency, amount in result.revenue.items():
        w.writerow([currency, result.orders_by_currency.get(currency, 0), figures.amount_text(amount)])
    w.writerow([])
    w.writerow(["By attribution rule"])
    w.writerow(["rule", "orders", "currency", "revenue"])
    for rule in result.by_rule:
        if not rule.revenue:
            w.writerow([rule.rule, rule.orders, "", ""])
        for currency, amount in rule.revenue.items():
            w.writerow([rule.rule, rule.orders, currency, figures.amount_text(amount)])
    w.writerow([])
    w.writerow(["Daily"])
    currencies = sorted(result.revenue)
    w.writerow(["date", "conversations_started", *(f"revenue_{c}" for c in currencies)])
    for day in result.days:
        w.writerow(
            [day.day.isoformat(), day.conversations, *(figures.amount_text(day.revenue.get(c, Decimal(0))) for c in currencies)]
        )
    w.writerow([])
    w.writerow(["Abandoned carts"])
    w.writerow(["conversation_id", "name", "email", "item_count", "value", "currency", "products", "checkout_url", "cart_at"])
    for cart in result.abandoned:
        w.writerow(
            [
                cart.conversation_id,
                safe_cell(cart.name),
                safe_cell(cart.email),
                cart.item_count,
                figures.amount_text(cart.value) if cart.value is not None else "",
                safe_cell(cart.currency),
                safe_cell("; ".join(cart.titles)),
                safe_cell(cart.checkout_url),
                iso(cart.at),
            ]
        )
    return out.getvalue()


@bp.get("/insights.csv")
def export_insights():
    who, period, result = _load()
    filename = f"parley-insights-{period.first.isoformat()}-to-{period.last.isoformat()}.csv"
    response = Response(insights_csv(who.shop.domain, period, result), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
