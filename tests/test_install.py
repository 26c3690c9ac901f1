"""Installing a shop through the Shopify stand-in, both ways Shopify supports,
on SQLite and PostgreSQL; and what forged or stale requests get."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from app import shops
from app.models import InstallState, Platform, Shop
from tests.support.shops import API_KEY, SHOP


def app_home(client, standin, **token_args):
    token = standin.mint_id_token(SHOP, **token_args)
    return client.get("/", query_string={"embedded": "1", "shop": SHOP, "host": "YWRtaW4", "id_token": token})


def stored_shop(services) -> Shop | None:
    with services.db.session() as session:
        return shops.find_shop(session, Platform.shopify, SHOP)


def shop_count(services) -> int:
    with services.db.session() as session:
        return session.exec(select(sa.func.count()).select_from(Shop)).one()


def token_requests(standin, grant_type: str | None = None) -> list[dict]:
    found = [r for r in standin.requests if r["path"].endswith("/admin/oauth/access_token")]
    body = lambda r: r.get("json") or r.get("form") or {}  # noqa: E731
    return [r for r in found if grant_type is None or body(r).get("grant_type") == grant_type]


def request_body(r: dict) -> dict:
    return r.get("json") or r.get("form") or {}


def test_embedded_install_exchanges_the_id_token_for_an_expiring_offline_token(client, standin, services):
    response = app_home(client, standin)

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
    assert b"Fjord Gear" in response.data
    exchange = request_body(token_requests(standin, "urn:ietf:params:oauth:grant-type:token-exchange")[0])
    assert exchange["requested_token_type"] == "urn:shopify:params:oauth:token-type:offline-access-token"
    assert str(exchange["expiring"]) == "1"

    shop = stored_shop(services)
    assert shop.install_state == InstallState.installed
    assert shop.name == "Fjord Gear"
    access = shops.access_token_of(shop, services.cipher)
    assert standin.valid_access_token(SHOP, access)
    # Tokens are encrypted at rest: the raw columns never hold them.
    with services.db.session() as session:
        raw = session.execute(sa.text("SELECT access_token_enc, refresh_token_enc FROM shop")).one()
    assert access not in raw[0] and shops.refresh_token_of(shop, services.cipher) not in raw[1]
    assert shop.access_token_expires_at > services.now() + timedelta(minutes=50)
    assert shop.refresh_token_expires_at > services.now() + timedelta(days=80)


def test_second_visit_reuses_the_stored_token(client, standin):
    app_home(client, standin)
    app_home(client, standin)
    assert len(token_requests(standin)) == 1


def test_token_is_refreshed_before_expiry_and_the_new_pair_stored_together(client, standin, services, clock):
    app_home(client, standin)
    shop = stored_shop(services)
    first_access = shops.access_token_of(shop, services.cipher)
    first_refresh = shops.refresh_token_of(shop, services.cipher)

    # Still an hour to go: no refresh.
    assert services.shopify.installer.access_token(shop) == first_access
    assert token_requests(standin, "refresh_token") == []

    later = shop.access_token_expires_at - timedelta(seconds=60)
    clock.set(later)
    new_access = services.shopify.installer.access_token(shop)

    assert new_access != first_access
    assert request_body(token_requests(standin, "refresh_token")[0])["refresh_token"] == first_refresh
    stored = stored_shop(services)
    assert shops.access_token_of(stored, services.cipher) == new_access
    assert shops.refresh_token_of(stored, services.cipher) != first_refresh
    assert stored.token_version == shop.token_version
    assert standin.valid_access_token(SHOP, new_access)


def test_a_refresh_that_lost_the_race_keeps_the_winners_tokens(client, standin, services, db):
    app_home(client, standin)
    shop = stored_shop(services)
    stale_version = shop.token_version
    with db.transaction() as session:
        current = session.get(Shop, shop.id)
        assert shops.store_rotated_tokens(
            session, services.cipher, current, stale_version, shops.TokenGrant("shpat_winner", "read_orders")
        )
    with db.transaction() as session:
        current = session.get(Shop, shop.id)
        assert not shops.store_rotated_tokens(
            session, services.cipher, current, stale_version, shops.TokenGrant("shpat_loser", "read_orders")
        )
    assert shops.access_token_of(stored_shop(services), services.cipher) == "shpat_winner"


def test_install_refresh_uninstall_reinstall(client, standin, services, clock):
    assert app_home(client, standin).status_code == 200
    shop = stored_shop(services)
    clock.set(shop.access_token_expires_at - timedelta(seconds=10))
    services.shopify.installer.access_token(shop)
    clock.release()

    standin.revoke(SHOP)
    body = b'{"id":1,"name":"Fjord Gear","domain":"fjord-gear.myshopify.com"}'
    response = client.post("/webhooks/app", data=body, headers=standin.webhook_headers("app/uninstalled", SHOP, body))
    assert response.status_code == 200
    gone = stored_shop(services)
    assert gone.install_state == InstallState.uninstalled
    assert (gone.access_token_enc, gone.refresh_token_enc, gone.access_token_expires_at) == (None, None, None)

    assert app_home(client, standin).status_code == 200
    back = stored_shop(services)
    assert back.id == shop.id
    assert back.install_state == InstallState.installed
    assert standin.valid_access_token(SHOP, shops.access_token_of(back, services.cipher))
    assert len(token_requests(standin, "urn:ietf:params:oauth:grant-type:token-exchange")) == 2


def test_code_grant_install_end_to_end(client, standin, services):
    start = client.get("/auth/install", query_string={"shop": SHOP})
    assert start.status_code == 302
    authorize = urlsplit(start.headers["Location"])
    assert authorize.path == f"/store/{SHOP}/admin/oauth/authorize"
    params = dict(parse_qsl(authorize.query))
    assert params["client_id"] == API_KEY
    assert params["redirect_uri"] == "http://parley.test/auth/callback"
    assert (
        params["scope"]
        == "read_customers,read_orders,write_app_proxy,read_content,read_legal_policies,read_products,write_discounts"
    )

    # The merchant approves on Shopify's consent screen.
    approved = httpx.post(start.headers["Location"].split("?")[0], data=params, follow_redirects=False)
    assert approved.status_code == 302
    callback = urlsplit(approved.headers["Location"])
    assert callback.path == "/auth/callback"

    done = client.get("/auth/callback", query_string=callback.query)
    assert done.status_code == 302, done.data
    shop = stored_shop(services)
    assert shop.install_state == InstallState.installed
    grant = request_body(token_requests(standin)[0])
    assert str(grant["expiring"]) == "1"
    assert shop.refresh_token_enc is not None
    # Back to the app in the shop's admin (the stand-in's), as a real install ends.
    back = httpx.get(done.headers["Location"])
    assert back.status_code == 200 and "Parley is installed" in back.text


def test_legacy_install_hit_on_the_app_url_starts_the_code_grant(client, standin):
    response = client.get("/", query_string=standin.install_query(SHOP))
    assert response.status_code == 302
    assert f"/store/{SHOP}/admin/oauth/authorize" in response.headers["Location"]


# -- bad input ------------------------------------------------------------------


def test_forged_id_token_gets_401_and_no_shop(client, standin, services):
    response = app_home(client, standin, secret="not-the-app-secret-" + "x" * 20)
    assert response.status_code == 401
    assert b"the id_token is not a valid session token for this app" in response.data
    assert shop_count(services) == 0


def test_expired_id_token_on_a_document_load_bounces_to_the_patch_page(client, standin, services):
    response = app_home(client, standin, now=time.time() - 300)
    assert response.status_code == 302
    assert "/auth/patch-id-token?" in response.headers["Location"]
    assert "shopify-reload=" in response.headers["Location"]
    assert shop_count(services) == 0


def test_patch_page_loads_app_bridge(client):
    response = client.get("/auth/patch-id-token", query_string={"shop": SHOP, "shopify-reload": "/"})
    assert response.status_code == 200
    assert b"app-bridge.js" in response.data


def test_embedded_load_without_a_token_bounces_to_the_patch_page(client):
    response = client.get("/", query_string={"embedded": "1", "shop": SHOP})
    assert response.status_code == 302
    assert "/auth/patch-id-token" in response.headers["Location"]


def test_callback_with_a_forged_hmac_gets_401_and_no_shop(client, standin, services):
    query = standin.sign_query({"code": "abc", "shop": SHOP, "state": "x", "timestamp": str(int(time.time()))})
    query["hmac"] = "0" * 64
    response = client.get("/auth/callback", query_string=query)
    assert response.status_code == 401
    assert b"the hmac parameter does not match the request" in response.data
    assert shop_count(services) == 0


def test_callback_with_a_stale_timestamp_gets_401(client, standin, services):
    query = standin.sign_query({"code": "abc", "shop": SHOP, "state": "x", "timestamp": str(int(time.time()) - 600)})
    response = client.get("/auth/callback", query_string=query)
    assert response.status_code == 401
    assert b"more than 90 seconds" in response.data
    assert shop_count(services) == 0


def _started_install(client) -> dict:
    start = client.get("/auth/install", query_string={"shop": SHOP})
    return dict(parse_qsl(urlsplit(start.headers["Location"]).query))


def test_callback_with_a_state_parley_never_issued_gets_400(client, standin, services):
    _started_install(client)
    query = standin.sign_query({"code": "abc", "shop": SHOP, "state": "made-up", "timestamp": str(int(time.time()))})
    response = client.get("/auth/callback", query_string=query)
    assert response.status_code == 400
    assert b"the state parameter was not issued by Parley" in response.data
    assert shop_count(services) == 0


def test_callback_in_another_browser_gets_400(app, client, standin, services):
    params = _started_install(client)
    other_browser = app.test_client()
    query = standin.sign_query(
        {"code": "abc", "shop": SHOP, "state": params["state"], "timestamp": str(int(time.time()))}
    )
    response = other_browser.get("/auth/callback", query_string=query)
    assert response.status_code == 400
    assert b"does not belong to this browser" in response.data
    assert shop_count(services) == 0


def test_callback_with_an_expired_state_gets_400(client, standin, services, monkeypatch):
    params = _started_install(client)
    an_hour_later = int(time.time()) + 3600
    monkeypatch.setattr("itsdangerous.timed.TimestampSigner.get_timestamp", lambda self: an_hour_later)
    query = standin.sign_query(
        {"code": "abc", "shop": SHOP, "state": params["state"], "timestamp": str(int(time.time()))}
    )
    response = client.get("/auth/callback", query_string=query)
    assert response.status_code == 400
    assert b"the install took too long" in response.data
    assert shop_count(services) == 0


def test_callback_with_a_used_code_gets_400_and_no_shop(client, standin, services):
    params = _started_install(client)
    query = standin.sign_query(
        {"code": "never-issued", "shop": SHOP, "state": params["state"], "timestamp": str(int(time.time()))}
    )
    response = client.get("/auth/callback", query_string=query)
    assert response.status_code == 400
    assert b"Shopify refused the authorization code" in response.data
    assert shop_count(services) == 0


@pytest.mark.parametrize("shop", ["evil.com", "fjord-gear.myshopify.com.evil.com", ""])
def test_install_for_a_domain_that_is_not_myshopify_gets_400(client, shop, services):
    response = client.get("/auth/install", query_string={"shop": shop})
    assert response.status_code == 400
    assert b"shop must be a permanent domain like your-store.myshopify.com" in response.data
    assert shop_count(services) == 0


def test_admin_fetch_with_expired_token_gets_401_and_the_retry_header(client, standin):
    app_home(client, standin)
    token = standin.mint_id_token(SHOP, now=time.time() - 300)
    response = client.get("/admin/api/exports", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert response.get_json() == {"error": "expired_id_token", "message": "the session token has expired"}


def test_admin_fetch_without_a_token_gets_401(client):
    response = client.get("/admin/api/exports")
    assert response.status_code == 401
    assert response.get_json()["error"] == "missing_session_token"


def test_old_secret_is_accepted_while_rotating(client, standin, settings, bind):
    from app import create_app

    assert app_home(client, standin).status_code == 200
    old_secret, new_secret = settings.shopify_api_secret, "brand-new-secret-" + "n" * 20
    rotated = settings.override(shopify_api_secret=new_secret, shopify_api_secret_old=old_secret)
    client = create_app(rotated, bind=bind).test_client()
    standin.api_secret = new_secret
    # A token App Bridge minted just before the rotation still opens the app.
    response = app_home(client, standin, secret=old_secret)
    assert response.status_code == 200


def test_tokens_never_reach_the_log(client, standin, services, caplog, clock):
    caplog.set_level("DEBUG")
    app_home(client, standin)
    shop = stored_shop(services)
    clock.set(shop.access_token_expires_at)
    services.shopify.installer.access_token(shop)
    current = stored_shop(services)
    secrets_seen = [
        shops.access_token_of(current, services.cipher),
        shops.refresh_token_of(current, services.cipher),
        shops.access_token_of(shop, services.cipher),
    ]
    logged = caplog.text + repr(current) + str(current)
    assert all(secret not in logged for secret in secrets_seen)


def test_install_learns_the_custom_domain_so_its_storefront_may_call_the_api(client, standin, services):
    standin.add_shop(SHOP, name="Fjord Gear", primary_domain="fjordgear.com")
    app_home(client, standin)
    from urllib.parse import urlencode

    session = client.post(f"/proxy/session?{urlencode(standin.proxy_query(SHOP))}", json={}).get_json()
    response = client.post(
        "/api/storefront/v1/typing",
        json={"typing": True},
        headers={"Authorization": f"Bearer {session['visitor_token']}", "Origin": "https://fjordgear.com"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://fjordgear.com"
