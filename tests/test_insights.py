"""Insights on SQLite and PostgreSQL: every figure of a seeded shop checked against
arithmetic done by hand below, through the core, the JSON API and the CSV export;
the SVG charts; bad periods; and that one shop never sees another's figures.

The shop's time zone is Europe/Tallinn (UTC+2 in March 2024, before DST), so the
period 2024-03-04 … 2024-03-06 is [2024-03-03 22:00Z, 2024-03-06 22:00Z). The
attribution window is set to 2 days and "now" is 2024-03-10 12:00Z, so a cart is
abandoned when its latest snapshot is from 2024-03-08 12:00Z or earlier.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.chat.shop_settings import put_setting
from app.clock import utcnow
from app.commerce.insights import Day, compute
from app.models import CartSnapshot, Conversation, ConversationStatus, OrderLink, Visitor
from app.web.admin import charts
from tests.support.queries import counted
from tests.support.shops import SHOP, bearer, install

OTHER = "other-shop.myshopify.com"
TALLINN = ZoneInfo("Europe/Tallinn")
NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
START = datetime(2024, 3, 3, 22, 0, tzinfo=UTC)  # 2024-03-04 00:00 in Tallinn
END = datetime(2024, 3, 6, 22, 0, tzinfo=UTC)  # 2024-03-07 00:00 in Tallinn
PERIOD = "from=2024-03-04&to=2024-03-06"
EVIL_NAME = '=HYPERLINK("https://evil.example","win")'
EVIL_TITLE = "Wool <script>alert(1)</script> hat"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def seed_shop_a(session, shop: int) -> dict[str, str]:
    """Conversations c0…c10 of shop A; the comments give each one's part in the figures."""
    ids: dict[str, str] = {}

    def conversation(key, created, first=None, resolved=None, name=None, email=None):
        visitor = Visitor(shop_id=shop, name=name, email=email, created_at=created, last_seen_at=created)
        session.add(visitor)
        session.flush()
        row = Conversation(
            shop_id=shop,
            visitor_id=visitor.id,
            created_at=created,
            first_response_at=created + timedelta(seconds=first) if first is not None else None,
            resolved_at=created + timedelta(seconds=resolved) if resolved is not None else None,
            status=ConversationStatus.resolved if resolved is not None else ConversationStatus.open,
        )
        session.add(row)
        session.flush()
        ids[key] = row.id

    def cart(key, when, items, total, currency, titles=(), checkout_url=None):
        lines = [{"title": t, "quantity": 1, "price": 100, "line_price": 100} for t in titles]
        session.add(
            CartSnapshot(
                shop_id=shop,
                conversation_id=ids[key],
                created_at=when,
                item_count=items,
                total=Decimal(total),
                currency=currency,
                lines=lines,
                checkout_url=checkout_url,
            )
        )
        session.flush()  # snapshots get ids in the order written: the latest is the last added

    def order(key, order_id, rule, when, total, currency, refunded="0", cancelled=None, flag=None):
        session.add(
            OrderLink(
                shop_id=shop,
                conversation_id=ids[key],
                order_id=order_id,
                order_name=f"#{order_id}",
                rule=rule,
                ordered_at=when,
                total=Decimal(total),
                refunded=Decimal(refunded),
                currency=currency,
                cancelled_at=cancelled,
                flag=flag,
            )
        )

    # Outside the period: 2024-03-03 23:00 in Tallinn. Its order is inside the period.
    conversation("c0", at(3, 21), first=10, resolved=20, name="Before")
    cart("c0", at(3, 21, 5), 1, "999.00", "EUR", ["Old cart"])
    order("c0", "o7", "conversation", at(4, 10), "500.00", "EUR")
    # In the period.
    conversation("c1", at(4, 8), first=60, resolved=3600, name="Anna Tamm", email="anna@example.com")
    order("c1", "o1", "conversation", at(4, 9), "129.90", "EUR", refunded="20.00")  # partial refund
    order("c1", "o8", "conversation", at(7, 23), "60.00", "EUR")  # 2024-03-08 01:00 local: after the period
    conversation("c10", at(4, 12), name="Big Cart", email="big@example.com")
    cart("c10", at(4, 12, 10), 1, "120.00", "USD", ["Tent"], "https://shop.example/checkouts/c10")
    conversation("c2", at(4, 22, 30), first=120, resolved=7200)  # 2024-03-05 00:30 local
    order("c2", "o2", "cart_token", at(5, 10), "50.00", "USD")
    conversation("c3", at(5, 10), first=300)
    order("c3", "o3", "customer", at(6, 12), "80.00", "EUR")
    order("c3", "o4", "conversation", at(5, 11), "40.00", "EUR", cancelled=at(5, 12))
    conversation("c4", at(5, 12), first=900, resolved=1800)
    cart("c4", at(5, 12, 5), 2, "30.00", "EUR", ["Socks"])  # has an order (refunded): not abandoned
    order("c4", "o5", "cart_token", at(5, 13), "30.00", "EUR", refunded="30.00")
    conversation("c5", at(6, 9), name=EVIL_NAME, email="eve@example.com")
    cart("c5", at(6, 9, 1), 1, "10.00", "EUR", ["Scarf"])
    cart("c5", at(6, 9, 5), 2, "75.50", "EUR", ["-2+3 Glove", EVIL_TITLE], "https://shop.example/checkouts/c5")
    conversation("c6", at(6, 18))  # 2024-03-06 20:00 local
    cart("c6", at(9, 20), 1, "20.00", "USD", ["Cap"])  # 1 d 16 h before now: still open
    conversation("c7", at(6, 15), first=30)
    cart("c7", at(6, 15, 1), 3, "45.00", "EUR", ["Boots"])
    cart("c7", at(6, 15, 9), 0, "0.00", "EUR")  # emptied: neither abandoned nor open
    order("c7", "o9", "customer", at(8, 10), "15.00", "USD")  # after the period, but c7 converted
    conversation("c8", at(6, 16))
    order("c8", "o6", "cart_token", at(6, 17), "99.00", None, flag="missing_currency")
    # After the period: 2024-03-07 11:00 local.
    conversation("c9", at(7, 9), first=5, name="After")
    cart("c9", at(7, 9, 5), 4, "400.00", "EUR", ["Later cart"])
    session.flush()
    return ids


def seed_shop_b(session, shop: int) -> str:
    visitor = Visitor(shop_id=shop, name="Shop B shopper secret-b")
    session.add(visitor)
    session.flush()
    row = Conversation(shop_id=shop, visitor_id=visitor.id, created_at=at(5, 10), first_response_at=at(5, 10, 1))
    session.add(row)
    session.flush()
    session.add(
        CartSnapshot(
            shop_id=shop,
            conversation_id=row.id,
            created_at=at(5, 10, 2),
            item_count=5,
            total=Decimal("555.00"),
            currency="EUR",
            lines=[{"title": "secret-b product"}],
        )
    )
    other = Conversation(shop_id=shop, visitor_id=visitor.id, created_at=at(5, 11))
    session.add(other)
    session.flush()
    session.add(
        OrderLink(
            shop_id=shop,
            conversation_id=other.id,
            order_id="o7",
            rule="conversation",
            ordered_at=at(5, 12),
            total=Decimal("1000.00"),
            refunded=Decimal(0),
            currency="EUR",
        )
    )
    return row.id


@pytest.fixture
def seeded(services, standin, shop_id, clock):
    standin.add_shop(OTHER, name="Other Shop")
    shop_b = install(services, OTHER)
    with services.db.transaction() as session:
        for shop in (shop_id, shop_b):
            put_setting(session, shop, "hours", {"timezone": "Europe/Tallinn", "weekly": {}}, utcnow())
            put_setting(session, shop, "attribution_window_days", 2, utcnow())
        ids = seed_shop_a(session, shop_id)
        b_conversation = seed_shop_b(session, shop_b)
    clock.set(NOW)
    return {"a": shop_id, "b": shop_b, "ids": ids, "b_conversation": b_conversation}


# -- the expectations, by hand ----------------------------------------------------------

# In the period: c1, c10, c2, c3, c4, c5, c6, c7, c8 (c0 is 03-03 local, c9 is 03-07 local).
STARTED = 9
# First responses of c1, c2, c3, c4, c7 in seconds: sorted [30, 60, 120, 300, 900].
ANSWERED = 5
FIRST_MEDIAN = 120  # rank ceil(0.5 · 5) = 3 → 120
FIRST_P90 = 900  # rank ceil(0.9 · 5) = 5 → 900
# Resolved: c1 3600, c2 7200, c4 1800 → sorted [1800, 3600, 7200], rank ceil(1.5) = 2.
RESOLVED = 3
RESOLUTION_MEDIAN = 3600
# Ordered in the period: o7, o1, o2, o3 count; o4 cancelled, o5 fully refunded, o6 flagged; o8, o9 are after it.
ORDERS = 4
EUR = Decimal("500.00") + (Decimal("129.90") - Decimal("20.00")) + Decimal("80.00")  # o7 + o1 − refund + o3 = 689.90
USD = Decimal("50.00")  # o2
NOT_COUNTED = {"flagged": 1, "cancelled": 1, "refunded": 1}
# Conversations with a counted order, whenever placed: c1 (o1), c2 (o2), c3 (o3), c7 (o9). 4 / 9 = 44.44… %.
CONVERTED = 4
PERCENT = "44.4"
BY_RULE = {
    # The agent's own rules (issue 15) are listed, with nothing in this data set.
    "agent_code": (0, {}),
    "agent_cart": (0, {}),
    "conversation": (2, {"EUR": Decimal("500.00") + Decimal("109.90")}),  # o7, o1
    "cart_token": (1, {"USD": Decimal("50.00")}),  # o2
    "customer": (1, {"EUR": Decimal("80.00")}),  # o3
}
# Abandoned: c10 (120.00 USD, 6 days old) then c5 (75.50 EUR, latest of its two snapshots, 4 days old).
# Still open: c6 (1 d 16 h old). c4 has an order, c7's cart was emptied, c0 and c9 are outside.
STILL_OPEN = 1
# Local days: 03-04 c1, c10; 03-05 c2 (00:30 local), c3, c4; 03-06 c5, c6, c7, c8.
DAILY_CONVERSATIONS = [2, 3, 4]
DAILY_REVENUE = [
    {"EUR": Decimal("500.00") + Decimal("109.90")},  # o7, o1 on 03-04
    {"USD": Decimal("50.00")},  # o2 on 03-05
    {"EUR": Decimal("80.00")},  # o3 on 03-06
]


# -- the core ---------------------------------------------------------------------------


def test_figures_match_hand_computed_expectations(services, seeded, bind):
    with services.db.session() as session, counted(bind) as queries:
        result = compute(session, seeded["a"], START, END, NOW, timedelta(days=2), tz=TALLINN)
    ids = seeded["ids"]
    assert (result.conversations_started, result.conversations_answered, result.conversations_resolved) == (
        STARTED,
        ANSWERED,
        RESOLVED,
    )
    assert (result.first_response_median, result.first_response_p90, result.resolution_median) == (
        FIRST_MEDIAN,
        FIRST_P90,
        RESOLUTION_MEDIAN,
    )
    assert result.orders == ORDERS
    assert result.revenue == {"EUR": Decimal("689.90"), "USD": USD} and Decimal("689.90") == EUR
    assert all(isinstance(amount, Decimal) for amount in result.revenue.values())
    assert result.orders_by_currency == {"EUR": 3, "USD": 1}
    assert result.not_counted == NOT_COUNTED
    assert (result.converted_conversations, result.conversion) == (CONVERTED, Fraction(4, 9))
    assert {r.rule: (r.orders, r.revenue) for r in result.by_rule} == BY_RULE
    assert [c.conversation_id for c in result.abandoned] == [ids["c10"], ids["c5"]]
    c5 = result.abandoned[1]
    assert (c5.name, c5.email, c5.item_count, c5.value, c5.currency) == (
        EVIL_NAME,
        "eve@example.com",
        2,
        Decimal("75.50"),
        "EUR",
    )
    assert (c5.titles, c5.checkout_url, c5.at) == (
        ["-2+3 Glove", EVIL_TITLE],
        "https://shop.example/checkouts/c5",
        at(6, 9, 5),
    )
    assert result.abandoned_value == {"EUR": Decimal("75.50"), "USD": Decimal("120.00")}
    assert result.still_open_carts == STILL_OPEN
    assert [d.day for d in result.days] == [date(2024, 3, 4), date(2024, 3, 5), date(2024, 3, 6)]
    assert [d.conversations for d in result.days] == DAILY_CONVERSATIONS
    assert [d.revenue for d in result.days] == DAILY_REVENUE
    # One query per figure family, however many conversations and orders the period holds.
    assert len(queries) == 4, queries


def test_a_longer_window_keeps_carts_open_instead_of_abandoned(services, seeded):
    with services.db.session() as session:
        result = compute(session, seeded["a"], START, END, NOW, timedelta(days=7), tz=TALLINN)
    # Every candidate cart (c10 6 d, c5 4 d, c6 1 d 16 h) is younger than 7 days.
    assert (result.abandoned, result.still_open_carts) == ([], 3)


def test_an_empty_period_has_no_conversion_and_no_times(services, seeded):
    empty_start = datetime(2023, 1, 1, tzinfo=UTC)
    with services.db.session() as session:
        result = compute(session, seeded["a"], empty_start, empty_start + timedelta(days=2), NOW, timedelta(days=2))
    assert (
        result.conversations_started,
        result.conversion,
        result.first_response_median,
        result.resolution_median,
    ) == (0, None, None, None)
    assert result.revenue == {} and [d.conversations for d in result.days] == [0, 0]


# -- the JSON API -------------------------------------------------------------------------


def test_the_insights_api_reports_the_figures(client, standin, seeded):
    response = client.get(f"/admin/api/insights?{PERIOD}", headers=bearer(standin))
    assert response.status_code == 200, response.data
    data = response.get_json()
    ids = seeded["ids"]
    assert data["period"] == {
        "from": "2024-03-04",
        "to": "2024-03-06",
        "days": 3,
        "timezone": "Europe/Tallinn",
        "start": "2024-03-03T22:00:00Z",
        "end": "2024-03-06T22:00:00Z",
    }
    assert data["attribution_window_days"] == 2
    assert data["conversations"] == {"started": STARTED, "answered": ANSWERED, "resolved": RESOLVED}
    assert data["first_response_seconds"] == {"median": FIRST_MEDIAN, "p90": FIRST_P90}
    assert data["resolution_seconds"] == {"median": RESOLUTION_MEDIAN}
    assert data["orders"] == {"counted": ORDERS, "not_counted": NOT_COUNTED}
    # Money as exact strings, one entry per currency.
    assert data["revenue"] == [
        {"currency": "EUR", "amount": "689.90", "orders": 3},
        {"currency": "USD", "amount": "50.00", "orders": 1},
    ]
    assert data["conversion"] == {"converted": CONVERTED, "conversations": STARTED, "percent": PERCENT}
    assert data["by_rule"] == [
        {"rule": "agent_code", "orders": 0, "revenue": [], "discount": []},
        {"rule": "agent_cart", "orders": 0, "revenue": [], "discount": []},
        {"rule": "conversation", "orders": 2, "revenue": [{"currency": "EUR", "amount": "609.90"}], "discount": []},
        {"rule": "cart_token", "orders": 1, "revenue": [{"currency": "USD", "amount": "50.00"}], "discount": []},
        {"rule": "customer", "orders": 1, "revenue": [{"currency": "EUR", "amount": "80.00"}], "discount": []},
    ]
    carts = data["abandoned_carts"]
    assert (carts["count"], carts["still_open"], carts["truncated"]) == (2, STILL_OPEN, False)
    assert carts["value"] == [{"currency": "EUR", "amount": "75.50"}, {"currency": "USD", "amount": "120.00"}]
    assert carts["carts"][0]["conversation_id"] == ids["c10"]
    assert carts["carts"][1] == {
        "conversation_id": ids["c5"],
        "customer": {"name": EVIL_NAME, "email": "eve@example.com"},
        "item_count": 2,
        "value": "75.50",
        "currency": "EUR",
        "titles": ["-2+3 Glove", EVIL_TITLE],
        "checkout_url": "https://shop.example/checkouts/c5",
        "at": "2024-03-06T09:05:00Z",
    }
    assert [(d["date"], d["conversations"]) for d in data["daily"]] == list(
        zip(["2024-03-04", "2024-03-05", "2024-03-06"], DAILY_CONVERSATIONS, strict=True)
    )
    assert [d["revenue"] for d in data["daily"]] == [
        [{"currency": "EUR", "amount": "609.90"}],
        [{"currency": "USD", "amount": "50.00"}],
        [{"currency": "EUR", "amount": "80.00"}],
    ]
    for svg in data["charts"].values():
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert list(root.iter("{http://www.w3.org/2000/svg}script")) == []
    bars = ET.fromstring(data["charts"]["conversations"]).iter("{http://www.w3.org/2000/svg}rect")
    assert [bar.find("{http://www.w3.org/2000/svg}title").text for bar in bars] == [
        "2024-03-04: 2 conversations started",
        "2024-03-05: 3 conversations started",
        "2024-03-06: 4 conversations started",
    ]
    revenue_svg = ET.fromstring(data["charts"]["revenue"])
    headings = [
        t.text for t in revenue_svg.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "panel-heading"
    ]
    assert headings == ["EUR", "USD"]  # one panel per currency, never one axis


def test_the_default_period_is_the_last_30_days_in_the_shops_time_zone(client, standin, seeded):
    data = client.get("/admin/api/insights", headers=bearer(standin)).get_json()
    # NOW is 2024-03-10 14:00 in Tallinn: 30 days ending that day start on 2024-02-10.
    assert (data["period"]["from"], data["period"]["to"], data["period"]["days"]) == ("2024-02-10", "2024-03-10", 30)
    # c0 … c9 and c10 all started in it: 11 conversations.
    assert data["conversations"]["started"] == 11 and len(data["daily"]) == 30


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2024-03-06&to=2024-03-04", "The start date must be on or before the end date"),
        ("from=2024-13-01&to=2024-12-31", "from must be a date written YYYY-MM-DD"),
        ("from=20240301", "from must be a date written YYYY-MM-DD"),
        ("from=2024-03-01&to=yesterday", "to must be a date written YYYY-MM-DD"),
        ("from=2023-01-01&to=2024-01-02", "A period can be at most 366 days long; choose a shorter one"),
    ],
)
def test_a_bad_period_is_refused_with_a_sentence(client, standin, seeded, query, message):
    for path in ("/admin/api/insights", "/admin/api/insights.csv"):
        response = client.get(f"{path}?{query}", headers=bearer(standin))
        assert response.status_code == 400
        assert response.get_json() == {"error": "invalid_period", "message": message}


def test_a_full_leap_year_is_allowed(client, standin, seeded):
    response = client.get("/admin/api/insights?from=2024-01-01&to=2024-12-31", headers=bearer(standin))
    assert response.status_code == 200 and response.get_json()["period"]["days"] == 366


@pytest.mark.parametrize("path", ["/admin/api/insights", "/admin/api/insights.csv"])
def test_insights_need_a_session_token(client, seeded, path):
    response = client.get(f"{path}?{PERIOD}")
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_session_token"


def test_each_shop_sees_only_its_own_figures(client, standin, seeded):
    theirs = client.get(f"/admin/api/insights?{PERIOD}", headers=bearer(standin, OTHER))
    body = theirs.get_data(as_text=True)
    data = theirs.get_json()
    assert data["conversations"]["started"] == 2
    assert data["revenue"] == [{"currency": "EUR", "amount": "1000.00", "orders": 1}]
    assert [c["conversation_id"] for c in data["abandoned_carts"]["carts"]] == [seeded["b_conversation"]]
    assert not any(conversation_id in body for conversation_id in seeded["ids"].values())
    assert "Anna Tamm" not in body and "689.90" not in body
    mine = client.get(f"/admin/api/insights.csv?{PERIOD}", headers=bearer(standin)).get_data(as_text=True)
    assert "secret-b" not in mine and seeded["b_conversation"] not in mine and "1000.00" not in mine


# -- the CSV export -------------------------------------------------------------------------


def _sections(text: str) -> dict[str, list[list[str]]]:
    """The CSV's sections by title: rows between a one-cell title row and a blank row."""
    rows = list(csv.reader(io.StringIO(text)))
    sections: dict[str, list[list[str]]] = {"head": []}
    current = "head"
    for row in rows:
        if not row:
            current = None
        elif current is None:
            current = row[0]
            sections[current] = []
        else:
            sections[current].append(row)
    return sections


def test_the_csv_export_holds_the_same_figures(client, standin, seeded):
    response = client.get(f"/admin/api/insights.csv?{PERIOD}", headers=bearer(standin))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="parley-insights-2024-03-04-to-2024-03-06.csv"'
    )
    text = response.data.decode("utf-8-sig")
    sections = _sections(text)
    assert sections["head"][0] == ["Parley insights", SHOP]
    assert ["timezone", "Europe/Tallinn"] in sections["head"]
    summary = dict(sections["Summary"][1:])
    assert summary == {
        "conversations_started": str(STARTED),
        "conversations_answered": str(ANSWERED),
        "conversations_resolved": str(RESOLVED),
        "first_response_median_seconds": str(FIRST_MEDIAN),
        "first_response_p90_seconds": str(FIRST_P90),
        "resolution_median_seconds": str(RESOLUTION_MEDIAN),
        "orders_counted": str(ORDERS),
        "orders_not_counted_flagged": "1",
        "orders_not_counted_cancelled": "1",
        "orders_not_counted_refunded": "1",
        "chat_conversion_converted": str(CONVERTED),
        "chat_conversion_percent": PERCENT,
        "abandoned_carts": "2",
        "still_open_carts": str(STILL_OPEN),
    }
    assert sections["Revenue by currency"] == [
        ["currency", "orders", "revenue"],
        ["EUR", "3", "689.90"],
        ["USD", "1", "50.00"],
    ]
    assert sections["By attribution rule"] == [
        ["rule", "orders", "currency", "revenue"],
        ["agent_code", "0", "", ""],
        ["agent_cart", "0", "", ""],
        ["conversation", "2", "EUR", "609.90"],
        ["cart_token", "1", "USD", "50.00"],
        ["customer", "1", "EUR", "80.00"],
    ]
    assert sections["Daily"] == [
        ["date", "conversations_started", "revenue_EUR", "revenue_USD"],
        ["2024-03-04", "2", "609.90", "0.00"],
        ["2024-03-05", "3", "0.00", "50.00"],
        ["2024-03-06", "4", "80.00", "0.00"],
    ]
    carts = sections["Abandoned carts"]
    assert carts[0] == [
        "conversation_id",
        "name",
        "email",
        "item_count",
        "value",
        "currency",
        "products",
        "checkout_url",
        "cart_at",
    ]
    assert carts[1][0] == seeded["ids"]["c10"] and carts[1][4:6] == ["120.00", "USD"]
    # Text a shopper or merchant chose never reaches a spreadsheet as a formula.
    assert carts[2] == [
        seeded["ids"]["c5"],
        "'" + EVIL_NAME,
        "eve@example.com",
        "2",
        "75.50",
        "EUR",
        "'-2+3 Glove; " + EVIL_TITLE,
        "https://shop.example/checkouts/c5",
        "2024-03-06T09:05:00Z",
    ]


# -- the charts ----------------------------------------------------------------------------


def test_a_chart_escapes_every_label_and_parses_as_xml():
    svg = charts.bar_chart(
        "chart-x",
        "Sales of <script>alert(1)</script>",
        'desc "quoted" & more',
        [charts.Panel("<b>heading</b>", [charts.Bar("<script>x</script>", Decimal("3.5"), EVIL_TITLE)], str)],
        "nothing & none",
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert list(root.iter(f"{ns}script")) == [] and list(root.iter(f"{ns}b")) == []
    assert root.find(f"{ns}title").text == "Sales of <script>alert(1)</script>"
    assert root.find(f"{ns}desc").text == 'desc "quoted" & more'
    assert root.find(f"{ns}rect/{ns}title").text == EVIL_TITLE
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    # No viewBox: as wide as its card, with text in real pixels (charts.py).
    assert root.get("viewBox") is None and root.get("width") == "100%" and root.get("role") == "img"


def test_charts_are_the_same_for_the_same_figures():
    days = [
        Day(date(2024, 3, 1) + timedelta(days=i), i % 4, {"EUR": Decimal("12.34") * i, "SEK": Decimal(i)})
        for i in range(40)
    ]
    assert charts.conversations_chart(days) == charts.conversations_chart(list(days))
    assert charts.revenue_chart(days) == charts.revenue_chart(list(days))
    assert charts.revenue_chart(days).count("<rect") == 80  # one bar per day per currency
    ET.fromstring(charts.revenue_chart([]))  # nothing to draw still draws a valid chart


# -- the page in a real browser ---------------------------------------------------------------


def test_the_insights_page_shows_the_figures_and_downloads_the_csv(tmp_path):
    """Debian's Chromium against a live stack (tests/browser_support.py); a screenshot is kept."""
    import re

    from playwright.sync_api import expect

    from tests.support.browser import artifacts_dir, launch_chromium, start_stack

    with launch_chromium(15_000) as browser:
        stack, stop = start_stack(tmp_path)
        try:
            with stack.services.db.transaction() as session:
                put_setting(session, stack.shop_id, "hours", {"timezone": "Europe/Tallinn", "weekly": {}}, utcnow())
                put_setting(session, stack.shop_id, "attribution_window_days", 2, utcnow())
                ids = seed_shop_a(session, stack.shop_id)
            context = browser.new_context(
                viewport={"width": 1280, "height": 1400}, locale="en-US", accept_downloads=True
            )
            context.route(re.compile(r"^https?://cdn\.shopify\.com/"), lambda route: route.abort())
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
            page.goto(f"{stack.parley_url}/demo/support?next=/app/insights")
            expect(page).to_have_url(re.compile(r"/app/insights"))
            expect(page.locator("#insights")).to_have_attribute("aria-busy", "false")

            page.fill("#from", "2024-03-04")
            page.fill("#to", "2024-03-06")
            page.click("#period button[type=submit]")
            figures_card = page.locator("#insights .figures")
            expect(figures_card).to_contain_text("Conversations started9")
            expect(figures_card).to_contain_text("44.4 %")
            expect(figures_card).to_contain_text("€689.90")
            expect(figures_card).to_contain_text("$50.00")
            expect(page.locator("#chart-conversations svg rect")).to_have_count(3)
            expect(page.locator("#chart-revenue svg")).to_have_attribute("role", "img")
            expect(page.locator("#rules tr")).to_have_count(5)
            # The evil title is text, never markup; the cart rows link to their conversations.
            expect(page.locator("#abandoned")).to_contain_text(EVIL_TITLE)
            assert page.locator("#abandoned script").count() == 0
            link = page.locator("#abandoned a[data-nav]", has_text=EVIL_NAME)
            expect(link).to_have_attribute(
                "href", re.compile(re.escape(f"/app/conversations/{ids['c5']}") + r"\?shop=")
            )
            expect(page).to_have_url(re.compile(r"from=2024-03-04&to=2024-03-06"))

            page.fill("#from", "2024-03-07")
            page.click("#period button[type=submit]")
            expect(page.locator("#period-error")).to_have_text("The start date must be on or before the end date")
            page.fill("#from", "2024-03-04")
            page.click("#period button[type=submit]")
            expect(page.locator("#period-error")).to_be_hidden()

            page.screenshot(path=str(artifacts_dir() / "insights.png"), full_page=True, animations="disabled")
            with page.expect_download() as downloaded:
                page.click("#download")
            assert downloaded.value.suggested_filename == "parley-insights-2024-03-04-to-2024-03-06.csv"
            csv_text = Path(downloaded.value.path()).read_text(encoding="utf-8-sig")
            assert _sections(csv_text)["Revenue by currency"][1] == ["EUR", "3", "689.90"]
            assert not errors, errors
            context.close()
        finally:
            stop()
