"""The Saleor stand-in speaks Saleor's wire formats: checked here by hand (cryptography,
plain JSON), not with the code Parley uses, so the stand-in cannot share a mistake
with the adapter it tests."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.platforms.saleor.keys import KeyRing, check_claims
from standins.saleor.standin import SaleorStandin
from standins.server import StandinServer


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _public_key(jwk: dict) -> rsa.RSAPublicKey:
    n = int.from_bytes(_b64decode(jwk["n"]), "big")
    e = int.from_bytes(_b64decode(jwk["e"]), "big")
    return rsa.RSAPublicNumbers(e, n).public_key()


def _jwt_parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return json.loads(_b64decode(header)), json.loads(_b64decode(payload))


def _verify_jwt_by_hand(token: str, jwk: dict) -> None:
    header, payload, signature = token.split(".")
    _public_key(jwk).verify(_b64decode(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture
def standin():
    fake = SaleorStandin(client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(404))))
    with StandinServer(fake):
        yield fake


def _graphql(
    standin: SaleorStandin, query: str, token: str | None = None, variables: dict | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(standin.api_url, json={"query": query, "variables": variables or {}}, headers=headers)


def test_jwks_kid_is_the_rfc7638_thumbprint(standin):
    jwks = httpx.get(f"{standin.url}/.well-known/jwks.json").json()
    (jwk,) = jwks["keys"]
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert jwk["kid"] == thumbprint == standin.kid
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in jwk
    old = standin.kid
    assert standin.rotate_key() != old
    assert [k["kid"] for k in httpx.get(f"{standin.url}/.well-known/jwks.json").json()["keys"]] == [standin.kid]


def test_webhook_signature_is_a_detached_unencoded_jws(standin):
    body = b'{"__typename": "OrderCreated", "order": {"id": "T3JkZXI6MQ=="}}'
    headers = standin.webhook_headers("ORDER_CREATED", body)
    assert headers["Saleor-Event"] == "order_created"
    assert headers["Saleor-Api-Url"] == standin.api_url and headers["Saleor-Domain"] == standin.domain
    signature = headers["Saleor-Signature"]
    protected, middle, sig = signature.split(".")
    assert middle == ""
    assert json.loads(_b64decode(protected)) == {
        "alg": "RS256",
        "b64": False,
        "crit": ["b64"],
        "kid": standin.kid,
        "typ": "JWT",
    }
    key = _public_key(standin.jwks()["keys"][0])
    key.verify(_b64decode(sig), protected.encode() + b"." + body, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        key.verify(_b64decode(sig), protected.encode() + b"." + body + b" ", padding.PKCS1v15(), hashes.SHA256())


def test_unknown_app_token_gets_saleors_anonymous_permission_denied(standin):
    answer = _graphql(standin, "{ app { id } }", token="x" * 30)
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {"app": None}
    assert body["errors"][0]["message"] == (
        "To access this path, you need one of the following permissions: AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP"
    )
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    assert body["extensions"]["cost"] == {"requestedQueryCost": 1, "maximumAvailable": 50000}


def test_unknown_field_fails_validation_like_saleor(standin):
    answer = _graphql(standin, '{ order(id: "x") { email } }')
    assert answer.status_code == 400
    # Saleor's graphql-core 2 also suggests "userEmail"; graphql-core 3 finds it too far to suggest.
    assert answer.json()["errors"][0]["message"].startswith('Cannot query field "email" on type "Order".')


def test_checkout_metadata_write_fires_checkout_updated_and_is_copied_to_the_order(standin):
    checkout_id = standin.add_checkout([{"name": "Parka", "quantity": 1, "price": "10.00"}])
    standin._app = None
    answer = _graphql(
        standin,
        f'mutation {{ updateMetadata(id: "{checkout_id}", input: [{{key: "k", value: "v"}}]) '
        "{ errors { code } item { metadata { key value } } } }",
    )
    assert answer.json()["data"]["updateMetadata"] == {"errors": [], "item": {"metadata": [{"key": "k", "value": "v"}]}}
    order_id = standin.complete_checkout(checkout_id)
    assert standin.order(order_id)["metadata"] == {"k": "v"}
    token = base64.b64decode(checkout_id).decode().split(":")[1]
    assert base64.b64decode(order_id).decode().startswith("Order:")
    assert standin.order(order_id)["checkout_token"] == token


def test_dashboard_and_customer_tokens_carry_saleors_claims(standin):
    now = int(time.time())
    dashboard = standin.mint_dashboard_token(
        email="staff@example.com",
        permissions=["MANAGE_ORDERS"],
        user_permissions=["MANAGE_ORDERS", "MANAGE_USERS"],
        now=now,
    )
    header, claims = _jwt_parts(dashboard)
    assert header == {"alg": "RS256", "kid": standin.kid, "typ": "JWT"}
    assert claims["iss"] == standin.api_url and claims["owner"] == "saleor" and claims["type"] == "thirdparty"
    assert claims["exp"] == claims["iat"] + 300 == now + 300
    assert claims["permissions"] == ["MANAGE_ORDERS"] and claims["user_permissions"] == [
        "MANAGE_ORDERS",
        "MANAGE_USERS",
    ]
    assert {"email", "user_id", "is_staff", "app", "token"} <= set(claims)
    _verify_jwt_by_hand(dashboard, standin.jwks()["keys"][0])

    user_id = standin.add_customer("anna@example.com")
    customer = standin.mint_customer_token(user_id, now=now)
    _, claims = _jwt_parts(customer)
    assert (claims["type"], claims["user_id"], claims["email"], claims["iss"], claims["is_staff"]) == (
        "access",
        user_id,
        "anna@example.com",
        standin.api_url,
        False,
    )
    assert claims["exp"] == now + 300
    _verify_jwt_by_hand(customer, standin.jwks()["keys"][0])

    # Parley's KeyRing agrees with the hand check, and checks the claims it is told to.
    jwks = json.dumps(standin.jwks())
    ring = KeyRing(standin.api_url, lambda: jwks, lambda _: None, lambda _: jwks)
    verified = ring.verify_jwt(customer)
    check_claims(verified, now=now + 10, iss=standin.api_url, type="access")


def test_install_fails_when_a_subscription_query_names_a_wrong_field():
    manifest = {
        "id": "x",
        "name": "X",
        "version": "1",
        "tokenTargetUrl": "http://app/register",
        "webhooks": [
            {
                "name": "w",
                "targetUrl": "http://app/w",
                "asyncEvents": ["ORDER_CREATED"],
                "query": "subscription { event { ... on OrderCreated { order { email } } } }",
            }
        ],
    }
    posted = []

    def app(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=manifest)
        posted.append(request)
        return httpx.Response(200, json={"success": True})

    fake = SaleorStandin(client=httpx.Client(transport=httpx.MockTransport(app)))
    outcome = fake.install_app("http://app/manifest")
    assert outcome["status"] == "failed"
    assert outcome["message"].startswith('Subscription query is not valid: Cannot query field "email" on type "Order".')
    assert posted == []  # no token is sent for a manifest Saleor refuses


def test_token_post_has_saleors_shape_and_a_refusal_fails_the_install():
    manifest = {
        "id": "x",
        "name": "X",
        "version": "1",
        "tokenTargetUrl": "http://app/register",
        "permissions": ["MANAGE_ORDERS"],
    }
    posted: list[httpx.Request] = []

    def app(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert request.headers["Saleor-Schema-Version"] == "3.23"
            return httpx.Response(200, json=manifest)
        posted.append(request)
        return httpx.Response(403, json={"error": {"message": "probe refused install"}})

    fake = SaleorStandin(client=httpx.Client(transport=httpx.MockTransport(app)))
    fake.url = "http://127.0.0.1:8000"
    outcome = fake.install_app("http://app/manifest")
    assert outcome == {"status": "failed", "message": "probe refused install", "app_id": None}
    (request,) = posted
    body = json.loads(request.content)
    assert list(body) == ["auth_token"] and len(body["auth_token"]) == 30
    assert request.headers["Saleor-Api-Url"] == "http://127.0.0.1:8000/graphql/"
    assert request.headers["Saleor-Domain"] == "127.0.0.1:8000"
    assert request.headers["Content-Type"] == "application/json"
    assert fake.installed_app is None
