"""Installing Parley into a Saleor, end to end through the stand-in: Saleor fetches the
manifest from Parley, posts the token, Parley proves it and stores it encrypted."""

from __future__ import annotations

import json
import struct
import zlib

from cryptography.fernet import Fernet
from graphql import build_schema, parse, validate

from app.config import load_settings
from app.models import InstallState, Platform, Shop
from app.platforms.saleor import install as saleor_install
from app.platforms.saleor.manifest import PERMISSIONS, SUBSCRIPTIONS, build_manifest
from standins.saleor.standin import SCHEMA_SDL
from tests.support.apps import make_app
from tests.support.saleor import MANIFEST_URL, LateApp, count, install, running_saleor, shop_of

# The SDL is transcribed from Saleor's saleor/graphql/schema.graphql (3.20), restricted to
# the types and fields Parley relies on; the stand-in serves the same SDL.
SALEOR_320_SCHEMA = build_schema(SCHEMA_SDL)


def test_every_subscription_query_is_valid_against_saleor_schema():
    for name, (query, events) in SUBSCRIPTIONS.items():
        errors = validate(SALEOR_320_SCHEMA, parse(query))
        assert errors == [], (name, [e.message for e in errors])
        assert events


def test_a_wrong_field_is_caught_like_saleor_catches_it():
    errors = validate(SALEOR_320_SCHEMA, parse("subscription { event { ... on OrderCreated { order { email } } } }"))
    assert "Cannot query field 'email' on type 'Order'" in errors[0].message


def test_manifest_is_built_from_app_url_not_from_the_request_host(client, settings):
    answer = client.get("/saleor/manifest", headers={"Host": "127.0.0.1"})  # Saleor drops the port
    assert answer.status_code == 200
    manifest = answer.get_json()
    assert manifest == build_manifest(settings)
    assert manifest["appUrl"] == "http://parley.test/saleor/app"
    assert manifest["tokenTargetUrl"] == "http://parley.test/saleor/register"
    assert manifest["brand"]["logo"]["default"] == "http://parley.test/saleor/logo.png"
    assert {w["targetUrl"] for w in manifest["webhooks"]} == {"http://parley.test/saleor/webhooks"}
    assert manifest["permissions"] == PERMISSIONS
    for extension in manifest["extensions"]:
        assert set(extension["permissions"]) <= set(manifest["permissions"])
    targets = {e["mount"]: e["target"] for e in manifest["extensions"]}
    assert targets == {
        "NAVIGATION_CUSTOMERS": "APP_PAGE",
        "ORDER_DETAILS_WIDGETS": "WIDGET",
        "CUSTOMER_DETAILS_MORE_ACTIONS": "NEW_TAB",
    }
    events = {e for w in manifest["webhooks"] for e in w["asyncEvents"]}
    assert events == {
        "CHECKOUT_CREATED",
        "CHECKOUT_UPDATED",
        "ORDER_CREATED",
        "ORDER_UPDATED",
        "ORDER_FULLY_PAID",
        "ORDER_CANCELLED",
        "CUSTOMER_UPDATED",
        "APP_DELETED",
    }
    logo = client.get("/saleor/logo.png")
    assert logo.status_code == 200 and logo.data.startswith(b"\x89PNG")


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR, and proof the pixels decode to that size: read
    here by hand (the PNG spec), not by the code that serves the file."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    idat = b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IDAT":
            idat += body
        chunks.setdefault(kind, body)
        at += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    assert len(zlib.decompress(idat)) == height * (1 + width * channels * depth // 8)
    return width, height


def test_the_logo_passes_the_rule_saleor_applies_to_brand_logos(client):
    """Saleor fetches `brand.logo.default` and keeps it only if the response's Content-Type is
    image/png, the file is a PNG, at least 256x256 and square (saleor/thumbnail/validators.py:
    validate_icon_image with MIN_ICON_SIZE = 256; else it logs "Invalid file. Minimal accepted
    image size is 256x256." and the Dashboard shows no logo). It fetches without following
    redirects."""
    logo = client.get("/saleor/logo.png")
    assert logo.status_code == 200
    assert logo.headers["Content-Type"] == "image/png"
    width, height = _png_size(logo.data)
    # Saleor compares (width, height) < (256, 256) as tuples, and demands a square.
    assert (width, height) >= (256, 256) and width == height and width >= 256
    assert len(logo.data) < 10 * 1024 * 1024  # Saleor's MAX_ICON_FILE_SIZE


def test_unknown_path_under_saleor_is_a_json_404(client):
    answer = client.get("/saleor/nope")
    assert answer.status_code == 404
    assert answer.get_json() == {"error": "not_found", "message": "/saleor/nope is not a Parley endpoint"}


def test_install_end_to_end_stores_the_token_encrypted(saleor, services):
    outcome = install(saleor)
    shop = shop_of(services, saleor)
    assert shop is not None and shop.install_state == InstallState.installed
    token = saleor.installed_app.token
    assert shop.access_token_enc and token not in shop.access_token_enc
    assert services.cipher.decrypt(shop.access_token_enc) == token
    assert shop.app_id == outcome["app_id"] == saleor.installed_app.id
    assert json.loads(shop.jwks)["keys"][0]["kid"] == saleor.kid
    assert shop.name == saleor.domain
    assert set(shop.scopes.split(",")) == set(PERMISSIONS)
    # What Saleor saw: the manifest fetched server-side, then Parley's `{ app { id } }` with the token.
    proofs = saleor.calls("app {")
    assert len(proofs) == 1
    assert proofs[0]["headers"]["Authorization"] == f"Bearer {token}"
    assert any(r["path"] == "/.well-known/jwks.json" for r in saleor.requests)


def test_reinstall_replaces_token_and_app_id(saleor, services):
    install(saleor)
    saleor.delete_app()
    second = install(saleor)
    shop = shop_of(services, saleor)
    assert shop.app_id == second["app_id"]
    assert services.cipher.decrypt(shop.access_token_enc) == saleor.installed_app.token
    assert count(services, Shop, Shop.platform == Platform.saleor) == 1


def test_token_that_does_not_answer_app_id_is_refused_and_nothing_stored(saleor, client, services):
    answer = client.post(
        "/saleor/register",
        json={"auth_token": "x" * 30},
        headers={"Saleor-Api-Url": saleor.api_url, "Saleor-Domain": saleor.domain},
    )
    assert answer.status_code == 401
    assert answer.get_json() == {
        "error": {"code": "UNKNOWN_APP_ID", "message": "The auth token is not an app token of this Saleor"}
    }
    assert count(services, Shop) == 0
    # Saleor's own answer to the unknown token was the anonymous PermissionDenied, HTTP 200.
    assert saleor.calls("app {")


def test_failed_register_makes_saleor_fail_the_install_with_our_message(settings, standin, bind):
    app = make_app(settings.override(saleor_allowed_api_urls="https://other.example/graphql/"), standin, bind=bind)
    services = app.extensions["parley"]
    with running_saleor(app) as saleor:
        outcome = saleor.install_app(MANIFEST_URL)
        assert outcome == {
            "status": "failed",
            "app_id": None,
            "message": f"{saleor.api_url} is not allowed to install this Parley",
        }
        assert saleor.installed_app is None  # Saleor deletes the app, and its token with it
    assert count(services, Shop) == 0


def test_missing_token_or_header_is_a_400(saleor, client, services):
    no_header = client.post("/saleor/register", json={"auth_token": "t" * 30})
    assert no_header.status_code == 400
    assert no_header.get_json()["error"] == {
        "code": "MISSING_SALEOR_API_URL",
        "message": "The Saleor-Api-Url header is missing",
    }
    no_token = client.post("/saleor/register", data="not json", headers={"Saleor-Api-Url": saleor.api_url})
    assert no_token.status_code == 400
    assert no_token.get_json()["error"] == {
        "code": "MISSING_AUTH_TOKEN",
        "message": "The body must be JSON with an auth_token",
    }
    bad_url = client.post("/saleor/register", json={"auth_token": "t"}, headers={"Saleor-Api-Url": "ftp://x/graphql/"})
    assert bad_url.status_code == 400
    assert bad_url.get_json()["error"] == {
        "code": "INVALID_API_URL",
        "message": "The Saleor-Api-Url header must be the URL of a Saleor GraphQL API",
    }
    too_long = client.post(
        "/saleor/register", json={"auth_token": "t"}, headers={"Saleor-Api-Url": "https://shop.example/" + "g" * 250}
    )
    assert too_long.status_code == 400 and too_long.get_json()["error"]["code"] == "INVALID_API_URL"
    assert count(services, Shop) == 0


def test_unreachable_saleor_is_refused_without_storing(client, services):
    answer = client.post(
        "/saleor/register", json={"auth_token": "t" * 30}, headers={"Saleor-Api-Url": "http://127.0.0.1:9/graphql/"}
    )
    assert answer.status_code == 502
    assert answer.get_json()["error"]["code"] == "SALEOR_UNREACHABLE"
    assert count(services, Shop) == 0


def test_allow_list_admits_only_listed_api_urls(settings, standin, bind):
    late = LateApp()
    with running_saleor(late) as saleor, running_saleor(late) as saleor_b:
        late.app = make_app(settings.override(saleor_allowed_api_urls=f" {saleor.api_url} ,"), standin, bind=bind)
        services = late.app.extensions["parley"]
        install(saleor)
        refused = saleor_b.install_app(MANIFEST_URL)
        assert refused["status"] == "failed"
        assert refused["message"] == f"{saleor_b.api_url} is not allowed to install this Parley"
        assert shop_of(services, saleor) is not None and shop_of(services, saleor_b) is None


def test_production_refuses_http_api_urls_unless_listed():
    base = {
        "PARLEY_ENV": "production",
        "SHOPIFY_API_KEY": "k",
        "SHOPIFY_API_SECRET": "s",
        "APP_URL": "https://p.example",
        "SECRET_KEY": "x" * 32,
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    settings = load_settings(base)
    try:
        saleor_install.check_api_url(settings, "http://shop.internal/graphql/")
    except saleor_install.RegisterError as exc:
        assert (exc.status, exc.code, exc.message) == (
            403,
            "INSECURE_API_URL",
            "Parley only installs into Saleor served over https",
        )
    else:
        raise AssertionError("an http:// API URL was accepted in production")
    listed = load_settings({**base, "SALEOR_ALLOWED_API_URLS": "http://shop.internal/graphql/"})
    assert saleor_install.check_api_url(listed, "http://shop.internal/graphql/") == "http://shop.internal/graphql/"
    assert saleor_install.check_api_url(settings, "https://shop.example/graphql/") == "https://shop.example/graphql/"
