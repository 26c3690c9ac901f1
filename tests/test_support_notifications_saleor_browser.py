"""The Support page's notifications inside the Saleor Dashboard (issue 13): the page is
framed, so the Dashboard's tab shows neither our title nor our icon; the Inbox tab in the
page carries the unread count instead. Presence goes out with the Dashboard token and the
Saleor-Api-Url header, and Settings → Notifications saves through the same token.
Screenshots: $PARLEY_ARTIFACTS/screenshots/support_notify_saleor_*.png."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import artifacts_dir
from tests.support.saleor_tokens import saleor_shopper_writes
from tests.test_saleor_admin_browser import Saleor, world  # noqa: F401  (the module's Dashboard and Chromium)


def test_in_the_dashboard_the_inbox_tab_counts_unread_and_presence_and_settings_work(world):  # noqa: F811
    saleor = Saleor(world, "saleor-notify")
    try:
        with saleor.page.expect_request(lambda r: r.url.endswith("/admin/api/presence")) as beat:
            app = saleor.open("/saleor/app")
        assert beat.value.headers.get("saleor-api-url") == saleor.api
        assert beat.value.response().status == 204
        expect(app.locator("[data-unread-count]")).to_be_hidden()

        saleor_shopper_writes(saleor.stack.app.test_client(), saleor.api, "Kas pakute kinkepakendit?")
        expect(app.get_by_text("Kas pakute kinkepakendit?")).to_be_visible()
        expect(app.locator("[data-unread-count]")).to_have_text("1")
        saleor.page.screenshot(path=str(artifacts_dir() / "support_notify_saleor_inbox.png"), animations="disabled")

        app = saleor.open("/saleor/app/settings")
        expect(app.locator("#notify-form")).to_be_visible()
        app.locator("#alert_emails").fill("team@saleor-shop.test")
        app.locator("#notify-save").click()
        saleor.page.wait_for_function(
            "window.actions.some((a) => a.type === 'notification' && a.payload.title === 'Notifications saved')"
        )
        app.locator("#notify-form").scroll_into_view_if_needed()
        saleor.page.screenshot(path=str(artifacts_dir() / "support_notify_saleor_settings.png"), animations="disabled")
    finally:
        saleor.close()
    assert saleor.errors == []
