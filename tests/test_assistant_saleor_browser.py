"""The Answers page inside the Saleor Dashboard, in Debian's Chromium: it names Saleor's
pages for the import, a Saleor that cannot be reached gets a readable error (nothing
stored is lost), saved changes are told by the Dashboard's own notification, and the
dark theme holds. Screenshots: $PARLEY_ARTIFACTS/screenshots/support_answers_saleor_*.png."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlencode

import pytest
from joserfc.jwk import RSAKey

from app.answers import store
from app.clock import utcnow
from tests.support.browser import artifacts_dir
from tests.support.saleor_tokens import DASHBOARD_PAGE, claims_for, install_saleor, sign

API = "http://127.0.0.1:9/answers-saleor/graphql/"  # nothing answers there
APP_ID = base64.b64encode(b"App:answers-saleor").decode()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from tests.support.browser import LiveServer, launch_chromium, start_stack

    key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig", "kid": "kid-answers"})
    stack, stop = start_stack(tmp_path_factory.mktemp("answers-saleor"))
    shop_id = install_saleor(stack.services, API, APP_ID, key)
    with stack.services.db.transaction() as session:
        store.create_answer(
            session,
            shop_id,
            {"language": "et", "question": "Kui kaua tarne aega võtab?", "answer": "1–2 tööpäeva Eestis."},
            utcnow(),
        )

    def dashboard_app(environ, start_response):
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if "api" not in query:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b""]
        params = {"saleorApiUrl": query["api"], "id": query["app"], "theme": query.get("theme", "light")}
        src = f"{stack.parley_url}{query['path']}?{urlencode(params)}"
        token = sign(key, claims_for(api_url=query["api"], app_id=query["app"]))
        html = DASHBOARD_PAGE % {"src": src.replace("&", "&amp;"), "token": json.dumps(token)}
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html.encode()]

    dashboard = LiveServer().serve(dashboard_app)
    try:
        with launch_chromium(15_000) as browser:
            yield stack, dashboard.url, browser
    finally:
        dashboard.stop()
        stop()


def test_the_answers_page_inside_the_saleor_dashboard(world):
    from playwright.sync_api import expect

    _stack, dashboard_url, browser = world
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    for theme in ("light", "dark"):
        query = urlencode({"path": "/saleor/app/answers", "api": API, "app": APP_ID, "theme": theme})
        page.goto(f"{dashboard_url}/?{query}")
        app = page.frame_locator("#app")
        expect(app.locator("#import-title")).to_have_text("Import from Saleor")
        expect(app.locator("#main")).not_to_contain_text("Shopify")
        app.locator(".language-tab", has_text="Estonian").click()
        expect(app.locator("#answers li.answer")).to_have_count(1)

        app.locator("#import-language").select_option("et")
        app.locator("#import").click()
        error = app.locator("#import-report [role=alert]")
        expect(error).to_have_text("Saleor could not be asked just now; try the import again")
        expect(app.locator("#answers li.answer")).to_have_count(1)  # nothing stored is lost
        page.screenshot(path=str(artifacts_dir() / f"support_answers_saleor_{theme}_import_error.png"))

    app.locator("input[name=mode][value=after_hours]").check()
    page.wait_for_function("window.actions.some((a) => a.type === 'notification' && a.payload.title === 'Saved')")
    expect(app.locator("#toasts")).to_be_empty()  # the Dashboard tells it, not a second toast
    context.close()
    assert errors == []
