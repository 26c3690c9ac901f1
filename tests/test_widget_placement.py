"""Where the open chat panel sits on a real storefront page, and what a shopper's choice
to collapse it means on the next page.

The Saleor demo storefront (`make demo`, in-process) loads the widget from Parley's own
/widget/parley.js, as a Saleor storefront does; its checkout column has "Place order". At
1280x800 the open panel must leave that button free; collapsed, it stays collapsed on the
next page; left open, it opens again there (but never by itself on a phone, where it
would cover the whole page).
"""

from __future__ import annotations

import pytest

from tests.support.browser import artifacts_dir, element_boxes, launch_chromium, overlapping, start_demo

TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    stack, stop = start_demo(tmp_path_factory.mktemp("widget-placement"))
    yield stack
    stop()


@pytest.fixture(scope="module")
def browser():
    with launch_chromium(TIMEOUT_MS) as browser:
        yield browser


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def storefront(demo) -> str:
    return f"{demo.saleor_url}/storefront/"


def new_page(browser, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, reduced_motion="reduce")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


def fill_checkout(page) -> None:
    page.locator("[data-add]").first.click()
    expect(page.locator("#place-order")).to_be_enabled()


def place_order_is_free(page) -> None:
    [button] = element_boxes(page, "#place-order")
    [panel] = element_boxes(page, "#parley-panel")
    assert not overlapping([button, panel]), (button, panel)
    # Free means clickable: the topmost element at the button's centre is the button.
    x, y = (button["left"] + button["right"]) / 2, (button["top"] + button["bottom"]) / 2
    assert page.evaluate(f"document.elementFromPoint({x}, {y}).id") == "place-order"


def test_the_open_panel_leaves_place_order_free_at_1280x800(demo, browser):
    context, page, errors = new_page(browser, 1280, 800)
    try:
        page.goto(storefront(demo))
        fill_checkout(page)
        page.click(".parley-launcher")
        expect(page.locator("#parley-panel")).to_be_visible()
        page.wait_for_timeout(200)
        place_order_is_free(page)
        # Still a panel worth writing in, next to its launcher.
        [panel] = element_boxes(page, "#parley-panel")
        [launcher] = element_boxes(page, ".parley-launcher")
        assert panel["height"] >= 340
        assert panel["right"] > 1280 / 2 and launcher["right"] > 1280 / 2
        page.screenshot(path=str(artifacts_dir() / "widget_saleor_checkout_1280x800.png"))

        # The page scrolls (its checkout column is sticky): the button stays free.
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(400)
        place_order_is_free(page)

        # A narrower window: still free, whichever way the panel had to give way.
        page.set_viewport_size({"width": 1024, "height": 700})
        page.wait_for_timeout(400)
        place_order_is_free(page)
        page.screenshot(path=str(artifacts_dir() / "widget_saleor_checkout_1024x700.png"))
        assert not errors, errors
    finally:
        context.close()


def test_collapsed_stays_collapsed_and_open_stays_open_on_the_next_page(demo, browser):
    context, page, errors = new_page(browser, 1280, 800)
    try:
        page.goto(storefront(demo))
        page.click(".parley-launcher")
        page.fill("#parley-input", "Is the parka warm enough for -20 °C?")
        page.press("#parley-input", "Enter")
        expect(page.locator(".parley-log .parley-tick")).to_have_count(1)

        # Left open: the next page opens it again, without taking the page's focus.
        page.reload()
        expect(page.locator("#parley-panel")).to_be_visible()
        assert page.evaluate("document.activeElement.id") != "parley-input"
        expect(page.locator(".parley-log .parley-bubble")).to_have_count(1)

        # Collapsed with the panel's own button: the next page keeps it collapsed.
        page.click(".parley-close")
        expect(page.locator("#parley-panel")).to_be_hidden()
        page.reload()
        page.locator(".parley-launcher").wait_for()
        page.wait_for_timeout(1500)  # past the loader's idle fetch of the panel
        expect(page.locator("#parley-panel")).to_be_hidden()
        assert page.locator(".parley-launcher").get_attribute("aria-expanded") == "false"
        page.screenshot(path=str(artifacts_dir() / "widget_collapsed.png"))

        # Escape collapses it as well, and that holds too.
        page.click(".parley-launcher")
        expect(page.locator("#parley-panel")).to_be_visible()
        page.keyboard.press("Escape")
        page.reload()
        page.wait_for_timeout(1500)
        expect(page.locator("#parley-panel")).to_be_hidden()

        # On a phone the full-screen panel never opens by itself, even if left open.
        page.click(".parley-launcher")
        expect(page.locator("#parley-panel")).to_be_visible()
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.wait_for_timeout(1500)
        expect(page.locator("#parley-panel")).to_be_hidden()
        assert not errors, errors
    finally:
        context.close()


def test_the_saleor_storefront_gets_hashed_compressed_widget_files(demo, browser):
    context, page, errors = new_page(browser, 1280, 800)
    try:
        page.goto(storefront(demo))
        page.hover(".parley-launcher")
        page.wait_for_function("() => !!(window.Parley && document.querySelector('#parley-root').parley.panel)")
        entries = page.evaluate(
            """() => performance.getEntriesByType('resource')
                 .filter((e) => e.name.includes('/widget/'))
                 .map((e) => ({name: new URL(e.name).pathname, encoded: e.encodedBodySize,
                               decoded: e.decodedBodySize, blocking: e.renderBlockingStatus}))"""
        )
        by_name = {entry["name"]: entry for entry in entries}
        assert "/widget/parley.js" in by_name
        hashed = sorted(name for name in by_name if name != "/widget/parley.js")
        assert len(hashed) == 2, by_name
        assert hashed[0].startswith("/widget/parley-panel.") and hashed[1].startswith("/widget/parley.")
        for entry in entries:
            assert 0 < entry["encoded"] < entry["decoded"] / 2, entry  # compressed on the wire
            assert entry["blocking"] == "non-blocking", entry
        assert not errors, errors
    finally:
        context.close()
