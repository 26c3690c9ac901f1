"""The Support page reads right inside the Saleor Dashboard: the storefront snippet
instead of Shopify's theme app embed, product names instead of myshopify links, the
Dashboard's notifications and its dark theme.

One Parley, one page that plays the Dashboard (tests/test_saleor_dashboard.py's) and one
Chromium for the module; each test installs its own Saleor, so the widget is "not seen
yet" until that test's shopper opens a session.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlencode

import pytest
from joserfc.jwk import RSAKey

from app.models import CartSnapshot
from tests.support.saleor_tokens import (
    DASHBOARD_PAGE,
    RecordingContext,
    claims_for,
    install_saleor,
    saleor_shopper_writes,
    sign,
)

DARK_BACKGROUND = "rgb(22, 22, 24)"  # admin.css: [data-theme="dark"] --bg
# What Shopify's "turn on the app embed" card and banner say; none of it applies to Saleor.
SHOPIFY_EMBED_TEXT = re.compile(r"theme editor|app embed|in your theme|Turn on the chat widget", re.I)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(stack, Dashboard URL, browser, key): Parley serving, a Dashboard page that frames
    whichever Parley page `?path=` names for the Saleor `?api=`, with a fresh token."""
    from tests.support.browser import LiveServer, launch_chromium, start_stack

    key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig", "kid": "kid-browser"})
    stack, stop = start_stack(tmp_path_factory.mktemp("saleor-admin"))
    stack.services.saleor.context = RecordingContext()

    def dashboard_app(environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if "api" not in query:  # the browser's favicon request
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b""]
        api, app_id = query["api"], query["app"]
        params = {"saleorApiUrl": api, "id": app_id, "theme": query.get("theme", "light")}
        src = f"{stack.parley_url}{query['path']}?{urlencode(params)}"
        token = sign(key, claims_for(api_url=api, app_id=app_id))
        html = DASHBOARD_PAGE % {"src": src.replace("&", "&amp;"), "token": json.dumps(token)}
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html.encode()]

    dashboard_server = LiveServer().serve(dashboard_app)
    try:
        with launch_chromium(15_000) as browser:
            yield stack, dashboard_server.url, browser, key
    finally:
        dashboard_server.stop()
        stop()


class Saleor:
    """One installed Saleor and a way to open its Support pages inside the Dashboard page."""

    def __init__(self, world, name: str):
        self.stack, self.dashboard_url, browser, key = world
        self.api = f"http://127.0.0.1:9/{name}/graphql/"
        self.app_id = base64.b64encode(f"App:{name}".encode()).decode()
        self.shop_id = install_saleor(self.stack.services, self.api, self.app_id, key)
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 860}, permissions=["clipboard-read", "clipboard-write"]
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.app = self.page.frame_locator("#app")

    def open(self, path: str, theme: str = "light"):
        self.page.goto(
            f"{self.dashboard_url}/?{urlencode({'path': path, 'api': self.api, 'app': self.app_id, 'theme': theme})}"
        )
        return self.app

    def actions(self) -> list[dict]:
        return self.page.evaluate("window.actions")

    def close(self) -> None:
        self.context.close()


SHOP_NUMBERS = itertools.count(1)


@pytest.fixture
def saleor(world):
    shop = Saleor(world, f"saleor-{next(SHOP_NUMBERS)}")
    yield shop
    shop.close()
    assert shop.errors == []


def test_saleor_settings_show_the_storefront_snippet_instead_of_the_theme_embed(saleor):
    from playwright.sync_api import expect

    app = saleor.open("/saleor/app/settings")
    snippet = f'<script src="{saleor.stack.parley_url}/widget/parley.js" data-shop="{saleor.api}" async></script>'
    expect(app.locator("#snippet")).to_have_text(snippet)
    card = app.locator("#embed-card")
    expect(card).to_contain_text("Add the chat to your storefront")
    expect(card).to_contain_text("window.Parley.setCheckout(checkoutId)")
    expect(card).to_contain_text("window.Parley.identify(customerAccessToken)")
    expect(app.locator("#main")).not_to_contain_text(SHOPIFY_EMBED_TEXT)
    expect(app.locator("#settings-form")).to_be_visible()
    expect(app.locator("#settings-form")).not_to_contain_text("myshopify")

    # The Dashboard's iframe grants no clipboard-write, so the copy goes through the selection.
    app.locator("#copy-snippet").click()
    expect(app.locator("#copy-snippet")).to_have_text("Copied")
    assert saleor.page.evaluate("navigator.clipboard.readText()") == snippet

    # A saved form is told by the Dashboard's notification, not a second toast in the frame.
    app.locator("#greeting").fill("Tere! How can we help?")
    app.locator("#save").click()
    expect(app.locator("#greeting")).to_have_value("Tere! How can we help?")
    saleor.page.wait_for_function(
        "window.actions.some((a) => a.type === 'notification' && a.payload.title === 'Settings saved')"
    )
    notification = next(a for a in saleor.actions() if a["type"] == "notification")
    assert notification["payload"]["status"] == "success" and notification["payload"]["actionId"]
    expect(app.locator("#toasts")).to_be_empty()


def test_saleor_inbox_asks_for_the_snippet_until_the_widget_is_seen(saleor):
    from playwright.sync_api import expect

    app = saleor.open("/saleor/app")
    banner = app.locator("#snippet-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Add the snippet from Settings to your storefront")
    expect(app.locator("#embed-banner")).to_have_count(0)
    expect(app.locator("#main")).not_to_contain_text(SHOPIFY_EMBED_TEXT)

    banner.get_by_role("link", name="Open Settings").click()
    expect(app.locator("#snippet")).to_contain_text(saleor.api)
    assert saleor.page.frames[1].url.startswith(f"{saleor.stack.parley_url}/saleor/app/settings?")

    # A storefront session is the widget being seen: the banner goes.
    saleor_shopper_writes(saleor.stack.app.test_client(), saleor.api, "hello from the storefront")
    with saleor.page.expect_response(lambda r: "/admin/api/settings" in r.url) as answer:
        app = saleor.open("/saleor/app")
    assert answer.value.json()["embed"]["active"] is True
    expect(app.get_by_text("hello from the storefront")).to_be_visible()
    expect(app.locator("#snippet-banner")).to_be_hidden()


def test_a_dashboard_theme_message_switches_the_page_to_dark(saleor):
    from playwright.sync_api import expect

    from tests.support.browser import artifacts_dir

    app = saleor.open("/saleor/app", theme="light")
    html = app.locator("html")
    expect(html).to_have_attribute("data-theme", "light")
    expect(app.locator("#rows")).to_have_attribute("aria-busy", "false")
    saleor.page.evaluate("""() => {
      const frame = document.getElementById('app');
      frame.contentWindow.postMessage({ type: 'theme', payload: { theme: 'dark' } }, new URL(frame.src).origin);
    }""")
    expect(html).to_have_attribute("data-theme", "dark")
    frame = saleor.page.frames[1]
    assert frame.evaluate("getComputedStyle(document.body).backgroundColor") == DARK_BACKGROUND
    saleor.page.screenshot(path=str(artifacts_dir() / "saleor_dashboard_dark_inbox.png"))

    # The iframe URL's theme holds from the first paint, on the next page too.
    app = saleor.open("/saleor/app/settings", theme="dark")
    expect(app.locator("html")).to_have_attribute("data-theme", "dark")
    expect(app.locator("#snippet")).to_be_visible()
    assert saleor.page.frames[1].evaluate("getComputedStyle(document.body).backgroundColor") == DARK_BACKGROUND
    saleor.page.screenshot(path=str(artifacts_dir() / "saleor_dashboard_dark_settings.png"), full_page=True)


def test_saleor_conversation_inserts_product_names_not_shop_links(saleor):
    from playwright.sync_api import expect

    from tests.support.browser import artifacts_dir

    sent = saleor_shopper_writes(saleor.stack.app.test_client(), saleor.api, "Is the parka warm?")
    conversation_id = sent["conversation"]["id"]
    with saleor.stack.services.db.transaction() as session:
        session.add(
            CartSnapshot(
                shop_id=saleor.shop_id,
                conversation_id=conversation_id,
                currency="EUR",
                total=Decimal("120.00"),
                item_count=1,
                lines=[
                    {
                        "title": "Parka – Red",
                        "quantity": 1,
                        "price": "120.00",
                        "line_price": "120.00",
                        "variant_id": "UHJvZHVjdFZhcmlhbnQ6MQ==",
                        "product_id": None,
                        "url": None,
                    }
                ],
            )
        )

    app = saleor.open(f"/saleor/app/conversations/{conversation_id}")
    expect(app.locator("#thread")).to_contain_text("Is the parka warm?")
    cart = app.locator("#cart")
    expect(cart).to_contain_text("Parka – Red")
    expect(cart.locator("a")).to_have_count(0)
    reply = app.locator("#reply")
    reply.fill("Have a look:")
    cart.get_by_role("button", name="Insert name").click()
    expect(reply).to_have_value("Have a look: Parka – Red ")

    app.locator("#product").fill("Rain jacket")
    app.locator("#product-link button").click()
    expect(reply).to_have_value("Have a look: Parka – Red Rain jacket ")
    app.locator("#product").fill("javascript:alert(1)")
    app.locator("#product-link button").click()
    expect(app.locator("#product-error")).to_be_visible()
    expect(reply).to_have_value("Have a look: Parka – Red Rain jacket ")
    expect(app.locator(".side")).not_to_contain_text("myshopify")
    saleor.page.screenshot(path=str(artifacts_dir() / "saleor_dashboard_product_names.png"))


def test_a_placed_order_appears_live_and_the_checked_out_cart_goes(saleor):
    """Issue 11 point 18: after "Place order", the open conversation in the Dashboard shows the
    order in "Orders from this chat" without a reload, in the merchant's words, and the cart
    is no longer shown as still in the cart (nor in the inbox row)."""
    from playwright.sync_api import expect

    from app.models import Conversation, OrderLink
    from tests.support.browser import artifacts_dir

    sent = saleor_shopper_writes(saleor.stack.app.test_client(), saleor.api, "I'll take the scarf")
    conversation_id = sent["conversation"]["id"]
    token = "c0ffee00-0000-4000-8000-00000000cafe"
    with saleor.stack.services.db.transaction() as session:
        session.add(
            CartSnapshot(
                shop_id=saleor.shop_id,
                conversation_id=conversation_id,
                cart_token=token,
                currency="EUR",
                total=Decimal("50.00"),
                item_count=2,
                # As Saleor's checkout answer gave them before: the unit price "25.0".
                lines=[{"title": "Scarf – Wool", "quantity": 2, "price": "25.0", "line_price": "50"}],
            )
        )
        conversation = session.get(Conversation, conversation_id)
        conversation.cart_value, conversation.cart_currency = Decimal("50.00"), "EUR"
        session.add(conversation)

    # The page listens once its event stream has answered (the stream subscribes before it answers).
    with saleor.page.expect_response(lambda r: "/admin/api/stream?" in r.url, timeout=30_000):
        app = saleor.open(f"/saleor/app/conversations/{conversation_id}")
    cart = app.locator("#cart")
    expect(cart).to_contain_text("Scarf – Wool")
    expect(cart).to_contain_text("2 × €25.00")
    expect(app.locator("#orders")).to_contain_text("No order has followed this chat yet.")

    # What the event worker does with ORDER_CREATED for the stamped checkout (tests/test_support_orders.py
    # drives the whole webhook): link the order, end the checkout, announce it after the commit.
    with saleor.stack.services.db.transaction() as session:
        session.add(
            OrderLink(
                shop_id=saleor.shop_id,
                conversation_id=conversation_id,
                order_id="T3JkZXI6MQ==",
                order_name="#1",
                rule="conversation",
                total=Decimal("50.00"),
                refunded=Decimal(0),
                currency="EUR",
                financial_status="NONE",
                ordered_at=saleor.stack.services.now(),
            )
        )
        session.flush()
        saleor.stack.services.saleor.checkouts.order_recorded(session, saleor.shop_id, "T3JkZXI6MQ==", token)

    orders = app.locator("#orders")
    expect(orders).to_contain_text("#1")
    expect(orders).to_contain_text("not paid yet · ordered from this chat")
    expect(orders).not_to_contain_text("NONE")
    expect(cart).to_contain_text("Checked out: order #1")
    expect(cart).not_to_contain_text("Scarf")
    saleor.page.screenshot(path=str(artifacts_dir() / "saleor_dashboard_order_live.png"))

    app = saleor.open("/saleor/app")
    row = app.locator(f'#rows .row[data-id="{conversation_id}"]')
    expect(row).to_contain_text("I'll take the scarf")
    expect(row.locator(".row-figures")).not_to_contain_text("cart")
    saleor.page.screenshot(path=str(artifacts_dir() / "saleor_dashboard_inbox_after_order.png"))
