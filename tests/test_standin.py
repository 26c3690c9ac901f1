"""The Shopify stand-in must speak Shopify's wire formats, checked against independent sources:
Shopify's published vectors, openssl, PyJWT, and plain HTTP with httpx."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt as pyjwt
import pytest

from standins.server import StandinServer
from standins.shopify.standin import ShopifyStandin

SHOP = "demo-shop.myshopify.com"
API_KEY = "test-api-key"
API_SECRET = "shpss_0123456789abcdef0123456789abcdef"
VERSION = "2026-10"
SHOP_QUERY = "{ shop { id name myshopifyDomain ianaTimezone currencyCode email } }"


class FakeClock:
    def __init__(self, now: float = 1_790_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def standin(clock: FakeClock) -> ShopifyStandin:
    standin = ShopifyStandin(API_KEY, API_SECRET, clock=clock)
    standin.add_shop(SHOP, name="Demo Shop")
    standin.add_customer(
        SHOP,
        42,
        first_name="Mari",
        last_name="Tamm",
        email="mari@example.com",
        orders=[
            {
                "id": 1001,
                "name": "#1001",
                "created_at": "2026-10-01T09:00:00+03:00",
                "total": "19.90",
                "currency": "EUR",
                "financial_status": "paid",
                "fulfillment_status": None,
            },
            {
                "id": 1002,
                "name": "#1002",
                "created_at": "2026-10-05T12:00:00Z",
                "total": "5.00",
                "currency": "EUR",
                "financial_status": "pending",
                "fulfillment_status": "fulfilled",
                "note_attributes": [{"name": "chat_conversation_id", "value": "conv-1"}],
            },
        ],
    )
    return standin


@pytest.fixture
def shopify(standin: ShopifyStandin):
    """An httpx client whose base URL is the stand-in's copy of SHOP."""
    with StandinServer(standin) as server, httpx.Client(base_url=f"{server.url}/store/{SHOP}") as client:
        yield client


def exchange(
    client: httpx.Client, id_token: str, *, secret: str = API_SECRET, online: bool = False, expiring: int = 1
) -> httpx.Response:
    kind = "online" if online else "offline"
    return client.post(
        "/admin/oauth/access_token",
        json={
            "client_id": API_KEY,
            "client_secret": secret,
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": id_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "requested_token_type": f"urn:shopify:params:oauth:token-type:{kind}-access-token",
            "expiring": expiring,
        },
    )


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post(
        "/admin/oauth/access_token",
        json={
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        },
    )


def graphql(client: httpx.Client, token: str, query: str = SHOP_QUERY, variables: dict | None = None) -> httpx.Response:
    return client.post(
        f"/admin/api/{VERSION}/graphql.json",
        headers={"X-Shopify-Access-Token": token},
        json={"query": query, "variables": variables or {}},
    )


def offline_token(client: httpx.Client, standin: ShopifyStandin) -> str:
    return exchange(client, standin.mint_id_token(SHOP)).json()["access_token"]


# ---- signatures against published or independent values -------------------------


def test_sign_query_reproduces_shopifys_published_oauth_vector():
    standin = ShopifyStandin(API_KEY, "hush")
    params = {
        "code": "0907a61c0c8d55e99db179b68161bc00",
        "shop": "some-shop.myshopify.com",
        "state": "0.6784241404160823",
        "timestamp": "1337178173",
    }

    signed = standin.sign_query(params)

    assert signed["hmac"] == "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"
    assert standin.sign_query(signed) == signed  # an existing hmac is not signed over


def test_sign_proxy_query_reproduces_shopifys_published_proxy_vector():
    standin = ShopifyStandin(API_KEY, "hush")

    signed = standin.proxy_query(
        "shop-name.myshopify.com",
        path_prefix="/apps/awesome_reviews",
        now=1317327555,
        extra=[("extra", "1"), ("extra", "2")],
    )
    signed = [(k, v) for k, v in signed if k != "logged_in_customer_id"]  # the vector predates that parameter

    assert dict(standin.sign_proxy_query(signed))["signature"] == (
        "a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3"
    )


def test_sign_webhook_matches_openssl():
    body = b'{"id":820982911946154508,"email":"jon@example.com","note":"caf\xc3\xa9"}'
    openssl = subprocess.run(
        f"openssl dgst -sha256 -hmac '{API_SECRET}' -binary | base64",
        shell=True,
        input=body,
        capture_output=True,
        check=True,
    )

    assert ShopifyStandin(API_KEY, API_SECRET).sign_webhook(body) == openssl.stdout.decode().strip()


def test_webhook_headers_carry_shopifys_names(clock):
    standin = ShopifyStandin(API_KEY, API_SECRET, clock=clock)
    body = b'{"id": 1}'

    headers = standin.webhook_headers("orders/create", SHOP, body, event_id="evt-1")

    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == SHOP
    assert headers["X-Shopify-Event-Id"] == "evt-1"
    assert headers["X-Shopify-API-Version"] == "2026-10"
    assert headers["X-Shopify-Triggered-At"].endswith("Z")
    expected = base64.b64encode(hmac.new(API_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["X-Shopify-Hmac-Sha256"] == expected


def test_install_query_host_decodes_to_the_admin_store_url(clock):
    query = ShopifyStandin(API_KEY, API_SECRET, clock=clock).install_query(SHOP)

    host = base64.b64decode(query["host"] + "=" * (-len(query["host"]) % 4)).decode()
    assert host == "admin.shopify.com/store/demo-shop"
    assert query["timestamp"] == str(int(clock.now))


def test_id_token_decodes_with_pyjwt_with_app_bridge_claims(clock):
    standin = ShopifyStandin(API_KEY, API_SECRET, clock=clock)

    token = standin.mint_id_token(SHOP, sub="77")

    claims = pyjwt.decode(
        token,
        API_SECRET,
        algorithms=["HS256"],
        audience=API_KEY,
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert pyjwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert claims["iss"] == f"https://{SHOP}/admin"
    assert claims["dest"] == f"https://{SHOP}"
    assert claims["sub"] == "77"
    assert claims["iat"] == claims["nbf"] == int(clock.now)
    assert claims["exp"] == int(clock.now) + 60
    assert len(claims["jti"]) == 36 and claims["sid"]


# ---- OAuth over a real socket ---------------------------------------------------------


def test_code_grant_round_trip(shopify, standin):
    query = {
        "client_id": API_KEY,
        "scope": "read_orders",
        "redirect_uri": "https://app.example/auth/callback",
        "state": "nonce-1",
    }

    page = shopify.get("/admin/oauth/authorize", params=query)
    assert page.status_code == 200 and "Install" in page.text and "read_orders" in page.text

    approved = shopify.post("/admin/oauth/authorize", data=query)
    assert approved.status_code == 302
    location = urlsplit(approved.headers["location"])
    assert location.netloc == "app.example" and location.path == "/auth/callback"
    params = dict(parse_qsl(location.query))
    assert params["state"] == "nonce-1" and params["shop"] == SHOP
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    assert params["hmac"] == hmac.new(API_SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()

    body = {"client_id": API_KEY, "client_secret": API_SECRET, "code": params["code"]}
    granted = shopify.post("/admin/oauth/access_token", data=body)
    assert granted.status_code == 200
    assert granted.json()["access_token"].startswith("shpat_")
    assert set(granted.json()) == {"access_token", "scope"} and granted.json()["scope"] == "read_orders"

    reused = shopify.post("/admin/oauth/access_token", data=body)
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_request",
        "error_description": "The authorization code was not found or was already used",
    }


def test_code_grant_accepts_the_standard_grant_type_and_expiring_tokens(shopify):
    query = {
        "client_id": API_KEY,
        "redirect_uri": "https://app.example/cb?from=shopify",
        "state": "s",
        "grant_options[]": "per-user",
    }
    location = shopify.post("/admin/oauth/authorize", data=query).headers["location"]
    params = dict(parse_qsl(urlsplit(location).query))
    assert params["from"] == "shopify"  # the redirect_uri's own query survives

    granted = shopify.post(
        "/admin/oauth/access_token",
        data={
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "code": params["code"],
            "grant_type": "authorization_code",
            "expiring": "1",
        },
    ).json()

    assert granted["access_token"].startswith("shpua_")  # per-user asked for an online token
    assert granted["expires_in"] == 3600 and granted["associated_user"]["account_owner"] is True


def test_authorize_rejects_unknown_client_id_with_an_html_page(shopify):
    page = shopify.get("/admin/oauth/authorize", params={"client_id": "other", "redirect_uri": "https://x/cb"})

    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")


def test_token_exchange_then_refresh_rotates_with_a_grace_period(shopify, standin):
    first = exchange(shopify, standin.mint_id_token(SHOP)).json()
    assert first["access_token"].startswith("shpat_") and first["refresh_token"].startswith("shprt_")
    assert first["expires_in"] == 3600 and first["refresh_token_expires_in"] == 90 * 86400

    second = refresh(shopify, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    # The old refresh token still works while the new one has not been used...
    again = refresh(shopify, first["refresh_token"])
    assert again.status_code == 200

    # ...and dies once the new one is used.
    assert refresh(shopify, second["refresh_token"]).status_code == 200
    stale = refresh(shopify, first["refresh_token"])
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"


def test_non_expiring_exchange_answers_only_token_and_scope(shopify, standin):
    response = exchange(shopify, standin.mint_id_token(SHOP), expiring=0)

    assert set(response.json()) == {"access_token", "scope"}


def test_online_exchange_names_the_staff_user(shopify, standin):
    body = exchange(shopify, standin.mint_id_token(SHOP, sub="9"), online=True).json()

    assert body["access_token"].startswith("shpua_")
    assert body["associated_user"]["id"] == 9
    assert body["associated_user_scope"] == body["scope"]
    assert "refresh_token" not in body


def test_access_token_expires_on_the_injected_clock(shopify, standin, clock):
    token = offline_token(shopify, standin)
    clock.now += 3601

    assert graphql(shopify, token).status_code == 401


def test_bad_client_secret_is_invalid_client(shopify, standin):
    response = exchange(shopify, standin.mint_id_token(SHOP), secret="wrong")

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_expired_id_token_is_an_invalid_subject_token(shopify, standin, clock):
    stale = standin.mint_id_token(SHOP, now=clock.now - 120)

    response = exchange(shopify, stale)

    assert response.status_code == 400 and response.json()["error"] == "invalid_subject_token"


def test_id_token_within_leeway_and_for_the_right_shop_only(shopify, standin, clock):
    assert exchange(shopify, standin.mint_id_token(SHOP, now=clock.now - 65)).status_code == 200
    other_shop = standin.mint_id_token("other.myshopify.com")
    assert exchange(shopify, other_shop).json()["error"] == "invalid_subject_token"
    wrong_secret = standin.mint_id_token(SHOP, secret="not-the-secret-at-all")
    assert exchange(shopify, wrong_secret).json()["error"] == "invalid_subject_token"


def test_unknown_shop_is_404(standin):
    with StandinServer(standin) as server:
        response = httpx.post(f"{server.url}/store/nope.myshopify.com/admin/oauth/access_token", json={})

    assert response.status_code == 404


# ---- Admin GraphQL ------------------------------------------------------------------------


def test_shop_query_reports_its_cost(shopify, standin):
    response = graphql(shopify, offline_token(shopify, standin))

    assert response.status_code == 200
    assert response.headers["X-Shopify-API-Version"] == VERSION
    body = response.json()
    assert body["data"]["shop"] == {
        "id": "gid://shopify/Shop/1",
        "name": "Demo Shop",
        "myshopifyDomain": SHOP,
        "ianaTimezone": "Europe/Tallinn",
        "currencyCode": "EUR",
        "email": f"owner@{SHOP}",
    }
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == cost["actualQueryCost"] == 1
    assert cost["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 1999.0, "restoreRate": 100.0}


def test_customer_query_returns_newest_orders_first(shopify, standin):
    query = """query CustomerContext($id: ID!) { customer(id: $id) {
      id displayName numberOfOrders defaultEmailAddress { emailAddress }
      orders(first: 5, sortKey: CREATED_AT, reverse: true) { nodes { id name createdAt displayFinancialStatus
        displayFulfillmentStatus totalPriceSet { shopMoney { amount currencyCode } } } } } }"""

    body = graphql(shopify, offline_token(shopify, standin), query, {"id": "gid://shopify/Customer/42"}).json()

    customer = body["data"]["customer"]
    assert customer["displayName"] == "Mari Tamm" and customer["numberOfOrders"] == "2"
    assert customer["defaultEmailAddress"] == {"emailAddress": "mari@example.com"}
    newest, oldest = customer["orders"]["nodes"]
    assert newest["name"] == "#1002" and newest["displayFulfillmentStatus"] == "FULFILLED"
    assert oldest["createdAt"] == "2026-10-01T06:00:00Z" and oldest["displayFinancialStatus"] == "PAID"
    assert oldest["totalPriceSet"]["shopMoney"] == {"amount": "19.90", "currencyCode": "EUR"}
    # customer 1 + email 1 + orders (2 + first x (nodes 1 + totalPriceSet 1 + shopMoney 1))
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 1 + (2 + 5 * 3)


def test_order_query_exposes_cart_attributes(shopify, standin):
    query = """{ order(id: "gid://shopify/Order/1002") { name customer { id displayName }
      customAttributes { key value } } }"""

    order = graphql(shopify, offline_token(shopify, standin), query).json()["data"]["order"]

    assert order["customAttributes"] == [{"key": "chat_conversation_id", "value": "conv-1"}]
    assert order["customer"] == {"id": "gid://shopify/Customer/42", "displayName": "Mari Tamm"}


def test_unknown_field_is_an_undefined_field_error(shopify, standin):
    body = graphql(shopify, offline_token(shopify, standin), "{ shop { id plan } }").json()

    [error] = body["errors"]
    assert error["message"] == "Field 'plan' doesn't exist on type 'Shop'"
    assert error["locations"] == [{"line": 1, "column": 13}]
    assert error["extensions"] == {"code": "undefinedField", "typeName": "Shop", "fieldName": "plan"}


def test_fragments_count_towards_the_cost_and_bad_ids_are_errors(shopify, standin):
    query = """query { customer(id: "gid://shopify/Customer/42") { ...Who } order(id: "nope") { id } }
      fragment Who on Customer { displayName defaultEmailAddress { emailAddress } }"""

    body = graphql(shopify, offline_token(shopify, standin), query).json()

    assert body["data"] == {
        "customer": {"displayName": "Mari Tamm", "defaultEmailAddress": {"emailAddress": "mari@example.com"}},
        "order": None,
    }
    assert body["errors"][0]["message"] == "Invalid global id 'nope'"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 1 + 1


def test_bad_access_token_is_401(shopify):
    response = graphql(shopify, "shpat_not-a-token")

    assert response.status_code == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def test_throttle_next_answers_throttled_then_ok(shopify, standin):
    token = offline_token(shopify, standin)
    standin.throttle_next(SHOP)

    throttled = graphql(shopify, token)
    assert throttled.status_code == 200
    body = throttled.json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 1
    assert "data" not in body

    assert graphql(shopify, token).json()["data"]["shop"]["name"] == "Demo Shop"


def test_outage_answers_503_until_it_ends(shopify, standin):
    token = offline_token(shopify, standin)
    standin.set_outage(SHOP, True)
    assert graphql(shopify, token).status_code == 503

    standin.set_outage(SHOP, False)
    assert graphql(shopify, token).status_code == 200


def test_revoke_kills_access_and_refresh_tokens(shopify, standin):
    pair = exchange(shopify, standin.mint_id_token(SHOP)).json()
    standin.revoke(SHOP)

    assert graphql(shopify, pair["access_token"]).status_code == 401
    assert refresh(shopify, pair["refresh_token"]).json()["error"] == "invalid_grant"
    assert not standin.valid_access_token(SHOP, pair["access_token"])


def test_requests_are_logged_with_the_shopify_path(shopify, standin):
    offline_token(shopify, standin)

    [entry] = standin.requests
    assert entry["method"] == "POST" and entry["shop"] == SHOP
    assert entry["path"] == "/admin/oauth/access_token"
    assert entry["json"]["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
