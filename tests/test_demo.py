"""`make demo` end to end: what run_demo builds (app.demo.build_demo), served on
loopback sockets, with both demo shops installed the way run_demo installs them.

- Shopify: a shopper chats on the stand-in's demo storefront through the app proxy,
  the cart changes (carts/create, carts/update reach Parley), "Check out" places the
  order (orders/create, signed, with the cart attribute as a note attribute), and the
  order is attributed to the conversation.
- Saleor: the stand-in installed Parley through the manifest and the token POST; the
  storefront page's flow (session, setCheckout, place order) ends in an attributed order.
- In Chromium: the stand-in "Saleor Dashboard" shows Parley's inbox in its iframe,
  with a conversation written on the stand-in's Saleor storefront page.

Webhooks are sent by the stand-ins' own threads; the event worker is run explicitly.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import select

from app.chat.shop_settings import get_settings
from app.commerce import insights
from app.models import CartSnapshot, Conversation, Message, OrderLink, Platform, Shop
from app.platforms.saleor.metadata import CONVERSATION_KEY
from standins.demo import DEMO_CUSTOMER_ID, DEMO_SHOP, saleor_pages
from tests.support.browser import artifacts_dir, launch_chromium, start_demo

TIMEOUT_MS = 15_000
STORE = f"/store/{DEMO_SHOP}"
JACKET, MUG = 4400002, 4400003  # the stand-in storefront's variants: €129.90 and €14.90


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    stack, stop = start_demo(tmp_path_factory.mktemp("demo"))
    yield stack
    stop()


def tagged(text: str) -> str:
    return f"{text} [{uuid.uuid4().hex[:6]}]"


def wait_for(condition, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def saleor_shop(demo) -> Shop:
    with demo.services.db.session() as session:
        shop = demo.services.saleor.apps.find(session, demo.saleor.api_url)
    assert shop is not None, "the Saleor demo shop is not installed"
    return shop


def link_of(demo, shop_id: int, order_id: str) -> OrderLink | None:
    with demo.services.db.session() as session:
        return session.exec(
            select(OrderLink).where(OrderLink.shop_id == shop_id, OrderLink.order_id == order_id)
        ).first()


def shopify_shop_id(demo) -> int:
    from app import shops

    with demo.services.db.session() as session:
        return shops.find_installed_shop(session, Platform.shopify, DEMO_SHOP).id


# ---- Shopify: chat, cart, check out ----------------------------------------------------------


def test_a_shopify_demo_checkout_is_attributed_to_the_shoppers_conversation(demo):
    question = tagged("Is the rain jacket warm enough for Tallinn?")
    with httpx.Client(base_url=demo.shopify_url, timeout=10) as shopper:
        assert shopper.post(f"{STORE}/account/login", data={"return_to": f"{STORE}/"}).status_code == 303
        session = shopper.post(f"{STORE}/apps/parley/session", json={"locale": "en"}).json()
        assert session["identified"] is True  # through the proxy signature only
        assert shopper.post(f"{STORE}/cart/add.js", json={"items": [{"id": JACKET, "quantity": 1}]}).status_code == 200
        cart = shopper.get(f"{STORE}/cart.js").json()

        # What the widget does: the message with the cart, then the conversation id on the cart.
        sent = httpx.post(
            f"{session['api_base']}/messages",
            json={"client_id": str(uuid.uuid4()), "body": question, "cart": cart},
            headers={"Authorization": f"Bearer {session['visitor_token']}"},
            timeout=10,
        )
        assert sent.status_code == 201, sent.text
        conversation_id = sent.json()["conversation"]["id"]
        stamp = shopper.post(f"{STORE}/cart/update.js", json={"attributes": {"parley_conversation": conversation_id}})
        assert stamp.status_code == 200

        # The shopper adds two mugs: carts/update keeps the Support page's cart current.
        assert shopper.post(f"{STORE}/cart/add.js", json={"id": MUG, "quantity": 2}).status_code == 200
        assert demo.storefront.wait_for_webhooks()
        demo.services.inbound.run_pending()
        with demo.services.db.session() as db:
            conversation = db.get(Conversation, conversation_id)
            latest = db.exec(
                select(CartSnapshot)
                .where(CartSnapshot.conversation_id == conversation_id)
                .order_by(CartSnapshot.id.desc())
            ).first()
        assert conversation.cart_value == Decimal("159.70")
        assert sorted((line["title"], line["quantity"]) for line in latest.lines) == [
            ("Enamel Trail Mug", 2),
            ("Harbour Rain Jacket", 1),
        ]

        cart_page = shopper.get(f"{STORE}/cart")
        assert 'id="checkout"' in cart_page.text and "disabled" not in cart_page.text.split('id="checkout"')[1][:40]
        checkout = shopper.post(f"{STORE}/checkout")
        assert checkout.status_code == 303
        confirmation = shopper.get(checkout.headers["location"])
        assert confirmation.status_code == 200
        # The demo customer's history already holds #1001 and #1002 (app/demo.py).
        assert re.search(r"Order #1003 placed", confirmation.text)
        assert shopper.get(f"{STORE}/cart.js").json()["item_count"] == 0  # the order used the cart up

    assert demo.storefront.wait_for_webhooks()
    delivered = [(w["topic"], w["status"]) for w in demo.storefront.webhooks]
    assert ("carts/create", 200) in delivered and ("carts/update", 200) in delivered
    assert delivered[-1] == ("orders/create", 200)

    [placed] = [p["order"] for p in demo.storefront.orders if p["order"]["name"] == "#1003"]
    assert placed["note_attributes"] == [{"name": "parley_conversation", "value": conversation_id}]
    assert placed["cart_token"] == cart["token"].split("?key=")[0]
    assert placed["customer"]["id"] == DEMO_CUSTOMER_ID and placed["currency"] == "EUR"
    assert [(line["title"], line["quantity"], line["price"]) for line in placed["line_items"]] == [
        ("Harbour Rain Jacket", 1, "129.90"),
        ("Enamel Trail Mug", 2, "14.90"),
    ]

    demo.services.inbound.run_pending()
    shop_id = shopify_shop_id(demo)
    link = link_of(demo, shop_id, str(placed["id"]))
    assert link is not None
    assert (link.conversation_id, link.rule, link.order_name) == (conversation_id, "conversation", "#1003")
    assert (link.total, link.currency) == (Decimal("159.70"), "EUR")

    # Insights count it, and the Admin API lists it in the customer's orders.
    now = demo.services.now()
    with demo.services.db.session() as db:
        figures = insights.compute(
            db, shop_id, now - timedelta(days=1), now + timedelta(days=1), now, timedelta(days=7)
        )
    assert figures.orders >= 1 and figures.revenue["EUR"] >= Decimal("159.70")
    history = demo.shopify._shop(DEMO_SHOP).customers[DEMO_CUSTOMER_ID]["order_ids"]
    assert placed["id"] in history


def test_the_shopify_storefront_keeps_working_when_parley_is_down(demo):
    before = len(demo.storefront.webhooks)
    app_url, demo.storefront.app_url = demo.storefront.app_url, "http://127.0.0.1:9"  # nothing listens there
    try:
        with httpx.Client(base_url=demo.shopify_url, timeout=10) as shopper:
            assert shopper.post(f"{STORE}/cart/add.js", json={"id": MUG, "quantity": 1}).status_code == 200
            checkout = shopper.post(f"{STORE}/checkout")
            assert checkout.status_code == 303
            assert "placed" in shopper.get(checkout.headers["location"]).text
        assert demo.storefront.wait_for_webhooks()
    finally:
        demo.storefront.app_url = app_url
    failed = demo.storefront.webhooks[before:]
    assert [w["topic"] for w in failed] == ["carts/create", "orders/create"]
    assert all(w["status"] is None and w["error"] for w in failed)


# ---- Saleor: installed for real, storefront to attributed order ----------------------------------


def test_the_saleor_demo_shop_is_installed_through_the_manifest_and_register(demo):
    assert demo.saleor_install["status"] == "installed", demo.saleor_install
    shop = saleor_shop(demo)
    assert shop.app_id == demo.saleor.installed_app.id
    assert demo.saleor.installed_app.manifest["tokenTargetUrl"] == f"{demo.parley_url}/saleor/register"
    # Parley proved the token against the stand-in's GraphQL before storing anything.
    assert demo.saleor.calls("ParleyRegister")
    with demo.services.db.session() as session:
        assert get_settings(session, shop.id)["storefront_origins"] == [demo.saleor_url]
    assert saleor_pages(demo.saleor_url) == {
        "dashboard": f"{demo.saleor_url}/dashboard/",
        "storefront": f"{demo.saleor_url}/storefront/",
    }


def test_the_saleor_storefront_flow_ends_in_an_order_attributed_to_the_conversation(demo):
    api_url, origin = demo.saleor.api_url, demo.saleor_url
    page = httpx.get(f"{demo.saleor_url}/storefront/", timeout=10)
    assert (f'<script src="{demo.parley_url}/widget/parley.js" data-shop="{api_url}" async></script>') in page.text

    with (
        httpx.Client(base_url=demo.saleor_url, timeout=10) as storefront,
        httpx.Client(base_url=f"{demo.parley_url}/api/storefront/v1", timeout=10, headers={"Origin": origin}) as widget,
    ):
        customer_token = storefront.post("/storefront/api/sign-in").json()["token"]
        session = widget.post("/session", json={"shop": api_url, "customer_access_token": customer_token})
        assert session.status_code == 200, session.text
        assert session.headers["Access-Control-Allow-Origin"] == origin  # the demo allowed the stand-in
        assert session.json()["identified"] is True
        visitor = {"Authorization": f"Bearer {session.json()['visitor_token']}"}

        question = tagged("Do the mittens come in other colours?")
        sent = widget.post("/messages", json={"client_id": str(uuid.uuid4()), "body": question}, headers=visitor)
        assert sent.status_code == 201, sent.text
        conversation_id = sent.json()["conversation"]["id"]

        bearer = {"Authorization": f"Bearer {customer_token}"}
        checkout = storefront.post("/storefront/api/cart", json={"product": "aurora-parka"}, headers=bearer).json()
        checkout = storefront.post(
            "/storefront/api/cart", json={"checkout_id": checkout["id"], "product": "birch-mittens"}
        ).json()
        assert (checkout["total"], checkout["quantity"]) == ("223.00", 2)

        # window.Parley.setCheckout(id): Parley snapshots the checkout and stamps it.
        told = widget.post("/checkout", json={"checkout_id": checkout["id"]}, headers=visitor)
        assert told.status_code == 200, told.text
        assert demo.saleor.checkout(checkout["id"])["metadata"][CONVERSATION_KEY] == conversation_id

        placed = storefront.post("/storefront/api/order", json={"checkout_id": checkout["id"]})
        assert placed.status_code == 200, placed.text
        order_id = placed.json()["order_id"]
        assert storefront.get(f"/storefront/api/checkout/{checkout['id']}").status_code == 404

    wait_for(
        lambda: any(d.event == "ORDER_CREATED" and d.status == 200 for d in demo.saleor.deliveries),
        what="ORDER_CREATED to reach Parley",
    )
    demo.services.inbound.run_pending()
    link = link_of(demo, saleor_shop(demo).id, order_id)
    assert link is not None
    assert (link.conversation_id, link.rule) == (conversation_id, "conversation")
    assert (link.total, link.currency) == (Decimal("223.00"), "EUR")


def test_the_saleor_demo_pages_refuse_production():
    from standins.saleor.pages import ProductionRefused, enable_demo_pages
    from standins.saleor.standin import SaleorStandin

    with pytest.raises(ProductionRefused, match="refused in production"):
        enable_demo_pages(SaleorStandin(), "http://127.0.0.1:8000", environ={"PARLEY_ENV": "production"})


# ---- in Chromium: the stand-in Dashboard shows Parley's inbox --------------------------------------


def test_the_standin_dashboard_shows_the_inbox_with_a_conversation_from_the_saleor_storefront(demo):
    question = tagged("Hello from the Saleor storefront")
    with launch_chromium(TIMEOUT_MS) as browser:
        from playwright.sync_api import expect

        context = browser.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []

        # The shopper: the one-line snippet loads the widget; add to cart, then write.
        shop_page = context.new_page()
        shop_page.on("pageerror", lambda error: errors.append(f"storefront: {error}"))
        shop_page.goto(f"{demo.saleor_url}/storefront/")
        shop_page.locator('[data-add="birch-mittens"]').click()
        expect(shop_page.locator("#checkout-id")).not_to_have_text("none yet")
        checkout_id = shop_page.locator("#checkout-id").text_content()
        shop_page.click(".parley-launcher")
        shop_page.fill("#parley-input", question)
        shop_page.press("#parley-input", "Enter")
        expect(shop_page.locator(".parley-log .parley-from-shopper .parley-tick")).to_have_count(1)
        # After the first message the widget reports the checkout (setCheckout), and Parley stamps it.
        stamped = wait_for(
            lambda: demo.saleor.checkout(checkout_id)["metadata"].get(CONVERSATION_KEY),
            what="the checkout to carry the conversation",
        )
        shop_page.screenshot(path=str(artifacts_dir() / "demo_saleor_storefront.png"))

        # The merchant: the stand-in Dashboard iframes Parley and hands it a token.
        dashboard = context.new_page()
        dashboard.on("pageerror", lambda error: errors.append(f"dashboard: {error}"))
        dashboard.goto(f"{demo.saleor_url}/dashboard/")
        app = dashboard.frame_locator("#app")
        expect(app.get_by_text(question)).to_be_visible()
        dashboard.screenshot(path=str(artifacts_dir() / "demo_saleor_dashboard.png"))
        actions = dashboard.evaluate("window.actions")
        frame_url = dashboard.frames[1].url
        context.close()

    with demo.services.db.session() as session:
        message = session.exec(select(Message).where(Message.body == question)).one()
    assert message.conversation_id == stamped
    assert urlsplit(frame_url).path == "/saleor/app" and "saleorApiUrl=" in frame_url
    assert any(a.get("type") == "notifyReady" for a in actions)
    assert all((a.get("payload") or {}).get("actionId") for a in actions), actions
    assert errors == []
