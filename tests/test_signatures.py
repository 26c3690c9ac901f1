"""Every signature Parley checks, against values computed outside the code under test:
Shopify's published vectors, `openssl`, and JWTs minted with joserfc (Parley
verifies with shopifyapp/PyJWT)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey
from shopify_app import ShopifyApp

from app.encryption import TokenCipher, TokenDecryptError
from app.platforms.saleor.keys import JWKSUnavailable
from app.platforms.shopify.requests import (
    ShopifyRequestError,
    check_id_token_claims,
    normalize_shop,
    query_hmac,
    verify_query,
)
from app.platforms.shopify.webhooks import parse_delivery
from tests.support.saleor_tokens import API_A, APP_A, CUSTOMER, b64url, install_saleor, jwks_of, sign

# Shopify's documented OAuth example (shared/platforms/shopify.md, "Published example vectors").
OAUTH_VECTOR = {
    "code": "0907a61c0c8d55e99db179b68161bc00",
    "shop": "some-shop.myshopify.com",
    "state": "0.6784241404160823",
    "timestamp": "1337178173",
}
OAUTH_VECTOR_HMAC = "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"

# Computed with: printf '%s' "$BODY" | openssl dgst -sha256 -hmac hush -binary | base64
WEBHOOK_BODY = b'{"shop_id":954889,"shop_domain":"snowdevil.myshopify.com"}'
WEBHOOK_HMAC = "unXxOs41nqtk5v6Btqh9qz9Dh6mprKtn5eLN4XfJwSY="


def test_query_hmac_matches_shopifys_published_example():
    assert query_hmac(OAUTH_VECTOR.items(), "hush") == OAUTH_VECTOR_HMAC


def test_query_hmac_ignores_the_hmac_parameter_itself():
    assert query_hmac([*OAUTH_VECTOR.items(), ("hmac", "whatever")], "hush") == OAUTH_VECTOR_HMAC


def test_verify_query_accepts_the_published_example_within_the_time_window():
    params = {**OAUTH_VECTOR, "hmac": OAUTH_VECTOR_HMAC}
    assert verify_query(params, ["hush"], now=1337178173 + 30) == "some-shop.myshopify.com"


def test_verify_query_accepts_the_old_secret_during_rotation():
    params = {**OAUTH_VECTOR, "hmac": OAUTH_VECTOR_HMAC}
    assert verify_query(params, ["new-secret", "hush"], now=1337178173) == "some-shop.myshopify.com"


@pytest.mark.parametrize(
    "change, status, code",
    [
        ({"hmac": "0" * 64}, 401, "invalid_hmac"),
        ({"hmac": ""}, 400, "missing_hmac"),
        ({"shop": "other-shop.myshopify.com"}, 401, "invalid_hmac"),
    ],
)
def test_verify_query_refuses_forged_queries(change, status, code):
    params = {**OAUTH_VECTOR, "hmac": OAUTH_VECTOR_HMAC, **change}
    with pytest.raises(ShopifyRequestError) as err:
        verify_query(params, ["hush"], now=1337178173)
    assert (err.value.status, err.value.code) == (status, code)


def test_verify_query_refuses_a_replayed_query_outside_ninety_seconds():
    params = {**OAUTH_VECTOR, "hmac": OAUTH_VECTOR_HMAC}
    with pytest.raises(ShopifyRequestError) as err:
        verify_query(params, ["hush"], now=1337178173 + 91)
    assert err.value.status == 401
    assert "90 seconds" in err.value.message


@pytest.mark.parametrize(
    "shop", ["evil.com", "fjord-gear.myshopify.com.evil.com", "-bad.myshopify.com", "", "fjord gear.myshopify.com"]
)
def test_shop_domains_other_than_myshopify_are_refused(shop):
    with pytest.raises(ShopifyRequestError) as err:
        normalize_shop(shop)
    assert err.value.status == 400
    assert err.value.message == "shop must be a permanent domain like your-store.myshopify.com"


def test_shop_domain_is_lower_cased():
    assert normalize_shop("Fjord-Gear.myshopify.com") == "fjord-gear.myshopify.com"


# -- webhooks -----------------------------------------------------------------


def _webhook_headers(hmac_value: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": hmac_value,
        "X-Shopify-Topic": "shop/redact",
        "X-Shopify-Shop-Domain": "snowdevil.myshopify.com",
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


def test_webhook_hmac_matches_openssl():
    app = ShopifyApp(client_id="key", client_secret="hush")
    delivery = parse_delivery(
        app, "POST", "https://parley.test/webhooks/compliance", _webhook_headers(WEBHOOK_HMAC), WEBHOOK_BODY
    )
    assert delivery.payload == {"shop_id": 954889, "shop_domain": "snowdevil.myshopify.com"}


def test_webhook_hmac_of_the_old_secret_is_accepted_during_rotation():
    app = ShopifyApp(client_id="key", client_secret="rotated", old_client_secret="hush")
    delivery = parse_delivery(
        app, "POST", "https://parley.test/webhooks/compliance", _webhook_headers(WEBHOOK_HMAC), WEBHOOK_BODY
    )
    assert delivery.topic == "shop/redact"


@pytest.mark.parametrize(
    "body, hmac_value",
    [
        (WEBHOOK_BODY + b" ", WEBHOOK_HMAC),  # one byte more than was signed
        (WEBHOOK_BODY, "AAAA" + WEBHOOK_HMAC[4:]),
        (WEBHOOK_BODY, ""),
        (b"\xff\xfe not utf-8", WEBHOOK_HMAC),
    ],
)
def test_webhook_with_a_wrong_or_missing_hmac_is_refused_with_401(body, hmac_value):
    app = ShopifyApp(client_id="key", client_secret="hush")
    headers = _webhook_headers(hmac_value)
    if not hmac_value:
        del headers["X-Shopify-Hmac-Sha256"]
    with pytest.raises(ShopifyRequestError) as err:
        parse_delivery(app, "POST", "https://parley.test/webhooks/compliance", headers, body)
    assert (err.value.status, err.value.code) == (401, "invalid_hmac")


# -- ID tokens --------------------------------------------------------------------


def mint_id_token(secret: str, shop: str = "fjord-gear.myshopify.com", **claims) -> str:
    """An App Bridge ID token, minted with joserfc rather than the PyJWT Parley verifies with."""
    now = int(time.time())
    body = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": "key",
        "sub": "42",
        "exp": now + 60,
        "nbf": now - 1,
        "iat": now - 1,
        "jti": str(uuid.uuid4()),
        "sid": uuid.uuid4().hex,
    }
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return jose_jwt.encode({"alg": "HS256", "typ": "JWT"}, body, OctKey.import_key(secret.encode()))


def _verify(token: str, secret: str = "s" * 32, old: str | None = None):
    app = ShopifyApp(client_id="key", client_secret=secret, old_client_secret=old)
    result = app.verify_app_home_req(
        {
            "method": "GET",
            "headers": {"Authorization": f"Bearer {token}"},
            "url": "https://parley.test/admin/api/x",
            "body": "",
        },
        "/auth/patch-id-token",
    )
    if not result.ok:
        return result.log.code
    return check_id_token_claims(result.id_token.claims)


def test_id_token_minted_independently_is_accepted():
    assert _verify(mint_id_token("s" * 32)) == "fjord-gear.myshopify.com"


def test_id_token_signed_with_the_old_secret_is_accepted_during_rotation():
    assert _verify(mint_id_token("o" * 32), old="o" * 32) == "fjord-gear.myshopify.com"


def test_id_token_within_the_leeway_is_accepted():
    assert _verify(mint_id_token("s" * 32, exp=int(time.time()) - 5)) == "fjord-gear.myshopify.com"


@pytest.mark.parametrize(
    "secret, claims, expected",
    [
        ("x" * 32, {}, "invalid_id_token"),
        ("s" * 32, {"aud": "another-app"}, "invalid_aud"),
        ("s" * 32, {"exp": -60}, "expired_id_token"),
        ("s" * 32, {"nbf": +60}, "invalid_id_token"),
    ],
)
def test_id_token_forged_or_stale_is_refused(secret, claims, expected):
    # Times are offsets from when the test runs, not from when it was collected.
    now = int(time.time())
    claims = {k: (now + v if k in ("exp", "nbf") else v) for k, v in claims.items()}
    assert _verify(mint_id_token(secret, **claims)) == expected


@pytest.mark.parametrize(
    "claims, message",
    [
        ({"iss": "https://other-shop.myshopify.com/admin"}, "the ID token's iss and dest name different shops"),
        (
            {"dest": "https://evil.example.com", "iss": "https://evil.example.com/admin"},
            "the ID token's dest is not a shop domain",
        ),
        ({"exp": None}, "the ID token has no expiry"),
    ],
)
def test_id_token_claims_that_shopifyapp_leaves_to_us_are_checked(claims, message):
    with pytest.raises(ShopifyRequestError) as err:
        _verify(mint_id_token("s" * 32, **claims))
    assert (err.value.status, err.value.message) == (401, message)


# -- tokens at rest ---------------------------------------------------------------


def test_token_cipher_round_trips_and_hides_the_token():
    from cryptography.fernet import Fernet

    cipher = TokenCipher(Fernet.generate_key().decode())
    sealed = cipher.encrypt("shpat_secret_value")
    assert "shpat_secret_value" not in sealed
    assert cipher.decrypt(sealed) == "shpat_secret_value"
    assert "key" not in repr(cipher).lower().replace("keys hidden", "")


def test_token_cipher_rotation_decrypts_with_an_older_key():
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_by_old = TokenCipher(old).encrypt("shpat_1")
    assert TokenCipher(f"{new},{old}").decrypt(sealed_by_old) == "shpat_1"
    with pytest.raises(TokenDecryptError):
        TokenCipher(new).decrypt(sealed_by_old)
    # A ciphertext made by an independent Fernet is readable: the format is Fernet's, not ours.
    assert TokenCipher(new).decrypt(Fernet(new.encode()).encrypt(b"shpat_2").decode()) == "shpat_2"


# -- Saleor's keys: attempts to fetch them are throttled, not only successes -------------------


class JWKSDown:
    """A Saleor whose JWKS cannot be fetched, counting the attempts."""

    def __init__(self) -> None:
        self.attempts = 0

    def __call__(self, api_url: str) -> str:
        self.attempts += 1
        raise JWKSUnavailable(f"{api_url}: connection refused")


def _forged_signature(kid: str) -> str:
    header = b64url(json.dumps({"alg": "RS256", "b64": False, "crit": ["b64"], "kid": kid}).encode())
    return f"{header}..{b64url(b'not a signature')}"


def test_forged_kids_while_the_jwks_fails_make_one_fetch_per_window(client, services, saleor_keys):
    install_saleor(services, API_A, APP_A, saleor_keys["a"])
    down, now = JWKSDown(), [1000.0]
    services.saleor.apps.fetch = down
    services.saleor.apps._clock = lambda: now[0]
    body = b'{"__typename": "OrderCreated", "order": {"id": "T3JkZXI6MQ=="}}'
    answers = [
        client.post(
            "/saleor/webhooks",
            data=body,
            headers={
                "Saleor-Api-Url": API_A,
                "Saleor-Event": "order_created",
                "Saleor-Signature": _forged_signature(f"forged-{n}"),
            },
        )
        for n in range(100)
    ]
    # Saleor is told to retry (our side cannot check), and its JWKS was asked for once.
    assert {(a.status_code, a.get_json()["error"]) for a in answers} == {(503, "keys_unavailable")}
    assert down.attempts == 1
    now[0] += 10.5  # the next window: one more attempt, no more
    for n in range(10):
        client.post(
            "/saleor/webhooks",
            data=body,
            headers={
                "Saleor-Api-Url": API_A,
                "Saleor-Event": "order_created",
                "Saleor-Signature": _forged_signature(f"again-{n}"),
            },
        )
    assert down.attempts == 2


def test_unknown_kid_customer_tokens_while_the_jwks_fails_make_one_fetch(client, services, saleor_keys):
    install_saleor(services, API_A, APP_A, saleor_keys["a"])
    down = JWKSDown()
    services.saleor.apps.fetch = down
    now = int(time.time())
    claims = {
        "iat": now,
        "exp": now + 300,
        "iss": API_A,
        "type": "access",
        "user_id": CUSTOMER,
        "email": "m@example.com",
    }
    answers = [
        client.post(
            "/api/storefront/v1/session",
            json={"shop": API_A, "customer_access_token": sign(saleor_keys["attacker"], claims, kid=f"kid-{n}")},
        )
        for n in range(15)  # fresh sessions: under the new-visitor limit of one address
    ]
    assert {(a.status_code, a.get_json()["error"]) for a in answers} == {(503, "saleor_unavailable")}
    assert down.attempts == 1


def test_an_unknown_kid_after_a_fetch_that_worked_is_401_without_another_fetch(client, services, saleor_keys):
    install_saleor(services, API_A, APP_A, saleor_keys["a"])
    fetched: list[str] = []
    services.saleor.apps.fetch = lambda api_url: fetched.append(api_url) or jwks_of(saleor_keys["a"])
    body = b'{"__typename": "OrderCreated", "order": {"id": "T3JkZXI6MQ=="}}'
    statuses = {
        client.post(
            "/saleor/webhooks",
            data=body,
            headers={
                "Saleor-Api-Url": API_A,
                "Saleor-Event": "order_created",
                "Saleor-Signature": _forged_signature(f"f-{n}"),
            },
        ).status_code
        for n in range(20)
    }
    assert statuses == {401} and fetched == [API_A]
