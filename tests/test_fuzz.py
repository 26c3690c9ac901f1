"""Generated hostile requests against every public route, on SQLite and PostgreSQL:
JSON of every type and depth, huge, NUL and lone-surrogate strings, extreme numbers,
wrong content types, odd query strings and path segments, with valid credentials and
without, signed webhooks and unsigned ones.

Every answer is below 500 and, when it refuses, says why in the usual error body; a
refused request changes nothing stored. CI runs PARLEY_FUZZ_EXAMPLES (default 40)
requests per test and backend; `make fuzz` runs many more.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.web import rate_limits
from tests.support.apps import make_app
from tests.support.fuzzing import (
    CLOSED_API,
    EXAMPLES,
    NO_LIMITS,
    SALEOR_EVENTS,
    SHOPIFY_TOPICS,
    TOPICS_BY_ROUTE,
    admin_body,
    assert_answer_is_sound,
    body_bytes,
    build_world,
    fill_path,
    hostile_text,
    latin1,
    loopback_only,
    mostly,
    mostly_from,
    path_values,
    query_strings,
    routes_of,
    saleor_payload,
    shopify_payload,
    snapshot,
    storefront_body,
    visitor_auth,
)
from tests.support.saleor import running_saleor
from tests.support.shops import SHOP

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    # One world per test and backend, shared by its examples: what a request stored stays.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def world(settings, standin, bind, clock, monkeypatch):
    monkeypatch.setattr(rate_limits, "NEW_VISITORS_PER_ADDRESS", NO_LIMITS)
    app = make_app(
        settings.override(rate_limit_visitor=NO_LIMITS, rate_limit_ip=NO_LIMITS), standin, bind=bind, clock=clock
    )
    with loopback_only(), running_saleor(app) as saleor:
        world = build_world(app, standin, saleor)
        yield world
    print(
        f"\nfuzz: {world.requests} requests, {world.refusals} refused, statuses {dict(sorted(world.statuses.items()))}"
    )
    if os.environ.get("PARLEY_FUZZ_CODES"):
        print(f"  refusals by code: {dict(sorted(world.codes.items(), key=lambda kv: -kv[1]))}")


def _send(world, method: str, path: str, query: str, headers: dict[str, str], body: bytes, content_type):
    refused_before = snapshot(world.services)
    response = world.client.open(
        path, method=method, query_string=query, headers=headers, data=body, content_type=content_type
    )
    try:
        assert_answer_is_sound(response, path)
        error = response.get_json(silent=True) if response.mimetype == "application/json" else None
        world.tally(
            response.status_code,
            error.get("error") if isinstance(error, dict) and isinstance(error.get("error"), str) else None,
        )
        if 400 <= response.status_code < 500:
            assert snapshot(world.services) == refused_before, (
                f"{response.status_code} on {path} changed what is stored"
            )
    finally:
        response.close()
    return response


def _routes(world, family: str):
    found = [r for r in routes_of(world.app) if r.family() == family]
    assert found, family
    return found


@FUZZ
@given(data=st.data())
def test_storefront_api_answers_hostile_requests_below_500(world, data):
    route = data.draw(st.sampled_from(_routes(world, "storefront")))
    method = data.draw(st.sampled_from(route.methods))
    path = fill_path(route.rule, path_values(route, world, data.draw))
    headers = visitor_auth(world, data.draw)
    if data.draw(st.booleans()):
        headers["Origin"] = latin1(data.draw(st.sampled_from([f"https://{SHOP}", "https://evil.example", "null"])))
    if route.rule.endswith("/stream") and data.draw(st.booleans()):
        headers["Last-Event-ID"] = latin1(data.draw(st.one_of(hostile_text, st.just(str(2**70)))))
    base = storefront_body(route.rule, world)
    if route.rule.endswith("/session") and data.draw(st.booleans()):
        base = {"shop": world.saleor.api_url, "customer_access_token": "x.y.z"}
    body, content_type = data.draw(body_bytes(base))
    query = data.draw(query_strings({"token": world.visitor["visitor_token"]} if data.draw(st.booleans()) else {}))
    _send(world, method, path, query, headers, body, content_type)


@FUZZ
@given(data=st.data())
def test_app_proxy_answers_hostile_requests_below_500(world, data):
    route = data.draw(st.sampled_from(_routes(world, "proxy")))
    signed = data.draw(st.booleans())
    customer = data.draw(st.one_of(st.just(""), st.just("7001"), hostile_text))
    query_pairs = (
        world.standin.proxy_query(SHOP, logged_in_customer_id=customer.encode("utf-8", "replace").decode())
        if signed
        else [("shop", SHOP), ("signature", "0" * 64), ("timestamp", "1")]
    )
    query = urlencode(query_pairs)
    if not signed:
        query += "&" + data.draw(query_strings())
    headers = {"X-Forwarded-For": latin1(data.draw(st.one_of(st.just("203.0.113.9"), hostile_text)))}
    body, content_type = data.draw(body_bytes({"visitor_token": world.visitor["visitor_token"], "locale": "et"}))
    method = data.draw(st.sampled_from(route.methods))
    _send(
        world, method, fill_path(route.rule, path_values(route, world, data.draw)), query, headers, body, content_type
    )


@FUZZ
@given(data=st.data())
def test_admin_api_answers_hostile_requests_below_500(world, data):
    route = data.draw(st.sampled_from(_routes(world, "admin")))
    method = data.draw(st.sampled_from(route.methods))
    who = data.draw(st.sampled_from(["shopify", "shopify", "saleor", "none", "forged"]))
    headers: dict[str, str] = {}
    if who == "shopify":
        headers["Authorization"] = f"Bearer {world.standin.mint_id_token(SHOP, sub='42')}"
    elif who == "saleor":
        headers["Saleor-Api-Url"] = world.saleor.api_url
        headers["Authorization"] = f"Bearer {world.saleor.mint_dashboard_token()}"
    elif who == "forged":
        headers["Authorization"] = "Bearer " + latin1(data.draw(hostile_text))
        headers["Saleor-Api-Url"] = latin1(data.draw(st.one_of(hostile_text, st.just(CLOSED_API))))
    values = path_values(route, world, data.draw)
    if who == "saleor":
        values = {k: (world.saleor_conversation_id if "conversation" in k else v) for k, v in values.items()}
    body, content_type = data.draw(body_bytes(admin_body(route.rule, world)))
    query = data.draw(query_strings())
    _send(world, method, fill_path(route.rule, values), query, headers, body, content_type)


@FUZZ
@given(data=st.data())
def test_signed_shopify_webhooks_answer_below_500(world, data):
    route = data.draw(st.sampled_from(_routes(world, "shopify_webhooks")))
    fitting = TOPICS_BY_ROUTE.get(route.rule, SHOPIFY_TOPICS)
    topic = data.draw(mostly_from(st.sampled_from(fitting), st.one_of(st.sampled_from(SHOPIFY_TOPICS), hostile_text)))
    body, content_type = data.draw(body_bytes(shopify_payload(topic, world.conversation_id)))
    shop = data.draw(mostly(SHOP, st.one_of(st.just("x" * 300 + ".myshopify.com"), hostile_text)))
    event_id = data.draw(mostly(str(uuid.uuid4()), st.one_of(st.just("e" * 200), hostile_text)))
    headers = world.standin.webhook_headers(latin1(topic), latin1(shop), body, event_id=latin1(event_id) or "x")
    headers.pop("Content-Type", None)
    _send(world, "POST", route.rule, "", headers, body, content_type)


@FUZZ
@given(data=st.data())
def test_unsigned_shopify_webhooks_answer_below_500(world, data):
    route = data.draw(st.sampled_from(_routes(world, "shopify_webhooks")))
    topic = data.draw(st.sampled_from(SHOPIFY_TOPICS))
    body, content_type = data.draw(body_bytes(shopify_payload(topic, world.conversation_id)))
    headers = world.standin.webhook_headers(topic, SHOP, body)
    headers["X-Shopify-Hmac-Sha256"] = latin1(data.draw(st.one_of(st.just(""), hostile_text)))
    if data.draw(st.booleans()):
        del headers["X-Shopify-Hmac-Sha256"]
    headers.pop("Content-Type", None)
    method = data.draw(st.sampled_from(["POST", "POST", "GET", "PUT"]))
    _send(world, method, route.rule, "", headers, body, content_type)


@FUZZ
@given(data=st.data())
def test_saleor_webhooks_signed_and_not_answer_below_500(world, data):
    event = data.draw(mostly_from(st.sampled_from(SALEOR_EVENTS), hostile_text))
    body, content_type = data.draw(body_bytes(saleor_payload(event.upper(), world.saleor_conversation_id)))
    signature = data.draw(mostly(None, st.one_of(hostile_text.map(latin1), st.just("e30..c2ln"))))
    api_url = data.draw(mostly(world.saleor.api_url, st.one_of(st.just(CLOSED_API), hostile_text)))
    try:
        headers = world.saleor.webhook_headers(
            latin1(event), body, api_url=latin1(api_url) or None, signature=signature
        )
    except UnicodeDecodeError:  # the stand-in signs text only, as Saleor does
        headers = world.saleor.webhook_headers(
            latin1(event), body, api_url=latin1(api_url) or None, signature="e30..c2ln"
        )
    headers.pop("Content-Type", None)
    _send(world, "POST", "/saleor/webhooks", "", headers, body, content_type)


@FUZZ
@given(data=st.data())
def test_saleor_and_every_other_route_answer_below_500(world, data):
    routes = _routes(world, "saleor") + _routes(world, "documents")
    route = data.draw(st.sampled_from(routes))
    method = data.draw(st.sampled_from(route.methods))
    headers: dict[str, str] = {}
    if data.draw(st.booleans()):
        headers["Saleor-Api-Url"] = latin1(
            data.draw(
                st.one_of(st.just(world.saleor.api_url), st.just(CLOSED_API), hostile_text.map(lambda t: "x" + t))
            )
        )
    if data.draw(st.booleans()):
        headers["Accept"] = "application/json"
    base = {"auth_token": "t" * 30} if route.rule == "/saleor/register" else {}
    body, content_type = data.draw(body_bytes(base))
    if method == "POST" and route.rule.startswith("/saleor/") and data.draw(st.booleans()):
        token = world.saleor.mint_dashboard_token()
        form = {"saleorApiUrl": world.saleor.api_url, "accessToken": token}
        form.update(
            data.draw(
                st.dictionaries(
                    st.sampled_from(["orderId", "customerId", "conversationId", "body", "clientId"]),
                    hostile_text,
                    max_size=3,
                )
            )
        )
        body = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in form.items()}).encode()
        content_type = "application/x-www-form-urlencoded"
    query = data.draw(query_strings())
    _send(
        world, method, fill_path(route.rule, path_values(route, world, data.draw)), query, headers, body, content_type
    )
