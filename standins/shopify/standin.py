"""A local stand-in for Shopify that speaks the real wire formats.

Tests and the demo point Parley's HTTP client at it; every Shopify endpoint of a shop
lives under `/store/<shop_domain>/...`. It deliberately imports nothing from `app`, so
it stays an independent second implementation of the formats Parley has to get right.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import html
import re
import secrets
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, overload
from urllib.parse import urlencode, urlsplit

import flask
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute_sync,
    get_named_type,
    parse,
    validate,
    value_from_ast,
)
from graphql.utilities import get_operation_ast
from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import OctKey
from werkzeug.wrappers import Response as BaseResponse

from standins.server import StandinServer  # noqa: F401 - re-exported for tests and the demo
from standins.shopify import catalogue

if TYPE_CHECKING:
    from standins.shopify.storefront import Storefront

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:online-access-token"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
BUCKET_SIZE = 2000.0  # leaky bucket of the Enterprise plan; the restore rate is the Standard one
RESTORE_RATE = 100.0
ID_TOKEN_LEEWAY = 10

# Only the corner of the Admin schema Parley reads; anything else fails validation like on Shopify.
SCHEMA_SDL = (
    """
scalar DateTime
scalar Decimal
scalar UnsignedInt64
scalar URL
type Domain { id: ID! host: String! url: URL! sslEnabled: Boolean! }
enum CurrencyCode { AUD BRL CAD CHF CZK DKK EUR GBP INR JPY MXN NOK NZD PLN SEK USD }
enum OrderSortKeys { CREATED_AT ID NUMBER PROCESSED_AT TOTAL_PRICE UPDATED_AT }
enum OrderDisplayFinancialStatus { AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING
  REFUNDED VOIDED }
enum OrderDisplayFulfillmentStatus { FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED
  PENDING_FULFILLMENT REQUEST_DECLINED RESTOCKED SCHEDULED UNFULFILLED }
type Shop {
  id: ID! name: String! myshopifyDomain: String! ianaTimezone: String! currencyCode: CurrencyCode! email: String!
  primaryDomain: Domain!
}
type CustomerEmailAddress { emailAddress: String }
type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type Attribute { key: String! value: String }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { nodes: [Order!]! edges: [OrderEdge!]! pageInfo: PageInfo! }
type Customer {
  id: ID! displayName: String! firstName: String lastName: String numberOfOrders: UnsignedInt64!
  defaultEmailAddress: CustomerEmailAddress
  orders(first: Int, last: Int, sortKey: OrderSortKeys = ID, reverse: Boolean = false): OrderConnection!
}
type Order {
  id: ID! name: String! createdAt: DateTime! customer: Customer customAttributes: [Attribute!]!
  displayFinancialStatus: OrderDisplayFinancialStatus displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  totalPriceSet: MoneyBag!
}
type QueryRoot { shop: Shop! customer(id: ID!): Customer order(id: ID!): Order
"""
    + catalogue.QUERY_FIELDS
    + """}
"""
    + catalogue.SDL
    + catalogue.MUTATION
    + """
schema { query: QueryRoot mutation: Mutation }
"""
)

THROTTLED_ERROR = {
    "message": "Throttled",
    "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
}
# REST webhook payloads spell fulfillment states differently from GraphQL's display enum.
FULFILLMENT_FROM_REST = {None: "UNFULFILLED", "": "UNFULFILLED", "partial": "PARTIALLY_FULFILLED"}


@dataclass
class _Shop:
    domain: str
    number: int
    name: str
    timezone: str
    currency: str
    primary_domain: str = ""
    customers: dict[int, dict] = field(default_factory=dict)
    orders: dict[int, dict] = field(default_factory=dict)  # each order carries its customer_id
    throttled: int = 0
    down: bool = False
    catalogue: catalogue.Catalogue = field(default_factory=catalogue.Catalogue)
    available: float = BUCKET_SIZE
    filled_at: float | None = None


@dataclass
class _AccessToken:
    shop: str
    scope: str
    expires_at: float | None  # None: a legacy non-expiring offline token
    online: bool


@dataclass
class _RefreshToken:
    shop: str
    scope: str
    expires_at: float
    parent: str | None  # the refresh token this one replaced; it dies when this one is first used


@dataclass
class _Grant:
    shop: str
    scope: str
    online: bool


class _InvalidSubjectToken(Exception):
    pass


class ShopifyStandin:
    """A fake Shopify: OAuth (code grant, token exchange, refresh) and a small Admin GraphQL API."""

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        *,
        scopes: str = "read_customers,read_orders,write_app_proxy",
        clock: Callable[[], float] = time.time,
        access_token_ttl: int = 3600,
        refresh_token_ttl: int = 90 * 86400,
    ):
        self.api_key = api_key
        self.api_secret = api_secret
        self.scopes = scopes
        self.app_name = "Parley"  # shown on the consent page only
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.requests: list[dict] = []
        # Where it serves; set by StandinServer (or by whoever serves `app`).
        self.url = ""
        self._clock = clock
        self._lock = threading.RLock()  # the server is threaded
        self._shops: dict[str, _Shop] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._codes: dict[str, _Grant] = {}
        self._schema: GraphQLSchema = build_schema(SCHEMA_SDL)
        # The Online Store, when standins.shopify.storefront.enable_storefront has added one.
        self.storefront: Storefront | None = None
        self.app = self._build_app()

    # ---- test setup -------------------------------------------------------------

    def add_shop(
        self,
        domain: str,
        *,
        name: str | None = None,
        timezone: str = "Europe/Tallinn",
        currency: str = "EUR",
        primary_domain: str | None = None,
    ) -> None:
        """`primary_domain` is the shop's custom domain (e.g. fjordgear.com); default: the myshopify one."""
        self._check_currency(currency)
        with self._lock:
            handle = domain.removesuffix(".myshopify.com")
            self._shops[domain] = _Shop(
                domain,
                len(self._shops) + 1,
                name or handle.replace("-", " ").title(),
                timezone,
                currency,
                primary_domain or domain,
            )

    def add_customer(
        self,
        domain: str,
        customer_id: int,
        *,
        first_name: str,
        last_name: str,
        email: str,
        orders: list[dict] | None = None,
    ) -> None:
        """Orders are REST-shaped dicts: id, name, created_at, total, currency, financial_status,
        fulfillment_status and optionally note_attributes ([{name, value}], as on orders/create)."""
        shop = self._shop(domain)
        normalized = [self._normalize_order(order, customer_id) for order in orders or []]
        with self._lock:
            shop.customers[customer_id] = {
                "id": customer_id,
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "order_ids": [order["id"] for order in normalized],
            }
            shop.orders.update({order["id"]: order for order in normalized})

    def revoke(self, shop: str) -> None:
        """Uninstall: every access and refresh token of the shop dies at once."""
        with self._lock:
            for store in (self._access, self._refresh, self._codes):
                for token in [t for t, record in store.items() if record.shop == shop]:
                    del store[token]

    def throttle_next(self, shop: str, count: int = 1) -> None:
        with self._lock:
            self._shop(shop).throttled += count

    def set_outage(self, shop: str, down: bool) -> None:
        with self._lock:
            self._shop(shop).down = down

    def valid_access_token(self, shop: str, token: str) -> bool:
        with self._lock:
            record = self._access.get(token)
        return (
            record is not None
            and record.shop == shop
            and (record.expires_at is None or self._clock() < record.expires_at)
        )

    # ---- what Shopify signs -----------------------------------------------------

    def mint_id_token(
        self,
        shop: str,
        *,
        sub: str = "1",
        now: float | None = None,
        lifetime: int = 60,
        secret: str | None = None,
        aud: str | None = None,
        dest: str | None = None,
        iss: str | None = None,
        nbf: float | None = None,
    ) -> str:
        """An App Bridge ID token; the overrides exist to forge bad ones."""
        issued = int(self._clock() if now is None else now)
        claims = {
            "iss": iss or f"https://{shop}/admin",
            "dest": dest or f"https://{shop}",
            "aud": aud or self.api_key,
            "sub": sub,
            "exp": issued + lifetime,
            "nbf": int(issued if nbf is None else nbf),
            "iat": issued,
            "jti": str(uuid.uuid4()),
            "sid": secrets.token_hex(32),
        }
        key = OctKey.import_key(secret or self.api_secret)
        with _quiet_short_keys():
            return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, key)

    def sign_webhook(self, body: bytes, secret: str | None = None) -> str:
        digest = hmac.new((secret or self.api_secret).encode(), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def webhook_headers(
        self,
        topic: str,
        shop: str,
        body: bytes,
        *,
        event_id: str | None = None,
        api_version: str = "2026-10",
        secret: str | None = None,
    ) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": self.sign_webhook(body, secret),
            "X-Shopify-Shop-Domain": shop,
            "X-Shopify-API-Version": api_version,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
            "X-Shopify-Triggered-At": _iso_utc(self._clock(), microseconds=True),
        }

    def sign_query(self, params: dict[str, str], secret: str | None = None) -> dict[str, str]:
        """OAuth callback / install / App Home `hmac`: sorted `k=v` joined by `&`, hex."""
        kept = {k: v for k, v in params.items() if k not in ("hmac", "signature")}
        message = "&".join(f"{k}={v}" for k, v in sorted(kept.items()))
        return {**kept, "hmac": _hmac_hex(secret or self.api_secret, message)}

    def install_query(self, shop: str, *, now: float | None = None) -> dict[str, str]:
        timestamp = str(int(self._clock() if now is None else now))
        return self.sign_query({"shop": shop, "timestamp": timestamp, "host": _host_param(shop)})

    def sign_proxy_query(self, params: list[tuple[str, str]], secret: str | None = None) -> list[tuple[str, str]]:
        """App proxy `signature`: repeated keys joined by `,`, sorted `k=v` with NO separator, hex."""
        kept = [(k, v) for k, v in params if k != "signature"]
        grouped: dict[str, list[str]] = {}
        for key, value in kept:
            grouped.setdefault(key, []).append(value)
        message = "".join(f"{k}={','.join(v)}" for k, v in sorted(grouped.items()))
        return [*kept, ("signature", _hmac_hex(secret or self.api_secret, message))]

    def proxy_query(
        self,
        shop: str,
        *,
        logged_in_customer_id: str = "",
        path_prefix: str = "/apps/parley",
        now: float | None = None,
        extra: Sequence[tuple[str, str]] = (),
    ) -> list[tuple[str, str]]:
        """The query Shopify appends when it forwards a storefront request: the shopper's own
        parameters first, then Shopify's."""
        timestamp = str(int(self._clock() if now is None else now))
        return self.sign_proxy_query(
            [
                *extra,
                ("shop", shop),
                ("logged_in_customer_id", logged_in_customer_id),
                ("path_prefix", path_prefix),
                ("timestamp", timestamp),
            ]
        )

    # ---- HTTP -------------------------------------------------------------------

    def _build_app(self) -> flask.Flask:
        app = flask.Flask(__name__)
        app.before_request(self._record_and_find_shop)
        store = "/store/<shop>/admin"
        app.add_url_rule(f"{store}/oauth/authorize", "authorize", self._authorize, methods=["GET", "POST"])
        app.add_url_rule(f"{store}/oauth/access_token", "access_token", self._access_token, methods=["POST"])
        app.add_url_rule(f"{store}/api/<version>/graphql.json", "graphql", self._graphql, methods=["POST"])
        app.add_url_rule(f"{store}/apps/<api_key>", "app_in_admin", self._app_in_admin)
        app.add_url_rule(f"{store}/apps/<api_key>/<path:rest>", "app_page_in_admin", self._app_page_in_admin)
        return app

    def _record_and_find_shop(self) -> flask.Response | None:
        request = flask.request
        shop = (request.view_args or {}).get("shop")
        entry: dict[str, Any] = {
            "method": request.method,
            "shop": shop,
            "headers": dict(request.headers),
            "path": request.path.removeprefix(f"/store/{shop}") if shop else request.path,
        }
        if request.is_json:
            entry["json"] = request.get_json(silent=True)
        elif request.form:
            entry["form"] = request.form.to_dict()
        if request.args:
            entry["args"] = request.args.to_dict()
        with self._lock:
            self.requests.append(entry)
            known = shop is None or shop in self._shops
        return None if known else _json({"errors": "Not Found"}, 404)

    def _authorize(self, shop: str) -> BaseResponse:
        fields = flask.request.values
        if fields.get("client_id") != self.api_key:
            return _html("<p>Oauth error invalid_request: The client_id is unknown.</p>", 400)
        if not fields.get("redirect_uri"):
            return _html("<p>Oauth error invalid_request: The redirect_uri is missing.</p>", 400)
        if flask.request.method == "GET":
            return self._consent_page(shop, fields)
        online = "per-user" in fields.getlist("grant_options[]")
        grant = _Grant(shop, fields.get("scope") or self.scopes, online)
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = grant
        params = {"code": code, "host": _host_param(shop), "shop": shop, "timestamp": str(int(self._clock()))}
        if "state" in fields:
            params["state"] = fields["state"]
        redirect_uri = fields["redirect_uri"]
        separator = "&" if "?" in redirect_uri else "?"
        query = urlencode(sorted(self.sign_query(params).items()))
        return flask.redirect(f"{redirect_uri}{separator}{query}", 302)

    def _app_page_in_admin(self, shop: str, api_key: str, rest: str) -> flask.Response:
        """A deep link into the app (an alert's "open the conversation"): the admin loads the
        app at that path with a fresh ID token, as Shopify's admin frames it."""
        app_url = getattr(self.storefront, "app_url", "") if self.storefront is not None else ""
        if api_key != self.api_key or not app_url:
            return _html("<h1>No such app</h1>", 404)
        query = urlencode(
            {"embedded": "1", "shop": shop, "host": _host_param(shop), "id_token": self.mint_id_token(shop)}
        )
        return flask.redirect(f"{app_url.rstrip('/')}/{rest}?{query}")  # type: ignore[return-value]

    def _app_in_admin(self, shop: str, api_key: str) -> flask.Response:
        """Where an install ends in the admin: the app's page (the real admin would embed App Home)."""
        if api_key != self.api_key:
            return _html("<h1>No such app</h1>", 404)
        name = html.escape(self._shop(shop).name)
        return _html(
            f"<h1>{html.escape(self.app_name)} is installed</h1><p>{name} · {html.escape(shop)}</p>",
            200,
            title=f"{self.app_name} · {name}",
        )

    def _consent_page(self, shop: str, fields: Any) -> flask.Response:
        names = ("client_id", "scope", "redirect_uri", "state")
        hidden = [(name, fields[name]) for name in names if name in fields]
        hidden += [("grant_options[]", value) for value in fields.getlist("grant_options[]")]
        inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in hidden)
        scopes = (fields.get("scope") or self.scopes).split(",")
        items = "".join(f"<li>{html.escape(scope)}</li>" for scope in scopes if scope)
        body = (
            f"<h1>Install {html.escape(self.app_name)} on {html.escape(shop)}?</h1><ul>{items}</ul>"
            f'<form method="post" action="{html.escape(flask.request.path)}">{inputs}'
            f'<button type="submit">Install</button></form>'
        )
        return _html(body, 200, title=f"Install {self.app_name}")

    def _access_token(self, shop: str) -> flask.Response:
        body = _request_body()
        secret = str(body.get("client_secret", ""))
        if body.get("client_id") != self.api_key or not _same(secret, self.api_secret):
            return _oauth_error(
                "invalid_client", "Client authentication failed: wrong client_id or client_secret.", 401
            )
        expiring = str(body.get("expiring", "")) in ("1", "true", "True")
        grant_type = body.get("grant_type")
        with self._lock:
            # Shopify's docs send no grant_type; standard OAuth clients (authlib) send authorization_code.
            if grant_type in (None, "authorization_code") and "code" in body:
                return self._redeem_code(shop, str(body["code"]), expiring)
            if grant_type == TOKEN_EXCHANGE:
                return self._exchange(shop, body, expiring)
            if grant_type == "refresh_token":
                return self._use_refresh_token(shop, str(body.get("refresh_token", "")))
        return _oauth_error("unsupported_grant_type", f"The grant type {grant_type!r} is not supported.", 400)

    def _redeem_code(self, shop: str, code: str, expiring: bool) -> flask.Response:
        grant = self._codes.pop(code, None)  # one-time, whatever happens next
        if grant is None or grant.shop != shop:
            return _oauth_error("invalid_request", "The authorization code was not found or was already used")
        return _json(self._issue(shop, grant.scope, online=grant.online, expiring=expiring))

    def _exchange(self, shop: str, body: dict, expiring: bool) -> flask.Response:
        requested = body.get("requested_token_type")
        if requested not in (OFFLINE_TOKEN_TYPE, ONLINE_TOKEN_TYPE):
            return _oauth_error("invalid_request", "requested_token_type must be an offline or online access token.")
        subject = str(body.get("subject_token", ""))
        if body.get("subject_token_type") == OFFLINE_TOKEN_TYPE:
            return self._migrate_offline_token(shop, subject, expiring)
        try:
            claims = self._verify_id_token(shop, subject)
        except _InvalidSubjectToken as error:
            return _oauth_error("invalid_subject_token", str(error))
        return _json(
            self._issue(
                shop, self.scopes, online=requested == ONLINE_TOKEN_TYPE, expiring=expiring, user_id=str(claims["sub"])
            )
        )

    def _migrate_offline_token(self, shop: str, subject: str, expiring: bool) -> flask.Response:
        """Non-expiring offline token -> expiring pair; the old token is revoked (Shopify's migration)."""
        record = self._access.get(subject)
        if record is None or record.shop != shop or record.online or record.expires_at is not None:
            return _oauth_error("invalid_subject_token", "The subject token is not a non-expiring offline token.")
        del self._access[subject]
        return _json(self._issue(shop, record.scope, online=False, expiring=expiring))

    def _use_refresh_token(self, shop: str, token: str) -> flask.Response:
        record = self._refresh.get(token)
        if record is None or record.shop != shop or record.expires_at <= self._clock():
            return _oauth_error("invalid_grant", "The refresh token is invalid, expired or revoked.")
        if record.parent:  # first use of this token retires the one it replaced
            self._refresh.pop(record.parent, None)
            record.parent = None
        return _json(self._issue(shop, record.scope, online=False, expiring=True, parent=token))

    def _verify_id_token(self, shop: str, token: str) -> dict:
        now = self._clock()
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(now),
            leeway=ID_TOKEN_LEEWAY,
            aud={"essential": True, "value": self.api_key},
            **{claim: jwt.ClaimsOption(essential=True) for claim in ("iss", "dest", "sub", "exp", "nbf")},
        )
        try:
            with _quiet_short_keys():
                decoded = jwt.decode(token, OctKey.import_key(self.api_secret), algorithms=["HS256"])
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise _InvalidSubjectToken(f"The ID token is invalid: {error}") from error
        dest_host = urlsplit(str(decoded.claims["dest"])).hostname
        if dest_host != shop or urlsplit(str(decoded.claims["iss"])).hostname != dest_host:
            raise _InvalidSubjectToken("The ID token was issued for another shop.")
        return decoded.claims

    def _issue(
        self, shop: str, scope: str, *, online: bool, expiring: bool, user_id: str = "1", parent: str | None = None
    ) -> dict:
        """A token response; online tokens always expire and never come with a refresh token."""
        now = self._clock()
        token = ("shpua_" if online else "shpat_") + secrets.token_hex(16)
        expires = online or expiring
        expires_at = now + self.access_token_ttl if expires else None
        self._access[token] = _AccessToken(shop, scope, expires_at, online)
        response: dict[str, Any] = {"access_token": token, "scope": scope}
        if expires:
            response["expires_in"] = self.access_token_ttl
        if online:
            response["associated_user_scope"] = scope
            response["associated_user"] = _staff_user(shop, user_id)
        elif expiring:
            refresh = "shprt_" + secrets.token_hex(16)
            self._refresh[refresh] = _RefreshToken(shop, scope, now + self.refresh_token_ttl, parent)
            response["refresh_token"] = refresh
            response["refresh_token_expires_in"] = self.refresh_token_ttl
        return response

    def _graphql(self, shop: str, version: str) -> flask.Response:
        headers = {"X-Shopify-API-Version": version}
        state = self._shop(shop)
        if state.down:
            return _json({"errors": "Service Unavailable"}, 503, headers)
        if not self.valid_access_token(shop, flask.request.headers.get("X-Shopify-Access-Token", "")):
            return _json({"errors": INVALID_TOKEN}, 401, headers)
        payload = flask.request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400, headers)
        return _json(self._run_query(state, payload), 200, headers)

    # ---- GraphQL ----------------------------------------------------------------

    def _run_query(self, shop: _Shop, payload: dict) -> dict:
        try:
            document = parse(payload["query"])
        except GraphQLError as error:
            return {"errors": [error.formatted]}
        problems = validate(self._schema, document)
        if problems:
            return {"errors": [_shopify_validation_error(problem) for problem in problems]}
        variables = payload.get("variables") or {}
        operation = get_operation_ast(document, payload.get("operationName"))
        requested = _query_cost(self._schema, document, operation, variables) if operation else 0
        with self._lock:
            available = self._refill(shop)
            if shop.throttled or requested > available:
                shown = 0.0 if shop.throttled else available
                shop.throttled = max(shop.throttled - 1, 0)
                return {"errors": [THROTTLED_ERROR], "extensions": {"cost": _cost(requested, None, shown)}}
            shop.available = remaining = available - requested
        result = execute_sync(
            self._schema,
            document,
            root_value=self._root(shop),
            variable_values=variables,
            operation_name=payload.get("operationName"),
        )
        answer: dict[str, Any] = {"data": result.data, "extensions": {"cost": _cost(requested, requested, remaining)}}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        return answer

    def _refill(self, shop: _Shop) -> float:
        now = self._clock()
        if shop.filled_at is not None:
            shop.available = min(BUCKET_SIZE, shop.available + (now - shop.filled_at) * RESTORE_RATE)
        shop.filled_at = now
        return shop.available

    def _root(self, shop: _Shop) -> dict:
        # graphql-core's default resolver reads dict keys and calls callables with the field arguments.
        return {
            "shop": {
                "id": _gid("Shop", shop.number),
                "name": shop.name,
                "myshopifyDomain": shop.domain,
                "ianaTimezone": shop.timezone,
                "currencyCode": shop.currency,
                "email": f"owner@{shop.domain}",
                "primaryDomain": {
                    "id": _gid("Domain", shop.number),
                    "host": shop.primary_domain,
                    "url": f"https://{shop.primary_domain}",
                    "sslEnabled": True,
                },
            },
            "customer": lambda _info, id: self._customer_node(shop, _gid_number(id, "Customer")),
            "order": lambda _info, id: self._order_node(shop, _by_number(shop.orders, _gid_number(id, "Order"))),
            **self._catalogue_root(shop),
        }

    def _catalogue_root(self, shop: _Shop) -> dict:
        books = shop.catalogue

        def products(_info: Any, first: int | None = None, last: int | None = None, query: str | None = None) -> dict:
            with books.lock:
                found = books.search(query)
                nodes = [
                    catalogue.product_node(p, self.url)
                    for p in (found[:first] if first is not None else found[-(last or 0) :])
                ]
            return {
                "nodes": nodes,
                "pageInfo": {"hasNextPage": first is not None and len(found) > first, "hasPreviousPage": False},
            }

        def product_variant(_info: Any, id: str) -> dict | None:
            with books.lock:
                hit = books.variant(_gid_number(id, "ProductVariant") or -1)
                return catalogue.variant_node(*hit, None, self.url) if hit else None

        def code_nodes(_info: Any, first: int | None = None, last: int | None = None, query: str | None = None) -> dict:
            with books.lock:
                codes = [catalogue.code_node(c) for c in books.codes.values()]
            return {"nodes": codes[: first or len(codes)], "pageInfo": {"hasNextPage": False, "hasPreviousPage": False}}

        def create_code(_info: Any, basicCodeDiscount: dict) -> dict:
            with books.lock:
                return catalogue.create_code(books, basicCodeDiscount, len(books.codes) + 1)

        return {
            "products": products,
            "productVariant": product_variant,
            "codeDiscountNodes": code_nodes,
            "discountCodeBasicCreate": create_code,
        }

    # ---- the catalogue (products, stock, codes) ---------------------------------

    def add_product(
        self,
        domain: str,
        product_id: int,
        handle: str,
        title: str,
        variants: list[dict],
        *,
        image_url: str | None = None,
        url: str | None = None,
    ) -> None:
        """`variants`: [{id, title, sku, price ("29.00"), inventory (None: untracked), for_sale}]."""
        books = self._shop(domain).catalogue
        with books.lock:
            books.products[product_id] = catalogue.CatalogueProduct(
                product_id,
                handle,
                title,
                image_url,
                url,
                [
                    catalogue.StockVariant(
                        int(v["id"]),
                        v.get("title", "Default Title"),
                        v.get("sku", ""),
                        Decimal(str(v["price"])),
                        v.get("inventory"),
                        v.get("for_sale", True),
                    )
                    for v in variants
                ],
            )

    def set_stock(self, domain: str, variant_id: int, inventory: int | None) -> None:
        books = self._shop(domain).catalogue
        with books.lock:
            hit = books.variant(variant_id)
            if hit is None:
                raise KeyError(variant_id)
            hit[1].inventory = inventory

    def remove_product(self, domain: str, product_id: int) -> None:
        books = self._shop(domain).catalogue
        with books.lock:
            books.products.pop(product_id, None)

    def catalogue(self, domain: str) -> catalogue.Catalogue:
        return self._shop(domain).catalogue

    def _customer_node(self, shop: _Shop, customer_id: int | None) -> dict | None:
        customer = _by_number(shop.customers, customer_id)
        if customer is None:
            return None
        orders = [self._order_node(shop, shop.orders[order_id]) for order_id in customer["order_ids"]]
        return {
            "id": _gid("Customer", customer["id"]),
            "firstName": customer["first_name"],
            "lastName": customer["last_name"],
            "displayName": f"{customer['first_name']} {customer['last_name']}".strip() or customer["email"],
            "numberOfOrders": str(len(orders)),  # UnsignedInt64 is a string on the wire
            "defaultEmailAddress": {"emailAddress": customer["email"]} if customer["email"] else None,
            "orders": lambda _info, sortKey, reverse, first=None, last=None: _connection(
                _sort_orders(orders, sortKey, reverse), first, last
            ),
        }

    @overload
    def _order_node(self, shop: _Shop, order: dict) -> dict: ...
    @overload
    def _order_node(self, shop: _Shop, order: dict | None) -> dict | None: ...
    def _order_node(self, shop: _Shop, order: dict | None) -> dict | None:
        if order is None:
            return None
        money = {"amount": order["total"], "currencyCode": order["currency"]}  # no FX: both in order currency
        return {
            "id": _gid("Order", order["id"]),
            "name": order["name"],
            "createdAt": order["created_at"],
            "displayFinancialStatus": order["financial_status"],
            "displayFulfillmentStatus": order["fulfillment_status"],
            "totalPriceSet": {"shopMoney": money, "presentmentMoney": money},
            "customAttributes": [{"key": a["name"], "value": a["value"]} for a in order["note_attributes"]],
            "customer": lambda _info: self._customer_node(shop, order["customer_id"]),
        }

    def _normalize_order(self, order: dict, customer_id: int) -> dict:
        """REST spelling in, GraphQL spelling stored; fails early on values the schema cannot serialize."""
        self._check_currency(order["currency"])
        financial = order.get("financial_status")
        fulfillment = order.get("fulfillment_status")
        return {
            "id": int(order["id"]),
            "name": order["name"],
            "created_at": _iso_utc(order["created_at"]),
            "total": str(Decimal(str(order["total"]))),
            "currency": order["currency"],
            "financial_status": financial.upper() if financial else None,
            "fulfillment_status": FULFILLMENT_FROM_REST.get(fulfillment, str(fulfillment).upper()),
            "note_attributes": list(order.get("note_attributes", [])),
            "customer_id": customer_id,
        }

    def _check_currency(self, currency: str) -> None:
        if self._schema.get_type("CurrencyCode").values.get(currency) is None:  # type: ignore[union-attr]
            raise ValueError(f"currency {currency!r} is not in the stand-in's CurrencyCode enum")

    def _shop(self, domain: str) -> _Shop:
        try:
            return self._shops[domain]
        except KeyError:
            raise KeyError(f"unknown shop {domain!r}; call add_shop first") from None


# ---- small pure helpers ---------------------------------------------------------


def _hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _host_param(shop: str) -> str:
    # Shopify sends the admin host base64-encoded without padding (as the CLI builds it).
    admin = f"admin.shopify.com/store/{shop.removesuffix('.myshopify.com')}"
    return base64.b64encode(admin.encode()).decode().rstrip("=")


def _iso_utc(moment: float | str, *, microseconds: bool = False) -> str:
    if isinstance(moment, str):
        parsed = datetime.fromisoformat(moment)
        moment = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    spec = "microseconds" if microseconds else "seconds"
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def _staff_user(shop: str, user_id: str) -> dict:
    return {
        "id": int(user_id) if user_id.isdigit() else user_id,
        "first_name": "Staff",
        "last_name": f"Member {user_id}",
        "email": f"staff{user_id}@{shop}",
        "email_verified": True,
        "account_owner": user_id == "1",
        "locale": "en",
        "collaborator": False,
    }


@contextlib.contextmanager
def _quiet_short_keys() -> Iterator[None]:
    # Test secrets are shorter than real ones ("shpss_" + 32 hex) and joserfc warns about each.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        yield


def _request_body() -> dict:
    if flask.request.is_json:
        body = flask.request.get_json(silent=True)
        return body if isinstance(body, dict) else {}
    return flask.request.form.to_dict()


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> flask.Response:
    response = flask.jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _oauth_error(error: str, description: str, status: int = 400) -> flask.Response:
    return _json({"error": error, "error_description": description}, status)


def _html(body: str, status: int, *, title: str = "Shopify") -> flask.Response:
    """A self-contained page; `body` is already-escaped HTML."""
    page = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>'
        f'<body style="font-family:sans-serif;max-width:32em;margin:3em auto">{body}</body></html>'
    )
    return flask.Response(page, status, mimetype="text/html")


def _gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def _gid_number(gid: str, kind: str) -> int | None:
    match = re.fullmatch(r"gid://shopify/(\w+)/(\d+)", gid)
    if match is None:
        raise GraphQLError(f"Invalid global id '{gid}'")
    return int(match.group(2)) if match.group(1) == kind else None


def _by_number(records: dict[int, dict], number: int | None) -> dict | None:
    """The record of a numeric id, or None (also for a gid of another kind)."""
    return records.get(number) if number is not None else None


def _sort_orders(orders: list[dict], sort_key: str, reverse: bool) -> list[dict]:
    # The stand-in keeps no processed/updated times, so those sort like creation.
    keys: dict[str, Callable[[dict], Any]] = {
        "CREATED_AT": lambda o: o["createdAt"],
        "PROCESSED_AT": lambda o: o["createdAt"],
        "UPDATED_AT": lambda o: o["createdAt"],
        "NUMBER": lambda o: o["name"],
        "TOTAL_PRICE": lambda o: Decimal(o["totalPriceSet"]["shopMoney"]["amount"]),
    }
    by_id: Callable[[dict], Any] = lambda o: int(o["id"].rsplit("/", 1)[1])  # noqa: E731
    return sorted(orders, key=keys.get(sort_key, by_id), reverse=reverse)


def _connection(nodes: list[dict], first: int | None, last: int | None) -> dict:
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    page = nodes[:first] if first is not None else nodes[-last:] if last else []
    cursors = [base64.b64encode(node["id"].encode()).decode() for node in page]
    page_info = {
        "hasNextPage": first is not None and len(nodes) > first,
        "hasPreviousPage": last is not None and len(nodes) > last,
        "startCursor": cursors[0] if cursors else None,
        "endCursor": cursors[-1] if cursors else None,
    }
    edges = [{"cursor": cursor, "node": node} for cursor, node in zip(cursors, page, strict=False)]
    return {"nodes": page, "edges": edges, "pageInfo": page_info}


def _cost(requested: int, actual: int | None, available: float) -> dict:
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": BUCKET_SIZE,
            "currentlyAvailable": float(available),
            "restoreRate": RESTORE_RATE,
        },
    }


def _query_cost(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: dict
) -> int:
    """Shopify's rule, simplified: scalars and enums free, objects 1, connections 2 + first x one item."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

    def cost(parent: GraphQLObjectType, selection_set: SelectionSetNode | None) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += field_cost(parent, selection)
            else:  # an inline fragment or a spread of a named one
                fragment: InlineFragmentNode | FragmentDefinitionNode
                if isinstance(selection, FragmentSpreadNode):
                    fragment = fragments[selection.name.value]
                else:
                    assert isinstance(selection, InlineFragmentNode)  # the only other kind of selection
                    fragment = selection
                condition = fragment.type_condition
                on_type = schema.get_type(condition.name.value) if condition else parent
                # Validation passed, so the type exists; SCHEMA_SDL has no interfaces or unions.
                assert isinstance(on_type, GraphQLObjectType)
                total += cost(on_type, fragment.selection_set)
        return total

    def field_cost(parent: GraphQLObjectType, node: FieldNode) -> int:
        if node.name.value.startswith("__"):
            return 0
        child = get_named_type(parent.fields[node.name.value].type)
        if not isinstance(child, GraphQLObjectType):
            return 0
        inner = cost(child, node.selection_set)
        if child.name.endswith("Connection"):
            size = _int_argument(node, "first", variables) or _int_argument(node, "last", variables) or 0
            return 2 + size * inner
        return 1 + inner

    root = schema.mutation_type if operation.operation.value == "mutation" else schema.query_type
    assert root is not None  # SCHEMA_SDL declares both roots
    # A mutation costs 10, as Shopify's do, plus what it selects.
    return cost(root, operation.selection_set) + (10 if root is schema.mutation_type else 0)


def _int_argument(node: FieldNode, name: str, variables: dict) -> int | None:
    for argument in node.arguments or ():  # the parser always sets a tuple
        if argument.name.value == name:
            value = value_from_ast(argument.value, GraphQLInt, variables)
            return value if isinstance(value, int) else None
    return None


_UNDEFINED_FIELD = re.compile(r"Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'")


def _shopify_validation_error(error: GraphQLError) -> dict:
    """graphql-core's wording rewritten into graphql-ruby's, which is what Shopify answers."""
    formatted = dict(error.formatted)
    match = _UNDEFINED_FIELD.match(error.message)
    if match:
        formatted["message"] = f"Field '{match['field']}' doesn't exist on type '{match['type']}'"
        formatted["extensions"] = {"code": "undefinedField", "typeName": match["type"], "fieldName": match["field"]}
    return formatted
