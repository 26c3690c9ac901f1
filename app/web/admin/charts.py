"""Bar charts as inline SVG, drawn on the server so the page needs no chart framework.

Plain string building: every piece of text goes through `_text` (XML-escaped), each
bar carries a <title> (its tooltip and what a screen reader reads), and there is no
script or external reference. The same input always gives the same bytes, so a
chart can be compared in a test and cached by anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape

from app.commerce.insights import Day
from app.commerce.money import amount_text

WIDTH = 640
PANEL_HEIGHT = 180
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 26
BAR_COLOUR = "#008060"
INK = "#616161"
GRID = "#e3e3e3"
FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, sans-serif"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_X_LABELS = 7


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar, when there is room
    value: Decimal
    tip: str  # the bar's <title>


@dataclass(frozen=True)
class Panel:
    heading: str
    bars: list[Bar]
    axis_text: Callable[[Decimal], str]


def _text(value: object) -> str:
    # quote=True also escapes " and ', so the same helper is safe inside attributes.
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    """Coordinates with one decimal: short, and identical for identical input."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2 or 5 × 10^k not below the value, so axis labels stay round."""
    if value <= 0:
        return Decimal(1)
    base = Decimal(1).scaleb(value.adjusted())
    for step in (1, 2, 5, 10):
        if base * step >= value:
            return base * step
    return base * 10  # pragma: no cover - the loop always returns


def day_label(day: date) -> str:
    # Fixed English month names: the output must not depend on the server's locale.
    return f"{MONTHS[day.month - 1]} {day.day}"


def _labelled(count: int) -> set[int]:
    """Which bars get an x label: the first, the last and a few evenly between."""
    if count <= MAX_X_LABELS:
        return set(range(count))
    step = (count - 1) / (MAX_X_LABELS - 1)
    return {round(i * step) for i in range(MAX_X_LABELS)}


def _panel(parts: list[str], top: float, panel: Panel, empty_text: str) -> None:
    plot_top = top + TOP
    plot_height = PANEL_HEIGHT - TOP - BOTTOM
    plot_bottom = plot_top + plot_height
    plot_width = WIDTH - LEFT - RIGHT
    parts.append(
        f'<text x="{LEFT}" y="{_n(top + 16)}" font-size="13" font-weight="600" fill="#303030">{_text(panel.heading)}</text>'
    )
    ceiling = nice_ceiling(max((bar.value for bar in panel.bars), default=Decimal(0)))
    for fraction, value in ((0, Decimal(0)), (0.5, None), (1, ceiling)):
        y = plot_bottom - plot_height * fraction
        parts.append(
            f'<line x1="{LEFT}" y1="{_n(y)}" x2="{WIDTH - RIGHT}" y2="{_n(y)}" stroke="{GRID}" stroke-width="1"/>'
        )
        if value is not None:
            parts.append(
                f'<text x="{LEFT - 6}" y="{_n(y + 4)}" font-size="11" fill="{INK}" text-anchor="end">{_text(panel.axis_text(value))}</text>'
            )
    if not panel.bars or all(bar.value <= 0 for bar in panel.bars):
        parts.append(
            f'<text x="{_n(LEFT + plot_width / 2)}" y="{_n(plot_top + plot_height / 2)}" font-size="12" fill="{INK}" '
            f'text-anchor="middle">{_text(empty_text)}</text>'
        )
    slot = plot_width / max(len(panel.bars), 1)
    labelled = _labelled(len(panel.bars))
    for index, bar in enumerate(panel.bars):
        height = plot_height * float(max(bar.value, Decimal(0)) / ceiling)
        x = LEFT + slot * index + slot * 0.1
        parts.append(
            f'<rect x="{_n(x)}" y="{_n(plot_bottom - height)}" width="{_n(max(slot * 0.8, 0.5))}" height="{_n(height)}" '
            f'fill="{BAR_COLOUR}"><title>{_text(bar.tip)}</title></rect>'
        )
        if index in labelled:
            parts.append(
                f'<text x="{_n(LEFT + slot * index + slot / 2)}" y="{_n(plot_bottom + 16)}" font-size="11" fill="{INK}" '
                f'text-anchor="middle">{_text(bar.label)}</text>'
            )


def bar_chart(chart_id: str, title: str, description: str, panels: Sequence[Panel], empty_text: str) -> str:
    """One SVG; several panels (small multiples) stack vertically, each on its own scale."""
    panels = list(panels) or [Panel(heading="", bars=[], axis_text=str)]
    height = PANEL_HEIGHT * len(panels)
    cid = _text(chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" font-family="{_text(FONT)}">',
        f'<title id="{cid}-title">{_text(title)}</title>',
        f'<desc id="{cid}-desc">{_text(description)}</desc>',
    ]
    for index, panel in enumerate(panels):
        _panel(parts, index * PANEL_HEIGHT, panel, empty_text)
    parts.append("</svg>")
    return "".join(parts)


def _count_text(value: Decimal) -> str:
    return f"{value:f}" if value == value.to_integral_value() else f"{value:.1f}"


def conversations_chart(days: Sequence[Day]) -> str:
    total = sum(day.conversations for day in days)
    bars = [
        Bar(
            day_label(day.day),
            Decimal(day.conversations),
            f"{day.day.isoformat()}: {day.conversations} conversation{'s' if day.conversations != 1 else ''} started",
        )
        for day in days
    ]
    span = f" from {days[0].day.isoformat()} to {days[-1].day.isoformat()}" if days else ""
    return bar_chart(
        "chart-conversations",
        "Conversations started per day",
        f"{total} conversations started{span}.",
        [Panel("Conversations started", bars, _count_text)],
        "No conversations in this period",
    )


def revenue_chart(days: Sequence[Day]) -> str:
    """One panel per currency: amounts in different currencies never share an axis."""
    currencies = sorted({currency for day in days for currency in day.revenue})
    panels = []
    summary = []
    for currency in currencies:
        amounts = [day.revenue.get(currency, Decimal(0)) for day in days]
        total = sum(amounts, Decimal(0))
        summary.append(f"{amount_text(total)} {currency}")
        bars = [
            Bar(day_label(day.day), amount, f"{day.day.isoformat()}: {amount_text(amount)} {currency}")
            for day, amount in zip(days, amounts, strict=True)
        ]
        panels.append(
            Panel(
                f"Revenue, {currency}",
                bars,
                lambda value: f"{value:f}" if value == value.to_integral_value() else amount_text(value),
            )
        )
    if not panels:
        panels = [
            Panel(
                "Revenue",
                [Bar(day_label(day.day), Decimal(0), f"{day.day.isoformat()}: no revenue") for day in days],
                _count_text,
            )
        ]
    return bar_chart(
        "chart-revenue",
        "Attributed revenue per day, per currency",
        ("Revenue attributed to chat: " + ", ".join(summary) + ".")
        if summary
        else "No attributed revenue in this period.",
        panels,
        "No attributed revenue in this period",
    )
