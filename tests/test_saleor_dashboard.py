"""The Support page inside the Saleor Dashboard, on SQLite and PostgreSQL.

The Dashboard token is checked like @saleor/app-sdk's verify-jwt plus `iss`: the
tenant comes from the Saleor-Api-Url header, the keys from that tenant's JWKS, and
every claim that names the Saleor, the app and the staff member's rights must hold.
The keys here are made by the test (joserfc) and one token is signed by hand with
`cryptography`, so the vectors do not come from the code under test. Saleor's
GraphQL is never called: the shops' API URLs point at a closed loopback port and the
commerce look-ups are a recording fake.
"""

from __future__ import annotations

import base64
import json
import re
import time
from html import unescape
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.models import Conversation, Message, OrderLink, Shop, Visitor
from app.platforms.saleor.keys import JWKSUnavailable
from tests.support.saleor_tokens import (
    API_A,
    API_B,
    APP_A,
    APP_B,
    CUSTOMER,
    DASHBOARD_PAGE,
    SECRET_MARKER,
    STAFF,
    RecordingContext,
    b64url,
    claims_for,
    dashboard,
    install_saleor,
    jwks_of,
    saleor_shopper_writes,
    sign,
    sign_by_hand,
)
from tests.support.shops import SHOP


@pytest.fixture
def commerce(services) -> RecordingContext:
    services.saleor.context = RecordingContext()
    return services.saleor.context


@pytest.fixture
def saleor_a(services, saleor_keys, commerce) -> int:
    return install_saleor(services, API_A, APP_A, saleor_keys["a"])


def message_count(services, shop_id: int) -> int:
    with services.db.session() as session:
        return session.exec(select(sa.func.count()).select_from(Message).where(Message.shop_id == shop_id)).one()


# -- the Dashboard token ------------------------------------------------------------------


def test_a_valid_dashboard_token_opens_the_inbox(client, saleor_keys, saleor_a):
    sent = saleor_shopper_writes(client, API_A, "Do you ship to Tartu?")
    response = client.get("/admin/api/inbox", headers=dashboard(sign(saleor_keys["a"], claims_for())))
    assert response.status_code == 200, response.data
    assert [row["id"] for row in response.get_json()["conversations"]] == [sent["conversation"]["id"]]


def test_a_reply_is_stored_under_the_tokens_staff_member(client, saleor_keys, saleor_a):
    sent = saleor_shopper_writes(client, API_A, "hello")
    reply = client.post(
        f"/admin/api/conversations/{sent['conversation']['id']}/messages",
        json={"client_id": "r-1", "body": "Hi from the team"},
        headers=dashboard(sign(saleor_keys["a"], claims_for())),
    )
    assert reply.status_code == 201, reply.data
    assert reply.get_json()["message"]["author_id"] == STAFF


BAD_TOKENS = {
    # name: (how to make the token from the keys, expected error code, words in the message)
    "another_app": (lambda k: sign(k["a"], claims_for(app_id=APP_B)), "invalid_token", "'app'"),
    "expired": (
        lambda k: sign(k["a"], claims_for(iat=int(time.time()) - 900, exp=int(time.time()) - 600)),
        "expired_token",
        "expired",
    ),
    "without_permission": (
        lambda k: sign(k["a"], claims_for(user_permissions=["MANAGE_ORDERS"])),
        "missing_permission",
        "MANAGE_USERS",
    ),
    "forged": (lambda k: sign(k["attacker"], claims_for(), kid=k["a"].kid), "invalid_token", "does not verify"),
    "missing": (lambda k: None, "missing_session_token", "Authorization: Bearer"),
    "wrong_iss": (lambda k: sign(k["a"], claims_for(iss=API_B)), "invalid_token", "'iss'"),
    "customer_access_token": (lambda k: sign(k["a"], claims_for(type="access")), "invalid_token", "'type'"),
    "no_exp": (lambda k: sign(k["a"], claims_for(exp=None)), "invalid_token", "exp"),
    "not_a_jwt": (lambda k: "not-a-jwt", "invalid_token", "not a JWT"),
    "alg_none": (
        lambda k: b64url(b'{"alg":"none","typ":"JWT"}') + "." + b64url(json.dumps(claims_for()).encode()) + ".",
        "invalid_token",
        "does not verify",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_a_refused_dashboard_token_gets_401_and_changes_nothing(client, services, saleor_keys, saleor_a, kind):
    make, code, words = BAD_TOKENS[kind]
    sent = saleor_shopper_writes(client, API_A, "hello")
    before = message_count(services, saleor_a)
    response = client.post(
        f"/admin/api/conversations/{sent['conversation']['id']}/messages",
        json={"client_id": "bad-1", "body": "must not be stored"},
        headers=dashboard(make(saleor_keys)),
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == code
    assert words in response.get_json()["message"]
    # Shopify's retry header means "App Bridge, fetch a fresh token": not Saleor's business.
    assert "X-Shopify-Retry-Invalid-Session-Request" not in response.headers
    assert message_count(services, saleor_a) == before


def test_an_api_url_that_is_not_installed_gets_401(client, saleor_keys, saleor_a):
    response = client.get("/admin/api/inbox", headers=dashboard(sign(saleor_keys["a"], claims_for(iss=API_B)), API_B))
    assert (response.status_code, response.get_json()["error"]) == (401, "not_installed")


def test_a_token_signed_by_hand_is_accepted_and_a_flipped_byte_is_refused(client, saleor_keys, saleor_a):
    token = sign_by_hand(saleor_keys["a"], claims_for())
    assert client.get("/admin/api/inbox", headers=dashboard(token)).status_code == 200
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    flipped = f"{header}.{payload}.{b64url(bytes(raw))}"
    response = client.get("/admin/api/inbox", headers=dashboard(flipped))
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_token")


def test_a_rotated_key_is_fetched_once_and_an_unreachable_jwks_is_503(client, services, saleor_keys, saleor_a):
    fetched: list[str] = []

    def fetch(api_url: str) -> str:
        fetched.append(api_url)
        return jwks_of(saleor_keys["a"], saleor_keys["b"])

    services.saleor.apps.fetch = fetch
    rotated = sign(saleor_keys["b"], claims_for())  # a kid the cached JWKS does not hold
    assert client.get("/admin/api/inbox", headers=dashboard(rotated)).status_code == 200
    assert client.get("/admin/api/inbox", headers=dashboard(rotated)).status_code == 200
    assert fetched == [API_A]  # refetched once, then served from the stored JWKS

    def down(api_url: str) -> str:
        raise JWKSUnavailable("connection refused")

    services.saleor.apps.fetch = down
    later = time.monotonic() + 60  # past the ten seconds in which a second refetch is refused
    services.saleor.apps._clock = lambda: later
    unknown = sign(saleor_keys["attacker"], claims_for(), kid="kid-never-seen")
    response = client.get("/admin/api/inbox", headers=dashboard(unknown))
    assert (response.status_code, response.get_json()["error"]) == (503, "saleor_unavailable")


def test_the_shopify_path_is_untouched_without_the_saleor_header(client, standin, saleor_keys, saleor_a):
    # A Dashboard token without Saleor-Api-Url is read as a Shopify ID token, and refused as one.
    response = client.get(
        "/admin/api/inbox", headers={"Authorization": f"Bearer {sign(saleor_keys['a'], claims_for())}"}
    )
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


# -- tenants ------------------------------------------------------------------------------------


def test_a_token_of_one_saleor_never_opens_another(client, services, saleor_keys, saleor_a, standin, shop_id):
    install_saleor(services, API_B, APP_B, saleor_keys["b"])
    saleor_shopper_writes(client, API_A, "question in A")
    theirs = saleor_shopper_writes(client, API_B, f"{SECRET_MARKER} question in B")
    from tests.support.shoppers import shopper_writes

    shopify = shopper_writes(client, standin, SHOP, f"{SECRET_MARKER} question in the Shopify shop")
    token_a = sign(saleor_keys["a"], claims_for())
    fetched: list[str] = []
    services.saleor.apps.fetch = lambda api_url: fetched.append(api_url) or jwks_of(saleor_keys["b"])

    # A's token presented with B's API URL: its `iss` and `app` are A's, and B's keys do not
    # know its kid. It is refused on the claims, before any JWKS is fetched for it.
    crossed = client.get("/admin/api/inbox", headers=dashboard(token_a, API_B))
    assert (crossed.status_code, crossed.get_json()["error"]) == (401, "invalid_token")
    assert "'iss'" in crossed.get_json()["message"] and fetched == []
    # Even a token signed with B's key but naming A is refused at B (iss and app are A's).
    reissued = client.get("/admin/api/inbox", headers=dashboard(sign(saleor_keys["b"], claims_for()), API_B))
    assert reissued.status_code == 401

    inbox = client.get("/admin/api/inbox", headers=dashboard(token_a)).get_data(as_text=True)
    assert SECRET_MARKER not in inbox
    for other in (theirs, shopify):
        response = client.get(f"/admin/api/conversations/{other['conversation']['id']}", headers=dashboard(token_a))
        assert response.status_code == 404
        assert SECRET_MARKER not in response.get_data(as_text=True)


# -- the customer panel ---------------------------------------------------------------------------


def test_the_customer_panel_asks_saleor_and_adds_the_checkout(client, services, saleor_keys, saleor_a, commerce):
    sent = saleor_shopper_writes(client, API_A, "where is my parka?")
    with services.db.transaction() as session:
        conversation = session.get(Conversation, sent["conversation"]["id"])
        visitor = session.get(Visitor, conversation.visitor_id)
        visitor.customer_id, visitor.email = CUSTOMER, "mari@example.com"
        session.add(visitor)
        from app.models import CartSnapshot

        session.add(
            CartSnapshot(
                shop_id=saleor_a, conversation_id=conversation.id, cart_token="c0ffee00-0000-4000-8000-000000000001"
            )
        )
    panel = client.get(
        f"/admin/api/conversations/{sent['conversation']['id']}/customer",
        headers=dashboard(sign(saleor_keys["a"], claims_for())),
    ).get_json()
    assert panel["customer"]["name"] == "Mari Maasikas"
    assert panel["checkout"]["total"] == "120.00"
    assert commerce.lookups == [(API_A, CUSTOMER, "mari@example.com")]
    assert commerce.checkouts == [(API_A, "c0ffee00-0000-4000-8000-000000000001")]


def test_the_customer_panel_for_an_anonymous_saleor_shopper_does_not_say_shopify(
    client, saleor_keys, saleor_a, commerce
):
    sent = saleor_shopper_writes(client, API_A, "hi")
    panel = client.get(
        f"/admin/api/conversations/{sent['conversation']['id']}/customer",
        headers=dashboard(sign(saleor_keys["a"], claims_for())),
    ).get_json()
    assert panel["customer"] is None and panel["checkout"] is None
    assert panel["notice"] == "The shopper has not signed in, so Saleor cannot tell who they are."
    assert commerce.lookups == []


def test_settings_give_a_saleor_shop_its_storefront_snippet(client, saleor_keys, saleor_a):
    embed = client.get("/admin/api/settings", headers=dashboard(sign(saleor_keys["a"], claims_for()))).get_json()[
        "embed"
    ]
    assert embed["snippet"] == f'<script src="http://parley.test/widget/parley.js" data-shop="{API_A}" async></script>'
    assert embed["activate_url"] is None and embed["active"] is False


# -- the pages ---------------------------------------------------------------------------------------


def boot_of(html: str) -> dict:
    start = html.index('id="parley-boot">') + len('id="parley-boot">')
    return json.loads(unescape(html[start : html.index("</script>", start)]))


@pytest.mark.parametrize(
    "path, page",
    [
        ("/saleor/app", "inbox"),
        ("/saleor/app/settings", "settings"),
        ("/saleor/app/insights", "insights"),
        ("/saleor/app/conversations/abc", "conversation"),
    ],
)
def test_dashboard_pages_render_the_shared_templates_without_private_data(client, saleor_a, path, page):
    saleor_shopper_writes(client, API_A, f"{SECRET_MARKER} private question")
    query = urlencode({"saleorApiUrl": API_A, "id": APP_A, "theme": "dark", "domain": "127.0.0.1:9"})
    response = client.get(f"{path}?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'class="page-{page}"' in html
    assert response.headers["Content-Security-Policy"] == "frame-ancestors *"
    assert response.headers["Cache-Control"] == "no-store"
    assert SECRET_MARKER not in html
    boot = boot_of(html)
    assert boot["platform"] == "saleor" and boot["base"] == "/saleor" and boot["lastEventId"] is None
    assert boot["theme"] == "dark" and boot["appId"] == APP_A
    # Links between pages keep the iframe parameters (and nothing else).
    kept = urlencode({"saleorApiUrl": API_A, "id": APP_A, "theme": "dark"})
    assert boot["query"] == kept
    assert f'href="/saleor/app/settings?{kept}"'.replace("&", "&amp;") in html
    assert "host-saleor.js" in html and "app-bridge.js" not in html and "<s-app-nav>" not in html


# What only a Shopify merchant can act on: the theme's app embed, myshopify links.
SHOPIFY_ONLY = ("theme editor", "app embed", "myshopify.com", "Insert product link", 'id="embed-banner"')


@pytest.mark.parametrize("path", ["/app", "/app/settings", "/app/conversations/abc"])
def test_dashboard_pages_say_nothing_a_saleor_merchant_cannot_act_on(client, standin, shop_id, saleor_a, path):
    saleor_html = client.get(f"/saleor{path}?{urlencode({'saleorApiUrl': API_A, 'id': APP_A})}").get_data(as_text=True)
    assert [text for text in SHOPIFY_ONLY if text in saleor_html] == []
    if path == "/app":
        assert (
            'id="snippet-banner"' in saleor_html and "Add the snippet from Settings to your storefront" in saleor_html
        )
        # The Shopify inbox keeps its theme-embed banner, and no Saleor one.
        shopify = client.get(
            "/app",
            query_string={"embedded": "1", "shop": SHOP, "host": "YWRtaW4", "id_token": standin.mint_id_token(SHOP)},
        )
        shopify_html = shopify.get_data(as_text=True)
        assert shopify.status_code == 200
        assert (
            'id="embed-banner"' in shopify_html
            and "theme editor" in shopify_html
            and "snippet-banner" not in shopify_html
        )


@pytest.mark.parametrize(
    "query, status, code", [("", 400, "missing_api_url"), (f"saleorApiUrl={API_B}", 404, "not_installed")]
)
def test_a_dashboard_page_for_no_installed_saleor_is_a_readable_error(client, saleor_a, query, status, code):
    response = client.get(f"/saleor/app?{query}", headers={"Accept": "text/html"})
    assert response.status_code == status
    assert code in response.get_data(as_text=True)


# -- Dashboard extensions ----------------------------------------------------------------------------


def widget_form(token: str | None, **context) -> dict:
    return {"saleorApiUrl": API_A, "appId": APP_A, **({"accessToken": token} if token is not None else {}), **context}


ORDER_ID = base64.b64encode(b"Order:5f1c7a55-3d2e-4c7b-9d61-0a3f1c2b7e10").decode()


def test_the_order_widget_shows_the_conversation_the_order_came_from(client, services, saleor_keys, saleor_a):
    sent = saleor_shopper_writes(client, API_A, "Is the parka warm enough for -20?")
    saleor_shopper_writes(client, API_A, "an unrelated question")
    with services.db.transaction() as session:
        session.add(
            OrderLink(shop_id=saleor_a, conversation_id=sent["conversation"]["id"], order_id=ORDER_ID, rule="metadata")
        )
    response = client.post(
        "/saleor/extensions/order-widget", data=widget_form(sign(saleor_keys["a"], claims_for()), orderId=ORDER_ID)
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Is the parka warm enough for -20?" in html
    assert "an unrelated question" not in html
    assert f'data-saleor-redirect="/apps/{APP_A}/app/conversations/{sent["conversation"]["id"]}"' in html
    assert response.headers["Content-Security-Policy"] == "frame-ancestors *"


def test_the_order_widget_without_an_attributed_conversation_says_so(client, saleor_keys, saleor_a):
    response = client.post(
        "/saleor/extensions/order-widget", data=widget_form(sign(saleor_keys["a"], claims_for()), orderId=ORDER_ID)
    )
    assert response.status_code == 200
    assert "No conversation led to this order." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/saleor/extensions/order-widget", "/saleor/extensions/customer-chat"])
@pytest.mark.parametrize("kind", ["forged", "missing", "expired"])
def test_an_extension_post_with_a_bad_token_is_a_401_page(client, services, saleor_keys, saleor_a, path, kind):
    sent = saleor_shopper_writes(client, API_A, "hello")
    token = {
        "forged": sign(saleor_keys["attacker"], claims_for(), kid=saleor_keys["a"].kid),
        "missing": None,
        "expired": sign(saleor_keys["a"], claims_for(exp=int(time.time()) - 1)),
    }[kind]
    before = message_count(services, saleor_a)
    form = widget_form(
        token,
        orderId=ORDER_ID,
        customerId=CUSTOMER,
        conversationId=sent["conversation"]["id"],
        body="must not be stored",
        clientId="x-1",
    )
    response = client.post(path, data=form, headers={"Accept": "text/html"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert response.mimetype == "text/html" and "Something is not right (401)" in html
    assert "hello" not in html
    assert message_count(services, saleor_a) == before


def test_chat_with_this_customer_lists_their_conversations_and_replies_once(
    client, services, saleor_keys, saleor_a, commerce
):
    mine = saleor_shopper_writes(client, API_A, "question from Mari")
    saleor_shopper_writes(client, API_A, "question from someone else")
    with services.db.transaction() as session:
        visitor = session.get(Visitor, session.get(Conversation, mine["conversation"]["id"]).visitor_id)
        visitor.customer_id = CUSTOMER
        session.add(visitor)
    token = sign(saleor_keys["a"], claims_for())
    shown = client.post("/saleor/extensions/customer-chat", data=widget_form(token, customerId=CUSTOMER))
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "question from Mari" in html and "question from someone else" not in html
    reply = widget_form(
        token, customerId=CUSTOMER, conversationId=mine["conversation"]["id"], body="We ship tomorrow", clientId="c-1"
    )
    for _ in range(2):  # a double submit stores one reply
        answered = client.post("/saleor/extensions/customer-chat", data=reply)
        assert answered.status_code == 200
    assert "Reply sent." in answered.get_data(as_text=True) and "We ship tomorrow" in answered.get_data(as_text=True)
    with services.db.session() as session:
        replies = session.exec(
            select(Message).where(
                Message.conversation_id == mine["conversation"]["id"], Message.body == "We ship tomorrow"
            )
        ).all()
    assert [(m.author_kind.value, m.author_id) for m in replies] == [("agent", STAFF)]


def test_a_reply_too_long_in_the_customer_extension_comes_back_whole_with_the_reason(
    client, services, saleor_keys, saleor_a, commerce
):
    """Issue 11 point 3, the merchant's side in the Dashboard: the reply box has no maxlength
    that would cut a paste silently; a reply the chat refuses returns with its whole draft."""
    mine = saleor_shopper_writes(client, API_A, "send me the terms")
    with services.db.transaction() as session:
        visitor = session.get(Visitor, session.get(Conversation, mine["conversation"]["id"]).visitor_id)
        visitor.customer_id = CUSTOMER
        session.add(visitor)
    token = sign(saleor_keys["a"], claims_for())
    shown = client.post("/saleor/extensions/customer-chat", data=widget_form(token, customerId=CUSTOMER))
    assert 'maxlength="5000"' not in shown.get_data(as_text=True)
    before = message_count(services, saleor_a)
    pasted = "Terms & conditions <b>apply</b>. " * 400  # 13,200 characters
    answered = client.post(
        "/saleor/extensions/customer-chat",
        data=widget_form(
            token, customerId=CUSTOMER, conversationId=mine["conversation"]["id"], body=pasted, clientId="c-long"
        ),
    )
    html = answered.get_data(as_text=True)
    assert answered.status_code == 413
    assert "a message can hold at most 5000 characters" in html and "Reply sent." not in html
    # The whole draft is back in the box (escaped, never markup).
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S)
    assert textarea is not None and unescape(textarea.group(1)) == pasted
    assert "<b>apply</b>" not in html
    assert message_count(services, saleor_a) == before


def test_chat_with_this_customer_cannot_answer_another_shops_conversation(client, services, saleor_keys, saleor_a):
    install_saleor(services, API_B, APP_B, saleor_keys["b"])
    theirs = saleor_shopper_writes(client, API_B, "question in B")
    with services.db.session() as session:
        shop_b = session.exec(select(Shop.id).where(Shop.domain == API_B)).one()
    before = message_count(services, shop_b)
    form = widget_form(
        sign(saleor_keys["a"], claims_for()),
        customerId=CUSTOMER,
        conversationId=theirs["conversation"]["id"],
        body="injected",
        clientId="i-1",
    )
    response = client.post("/saleor/extensions/customer-chat", data=form, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert message_count(services, shop_b) == before


# -- in a real browser, inside a page that plays the Dashboard ------------------------------------


def test_the_inbox_loads_inside_the_dashboard_with_the_handshake_token(tmp_path, saleor_keys):
    from tests.support.browser import LiveServer, artifacts_dir, launch_chromium, start_stack

    stack, stop = start_stack(tmp_path)
    dashboard_server = None
    try:
        stack.services.saleor.context = RecordingContext()
        install_saleor(stack.services, API_A, APP_A, saleor_keys["a"])
        sent = saleor_shopper_writes(stack.app.test_client(), API_A, "hello from the Saleor storefront")
        token = sign(saleor_keys["a"], claims_for())
        src = f"{stack.parley_url}/saleor/app?{urlencode({'saleorApiUrl': API_A, 'id': APP_A, 'theme': 'light'})}"
        html = (DASHBOARD_PAGE % {"src": src.replace("&", "&amp;"), "token": json.dumps(token)}).encode()

        def dashboard_app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
            return [html]

        dashboard_server = LiveServer().serve(dashboard_app)
        with launch_chromium(15_000) as browser:
            from playwright.sync_api import expect

            page = browser.new_page(viewport={"width": 1280, "height": 860})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(dashboard_server.url + "/")
            app = page.frame_locator("#app")
            expect(app.get_by_text("hello from the Saleor storefront")).to_be_visible()

            # Into the conversation: the link keeps the iframe parameters, the next page
            # gets its token by a new handshake, and a reply goes out under the staff member.
            app.get_by_text("hello from the Saleor storefront").click()
            expect(app.locator("#thread")).to_contain_text("hello from the Saleor storefront")
            frame_url = page.frames[1].url
            assert frame_url.startswith(f"{stack.parley_url}/saleor/app/conversations/{sent['conversation']['id']}?")
            assert f"saleorApiUrl={urlencode({'': API_A})[1:]}" in frame_url and "id_token" not in frame_url
            app.locator("#reply").fill("Yes, we ship to Tartu")
            app.locator("#send").click()
            expect(app.locator("#thread")).to_contain_text("Yes, we ship to Tartu")
            page.screenshot(path=str(artifacts_dir() / "saleor_dashboard_conversation.png"))

            actions = page.evaluate("window.actions")
            assert errors == []
        with stack.services.db.session() as session:
            reply = session.exec(select(Message).where(Message.body == "Yes, we ship to Tartu")).one()
        assert reply.author_id == STAFF
        assert [a["type"] for a in actions].count("notifyReady") >= 2  # one per page
        assert all(isinstance(a.get("payload"), dict) and a["payload"].get("actionId") for a in actions), actions
    finally:
        if dashboard_server is not None:
            dashboard_server.stop()
        stop()
