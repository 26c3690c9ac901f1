"""Bar charts as inline SVG, drawn on the server so the page needs no chart framework.

Plain string building: every piece of text goes through `_text` (XML-escaped), each
bar carries a <title> (its tooltip and what a screen reader reads), and there is no
script or external reference. The same input always gives the same bytes, so a
chart can be compared in a test and cached by anyone.

The chart has no viewBox: it is as wide as its card (bars are placed in percent of
the width) and its heights and text are in pixels, so labels read at 12 px whether
the card is a phone's or a desktop's. Bars carry their values; the y-axis has round
steps; dates are labelled at even intervals. Labels that would touch on a narrow
card are thinned evenly by the page (insights.js), never by guessing widths here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from html import escape

from app.commerce.insights import Day
from app.commerce.money import amount_text

FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, sans-serif"
LABEL_PX = 12
HEADING_PX = 13
HEADING_ROW = 22  # a panel's heading (one per currency), when it has one
VALUE_ROOM = 20  # above the tallest bar, for its value
PLOT_HEIGHT = 140
AXIS_ROOM = 26  # under the bars, for the dates
# Colours follow the page's theme (admin.css custom properties), with light fallbacks.
INK = "fill: var(--subdued, #616161)"
STRONG_INK = "fill: var(--ink, #303030)"
HALO = "stroke: var(--surface, #fff); stroke-width: 3px; stroke-linejoin: round; paint-order: stroke"
GRID = "stroke: var(--line, #e3e3e3)"
BAR = "fill: var(--accent, #008060)"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_X_LABELS = 8
# Days between date labels: every day, every other, then whole weeks, so labels fall on
# the same weekday and their spacing never changes within a chart.
DATE_STRIDES = (1, 2, 7, 14, 28, 56, 91, 182)
MAX_TICKS = 5


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar, when it is one of the labelled dates
    value: Decimal
    tip: str  # the bar's <title>


@dataclass(frozen=True)
class Panel:
    heading: str  # "" for none: the card's own title already says what the chart is
    bars: list[Bar]
    axis_text: Callable[[Decimal], str]


def _text(value: object) -> str:
    # quote=True also escapes " and ', so the same helper is safe inside attributes.
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    """Coordinates with two decimals: short, and identical for identical input."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_step(top: Decimal, integers: bool) -> Decimal:
    """The smallest 1, 2 or 5 × 10^k step that covers `top` in at most four steps
    (five gridlines with 0), so the axis reads 0, 5, 10, 15, 20 and not 0 and 17."""
    if top <= 0:
        return Decimal(1)
    base = Decimal(1).scaleb((top / 4).adjusted())
    for multiple in (1, 2, 5, 10, 20):
        step = base * multiple
        if integers and step < 1:
            continue
        if step * 4 >= top:
            return step
    return base * 20  # pragma: no cover - the loop always returns


def ticks(values: Sequence[Decimal], integers: bool) -> list[Decimal]:
    """Gridline values from 0 to the first step at or above the largest value."""
    top = max(values, default=Decimal(0))
    step = nice_step(top, integers)
    count = int((top / step).to_integral_value(rounding=ROUND_CEILING)) if top > 0 else 1
    return [step * i for i in range(max(count, 1) + 1)]


def compact(value: Decimal) -> str:
    """A value short enough to sit on a bar: 12, 25.5, 130, 1.2k, 3.4M."""
    if value >= 1_000_000:
        return _one_decimal(value / 1_000_000) + "M"
    if value >= 10_000:
        return str(int((value / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))) + "k"
    if value >= 1000:
        return _one_decimal(value / 1000) + "k"
    if value >= 100 or value == value.to_integral_value():
        return str(int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize())


def _one_decimal(value: Decimal) -> str:
    text = str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return text[:-2] if text.endswith(".0") else text


def day_label(day: date) -> str:
    # Fixed English month names: the output must not depend on the server's locale.
    return f"{MONTHS[day.month - 1]} {day.day}"


def date_stride(count: int) -> int:
    """Days between labelled dates: the smallest even stride with at most MAX_X_LABELS labels."""
    for stride in DATE_STRIDES:
        if -(-count // stride) <= MAX_X_LABELS:
            return stride
    return DATE_STRIDES[-1]


def panel_height(panel: Panel) -> int:
    return (HEADING_ROW if panel.heading else 0) + VALUE_ROOM + PLOT_HEIGHT + AXIS_ROOM


def _label(x: str, y: float, text: str, *, cls: str, anchor: str = "middle", extra: str = "") -> str:
    return (
        f'<text class="{cls}" x="{x}" y="{_n(y)}" font-size="{LABEL_PX}" text-anchor="{anchor}" '
        f'style="{INK}; {HALO}"{extra}>{_text(text)}</text>'
    )


def _panel(parts: list[str], top: float, panel: Panel, empty_text: str, integers: bool) -> None:
    y = top
    if panel.heading:
        parts.append(
            f'<text class="panel-heading" x="0" y="{_n(y + 15)}" font-size="{HEADING_PX}" font-weight="600" '
            f'style="{STRONG_INK}">{_text(panel.heading)}</text>'
        )
        y += HEADING_ROW
    plot_top = y + VALUE_ROOM
    plot_bottom = plot_top + PLOT_HEIGHT
    values = [max(bar.value, Decimal(0)) for bar in panel.bars]
    gridlines = ticks(values, integers)
    ceiling = gridlines[-1]
    for value in gridlines:
        line_y = plot_bottom - PLOT_HEIGHT * float(value / ceiling)
        parts.append(f'<line x1="0" y1="{_n(line_y)}" x2="100%" y2="{_n(line_y)}" style="{GRID}"/>')
        # Above its gridline at the left edge, on a halo, so a bar under it never hides it.
        parts.append(_label("0", line_y - 4, panel.axis_text(value), cls="y-label", anchor="start"))
    if not panel.bars or all(value <= 0 for value in values):
        parts.append(
            f'<text class="empty" x="50%" y="{_n(plot_top + PLOT_HEIGHT / 2)}" font-size="{HEADING_PX}" '
            f'text-anchor="middle" style="{INK}">{_text(empty_text)}</text>'
        )
    slot = 100 / max(len(panel.bars), 1)
    stride = date_stride(len(panel.bars))
    for index, (bar, value) in enumerate(zip(panel.bars, values, strict=True)):
        height = PLOT_HEIGHT * float(value / ceiling)
        centre = _n(slot * index + slot / 2) + "%"
        parts.append(
            f'<rect x="{_n(slot * index + slot * 0.15)}%" y="{_n(plot_bottom - height)}" '
            f'width="{_n(max(slot * 0.7, 0.2))}%" height="{_n(height)}" style="{BAR}">'
            f"<title>{_text(bar.tip)}</title></rect>"
        )
        if value > 0:
            parts.append(_label(centre, plot_bottom - height - 5, compact(value), cls="bar-value"))
        if index % stride == 0:
            parts.append(
                _label(centre, plot_bottom + 18, bar.label, cls="x-label", extra=f' data-index="{index // stride}"')
            )


def bar_chart(
    chart_id: str, title: str, description: str, panels: Sequence[Panel], empty_text: str, integers: bool = False
) -> str:
    """One SVG; several panels (small multiples) stack vertically, each on its own scale.
    `integers`: the values are counts, so the axis steps are whole numbers."""
    panels = list(panels) or [Panel(heading="", bars=[], axis_text=str)]
    height = sum(panel_height(panel) for panel in panels)
    cid = _text(chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{cid}-title {cid}-desc" font-family="{_text(FONT)}" overflow="visible">',
        f'<title id="{cid}-title">{_text(title)}</title>',
        f'<desc id="{cid}-desc">{_text(description)}</desc>',
    ]
    top = 0
    for panel in panels:
        _panel(parts, top, panel, empty_text, integers)
        top += panel_height(panel)
    parts.append("</svg>")
    return "".join(parts)


def _count_text(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else f"{value:.1f}"


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
        # No heading: the card's title says what this is.
        [Panel("", bars, _count_text)],
        "No conversations in this period",
        integers=True,
    )


def revenue_chart(days: Sequence[Day]) -> str:
    """One panel per currency: amounts in different currencies never share an axis. Each
    panel is headed by its currency alone (the card's title says it is revenue)."""
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
        panels.append(Panel(currency, bars, compact))
    if not panels:
        panels = [
            Panel(
                "",
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
