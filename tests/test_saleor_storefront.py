"""The widget on a Saleor storefront, on SQLite and PostgreSQL: sessions by API URL,
customers identified only by a verified Saleor access token, the checkout tie-in
(`window.Parley.setCheckout`), CORS from the merchant's own origin list, and the
widget files served by Parley (the same bytes as the Shopify theme extension's).

Customer tokens are signed with keys this test makes. The checkout tie-in runs
against the Saleor stand-in (app/platforms/saleor/standin.py) on a loopback socket.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.chat.shop_settings import put_setting
from app.clock import utcnow
from app.config import ROOT
from app.models import CartSnapshot, Platform, Shop, Visitor
from tests.support.saleor_tokens import API_A, APP_A, CUSTOMER, install_saleor, saleor_shopper_writes, sign
from tests.support.shops import SHOP

ASSETS = ROOT / "extensions" / "parley-chat" / "assets"
STOREFRONT = "https://shop.example.com"


def customer_claims(**overrides) -> dict:
    """What `tokenCreate` puts in a Saleor customer's access token (saleor/core/jwt.py)."""
    now = int(time.time())
    claims = {
        "iat": now,
        "exp": now + 300,
        "iss": API_A,
        "owner": "saleor",
        "type": "access",
        "token": "k3y",
        "email": "mari@example.com",
        "user_id": CUSTOMER,
        "is_staff": False,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.fixture
def saleor_shop(services, saleor_keys) -> int:
    return install_saleor(services, API_A, APP_A, saleor_keys["a"])


def visitors(services, shop_id: int) -> list[Visitor]:
    with services.db.session() as session:
        return list(session.exec(select(Visitor).where(Visitor.shop_id == shop_id)).all())


# -- sessions ---------------------------------------------------------------------------


def test_a_saleor_session_is_anonymous_without_a_customer_token(client, services, saleor_shop):
    response = client.post("/api/storefront/v1/session", json={"shop": API_A, "locale": "et"})
    assert response.status_code == 200, response.data
    assert response.get_json()["identified"] is False
    assert [v.customer_id for v in visitors(services, saleor_shop)] == [None]


def test_a_verified_customer_token_identifies_the_shopper(client, services, saleor_keys, saleor_shop):
    anonymous = saleor_shopper_writes(client, API_A, "before signing in")
    token = sign(saleor_keys["a"], customer_claims())
    response = client.post(
        "/api/storefront/v1/session",
        json={"shop": API_A, "visitor_token": anonymous["visitor_token"], "customer_access_token": token},
    )
    assert response.status_code == 200, response.data
    session = response.get_json()
    assert session["identified"] is True
    # The anonymous thread follows the shopper who signed in.
    assert session["conversation"]["id"] == anonymous["conversation"]["id"]
    [visitor] = visitors(services, saleor_shop)
    assert (visitor.customer_id, visitor.email) == (CUSTOMER, "mari@example.com")


BAD_CUSTOMER_TOKENS = {
    "forged": (lambda k: sign(k["attacker"], customer_claims(), kid=k["a"].kid), "does not verify"),
    "expired": (lambda k: sign(k["a"], customer_claims(exp=int(time.time()) - 5)), "expired"),
    "other_saleor": (lambda k: sign(k["a"], customer_claims(iss="https://other.example/graphql/")), "'iss'"),
    "dashboard_token": (lambda k: sign(k["a"], customer_claims(type="thirdparty")), "'type'"),
    "no_user": (lambda k: sign(k["a"], customer_claims(user_id=None)), "does not name a customer"),
}


@pytest.mark.parametrize("kind", sorted(BAD_CUSTOMER_TOKENS))
def test_a_bad_customer_token_is_refused_and_identifies_nobody(client, services, saleor_keys, saleor_shop, kind):
    make, words = BAD_CUSTOMER_TOKENS[kind]
    response = client.post(
        "/api/storefront/v1/session", json={"shop": API_A, "customer_access_token": make(saleor_keys)}
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_customer_token"
    assert words in response.get_json()["message"]
    assert visitors(services, saleor_shop) == []


def test_a_customer_id_the_browser_asserts_is_ignored(client, services, saleor_shop):
    response = client.post(
        "/api/storefront/v1/session", json={"shop": API_A, "customer_id": CUSTOMER, "identified": True}
    )
    assert response.get_json()["identified"] is False
    assert [v.customer_id for v in visitors(services, saleor_shop)] == [None]


def test_a_shopify_shop_does_not_take_customer_tokens(client, services, saleor_keys, shop_id):
    response = client.post(
        "/api/storefront/v1/session",
        json={"shop": SHOP, "customer_access_token": sign(saleor_keys["a"], customer_claims())},
    )
    assert (response.status_code, response.get_json()["error"]) == (400, "customer_token_not_supported")
    assert visitors(services, shop_id) == []


def test_an_unreachable_jwks_is_503_not_anonymous(client, services, saleor_keys, saleor_shop):
    from app.platforms.saleor.keys import JWKSUnavailable

    def down(api_url: str) -> str:
        raise JWKSUnavailable("refused")

    services.saleor.apps.fetch = down
    rotated = sign(saleor_keys["b"], customer_claims())  # a kid not cached: needs a fetch
    response = client.post("/api/storefront/v1/session", json={"shop": API_A, "customer_access_token": rotated})
    assert (response.status_code, response.get_json()["error"]) == (503, "saleor_unavailable")


# -- CORS ------------------------------------------------------------------------------------


def test_cors_for_a_saleor_shop_comes_from_its_storefront_origins(client, services, saleor_shop):
    refused = client.post("/api/storefront/v1/session", json={"shop": API_A}, headers={"Origin": STOREFRONT})
    assert (refused.status_code, refused.get_json()["error"]) == (403, "origin_not_allowed")
    # Saleor has no storefront domain: the API URL's host is not a storefront either.
    assert (
        client.post(
            "/api/storefront/v1/session", json={"shop": API_A}, headers={"Origin": "https://127.0.0.1:9"}
        ).status_code
        == 403
    )
    with services.db.transaction() as session:
        put_setting(session, saleor_shop, "storefront_origins", [STOREFRONT], utcnow())
    client.application.extensions.pop("parley.known_origins", None)  # the preflight cache lives 30 s
    allowed = client.post("/api/storefront/v1/session", json={"shop": API_A}, headers={"Origin": STOREFRONT})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == STOREFRONT
    preflight = client.options(
        "/api/storefront/v1/checkout", headers={"Origin": STOREFRONT, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == STOREFRONT


# -- the widget files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, asset",
    [
        ("/widget/parley.js", "parley-loader.js"),
        ("/widget/parley-loader.js", "parley-loader.js"),
        ("/widget/parley-panel.js", "parley-panel.js"),
        ("/widget/parley.css", "parley.css"),
    ],
)
def test_parley_serves_the_same_widget_files_as_the_theme_extension(client, path, asset):
    from app.web import widget

    response = client.get(path)
    assert response.status_code == 200
    # The panel and stylesheet byte for byte; the loader with the hashed names of this
    # release put into its one FILES line (tests/test_widget_files.py checks that line).
    expected = (
        widget.build(widget.WIDGET_DIR)[asset].bodies["identity"]
        if asset == "parley-loader.js"
        else (ASSETS / asset).read_bytes()
    )
    assert response.data == expected
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    response.close()


def test_only_the_widget_files_are_served(client):
    for path in ("/widget/../../app/config.py", "/widget/parley-embed.liquid", "/widget/secrets.js"):
        assert client.get(path).status_code == 404


# -- setCheckout ---------------------------------------------------------------------------------


def visitor_call(client, token: str, body: object):
    return client.post("/api/storefront/v1/checkout", json=body, headers={"Authorization": f"Bearer {token}"})


CHECKOUT_TOKEN = "7f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"


@pytest.mark.parametrize(
    "body, status, error",
    [
        ({"checkout_id": "not a checkout"}, 400, "invalid_checkout"),
        ({"checkout_id": base64.b64encode(b"Order:" + CHECKOUT_TOKEN.encode()).decode()}, 400, "invalid_checkout"),
        ({"checkout_id": 12}, 400, "invalid_checkout"),
        ({}, 400, "invalid_checkout"),
        ([], 400, "invalid_json"),
    ],
)
def test_set_checkout_refuses_what_is_not_a_checkout(client, saleor_shop, body, status, error):
    sent = saleor_shopper_writes(client, API_A, "hi")
    response = visitor_call(client, sent["visitor_token"], body)
    assert (response.status_code, response.get_json()["error"]) == (status, error)


def test_set_checkout_before_the_first_message_is_409(client, saleor_shop):
    token = client.post("/api/storefront/v1/session", json={"shop": API_A}).get_json()["visitor_token"]
    response = visitor_call(client, token, {"checkout_id": CHECKOUT_TOKEN})
    assert (response.status_code, response.get_json()["error"]) == (409, "no_conversation")
    assert "first message" in response.get_json()["message"]


def test_set_checkout_needs_a_visitor_token(client, saleor_shop):
    response = client.post("/api/storefront/v1/checkout", json={"checkout_id": CHECKOUT_TOKEN})
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_token")


def test_set_checkout_is_for_saleor_shops_only(client, standin, shop_id):
    from tests.support.shoppers import shopper_writes

    sent = shopper_writes(client, standin, SHOP, "hi")
    response = visitor_call(client, sent["visitor_token"], {"checkout_id": CHECKOUT_TOKEN})
    assert (response.status_code, response.get_json()["error"]) == (400, "not_supported")


@pytest.fixture
def saleor_standin():
    """The Saleor stand-in with Parley installed (its token read back from the stand-in)."""
    standin_module = pytest.importorskip("standins.saleor.standin")
    manifest = {
        "id": "parley.test",
        "name": "Parley",
        "version": "1.0.0",
        "permissions": ["MANAGE_CHECKOUTS", "MANAGE_ORDERS", "MANAGE_USERS"],
    }

    def serve_manifest(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=manifest)

    fake = standin_module.SaleorStandin(client=httpx.Client(transport=httpx.MockTransport(serve_manifest)))
    with standin_module.StandinServer(fake):
        assert fake.install_app("http://parley.test/saleor/manifest")["status"] == "installed"
        yield fake


def test_set_checkout_snapshots_the_checkout_and_stamps_the_conversation(client, services, saleor_standin):
    from app import shops
    from app.clock import utcnow

    with services.db.transaction() as session:
        shop = shops.record_install(
            session,
            services.cipher,
            Platform.saleor,
            saleor_standin.api_url,
            shops.TokenGrant(saleor_standin.installed_app.token, "MANAGE_CHECKOUTS"),
            utcnow(),
        )
        shop.app_id, shop.jwks = saleor_standin.installed_app.id, json.dumps(saleor_standin.jwks())
        shop_id = shop.id
    checkout_id = saleor_standin.add_checkout([{"name": "Parka", "quantity": 2, "price": "60.00"}], currency="EUR")
    sent = saleor_shopper_writes(client, saleor_standin.api_url, "Is this parka in stock?")

    response = visitor_call(client, sent["visitor_token"], {"checkout_id": checkout_id})
    assert response.status_code == 200, response.data
    answer = response.get_json()
    assert answer["conversation_id"] == sent["conversation"]["id"]
    assert (Decimal(answer["cart"]["total"]), answer["cart"]["currency"], answer["cart"]["item_count"]) == (
        Decimal("120"),
        "EUR",
        2,
    )
    with services.db.session() as session:
        snapshot = session.exec(select(CartSnapshot).where(CartSnapshot.shop_id == shop_id)).one()
    assert snapshot.conversation_id == sent["conversation"]["id"]
    from app.platforms.saleor.metadata import CONVERSATION_KEY

    assert saleor_standin.checkout(checkout_id)["metadata"][CONVERSATION_KEY] == sent["conversation"]["id"]

    # A checkout Saleor does not have: 404, and nothing more is stored.
    missing = visitor_call(client, sent["visitor_token"], {"checkout_id": str(uuid.uuid4())})
    assert (missing.status_code, missing.get_json()["error"]) == (404, "checkout_not_found")
    with services.db.session() as session:
        assert (
            session.exec(select(sa.func.count()).select_from(CartSnapshot).where(CartSnapshot.shop_id == shop_id)).one()
            == 1
        )


def test_the_settings_snippet_loads_from_this_parley(client, services, saleor_keys, saleor_shop):
    from tests.support.saleor_tokens import claims_for, dashboard

    embed = client.get("/admin/api/settings", headers=dashboard(sign(saleor_keys["a"], claims_for()))).get_json()[
        "embed"
    ]
    assert embed["snippet"].startswith('<script src="http://parley.test/widget/parley.js"')
    with services.db.session() as session:
        assert session.get(Shop, saleor_shop).domain in embed["snippet"]
