"""Saleor tenants for the Dashboard and storefront tests, made here: keys (the
`saleor_keys` fixture in tests/conftest.py), Dashboard tokens signed with joserfc and
one by hand with `cryptography` (so the vectors do not come from the code under
test), installed Saleor shops whose API URLs point at a closed loopback port, and a
recording stand-in for the commerce look-ups."""

from __future__ import annotations

import base64
import json
import time
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt
from joserfc.jwk import RSAKey

from app import shops
from app.clock import utcnow
from app.models import Platform, Shop

# Closed loopback ports: even a look-up this file did not expect never leaves the machine.
API_A = "http://127.0.0.1:9/a/graphql/"
API_B = "http://127.0.0.1:9/b/graphql/"
APP_A = base64.b64encode(b"App:11").decode()
APP_B = base64.b64encode(b"App:22").decode()
STAFF = base64.b64encode(b"User:7").decode()
CUSTOMER = base64.b64encode(b"User:501").decode()
SECRET_MARKER = "saleor-b-secret-91c2"
NEEDED = ["MANAGE_ORDERS", "MANAGE_USERS"]


# -- keys and tokens, made here --------------------------------------------------------


def jwks_of(*keys: RSAKey) -> str:
    return json.dumps({"keys": [k.as_dict(private=False) for k in keys]})


def claims_for(api_url: str = API_A, app_id: str = APP_A, **overrides) -> dict:
    """The claims Saleor 3.23 puts on a Dashboard token (saleor.md §A4)."""
    now = int(time.time())
    claims = {
        "iat": now,
        "exp": now + 300,
        "iss": api_url,
        "owner": "saleor",
        "type": "thirdparty",
        "token": "a1b2c3",
        "email": "staff@example.com",
        "user_id": STAFF,
        "is_staff": True,
        "app": app_id,
        "permissions": NEEDED,
        "user_permissions": [*NEEDED, "MANAGE_CHECKOUTS"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(key: RSAKey, claims: dict, kid: str | None = None) -> str:
    return jwt.encode({"alg": "RS256", "typ": "JWT", "kid": kid or key.kid}, claims, key)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_by_hand(key: RSAKey, claims: dict) -> str:
    """RS256 as RFC 7515 spells it: PKCS#1 v1.5 + SHA-256 over b64url(header).b64url(claims)."""
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": key.kid}).encode())
    payload = b64url(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = key.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64url(signature)}"


def dashboard(token: str | None, api_url: str = API_A) -> dict:
    headers = {"Saleor-Api-Url": api_url}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


# -- installed shops and shoppers -----------------------------------------------------------


def install_saleor(services, api_url: str, app_id: str, *keys: RSAKey) -> int:
    with services.db.transaction() as session:
        shop = shops.record_install(
            session,
            services.cipher,
            Platform.saleor,
            api_url,
            shops.TokenGrant("t" * 30, "MANAGE_ORDERS MANAGE_USERS"),
            utcnow(),
        )
        shop.app_id, shop.jwks = app_id, jwks_of(*keys)
        session.add(shop)
        session.flush()
        return shop.id


def saleor_shopper_writes(client, api_url: str, body: str) -> dict:
    session = client.post("/api/storefront/v1/session", json={"shop": api_url})
    assert session.status_code == 200, session.data
    token = session.get_json()["visitor_token"]
    sent = client.post(
        "/api/storefront/v1/messages",
        json={"client_id": str(uuid.uuid4()), "body": body},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert sent.status_code == 201, sent.data
    return {**sent.get_json(), "visitor_token": token}


class RecordingContext:
    """Stands in for SaleorCommerceContext: answers in its shape and records the questions."""

    def __init__(self):
        self.lookups: list[tuple] = []
        self.checkouts: list[tuple] = []

    def lookup(self, shop: Shop, customer_id: str | None, email: str | None) -> dict:
        self.lookups.append((shop.domain, customer_id, email))
        return {
            "customer": {"id": customer_id, "name": "Mari Maasikas", "email": "mari@example.com", "orders_count": 1},
            "orders": [],
            "source": "live",
            "notice": None,
        }

    def checkout(self, shop: Shop, token: str) -> dict | None:
        self.checkouts.append((shop.domain, token))
        return {
            "lines": [{"title": "Parka", "quantity": 1}],
            "total": "120.00",
            "currency": "EUR",
            "token": token,
            "item_count": 1,
        }


# What the Dashboard does around Parley's iframe, for the browser tests.
DASHBOARD_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Saleor Dashboard (test)</title></head>
<body>
<iframe id="app" src="%(src)s" style="width:1200px;height:800px;border:0"
        sandbox="allow-same-origin allow-forms allow-scripts allow-downloads allow-popups"></iframe>
<script>
  // What the Dashboard does (saleor.md section A4): a handshake when the iframe loads and
  // again after notifyReady; a response to every action; it keeps what the app sent.
  window.actions = [];
  const frame = document.getElementById('app');
  const appOrigin = new URL(frame.src).origin;
  const token = %(token)s;
  const send = (message) => frame.contentWindow.postMessage(message, appOrigin);
  window.addEventListener('message', (event) => {
    if (event.origin !== appOrigin) return;
    window.actions.push(event.data);
    const payload = (event.data && event.data.payload) || {};
    if (payload.actionId) send({ type: 'response', payload: { actionId: payload.actionId, ok: true } });
    if (event.data.type === 'notifyReady') {
      send({ type: 'handshake', payload: { token, version: 1, saleorVersion: '3.23.28', dashboardVersion: '3.23.27' } });
    }
  });
  frame.addEventListener('load', () => send({ type: 'handshake', payload: { token, version: 1 } }));
</script>
</body></html>"""
