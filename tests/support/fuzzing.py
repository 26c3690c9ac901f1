"""What the fuzz suite (tests/test_fuzz.py) stands on: a Parley with a Shopify shop and a
Saleor installed for real, one shopper who has written, every route of the app, hostile
values and the requests made of them, and the two checks every answer must pass (below
500, a well-formed error) plus the one a refusal must pass (nothing stored changed).

The routes come from the app's own URL map, so a route added later is fuzzed too.
Nothing here may leave the machine: `loopback_only` refuses any other address.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from hypothesis import strategies as st
from sqlmodel import SQLModel

from standins.saleor.standin import SaleorStandin
from standins.shopify.payloads import cart_payload, checkout_payload, customer, order_payload, simple_lines
from standins.shopify.standin import ShopifyStandin
from tests.support.saleor import install as install_saleor
from tests.support.shoppers import API, auth, say, start
from tests.support.shops import SHOP, app_home

# How many requests each fuzz test makes: a few dozen in CI, many more under `make fuzz`.
EXAMPLES = int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "40"))
NO_LIMITS = "1000000/minute"
CLOSED_API = "http://127.0.0.1:9/fuzz/graphql/"


# -- nothing leaves the machine ------------------------------------------------------------


def _loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", "parley.test"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextmanager
def loopback_only() -> Iterator[None]:
    """Refuse every name look-up and connection that is not to this machine, so a generated
    URL can never make Parley call the internet."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback(host.decode() if isinstance(host, bytes) else host):
            raise socket.gaierror(socket.EAI_NONAME, f"fuzzing stays on this machine ({host!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise ConnectionRefusedError(f"fuzzing stays on this machine ({address[0]!r})")
        return real_connect(self, address)

    socket.getaddrinfo, socket.socket.connect = getaddrinfo, connect  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.getaddrinfo, socket.socket.connect = real_getaddrinfo, real_connect  # type: ignore[method-assign]


# -- the world the requests meet -----------------------------------------------------------


class World:
    """What the requests meet. A plain class: hypothesis prints a dataclass field by field
    with every failing case."""

    def __init__(self, **parts: Any):
        self.app = parts["app"]
        self.client = parts["client"]
        self.services = parts["services"]
        self.standin: ShopifyStandin = parts["standin"]
        self.saleor: SaleorStandin = parts["saleor"]
        self.shop_id: int = parts["shop_id"]
        self.visitor: dict = parts["visitor"]
        self.saleor_visitor: dict = parts["saleor_visitor"]
        self.conversation_id: str = parts["conversation_id"]
        self.message_id: int = parts["message_id"]
        self.saleor_conversation_id: str = parts["saleor_conversation_id"]
        self.requests = 0
        self.refusals = 0
        self.statuses: dict[int, int] = {}
        self.codes: dict[str, int] = {}

    def __repr__(self) -> str:  # hypothesis prints the fixture with every failing case
        return f"World(requests={self.requests}, refusals={self.refusals})"

    def tally(self, status: int, code: str | None = None) -> None:
        if code:
            self.codes[code] = self.codes.get(code, 0) + 1
        self.requests += 1
        self.refusals += 400 <= status < 500
        self.statuses[status] = self.statuses.get(status, 0) + 1


def build_world(app, standin: ShopifyStandin, saleor: SaleorStandin) -> World:
    client = app.test_client()
    services = app.extensions["parley"]
    home = app_home(client, standin)  # installs the shop for real (token exchange with the stand-in)
    assert home.status_code == 200, home.data[:500]
    with services.db.session() as session:
        from app import shops
        from app.models import Platform

        shop = shops.find_installed_shop(session, Platform.shopify, SHOP)
        assert shop is not None and shop.id is not None
        shop_id = shop.id
    visitor = start(client, standin)
    sent = say(client, visitor, "Is the parka waterproof?")
    install_saleor(saleor)
    saleor_session = client.post(f"{API}/session", json={"shop": saleor.api_url})
    assert saleor_session.status_code == 200, saleor_session.data
    saleor_visitor = saleor_session.get_json()
    saleor_sent = say(client, saleor_visitor, "Do you ship to Tartu?")
    return World(
        app=app,
        client=client,
        services=services,
        standin=standin,
        saleor=saleor,
        shop_id=shop_id,
        visitor=visitor,
        saleor_visitor=saleor_visitor,
        conversation_id=sent["conversation"]["id"],
        message_id=sent["message"]["id"],
        saleor_conversation_id=saleor_sent["conversation"]["id"],
    )


def snapshot(services) -> str:
    """A digest of every row of every table: equal digests, nothing stored changed."""
    digest = hashlib.sha256()
    with services.db.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            order = [c for c in table.primary_key.columns] or list(table.columns)
            for row in session.execute(sa.select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
            digest.update(table.name.encode())
    return digest.hexdigest()


# -- hostile values ---------------------------------------------------------------------------

EXTREME_NUMBERS = [0, -1, 2**31, 2**40, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 2**70, -(2**63) - 1, 10**17, 10**30]
ODD_FLOATS = [float("inf"), float("-inf"), float("nan"), 1e308, -0.0, 5e-324, 12.5]
ODD_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ud83d\ude00",  # a pair, written as its halves: valid once joined
    "😀",
    "\u202e",
    "\ufeff",
    "\r\n",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "../../etc/passwd",
    "null",
    "[]",
    "{}",
    "9" * 400,
    "é" * 300,
]
KNOWN_KEYS = [
    "shop",
    "visitor_token",
    "locale",
    "page",
    "timezone",
    "customer_access_token",
    "client_id",
    "body",
    "cart",
    "token",
    "currency",
    "total_price",
    "item_count",
    "items",
    "quantity",
    "price",
    "line_price",
    "title",
    "typing",
    "up_to",
    "checkout_id",
    "internal",
    "status",
    "assignee",
    "conversation_id",
    "before",
    "limit",
    "cursor",
    "q",
    "tab",
    "email",
    "name",
    "id",
    "customer",
    "auth_token",
    "hours",
    "greeting",
    "storefront_origins",
]

# Text a store could hold, and text it cannot (NUL, lone surrogates) less often: a value
# the guard refuses hides every check after it, so most values must pass it.
storable_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
hostile_text = st.one_of(
    storable_text,
    storable_text,
    st.text(max_size=30),
    st.sampled_from(ODD_TEXT),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "[", "{", '"', "\\", "\x00", "é", "\ud800"]), st.integers(100, 70_000)
    ),
)
hostile_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from(EXTREME_NUMBERS),
    st.sampled_from(ODD_FLOATS),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
hostile_json = st.recursive(
    hostile_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12)), inner, max_size=5),
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw, base: Any) -> Any:
    """`base` (a valid payload) with one place replaced by a hostile value, a key dropped
    or a key added; sometimes `base` as it is, sometimes anything at all."""
    how = draw(st.sampled_from(["replace", "replace", "replace", "drop", "add", "as_is", "anything"]))
    if how == "anything":
        return draw(hostile_json)
    value = json.loads(json.dumps(base))  # a copy
    if how == "as_is":
        return value
    holder, key = None, None
    node = value
    while isinstance(node, dict | list) and node:
        keys = list(node.keys()) if isinstance(node, dict) else list(range(len(node)))
        key = draw(st.sampled_from(keys))
        holder, node = node, node[key]
        if draw(st.booleans()):
            break
    if holder is None:
        return draw(hostile_json)
    if how == "drop" and isinstance(holder, dict):
        del holder[key]
    elif how == "add" and isinstance(holder, dict):
        holder[draw(st.one_of(st.sampled_from(KNOWN_KEYS), hostile_text))] = draw(hostile_json)
    else:
        holder[key] = draw(hostile_json)
    return value


def deep(kind: str, depth: int) -> bytes:
    if kind == "long_number":  # more digits than Python reads into an int
        return b'{"up_to": ' + b"9" * (depth + 4300) + b"}"
    if kind == "array":
        return b"[" * depth + b"]" * depth
    if kind == "open":
        return b"[" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'{"cart":' + b"[" * depth + b"]" * depth + b"}"


@st.composite
def body_bytes(draw, base: Any) -> tuple[bytes, str | None]:
    """A request body and its Content-Type, as a hostile client sends them."""
    kind = draw(st.sampled_from(["json", "json", "json", "json", "raw_json", "deep", "binary", "form", "empty"]))
    content_type = draw(
        st.sampled_from(
            ["application/json"] * 6
            + ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", None]
        )
    )
    if kind == "empty":
        return b"", content_type
    if kind == "deep":
        return deep(
            draw(st.sampled_from(["array", "open", "object", "nested", "long_number"])),
            draw(st.sampled_from([65, 1000, 100_000])),
        ), content_type
    if kind == "binary":
        return draw(st.binary(max_size=200)), content_type
    if kind == "form":
        pairs = draw(st.lists(st.tuples(st.sampled_from(KNOWN_KEYS), hostile_text), max_size=4))
        return urlencode([(k, v.encode("utf-8", "surrogatepass")) for k, v in pairs]).encode(), content_type
    value = draw(mutated(base))
    try:
        text = json.dumps(value, ensure_ascii=kind == "json")
    except ValueError:
        text = "null"
    return text.encode("utf-8", "surrogatepass"), content_type


@st.composite
def query_strings(draw, base: dict[str, str] | None = None) -> str:
    pairs = list((base or {}).items())
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.one_of(st.sampled_from(KNOWN_KEYS), hostile_text))
        value = draw(
            st.one_of(
                hostile_text,
                st.sampled_from([str(n) for n in EXTREME_NUMBERS] + ["-5", "1.5", "1e400", "0x10", " 7 "]),
            )
        )
        pairs.append((key, value))
    encoded = "&".join(
        f"{quote(k.encode('utf-8', 'surrogatepass'), safe='')}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
        for k, v in pairs
    )
    if draw(st.integers(0, 9)) == 0:
        encoded += draw(st.sampled_from(["&%00=%00", "&q=%ED%A0%80", "&&&", "&a", "&=%ff%fe", "&limit=%00"]))
    return encoded


path_segment = st.one_of(
    st.text(max_size=40),
    st.sampled_from(ODD_TEXT),
    st.just(str(uuid.uuid4())),
    st.sampled_from(["0", "-1", str(2**70), "..", "%2e%2e"]),
)


def mostly(valid: Any, hostile: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`valid` about three times in four: a request must get past its first check to reach
    the next (sampled_from picks evenly, where one_of leans to its first branches)."""
    return mostly_from(st.just(valid), hostile)


def mostly_from(valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from([True, True, True, False]).flatmap(lambda keep: valid if keep else hostile)


# Which topics Shopify delivers to which address (shopify.app.toml).
TOPICS_BY_ROUTE = {
    "/webhooks/commerce": [
        "orders/create",
        "orders/updated",
        "carts/create",
        "carts/update",
        "checkouts/create",
        "checkouts/update",
    ],
    "/webhooks/app": ["app/uninstalled", "app/scopes_update"],
    "/webhooks/compliance": ["customers/data_request", "customers/redact", "shop/redact"],
}


# -- the routes and what a caller of each would send ----------------------------------------


@dataclass(frozen=True)
class Route:
    rule: str
    methods: tuple[str, ...]
    arguments: tuple[str, ...]

    def family(self) -> str:
        for prefix, name in (
            ("/api/storefront/", "storefront"),
            ("/proxy/", "proxy"),
            ("/admin/api/", "admin"),
            ("/webhooks/", "shopify_webhooks"),
            ("/saleor/webhooks", "saleor_webhooks"),
            ("/saleor/", "saleor"),
        ):
            if self.rule.startswith(prefix):
                return name
        return "documents"


def routes_of(app) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        methods = tuple(sorted(m for m in rule.methods or () if m != "HEAD"))
        found.append(Route(rule.rule, methods, tuple(rule.arguments)))
    return sorted(found, key=lambda r: r.rule)


def fill_path(rule: str, values: dict[str, str]) -> str:
    path = rule
    for name, value in values.items():
        encoded = quote(value.encode("utf-8", "surrogatepass"), safe="")
        for form in (f"<{name}>", f"<path:{name}>", f"<int:{name}>", f"<string:{name}>"):
            path = path.replace(form, encoded or "x")
    return path


SHOPIFY_TOPICS = [
    "orders/create",
    "orders/updated",
    "carts/create",
    "carts/update",
    "checkouts/create",
    "checkouts/update",
    "app/uninstalled",
    "app/scopes_update",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
]
SALEOR_EVENTS = [
    "ORDER_CREATED",
    "ORDER_UPDATED",
    "ORDER_FULLY_PAID",
    "ORDER_CANCELLED",
    "CHECKOUT_CREATED",
    "CHECKOUT_UPDATED",
    "CUSTOMER_UPDATED",
]


def shopify_payload(topic: str, conversation_id: str) -> dict:
    lines = simple_lines(("Parka", "249.00", 1))
    if topic.startswith("orders/"):
        return order_payload(
            note_attributes={"parley_conversation": conversation_id}, buyer=customer(7001, "kari@example.com")
        )
    if topic.startswith("carts/"):
        return cart_payload("c1-fuzz", lines)
    if topic.startswith("checkouts/"):
        return checkout_payload("ck-fuzz", "c1-fuzz", lines, email="kari@example.com")
    if topic.startswith("customers/"):
        return {
            "shop_id": 1,
            "shop_domain": SHOP,
            "customer": {"id": 7001, "email": "kari@example.com", "phone": "+3725550101"},
            "orders_to_redact": [1001],
            "orders_requested": [1001],
            "data_request": {"id": 42},
        }
    if topic == "app/scopes_update":
        return {"id": 1, "previous": ["read_orders"], "current": ["read_orders", "read_customers"]}
    return {"id": 1, "domain": SHOP, "shop_id": 1, "shop_domain": SHOP}


def saleor_payload(event: str, conversation_id: str) -> dict:
    typename = "".join(part.capitalize() for part in event.split("_"))
    common = {"__typename": typename, "issuedAt": "2026-11-02T10:00:00+00:00", "version": "3.23.28"}
    if event.startswith("ORDER"):
        return {
            **common,
            "order": {
                "id": "T3JkZXI6MQ==",
                "number": "7",
                "created": "2026-11-02T10:00:00+00:00",
                "updatedAt": "2026-11-02T10:00:00+00:00",
                "userEmail": "anna@example.com",
                "user": None,
                "metadata": [{"key": "parley_conversation", "value": conversation_id}],
                "total": {"gross": {"amount": 12.5, "currency": "EUR"}},
                "totalRefunded": {"amount": 0.0, "currency": "EUR"},
            },
        }
    if event.startswith("CHECKOUT"):
        return {
            **common,
            "checkout": {
                "id": "Q2hlY2tvdXQ6MQ==",
                "token": "6d3f1a2e-0000-4000-8000-000000000001",
                "email": "anna@example.com",
                "updatedAt": "2026-11-02T10:00:00+00:00",
                "metadata": [{"key": "parley_conversation", "value": conversation_id}],
                "totalPrice": {"gross": {"amount": 12.5, "currency": "EUR"}},
                "lines": [{"id": "x", "quantity": 1, "variant": {"name": "M", "product": {"name": "Parka"}}}],
            },
        }
    return {**common, "user": {"id": "VXNlcjo1MDE=", "email": "anna@example.com", "firstName": "Anna"}}


def storefront_body(rule: str, world: World) -> Any:
    cart = {
        "token": "c1-7a2b3c?key=5f1e",
        "currency": "EUR",
        "total_price": 25980,
        "item_count": 2,
        "items": [{"variant_id": 11, "title": "Parka", "quantity": 2, "price": 12990, "line_price": 25980}],
    }
    tail = rule.rsplit("/", 1)[-1]
    return {
        "session": {"shop": SHOP, "visitor_token": world.visitor["visitor_token"], "locale": "et"},
        "messages": {"client_id": str(uuid.uuid4()), "body": "Hello", "cart": cart},
        "cart": cart,
        "typing": {"typing": True},
        "read": {"up_to": world.message_id},
        "checkout": {"checkout_id": "Q2hlY2tvdXQ6MQ=="},
    }.get(tail, {"client_id": str(uuid.uuid4()), "body": "Hello"})


def admin_body(rule: str, world: World) -> Any:
    if rule.endswith("/messages"):
        return {"body": "We ship daily.", "client_id": str(uuid.uuid4()), "internal": False}
    if rule.endswith("/settings"):
        return {
            "greeting": "Hi!",
            "accent": "#008060",
            "storefront_origins": ["https://fjord.example"],
            "hours": {"timezone": "Europe/Tallinn", "weekly": {"mon": [["09:00", "17:00"]]}},
        }
    if rule.endswith("/status"):
        return {"status": "resolved"}
    if rule.endswith("/assign") or rule.endswith("/assignee"):
        return {"assignee": "42"}
    if rule.endswith("/read"):
        return {"up_to": world.message_id}
    if rule.endswith("/typing"):
        return {"typing": True}
    return {"body": "x", "client_id": str(uuid.uuid4())}


def path_values(route: Route, world: World, draw: Callable[[Any], Any]) -> dict[str, str]:
    values = {}
    for name in route.arguments:
        if "conversation" in name and draw(st.booleans()):
            values[name] = world.conversation_id
        else:
            values[name] = draw(path_segment)
    return values


def assert_answer_is_sound(response, path: str) -> None:
    """Below 500 always; a refusal answers with the usual error body."""
    status = response.status_code
    assert status < 500, f"{status} on {path}: {response.get_data()[:500]!r}"
    if not 400 <= status < 500:
        return
    if response.mimetype == "application/json":
        body = json.loads(response.get_data())
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):  # Saleor's install protocol: {"error": {"code", "message"}}
            assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), body
        else:
            assert isinstance(error, str) and error, body
            assert isinstance(body.get("message"), str) and body["message"], body
    else:
        assert response.mimetype == "text/html", (status, response.mimetype, path)
        assert b"<" in response.get_data(), response.get_data()[:200]


def visitor_auth(world: World, draw) -> dict[str, str]:
    choice = draw(st.sampled_from(["shopify", "shopify", "saleor", "none", "forged"]))
    if choice == "shopify":
        return auth(world.visitor)
    if choice == "saleor":
        return auth(world.saleor_visitor)
    if choice == "forged":
        return {"Authorization": "Bearer " + latin1(draw(hostile_text))}
    return {}


def latin1(value: str) -> str:
    """A header value as the WSGI environ carries it (latin-1); what cannot be, replaced
    (line breaks cannot be sent in a header at all)."""
    return value.encode("utf-8", "replace").decode("latin-1").replace("\r", " ").replace("\n", " ")
