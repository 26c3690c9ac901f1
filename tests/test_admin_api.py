"""Admin GraphQL through gql against the stand-in: answers with their cost, a
THROTTLED answer, an outage and a revoked token."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.platforms.shopify.admin_api import (
    SHOP_QUERY,
    AdminAPI,
    AdminAPIThrottled,
    AdminAPIUnauthorized,
    AdminAPIUnavailable,
    retry_after_for,
)
from app.platforms.shopify.customer_context import CUSTOMER_QUERY
from standins.shopify.transport import standin_http
from tests.support.shops import SHOP


@pytest.fixture
def api(standin, settings):
    token = _token(standin, settings)
    return AdminAPI(SHOP, token, settings.shopify_api_version, standin_http(standin.url))


def _token(standin, settings) -> str:
    with standin_http(standin.url).client() as http:
        response = http.post(
            f"https://{SHOP}/admin/oauth/access_token",
            json={
                "client_id": settings.shopify_api_key,
                "client_secret": settings.shopify_api_secret,
                "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                "subject_token": standin.mint_id_token(SHOP),
                "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
                "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
                "expiring": 1,
            },
        )
    return response.json()["access_token"]


def test_shop_query_answers_with_its_cost(api):
    result = api.execute(SHOP_QUERY)
    assert result.data["shop"]["name"] == "Fjord Gear"
    assert result.data["shop"]["myshopifyDomain"] == SHOP
    assert result.cost["requestedQueryCost"] >= 1
    assert result.currently_available is not None


def test_customer_with_orders(standin, api):
    standin.add_customer(
        SHOP,
        7,
        first_name="Anna",
        last_name="Tamm",
        email="anna@example.com",
        orders=[
            {
                "id": 1,
                "name": "#1001",
                "created_at": "2026-11-01T10:00:00Z",
                "total": "129.90",
                "currency": "EUR",
                "financial_status": "PAID",
                "fulfillment_status": "FULFILLED",
            }
        ],
    )
    result = api.execute(CUSTOMER_QUERY, {"id": "gid://shopify/Customer/7"})
    customer = result.data["customer"]
    assert customer["displayName"] == "Anna Tamm"
    assert customer["defaultEmailAddress"] == {"emailAddress": "anna@example.com"}
    money = customer["orders"]["nodes"][0]["totalPriceSet"]["shopMoney"]
    assert (Decimal(money["amount"]), money["currencyCode"]) == (Decimal("129.90"), "EUR")


def test_throttled_answer_says_when_to_retry(standin, api):
    standin.throttle_next(SHOP)
    with pytest.raises(AdminAPIThrottled) as err:
        api.execute(SHOP_QUERY)
    assert err.value.retry_after >= 1
    assert err.value.cost["throttleStatus"]["restoreRate"] > 0
    assert api.execute(SHOP_QUERY).data["shop"]["name"] == "Fjord Gear"


def test_outage_is_reported_as_unavailable(standin, api):
    standin.set_outage(SHOP, True)
    with pytest.raises(AdminAPIUnavailable):
        api.execute(SHOP_QUERY)
    standin.set_outage(SHOP, False)
    assert api.execute(SHOP_QUERY).data["shop"]


def test_revoked_token_is_reported_as_unauthorized(standin, api):
    standin.revoke(SHOP)
    with pytest.raises(AdminAPIUnauthorized):
        api.execute(SHOP_QUERY)


def test_unreachable_shopify_is_unavailable(settings):
    api = AdminAPI(SHOP, "shpat_x", settings.shopify_api_version, standin_http("http://127.0.0.1:9"))
    with pytest.raises(AdminAPIUnavailable):
        api.execute(SHOP_QUERY)


def test_retry_after_follows_the_throttle_status():
    cost = {
        "requestedQueryCost": 300,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 100.0, "restoreRate": 100.0},
    }
    assert retry_after_for(cost) == 2
    assert retry_after_for(None) == 1.0
