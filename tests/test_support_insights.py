"""Insights that read at a glance and take no nonsense (issue 11, points 13 and 15; issue 12,
points 9 and 14): charts with round y-axis steps, a value on each bar, 12 px text, dates
at even intervals and no second title; periods outside the calendar are a 400 in plain
words; CSV cells that a spreadsheet would run as formulas are defused however they are
padded. The page itself is looked at in tests/test_support_browser.py."""

from __future__ import annotations

import csv
import io
import itertools
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.commerce.insights import Day
from app.commerce.insights_report import safe_cell
from app.web.admin import charts
from tests.support.shops import SHOP, bearer, install

SVG = "{http://www.w3.org/2000/svg}"


def days(count: int, conversations=lambda i: i % 5, revenue=None) -> list[Day]:
    start = date(2024, 3, 1)
    return [Day(start + timedelta(days=i), conversations(i), revenue(i) if revenue else {}) for i in range(count)]


def texts(svg: str, cls: str) -> list[ET.Element]:
    return [t for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("class") == cls]


# -- point 15: the charts -----------------------------------------------------------------------


@pytest.mark.parametrize("top", [1, 3, 7, 17, 23, 99, 480, 1234])
def test_the_y_axis_has_round_steps_from_zero_past_the_largest_bar(top):
    svg = charts.conversations_chart(days(10, conversations=lambda i: top if i == 4 else 1))
    values = [int(t.text) for t in texts(svg, "y-label")]
    # Not just 0 and the maximum: 3 to 5 gridlines of one round step (1, 2 or 5 × 10^k).
    assert values[0] == 0 and values[-1] >= top and len(values) <= 6
    assert len(values) >= 3 or values == [0, 1]  # a single conversation needs no more lines
    steps = {b - a for a, b in itertools.pairwise(values)}
    assert len(steps) == 1
    step = steps.pop()
    assert str(step).strip("0") in ("1", "2", "5")
    assert values[-1] - step < top  # the top line is the first step at or above the largest bar


def test_every_bar_with_a_value_carries_it():
    svg = charts.conversations_chart(days(7, conversations=lambda i: [0, 3, 0, 12, 1, 0, 7][i]))
    assert [t.text for t in texts(svg, "bar-value")] == ["3", "12", "1", "7"]
    revenue = charts.revenue_chart(
        days(4, revenue=lambda i: {"EUR": [Decimal("25.00"), Decimal("129.90"), Decimal("0"), Decimal("1234.5")][i]})
    )
    assert [t.text for t in texts(revenue, "bar-value")] == ["25", "130", "1.2k"]
    # The exact amount stays in each bar's tooltip.
    tips = [r.find(f"{SVG}title").text for r in ET.fromstring(revenue).iter(f"{SVG}rect")]
    assert tips[1] == "2024-03-02: 129.90 EUR"


def test_all_chart_text_is_at_least_12_px_at_any_card_width():
    svg = charts.revenue_chart(days(30, revenue=lambda i: {"EUR": Decimal(i * 10), "USD": Decimal(i)}))
    root = ET.fromstring(svg)
    # No viewBox: the chart is as wide as its card and nothing scales its text down.
    assert root.get("viewBox") is None and root.get("width") == "100%"
    sizes = {float(t.get("font-size")) for t in root.iter(f"{SVG}text")}
    assert sizes and min(sizes) >= 12


@pytest.mark.parametrize("count", [3, 7, 14, 30, 31, 60, 90, 366])
def test_dates_are_labelled_at_even_intervals(count):
    svg = charts.conversations_chart(days(count))
    labels = texts(svg, "x-label")
    shown = [date(2024, 3, 1) + timedelta(days=i) for i in range(count)]
    # Each date label follows its bar in the drawing: the bars before it give its day.
    labelled, bars = [], 0
    for element in ET.fromstring(svg):
        if element.tag == f"{SVG}rect":
            bars += 1
        elif element.get("class") == "x-label":
            labelled.append(shown[bars - 1])
            assert element.text == charts.day_label(shown[bars - 1])
    gaps = {(b - a).days for a, b in itertools.pairwise(labelled)}
    assert labelled[0] == shown[0] and len(gaps) <= 1, gaps  # one spacing, from the first day
    assert len(labels) <= charts.MAX_X_LABELS
    if count > 14:
        assert gaps <= {7, 14, 28, 56}  # whole weeks: the same weekday each time


def test_the_card_title_is_not_drawn_again_inside_the_chart():
    conversations = charts.conversations_chart(days(5))
    assert texts(conversations, "panel-heading") == []
    assert "Conversations started</text>" not in conversations
    revenue = charts.revenue_chart(days(5, revenue=lambda i: {"EUR": Decimal(5), "USD": Decimal(2)}))
    assert [t.text for t in texts(revenue, "panel-heading")] == ["EUR", "USD"]
    assert "Revenue" not in "".join(t.text or "" for t in ET.fromstring(revenue).iter(f"{SVG}text"))


# -- points 13 and issue 12 point 9: the period ----------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["to=9999-12-31", "from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=0001-01-05", "from=1999-12-31"],
)
def test_a_period_outside_the_calendar_is_a_400_in_plain_words(client, standin, services, query):
    install(services, SHOP)
    for path in ("/admin/api/insights", "/admin/api/insights.csv"):
        answer = client.get(f"{path}?{query}", headers=bearer(standin))
        assert answer.status_code == 400, answer.data
        assert answer.get_json() == {
            "error": "invalid_period",
            "message": "Choose dates between 1 January 2000 and 31 December 9998",
        }


def test_the_period_sentences_name_no_parameter(client, standin, services):
    install(services, SHOP)
    answer = client.get("/admin/api/insights?from=2024-03-06&to=2024-03-04", headers=bearer(standin)).get_json()
    assert answer["message"] == "The start date must be on or before the end date"


# -- issue 12 point 14: CSV cells a spreadsheet would run -------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "=HYPERLINK(1)",
        " =HYPERLINK(1)",
        "\t=1+1",
        '"=1+1',
        "'=1+1",
        '  "+SUM(A1)',
        "\u00a0-2+3",
        "\n@cmd",
        "\r=1",
        "+1",
        "-1",
        "@A1",
    ],
)
def test_formula_cells_are_defused_however_they_are_padded(cell):
    defused = safe_cell(cell)
    assert defused == "'" + cell
    # What a spreadsheet reads back from the CSV starts with the quote that makes it text.
    [[read]] = list(csv.reader(io.StringIO(_csv_line(defused))))
    assert read.startswith("'")


@pytest.mark.parametrize("cell", ["Anna Tamm", "Wool hat", "a=b", "50% off", "", None, "Ünal +"])
def test_ordinary_text_is_left_alone(cell):
    assert safe_cell(cell) == ("" if cell is None else cell)


def _csv_line(value: str) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([value])
    return out.getvalue()
