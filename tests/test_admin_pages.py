"""The Support page's documents (Inbox, Conversation, Settings, Insights): App Home
loads verified by the ID token on the URL, the frame-ancestors CSP, the bounce for a
fresh token, the static assets, and the demo sign-in that exists only in the demo."""

from __future__ import annotations

import json
import re
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app import create_app
from app.models import Message
from standins.demo import DEMO_SHOP, with_demo_pages
from standins.demo.names import SIGN_IN_PATH
from tests.support.apps import make_app
from tests.support.shops import API_KEY, SHOP, app_home

CSP = f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
OTHER = "other-shop.myshopify.com"


def page_query(standin, shop: str = SHOP, **token_args) -> dict:
    return {"embedded": "1", "shop": shop, "host": "YWRtaW4", "id_token": standin.mint_id_token(shop, **token_args)}


def shopper_writes(client, standin, shop: str, body: str) -> str:
    """A shopper's message through the app proxy and the storefront API; its conversation id."""
    session = client.post(f"/proxy/session?{urlencode(standin.proxy_query(shop))}", json={}).get_json()
    sent = client.post(
        "/api/storefront/v1/messages",
        json={"client_id": str(uuid.uuid4()), "body": body},
        headers={"Authorization": f"Bearer {session['visitor_token']}"},
    )
    assert sent.status_code == 201, sent.data
    return sent.get_json()["conversation"]["id"]


@pytest.fixture
def installed(client, standin):
    assert app_home(client, standin).status_code == 200
    return shopper_writes(client, standin, SHOP, "Do you ship to Tartu?")


def pages(conversation_id: str) -> dict[str, str]:
    return {
        "inbox": "/app",
        "conversation": f"/app/conversations/{conversation_id}",
        "settings": "/app/settings",
        "insights": "/app/insights",
        "answers": "/app/answers",
    }


# -- a verified load ----------------------------------------------------------------------


@pytest.mark.parametrize("page", ["inbox", "conversation", "settings", "insights", "answers"])
def test_each_page_renders_for_a_valid_id_token_with_the_frame_ancestors_csp(client, standin, installed, page):
    response = client.get(pages(installed)[page], query_string=page_query(standin))

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert f'<meta name="shopify-api-key" content="{API_KEY}">' in html
    assert re.search(
        r'<s-app-nav>\s*<s-link href="/app">Inbox</s-link>\s*<s-link href="/app/insights">Insights</s-link>'
        r'\s*<s-link href="/app/answers">Answers</s-link>\s*<s-link href="/app/settings">Settings</s-link>\s*</s-app-nav>',
        html,
    )
    # Our own tabs, for when App Bridge does not draw the menu; they keep shop and host.
    assert f'href="/app/settings?shop={SHOP}&amp;host=YWRtaW4&amp;embedded=1" data-nav' in html
    assert f'src="/static/admin/{page}.js"' in html
    assert 'href="/static/admin/admin.css"' in html
    # Against the stand-in there is no Shopify CDN: nothing may point the browser at it.
    assert "cdn.shopify.com" not in html
    assert "Link" not in response.headers


def test_app_home_opens_on_the_inbox(client, standin):
    response = app_home(client, standin)

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CSP
    html = response.get_data(as_text=True)
    assert 'id="rows"' in html and 'src="/static/admin/inbox.js"' in html
    assert re.search(r'aria-current="page">Inbox[ <]', html)  # the unread count may follow the label


def test_the_page_boots_with_the_shop_and_the_newest_event_id_only(client, standin, services, installed):
    query = page_query(standin)
    html = client.get("/app", query_string=query).get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="parley-boot">(.*?)</script>', html).group(1))
    with services.db.session() as session:
        newest = session.exec(select(sa.func.max(Message.id))).one()
    assert data["shop"] == SHOP
    assert data["lastEventId"] == newest  # the stream starts now, not at the shop's first message
    assert data["appBridge"] is False and data["signIn"] is None
    assert data["idToken"] == query["id_token"]


def test_real_shopify_pages_load_app_bridge_first_and_preload_only_it(client, standin, settings, bind, installed):
    real = create_app(settings.override(shopify_app_bridge=True), bind=bind).test_client()
    response = real.get("/app/settings", query_string=page_query(standin))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    head = html.split("</head>")[0]
    scripts = re.findall(r"<script[^>]*>", head)
    assert scripts == ['<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js">']
    assert (
        response.headers["Link"] == '<https://cdn.shopify.com/shopifycloud/app-bridge.js>; rel="preload"; as="script"'
    )
    assert response.headers["Content-Security-Policy"] == CSP


# -- what bad loads get -------------------------------------------------------------------


@pytest.mark.parametrize("page", ["inbox", "conversation", "settings", "insights"])
def test_a_load_without_a_token_bounces_to_the_patch_page(client, installed, page):
    path = pages(installed)[page]
    response = client.get(path, query_string={"embedded": "1", "shop": SHOP, "host": "YWRtaW4"})

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/auth/patch-id-token"
    assert parse_qs(location.query)["shopify-reload"] == [f"{path}?embedded=1&shop={SHOP}&host=YWRtaW4"]


def test_an_expired_token_bounces_for_a_fresh_one(client, standin, installed):
    response = client.get("/app/settings", query_string=page_query(standin, now=time.time() - 300))

    assert response.status_code == 302
    assert "/auth/patch-id-token?" in response.headers["Location"]
    assert "id_token" not in response.headers["Location"]


@pytest.mark.parametrize("page", ["inbox", "conversation", "settings", "insights"])
def test_a_forged_token_gets_401_and_no_page(client, standin, installed, page):
    response = client.get(
        pages(installed)[page], query_string=page_query(standin, secret="not-the-app-secret-" + "x" * 20)
    )

    assert response.status_code == 401
    assert b"the id_token is not a valid session token for this app" in response.data
    assert b"parley-boot" not in response.data


def test_another_shops_conversation_is_not_found(client, standin, installed):
    standin.add_shop(OTHER, name="Other Shop")
    app_home_for_other = client.get("/", query_string=page_query(standin, OTHER))
    assert app_home_for_other.status_code == 200
    theirs = shopper_writes(client, standin, OTHER, "private question")

    response = client.get(f"/app/conversations/{theirs}", query_string=page_query(standin))

    assert response.status_code == 404
    assert b"private question" not in response.data


def test_a_shop_that_is_not_installed_yet_is_sent_through_app_home(client, standin, services):
    query = page_query(standin)
    response = client.get("/app/settings", query_string=query)

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/"
    assert parse_qs(location.query)["id_token"] == [query["id_token"]]
    # App Home installs by token exchange and opens the inbox.
    home = client.get(response.headers["Location"])
    assert home.status_code == 200 and b'id="rows"' in home.data


# -- static assets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, mimetype",
    [
        ("api.js", "text/javascript"),
        ("ui.js", "text/javascript"),
        ("inbox.js", "text/javascript"),
        ("conversation.js", "text/javascript"),
        ("settings.js", "text/javascript"),
        ("insights.js", "text/javascript"),
        ("admin.css", "text/css"),
    ],
)
def test_static_assets_are_served(client, name, mimetype):
    response = client.get(f"/static/admin/{name}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert len(response.data) > 200
    response.close()


def test_scripts_never_write_html_from_data(client):
    """Every shopper, customer and setting string reaches the page as text."""
    for name in ("api.js", "ui.js", "inbox.js", "conversation.js", "settings.js", "insights.js"):
        source = client.get(f"/static/admin/{name}").get_data(as_text=True)
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", source), name


def test_an_unknown_asset_is_404(client):
    assert client.get("/static/admin/nope.js").status_code == 404


# -- the demo sign-in ------------------------------------------------------------------------


def test_demo_routes_do_not_exist_when_the_demo_is_off(client, installed):
    for path in ("/demo/id-token", f"/demo/id-token?shop={SHOP}", "/demo/support", "/demo"):
        assert client.get(path).status_code == 404, path


@pytest.fixture
def demo_client(settings, bind, standin):
    standin.add_shop(DEMO_SHOP, name="Parley Demo Store")
    app = make_app(settings.override(dev_sign_in_url=SIGN_IN_PATH), standin, bind=bind)
    client = with_demo_pages(app, standin).test_client()
    assert client.get("/", query_string=page_query(standin, DEMO_SHOP)).status_code == 200
    return client


def test_demo_id_token_is_a_fresh_token_the_api_accepts(demo_client):
    response = demo_client.get(f"/demo/id-token?shop={DEMO_SHOP}")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    token = response.get_data(as_text=True)
    settings = demo_client.get("/admin/api/settings", headers={"Authorization": f"Bearer {token}"})
    assert settings.status_code == 200
    assert demo_client.get("/demo/id-token?shop=not a shop").status_code == 400


def test_demo_support_opens_the_inbox_signed_in(demo_client):
    response = demo_client.get("/demo/support")

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/app"
    query = parse_qs(location.query)
    assert query["embedded"] == ["1"] and query["shop"] == [DEMO_SHOP] and query["id_token"]
    page = demo_client.get(response.headers["Location"])
    assert page.status_code == 200 and b'id="rows"' in page.data
    assert b"cdn.shopify.com" not in page.data


def test_demo_support_only_leads_into_the_app(demo_client):
    assert (
        demo_client.get("/demo/support?next=/app/settings%3Ftab%3Dx")
        .headers["Location"]
        .startswith("/app/settings?tab=x&")
    )
    for target in (
        "https://evil.example/app",
        "//evil.example/app",
        "/admin/api/settings",
        "/application",
        "/app/../admin",
        "/app\\x",
    ):
        assert demo_client.get("/demo/support", query_string={"next": target}).status_code == 400, target


def test_in_the_demo_a_stale_page_signs_in_again_instead_of_waiting_for_app_bridge(demo_client):
    response = demo_client.get("/app/settings", query_string={"shop": DEMO_SHOP, "tab": "waiting"})

    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/demo/support"
    assert parse_qs(location.query) == {"shop": [DEMO_SHOP], "next": ["/app/settings?tab=waiting"]}
    assert demo_client.get(response.headers["Location"]).status_code == 302


def test_the_demo_page_links_to_the_support_page(demo_client):
    assert b'href="/demo/support?shop=parley-demo.myshopify.com"' in demo_client.get("/demo").data
