"""A local stand-in for one Saleor instance that speaks the real wire formats.

Tests and `make demo` only. Like the Shopify stand-in it imports nothing from `app`,
so it stays an independent second implementation of what Parley must get right:

- its own RS256 key (kid = RFC 7638 thumbprint), served at `/.well-known/jwks.json`,
  rotated on demand;
- `POST /graphql/` answering a corner of Saleor's schema (SCHEMA_SDL) with Saleor's
  answer shapes: HTTP 200 even for an unknown token (the request is then anonymous
  and gated fields fail with `PermissionDenied`), `extensions.cost` on every answer;
- the app installation as Saleor's install task does it: GET the manifest
  server-side, check its subscription queries against the schema, POST
  `{"auth_token": …}` to `tokenTargetUrl`, fail the install on any non-2xx;
- webhooks as Saleor sends them: the subscription query executed against the event,
  the bare `event` object as the body, `Saleor-Event` in lower case and a detached
  `b64:false` JWS in `Saleor-Signature`. Deliveries are queued, as Saleor's Celery
  does, and sent by `deliver_pending()` (or at once with `auto_deliver=True`);
- Dashboard JWTs and customer access JWTs with Saleor's claims (saleor/core/jwt.py).

Outgoing HTTP (manifest, token POST, webhooks) goes through `client`, an httpx.Client
that a test may point at the Flask app in-process (httpx.WSGITransport).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import flask
import httpx
from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from graphql.utilities import get_operation_ast
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from standins.saleor import catalogue
from standins.server import StandinServer  # noqa: F401 - re-exported for tests and the demo

VERSION = "3.23.28"
SCHEMA_VERSION = "3.23"
MAX_COST = 50000
APP_TOKEN_LENGTH = 30  # Saleor treats a 30-character bearer value as an app token
ACCESS_TTL = 300  # JWT_TTL_ACCESS and JWT_TTL_APP_ACCESS default to 5 minutes
ALL_PERMISSIONS = [
    "MANAGE_APPS",
    "MANAGE_CHECKOUTS",
    "MANAGE_ORDERS",
    "MANAGE_USERS",
    "MANAGE_STAFF",
    "MANAGE_PRODUCTS",
    "HANDLE_PAYMENTS",
    "MANAGE_DISCOUNTS",
]

# Transcribed from saleor/graphql/schema.graphql (3.20, fields checked against 3.23):
# only the types and fields Parley asks for, with Saleor's names, nullability and
# argument lists. A query naming anything else fails validation, as on Saleor.
SCHEMA_SDL = (
    """
scalar DateTime
scalar UUID

enum OrderStatus { DRAFT UNCONFIRMED UNFULFILLED PARTIALLY_FULFILLED PARTIALLY_RETURNED RETURNED FULFILLED
  CANCELED EXPIRED }
enum PaymentChargeStatusEnum { NOT_CHARGED PENDING PARTIALLY_CHARGED FULLY_CHARGED PARTIALLY_REFUNDED
  FULLY_REFUNDED REFUSED CANCELLED }
enum OrderChargeStatusEnum { NONE PARTIAL FULL OVERCHARGED }
enum MetadataErrorCode { GRAPHQL_ERROR INVALID NOT_FOUND REQUIRED NOT_UPDATED }

type Money { currency: String! amount: Float! }
type TaxedMoney { currency: String! gross: Money! net: Money! tax: Money! }
type MetadataItem { key: String! value: String! }
input MetadataInput { key: String! value: String! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }

interface Node { id: ID! }
interface ObjectWithMetadata {
  privateMetadata: [MetadataItem!]! privateMetafield(key: String!): String
  metadata: [MetadataItem!]! metafield(key: String!): String
}

type Permission { code: String! name: String! }
type App implements Node & ObjectWithMetadata {
  id: ID! name: String identifier: String isActive: Boolean permissions: [Permission!]
  privateMetadata: [MetadataItem!]! privateMetafield(key: String!): String
  metadata: [MetadataItem!]! metafield(key: String!): String
}
type Channel implements Node { id: ID! slug: String! name: String! currencyCode: String! }
type Product implements Node { id: ID! name: String! """
    + catalogue.PRODUCT_FIELDS
    + """ }
type ProductVariant implements Node { id: ID! name: String! sku: String product: Product! """
    + catalogue.VARIANT_FIELDS
    + """ }

type User implements Node & ObjectWithMetadata {
  id: ID! email: String! firstName: String! lastName: String! isActive: Boolean! isStaff: Boolean!
  dateJoined: DateTime! updatedAt: DateTime!
  privateMetadata: [MetadataItem!]! privateMetafield(key: String!): String
  metadata: [MetadataItem!]! metafield(key: String!): String
  orders(before: String, after: String, first: Int, last: Int): OrderCountableConnection
}

type CheckoutLine implements Node {
  id: ID! variant: ProductVariant! quantity: Int! unitPrice: TaxedMoney! totalPrice: TaxedMoney!
}
type Checkout implements Node & ObjectWithMetadata {
  id: ID! token: UUID! email: String created: DateTime! updatedAt: DateTime! user: User channel: Channel!
  lines: [CheckoutLine!]! quantity: Int! totalPrice: TaxedMoney! subtotalPrice: TaxedMoney!
  privateMetadata: [MetadataItem!]! privateMetafield(key: String!): String
  metadata: [MetadataItem!]! metafield(key: String!): String
}

type OrderLine implements Node {
  id: ID! productName: String! variantName: String! quantity: Int! totalPrice: TaxedMoney! variant: ProductVariant
}
type Order implements Node & ObjectWithMetadata {
  id: ID! number: String! created: DateTime! updatedAt: DateTime! status: OrderStatus! user: User
  userEmail: String checkoutId: ID channel: Channel! lines: [OrderLine!]! total: TaxedMoney!
  isPaid: Boolean! paymentStatus: PaymentChargeStatusEnum! chargeStatus: OrderChargeStatusEnum!
  totalCharged: Money! totalRefunded: Money! voucherCode: String undiscountedTotal: TaxedMoney!
  privateMetadata: [MetadataItem!]! privateMetafield(key: String!): String
  metadata: [MetadataItem!]! metafield(key: String!): String
}
type OrderCountableEdge { node: Order! cursor: String! }
type OrderCountableConnection { pageInfo: PageInfo! edges: [OrderCountableEdge!]! totalCount: Int }

type MetadataError { field: String message: String code: MetadataErrorCode! }
type UpdateMetadata { errors: [MetadataError!]! item: ObjectWithMetadata }

union IssuingPrincipal = App | User
interface Event { issuedAt: DateTime version: String issuingPrincipal: IssuingPrincipal recipient: App }
type CheckoutCreated implements Event {
  issuedAt: DateTime version: String issuingPrincipal: IssuingPrincipal recipient: App checkout: Checkout
}
type CheckoutUpdated implements Event {
  issuedAt: DateTime version: String issuingPrincipal: IssuingPrincipal recipient: App checkout: Checkout
}
type OrderCreated implements Event {
  issuedAt: DateTime version: String issuingPrincipal: IssuingPrincipal recipient: App order: Order
}
type OrderUpdated implements Event {
  issuedAt: DateTime version: String issuingPrincipal: IssuingPrincipal recipient: App order: Order
}
type OrderFullyPaid implements Event {
  issuedAt: DateTime version: String issuingPrincipal: IssuingPrincipal recipient: App order: Order
}
type OrderCancelled implements Event {
  issuedAt: DateTime version: String issuingPrincipal: IssuingPrincipal recipient: App order: Order
}
type CustomerUpdated implements Event {
  issuedAt: DateTime version: String issuingPrincipal: IssuingPrincipal recipient: App user: User
}
type AppDeleted implements Event {
  issuedAt: DateTime version: String issuingPrincipal: IssuingPrincipal recipient: App app: App
}

type Query {
  app(id: ID): App
  checkout(id: ID, token: UUID): Checkout
  order(id: ID!): Order
  user(id: ID, email: String, externalReference: String): User
  channel(id: ID, slug: String): Channel
"""
    + catalogue.QUERY_FIELDS
    + """
}
type Mutation { updateMetadata(id: ID!, input: [MetadataInput!]!): UpdateMetadata
"""
    + catalogue.MUTATION_FIELDS
    + """
  checkoutAddPromoCode(id: ID, promoCode: String!): CheckoutAddPromoCode
}
type CheckoutAddPromoCode { checkout: Checkout errors: [CheckoutError!]! }
"""
    + catalogue.SDL_TYPES
    + """
type Subscription { event: Event }
schema { query: Query mutation: Mutation subscription: Subscription }
"""
)

EVENT_TYPES = {
    "CHECKOUT_CREATED": "CheckoutCreated",
    "CHECKOUT_UPDATED": "CheckoutUpdated",
    "ORDER_CREATED": "OrderCreated",
    "ORDER_UPDATED": "OrderUpdated",
    "ORDER_FULLY_PAID": "OrderFullyPaid",
    "ORDER_CANCELLED": "OrderCancelled",
    "CUSTOMER_UPDATED": "CustomerUpdated",
    "APP_DELETED": "AppDeleted",
}
EVENT_NAMES = {typename: name for name, typename in EVENT_TYPES.items()}


def permission_denied(path: str, permissions: list[str]) -> GraphQLError:
    """Saleor's wording (saleor/core/exceptions.py::PermissionDenied)."""
    message = f"To access this path, you need one of the following permissions: {', '.join(permissions)}"
    return GraphQLError(message, extensions={"exception": {"code": "PermissionDenied"}})


@dataclass
class _App:
    pk: int
    identifier: str
    name: str
    token: str
    permissions: list[str]
    webhooks: list[dict]
    manifest: dict
    active: bool = True
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return _gid("App", self.pk)


@dataclass
class _Caller:
    app: _App | None = None
    user: dict | None = None
    permissions: frozenset[str] = frozenset()


@dataclass
class Delivery:
    event: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    error: str | None = None


class SaleorStandin:
    def __init__(
        self,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
        version: str = VERSION,
        auto_deliver: bool = False,
        legacy_update_webhooks: bool = True,
    ):
        self.version = version
        self.url = ""  # set by StandinServer: http://127.0.0.1:<port>
        self.client = client or httpx.Client(timeout=httpx.Timeout(18.0, connect=2.0))
        self.auto_deliver = auto_deliver
        # Shop setting useLegacyUpdateWebhookEmission (true on a fresh 3.23): metadata
        # writes on a checkout also fire CHECKOUT_UPDATED.
        self.legacy_update_webhooks = legacy_update_webhooks
        self.requests: list[dict] = []
        self.deliveries: list[Delivery] = []
        self.installations: list[dict] = []
        self._outbox: list[Delivery] = []
        self._clock = clock
        self._lock = threading.RLock()
        self._key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=False)
        self._app: _App | None = None
        self._app_seq = 0
        self._users: dict[int, dict] = {}
        self._checkouts: dict[str, dict] = {}
        self._orders: dict[str, dict] = {}
        self._order_seq = 0
        self.books = catalogue.Books()
        self._schema = build_schema(SCHEMA_SDL)
        self.app = self._build_app()

    # ---- identity ---------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"{self.url}/graphql/"

    @property
    def domain(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def kid(self) -> str:
        return self._key.thumbprint()

    def jwks(self) -> dict:
        public = self._key.as_dict(private=False)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def rotate_key(self) -> str:
        """A new signing key; the JWKS serves only the new one from now on."""
        with self._lock:
            self._key = RSAKey.generate_key(2048, auto_kid=False)
        return self.kid

    @property
    def installed_app(self) -> _App | None:
        return self._app if self._app and self._app.active else None

    # ---- installation -----------------------------------------------------------

    def install_app(self, manifest_url: str, *, permissions: list[str] | None = None) -> dict:
        """What `appInstall` + Saleor's install task do; returns {status, message, app_id}."""
        headers = {"Saleor-Schema-Version": SCHEMA_VERSION, "User-Agent": f"Saleor/{SCHEMA_VERSION}"}
        try:
            response = self.client.get(manifest_url, headers=headers)
            response.raise_for_status()
            manifest = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return self._failed(f"Unable to fetch manifest data: {exc}")
        problem = self._manifest_problem(manifest)
        if problem:
            return self._failed(problem)
        with self._lock:
            self._app_seq += 1
            token = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(APP_TOKEN_LENGTH))
            app = _App(
                pk=self._app_seq,
                identifier=manifest["id"],
                name=manifest["name"],
                token=token,
                permissions=list(permissions if permissions is not None else manifest.get("permissions", [])),
                webhooks=[self._webhook_of(w) for w in manifest.get("webhooks", [])],
                manifest=manifest,
            )
            self._app = app
        target = manifest.get("tokenTargetUrl")
        if target:
            try:
                answer = self.client.post(
                    target,
                    json={"auth_token": token},
                    headers={
                        "Content-Type": "application/json",
                        "Saleor-Domain": self.domain,
                        "X-Saleor-Domain": self.domain,
                        "Saleor-Api-Url": self.api_url,
                        "Saleor-Schema-Version": SCHEMA_VERSION,
                    },
                )
            except httpx.HTTPError as exc:
                return self._failed(f"Unable to send the auth token: {exc.__class__.__name__}", drop=True)
            if not 200 <= answer.status_code < 300:
                return self._failed(_install_error_message(answer), drop=True)
        outcome = {"status": "installed", "message": None, "app_id": app.id}
        self.installations.append(outcome)
        return outcome

    def delete_app(self, *, notify_app: bool = True) -> None:
        """`appDelete`: the token dies at once. From 3.23.5 the app gets its own APP_DELETED
        (`notify_app=True`); up to 3.23.4 it gets nothing (`notify_app=False`)."""
        with self._lock:
            app = self._app
            if app is None:
                return
            if notify_app:
                self._emit("APP_DELETED", {"app": self._app_node(app)}, app)
            app.active = False

    def _failed(self, message: str, drop: bool = False) -> dict:
        if drop:
            with self._lock:
                self._app = None  # a failed installation deletes the app and its token
        outcome = {"status": "failed", "message": message, "app_id": None}
        self.installations.append(outcome)
        return outcome

    def _manifest_problem(self, manifest: Any) -> str | None:
        if not isinstance(manifest, dict) or not all(manifest.get(k) for k in ("id", "name", "version")):
            return "Manifest is missing id, name or version"
        permissions = set(manifest.get("permissions") or [])
        unknown = permissions - set(ALL_PERMISSIONS)
        if unknown:
            return f"Given permissions don't exist: {', '.join(sorted(unknown))}"
        if manifest.get("extensions") and not manifest.get("appUrl"):
            return "Extensions with relative URLs require appUrl"
        for extension in manifest.get("extensions") or []:
            if not set(extension.get("permissions") or []) <= permissions:
                return "Extension permissions are out of the app's scope (OUT_OF_SCOPE_PERMISSION)"
        for webhook in manifest.get("webhooks") or []:
            try:
                document = parse(webhook["query"])
            except (GraphQLError, KeyError, TypeError) as exc:
                return f"Subscription query is not valid: {exc}"
            errors = validate(self._schema, document)
            if errors:
                return f"Subscription query is not valid: {_saleor_wording(errors[0].message)}"
        return None

    def _webhook_of(self, webhook: dict) -> dict:
        events = list(webhook.get("asyncEvents") or [])
        if not events:  # Saleor infers them from the subscription's fragments
            events = [EVENT_NAMES[t] for t in re.findall(r"on\s+(\w+)", webhook["query"]) if t in EVENT_NAMES]
        return {
            "name": webhook.get("name"),
            "url": webhook["targetUrl"],
            "query": webhook["query"],
            "events": events,
            "active": webhook.get("isActive", True),
        }

    # ---- shop data --------------------------------------------------------------

    def add_customer(self, email: str, *, first_name: str = "", last_name: str = "", is_staff: bool = False) -> str:
        with self._lock:
            pk = len(self._users) + 1
            now = self._now_iso()
            self._users[pk] = {
                "pk": pk,
                "email": email,
                "first_name": first_name,
                "last_name": last_name,
                "is_staff": is_staff,
                "joined": now,
                "updated": now,
                "jwt_key": secrets.token_hex(6),
                "metadata": {},
            }
        return _gid("User", pk)

    def update_customer(self, user_id: str, **changes: str) -> None:
        """Change email/first_name/last_name and fire CUSTOMER_UPDATED."""
        with self._lock:
            user = self._users[_pk(user_id, "User")]
            user.update(changes)
            user["updated"] = self._now_iso()
            self._emit("CUSTOMER_UPDATED", {"user": self._user_node(user)})

    def add_checkout(
        self,
        lines: list[dict],
        *,
        currency: str = "EUR",
        email: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        """Lines: {name, variant?, sku?, quantity, price (text or Decimal, unit gross)}. Fires CHECKOUT_CREATED."""
        with self._lock:
            token = str(uuid.uuid4())
            now = self._now_iso()
            user = self._users[_pk(user_id, "User")] if user_id else None
            self._checkouts[token] = {
                "token": token,
                "email": email or (user["email"] if user else None),
                "user": user,
                "currency": currency,
                "lines": [
                    {
                        "id": str(uuid.uuid4()),
                        "name": line["name"],
                        "variant": line.get("variant", "Default"),
                        "sku": line.get("sku"),
                        "quantity": int(line["quantity"]),
                        "price": Decimal(str(line["price"])),
                    }
                    for line in lines
                ],
                "metadata": dict(metadata or {}),
                "private_metadata": {},
                "created": now,
                "updated": now,
            }
            self._emit("CHECKOUT_CREATED", {"checkout": self._checkout_node(self._checkouts[token])})
        return _gid("Checkout", token)

    def add_checkout_line(self, checkout_id: str, line: dict) -> None:
        """`checkoutLinesAdd`: one more line (same name and variant: a higher quantity). Fires CHECKOUT_UPDATED."""
        with self._lock:
            checkout = self._checkouts[_pk(checkout_id, "Checkout")]
            variant = line.get("variant", "Default")
            same = next(
                (ln for ln in checkout["lines"] if (ln["name"], ln["variant"]) == (line["name"], variant)), None
            )
            if same is None:
                checkout["lines"].append(
                    {
                        "id": str(uuid.uuid4()),
                        "name": line["name"],
                        "variant": variant,
                        "sku": line.get("sku"),
                        "quantity": int(line["quantity"]),
                        "price": Decimal(str(line["price"])),
                    }
                )
            else:
                same["quantity"] += int(line["quantity"])
            checkout["updated"] = self._now_iso()
            self._emit("CHECKOUT_UPDATED", {"checkout": self._checkout_node(checkout)})

    def checkout(self, checkout_id: str) -> dict:
        return self._checkouts[_pk(checkout_id, "Checkout")]

    def complete_checkout(self, checkout_id: str) -> str:
        """`checkoutComplete`: an order with the checkout's lines, email, user and (as Saleor does)
        a copy of its public and private metadata; the checkout is gone. Fires ORDER_CREATED."""
        with self._lock:
            checkout = self._checkouts.pop(_pk(checkout_id, "Checkout"))
            order_id = self._new_order(
                lines=checkout["lines"],
                currency=checkout["currency"],
                email=checkout["email"],
                user=checkout["user"],
                metadata=dict(checkout["metadata"]),
                private_metadata=dict(checkout["private_metadata"]),
                checkout_token=checkout["token"],
            )
            self._apply_voucher(self._orders[_pk(order_id, "Order")], checkout.get("voucher_code"))
            self._emit("ORDER_CREATED", {"order": self._order_node(self._orders[_pk(order_id, "Order")])})
        return order_id

    def add_order(
        self,
        lines: list[dict],
        *,
        currency: str = "EUR",
        email: str | None = None,
        user_id: str | None = None,
        metadata: dict[str, str] | None = None,
        emit: bool = True,
    ) -> str:
        """An order placed without a checkout (e.g. a draft completed by staff). Fires ORDER_CREATED."""
        with self._lock:
            user = self._users[_pk(user_id, "User")] if user_id else None
            normalized = [
                {
                    "id": str(uuid.uuid4()),
                    "name": line["name"],
                    "variant": line.get("variant", "Default"),
                    "sku": line.get("sku"),
                    "quantity": int(line["quantity"]),
                    "price": Decimal(str(line["price"])),
                }
                for line in lines
            ]
            order_id = self._new_order(
                lines=normalized,
                currency=currency,
                email=email or (user["email"] if user else None),
                user=user,
                metadata=dict(metadata or {}),
                private_metadata={},
                checkout_token=None,
            )
            if emit:
                self._emit("ORDER_CREATED", {"order": self._order_node(self._orders[_pk(order_id, "Order")])})
        return order_id

    def mark_order_paid(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[_pk(order_id, "Order")]
            order.update(charged=order["total"], updated=self._now_iso())
            self._emit("ORDER_FULLY_PAID", {"order": self._order_node(order)})

    def refund_order(self, order_id: str, amount: str) -> None:
        with self._lock:
            order = self._orders[_pk(order_id, "Order")]
            order.update(refunded=Decimal(amount), updated=self._now_iso())
            self._emit("ORDER_UPDATED", {"order": self._order_node(order)})

    def cancel_order(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[_pk(order_id, "Order")]
            order.update(status="CANCELED", updated=self._now_iso())
            self._emit("ORDER_CANCELLED", {"order": self._order_node(order)})

    def order(self, order_id: str) -> dict:
        return self._orders[_pk(order_id, "Order")]

    def _new_order(
        self,
        *,
        lines: list[dict],
        currency: str,
        email: str | None,
        user: dict | None,
        metadata: dict,
        private_metadata: dict,
        checkout_token: str | None,
    ) -> str:
        self._order_seq += 1
        pk = str(uuid.uuid4())
        now = self._now_iso()
        total = sum((line["price"] * line["quantity"] for line in lines), Decimal(0))
        self._orders[pk] = {
            "pk": pk,
            "number": str(self._order_seq),
            "lines": lines,
            "currency": currency,
            "email": email,
            "user": user,
            "metadata": metadata,
            "private_metadata": private_metadata,
            "checkout_token": checkout_token,
            "status": "UNFULFILLED",
            "total": total,
            "charged": Decimal(0),
            "refunded": Decimal(0),
            "created": now,
            "updated": now,
        }
        return _gid("Order", pk)

    # ---- what Saleor signs ------------------------------------------------------

    def sign(self, body: bytes) -> str:
        """`Saleor-Signature`: compact JWS, RS256, unencoded detached payload (RFC 7797)."""
        header = {"alg": "RS256", "b64": False, "crit": ["b64"], "kid": self.kid, "typ": "JWT"}
        compact = jws.serialize_compact(header, body, self._key)
        return compact[: compact.index(".")] + ".." + compact[compact.rindex(".") + 1 :]

    def webhook_headers(
        self, event: str, body: bytes, *, api_url: str | None = None, signature: str | None = None
    ) -> dict[str, str]:
        signature = self.sign(body) if signature is None else signature
        return {
            "Content-Type": "application/json",
            "Saleor-Event": event.lower(),
            "Saleor-Domain": self.domain,
            "Saleor-Api-Url": api_url or self.api_url,
            "Saleor-Signature": signature,
            "X-Saleor-Event": event.lower(),
            "X-Saleor-Domain": self.domain,
            "X-Saleor-Signature": signature,
            "User-Agent": f"Saleor/{SCHEMA_VERSION}",
            "Traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01",
        }

    def mint_dashboard_token(
        self,
        *,
        email: str = "staff@example.com",
        user_id: str | None = None,
        permissions: list[str] | None = None,
        user_permissions: list[str] | None = None,
        now: float | None = None,
        lifetime: int = ACCESS_TTL,
        app_id: str | None = None,
        extension_id: str | None = None,
        iss: str | None = None,
    ) -> str:
        """The token the Dashboard hands to the app iframe (`type: thirdparty`)."""
        issued = int(self._clock() if now is None else now)
        user_permissions = list(user_permissions if user_permissions is not None else ALL_PERMISSIONS)
        app_permissions = set(self._app.permissions if self._app else [])
        claims: dict[str, Any] = {
            "iat": issued,
            "owner": "saleor",
            "iss": iss or self.api_url,
            "exp": issued + lifetime,
            "token": secrets.token_hex(6),
            "email": email,
            "type": "thirdparty",
            "user_id": user_id or _gid("User", 1),
            "is_staff": True,
            "app": app_id or (self._app.id if self._app else _gid("App", 1)),
            "permissions": permissions if permissions is not None else sorted(app_permissions & set(user_permissions)),
            "user_permissions": user_permissions,
        }
        if extension_id:
            claims["app_extension"] = extension_id
        return self._encode(claims)

    def mint_customer_token(self, user_id: str, *, now: float | None = None, lifetime: int = ACCESS_TTL) -> str:
        """A storefront customer's access token (`tokenCreate` → `token`, type `access`)."""
        user = self._users[_pk(user_id, "User")]
        issued = int(self._clock() if now is None else now)
        return self._encode(
            {
                "iat": issued,
                "owner": "saleor",
                "iss": self.api_url,
                "exp": issued + lifetime,
                "token": user["jwt_key"],
                "email": user["email"],
                "type": "access",
                "user_id": user_id,
                "is_staff": user["is_staff"],
            }
        )

    def _encode(self, claims: dict) -> str:
        return jwt.encode({"alg": "RS256", "kid": self.kid, "typ": "JWT"}, claims, self._key)

    # ---- webhooks ---------------------------------------------------------------

    def _emit(self, event: str, fields: dict, recipient: _App | None = None) -> None:
        app = recipient or self.installed_app
        if app is None or not app.active:
            return
        typename = EVENT_TYPES[event]
        for webhook in app.webhooks:
            if not webhook["active"] or event not in webhook["events"]:
                continue
            root = {
                "event": {
                    "__typename": typename,
                    "issuedAt": self._now_iso(),
                    "version": self.version,
                    "issuingPrincipal": None,
                    "recipient": self._app_node(app),
                    **fields,
                }
            }
            result = execute_sync(self._schema, parse(webhook["query"]), root_value=root)
            payload = (result.data or {}).get("event")
            body = json.dumps(payload).encode()
            delivery = Delivery(event=event, url=webhook["url"], headers=self.webhook_headers(event, body), body=body)
            self._outbox.append(delivery)
        if self.auto_deliver:
            threading.Thread(target=self.deliver_pending, daemon=True).start()

    def deliver_pending(self) -> list[Delivery]:
        """Send what is queued, oldest first (Saleor's Celery workers)."""
        sent: list[Delivery] = []
        while True:
            with self._lock:
                if not self._outbox:
                    return sent
                delivery = self._outbox.pop(0)
            try:
                response = self.client.post(delivery.url, content=delivery.body, headers=delivery.headers)
                delivery.status = response.status_code
            except httpx.HTTPError as exc:
                delivery.error = exc.__class__.__name__
            with self._lock:
                self.deliveries.append(delivery)
            sent.append(delivery)

    @property
    def pending(self) -> list[Delivery]:
        with self._lock:
            return list(self._outbox)

    def calls(self, operation: str) -> list[dict]:
        """Logged GraphQL requests whose document mentions `operation` (e.g. "updateMetadata")."""
        return [r for r in self.requests if operation in ((r.get("json") or {}).get("query") or "")]

    # ---- HTTP -------------------------------------------------------------------

    def _build_app(self) -> flask.Flask:
        app = flask.Flask(__name__)
        app.before_request(self._record)
        app.add_url_rule("/.well-known/jwks.json", "jwks", lambda: flask.jsonify(self.jwks()))
        app.add_url_rule("/graphql/", "graphql", self._graphql, methods=["POST"])
        return app

    def _record(self) -> None:
        request = flask.request
        entry: dict[str, Any] = {"method": request.method, "path": request.path, "headers": dict(request.headers)}
        if request.is_json:
            entry["json"] = request.get_json(silent=True)
        with self._lock:
            self.requests.append(entry)

    def _graphql(self) -> flask.Response:
        payload = flask.request.get_json(silent=True)
        if not isinstance(payload, dict):
            return _json({"errors": [{"message": "Unable to parse query."}]}, 400)
        query = payload.get("query")
        if not isinstance(query, str) or not query:
            return _json({"errors": [{"message": "Must provide a query string."}]}, 400)
        try:
            document = parse(query)
        except GraphQLError as error:
            return _json({"errors": [error.formatted], "extensions": _cost(0)}, 400)
        problems = validate(self._schema, document)
        if problems:
            errors = [{**p.formatted, "message": _saleor_wording(p.message)} for p in problems]
            return _json({"errors": errors, "extensions": _cost(0)}, 400)
        operation = get_operation_ast(document, payload.get("operationName"))
        if not isinstance(operation, OperationDefinitionNode) or operation.operation == OperationType.SUBSCRIPTION:
            return _json({"errors": [{"message": "Can only perform a query or mutation here."}]}, 400)
        caller = self._caller(flask.request.headers.get("Authorization", ""))
        with self._lock:
            result = execute_sync(
                self._schema,
                document,
                root_value=self._root(caller),
                variable_values=payload.get("variables") or {},
                operation_name=payload.get("operationName"),
            )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [_saleor_error(e) for e in result.errors]
        answer["extensions"] = _cost(_rough_cost(query))
        response = _json(answer, 200)
        if self.auto_deliver and self._outbox:
            threading.Thread(target=self.deliver_pending, daemon=True).start()
        return response

    def _caller(self, authorization: str) -> _Caller:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value:
            return _Caller()
        app = self.installed_app
        if len(value) == APP_TOKEN_LENGTH:
            if app is not None and secrets.compare_digest(value, app.token):
                return _Caller(app=app, permissions=frozenset(app.permissions))
            return _Caller()  # an unknown app token makes the request anonymous
        try:
            claims = jwt.decode(value, KeySet([self._key]), algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return _Caller()
        if claims.get("exp", 0) < self._clock():
            return _Caller()
        user = self._users.get(_pk(claims.get("user_id", ""), "User") or 0)
        perms = claims.get("permissions") if claims.get("type") == "thirdparty" else []
        return _Caller(user=user, permissions=frozenset(perms or []))

    # ---- GraphQL resolvers (graphql-core's default resolver reads dict keys and calls callables) --

    def _root(self, caller: _Caller) -> dict:
        def need(*perms: str) -> None:
            if not caller.permissions & set(perms):
                raise permission_denied("", list(perms))

        def app(_info: Any, id: str | None = None) -> dict | None:
            if caller.app is None and caller.user is None:
                raise permission_denied("app", ["AUTHENTICATED_STAFF_USER", "AUTHENTICATED_APP"])
            target = caller.app or self.installed_app
            return self._app_node(target) if target else None

        def checkout(_info: Any, id: str | None = None, token: str | None = None) -> dict | None:
            key = token or _pk(id or "", "Checkout")
            found = self._checkouts.get(str(key)) if key else None
            return self._checkout_node(found) if found else None

        def order(_info: Any, id: str) -> dict | None:
            need("MANAGE_ORDERS")
            found = self._orders.get(_pk(id, "Order") or "")
            return self._order_node(found, caller) if found else None

        def user(_info: Any, id: str | None = None, email: str | None = None, externalReference: str | None = None):
            need("MANAGE_USERS", "MANAGE_STAFF", "MANAGE_ORDERS")
            if id:
                found = self._users.get(_pk(id, "User") or 0)
            else:
                found = next((u for u in self._users.values() if email and u["email"].lower() == email.lower()), None)
            return self._user_node(found, caller) if found else None

        def update_metadata(_info: Any, id: str, input: list[dict]) -> dict:
            kind, key = _split_gid(id)
            if kind is None and _is_uuid(id):  # a checkout token is accepted in place of the id
                kind, key = "Checkout", id
            # Public metadata of checkouts and orders needs no permission (PUBLIC_META_PERMISSION_MAP).
            target = (
                self._checkouts.get(key) if kind == "Checkout" else self._orders.get(key) if kind == "Order" else None
            )
            if target is None:
                return {
                    "errors": [{"field": "id", "message": f"Couldn't resolve to a node: {id}", "code": "NOT_FOUND"}],
                    "item": None,
                }
            target["metadata"].update({item["key"]: item["value"] for item in input})
            target["updated"] = self._now_iso()
            if kind == "Checkout":
                node = self._checkout_node(target)
                if self.legacy_update_webhooks:
                    self._emit("CHECKOUT_UPDATED", {"checkout": node})
            else:
                node = self._order_node(target, caller)
            return {"errors": [], "item": node}

        return {
            "app": app,
            "checkout": checkout,
            "order": order,
            "user": user,
            "updateMetadata": update_metadata,
            **self._selling_root(need),
        }

    # ---- the catalogue, checkouts made through the API, vouchers -------------------

    def add_product(self, pk: int, name: str, slug: str, variants: list[dict], *, thumbnail: str | None = None) -> None:
        """`variants`: [{pk, name, sku, price ("29.00"), stock (None: not tracked)}]."""
        with self._lock:
            self.books.products[pk] = catalogue.SaleorProduct(
                pk,
                name,
                slug,
                thumbnail,
                [
                    catalogue.SaleorVariant(
                        int(v["pk"]), v.get("name", ""), v.get("sku", ""), Decimal(str(v["price"])), v.get("stock")
                    )
                    for v in variants
                ],
            )

    def set_stock(self, variant_pk: int, stock: int | None) -> None:
        with self._lock:
            hit = self.books.variant(variant_pk)
            assert hit is not None
            hit[1].stock = stock

    def remove_product(self, pk: int) -> None:
        with self._lock:
            self.books.products.pop(pk, None)

    def _apply_voucher(self, order: dict, code: str | None) -> None:
        voucher = self.books.voucher(code) if code else None
        if voucher is None or (voucher.usage_limit is not None and voucher.used >= voucher.usage_limit):
            return
        voucher.used += 1
        if voucher.kind == "PERCENTAGE":
            off = (order["total"] * (voucher.value or Decimal(0)) / 100).quantize(Decimal("0.01"))
        else:
            off = min(voucher.value or Decimal(0), order["total"])
        order.update(total=order["total"] - off, discount=off, voucher_code=voucher.code)

    def _variant_node(self, product: catalogue.SaleorProduct, variant: catalogue.SaleorVariant, currency: str) -> dict:
        return {
            "__typename": "ProductVariant",
            "id": catalogue.gid("ProductVariant", variant.pk),
            "name": variant.name,
            "sku": variant.sku,
            "quantityAvailable": lambda _info, countryCode=None: variant.stock,
            "pricing": {"price": _taxed(variant.price, currency)},
            "product": lambda _info: self._product_node(product, currency),
        }

    def _product_node(self, product: catalogue.SaleorProduct, currency: str) -> dict:
        return {
            "__typename": "Product",
            "id": catalogue.gid("Product", product.pk),
            "name": product.name,
            "slug": product.slug,
            # A path is the stand-in's own picture; Saleor answers absolute media URLs.
            "thumbnail": lambda _info, size=None: (
                {
                    "url": self.url + product.thumbnail if product.thumbnail.startswith("/") else product.thumbnail,
                    "alt": product.name,
                }
                if product.thumbnail
                else None
            ),
            "variants": [self._variant_node(product, v, currency) for v in product.variants],
        }

    def _selling_root(self, need: Callable[..., None]) -> dict:
        currency = "EUR"  # the stand-in's one channel, default-channel

        def products(
            _info: Any,
            first: int | None = None,
            channel: str | None = None,
            filter: dict | None = None,
            search: str | None = None,
            **_: Any,
        ) -> dict:
            found = self.books.search((filter or {}).get("search") or search)[: first or 100]
            return {
                "edges": [{"node": self._product_node(p, currency), "cursor": str(p.pk)} for p in found],
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
                "totalCount": len(found),
            }

        def product_variant(_info: Any, id: str | None = None, channel: str | None = None, **_: Any) -> dict | None:
            pk = _pk(id or "", "ProductVariant")
            hit = self.books.variant(pk) if isinstance(pk, int) else None
            return self._variant_node(*hit, currency) if hit else None

        def lines_of(lines: list[dict]) -> tuple[list[dict], list[dict]]:
            made, errors = [], []
            for line in lines:
                pk = _pk(line["variantId"], "ProductVariant")
                hit = self.books.variant(pk) if isinstance(pk, int) else None
                if hit is None:
                    errors.append(
                        {
                            "field": "variantId",
                            "message": f"Couldn't resolve to a node: {line['variantId']}",
                            "code": "NOT_FOUND",
                        }
                    )
                    continue
                product, variant = hit
                if variant.stock is not None and variant.stock < line["quantity"]:
                    errors.append(
                        {
                            "field": "quantity",
                            "message": f"Could not add items {variant.sku}. Only {variant.stock} remaining in stock.",
                            "code": "INSUFFICIENT_STOCK",
                        }
                    )
                    continue
                made.append(
                    {
                        "id": str(uuid.uuid4()),
                        "name": product.name,
                        "variant": variant.name or "Default",
                        "sku": variant.sku,
                        "quantity": int(line["quantity"]),
                        "price": variant.price,
                        "variant_gid": catalogue.gid("ProductVariant", variant.pk),
                    }
                )
            return made, errors

        def checkout_create(_info: Any, input: dict) -> dict:
            made, errors = lines_of(input.get("lines") or [])
            if errors:
                return {"checkout": None, "errors": errors}
            token = str(uuid.uuid4())
            now = self._now_iso()
            self._checkouts[token] = {
                "token": token,
                "email": input.get("email"),
                "user": None,
                "currency": currency,
                "lines": made,
                "metadata": {m["key"]: m["value"] for m in input.get("metadata") or []},
                "private_metadata": {},
                "created": now,
                "updated": now,
            }
            node = self._checkout_node(self._checkouts[token])
            self._emit("CHECKOUT_CREATED", {"checkout": node})
            return {"checkout": node, "errors": []}

        def checkout_lines_add(_info: Any, lines: list[dict], id: str | None = None) -> dict:
            found = self._checkouts.get(str(_pk(id or "", "Checkout")))
            if found is None:
                return {
                    "checkout": None,
                    "errors": [{"field": "id", "message": f"Couldn't resolve to a node: {id}", "code": "NOT_FOUND"}],
                }
            made, errors = lines_of(lines)
            if errors:
                return {"checkout": None, "errors": errors}
            for line in made:
                same = next((ln for ln in found["lines"] if ln.get("variant_gid") == line["variant_gid"]), None)
                if same is None:
                    found["lines"].append(line)
                else:
                    same["quantity"] += line["quantity"]
            found["updated"] = self._now_iso()
            node = self._checkout_node(found)
            self._emit("CHECKOUT_UPDATED", {"checkout": node})
            return {"checkout": node, "errors": []}

        def add_promo_code(_info: Any, promoCode: str, id: str | None = None) -> dict:
            found = self._checkouts.get(str(_pk(id or "", "Checkout")))
            voucher = self.books.voucher(promoCode)
            if found is None or voucher is None:
                return {
                    "checkout": None,
                    "errors": [{"field": "promoCode", "message": "Promo code is invalid", "code": "INVALID"}],
                }
            found["voucher_code"] = voucher.code
            return {"checkout": self._checkout_node(found), "errors": []}

        def voucher_node(v: catalogue.SaleorVoucher) -> dict:
            return {
                "id": catalogue.gid("Voucher", v.pk),
                "name": v.name,
                "code": v.code,
                "codes": lambda _info, first=None: {
                    "edges": [
                        {
                            "node": {
                                "id": catalogue.gid("VoucherCode", v.pk),
                                "code": v.code,
                                "used": v.used,
                                "isActive": True,
                            }
                        }
                    ]
                },
                "usageLimit": v.usage_limit,
                "used": v.used,
                "startDate": v.start,
                "endDate": v.end,
                "singleUse": v.single_use,
                "discountValueType": v.kind,
                "discountValue": float(v.value) if v.value is not None else None,
                "currency": currency,
                "type": "ENTIRE_ORDER",
            }

        def vouchers(_info: Any, first: int | None = None, **_: Any) -> dict:
            need("MANAGE_DISCOUNTS")
            return {
                "edges": [{"node": voucher_node(v)} for v in list(self.books.vouchers.values())[: first or 100]],
                "pageInfo": {"hasNextPage": False, "hasPreviousPage": False},
            }

        def voucher_create(_info: Any, input: dict) -> dict:
            need("MANAGE_DISCOUNTS")
            codes = input.get("addCodes") or []
            if not codes:
                return {
                    "voucher": None,
                    "errors": [{"field": "addCodes", "message": "This field is required.", "code": "REQUIRED"}],
                }
            if any(self.books.voucher(c) for c in codes):
                return {
                    "voucher": None,
                    "errors": [
                        {"field": "addCodes", "message": "Voucher with this code already exists.", "code": "UNIQUE"}
                    ],
                }
            pk = len(self.books.vouchers) + 1
            self.books.vouchers[pk] = catalogue.SaleorVoucher(
                pk,
                input.get("name") or codes[0],
                codes[0],
                input.get("discountValueType") or "PERCENTAGE",
                None,
                input.get("usageLimit"),
                bool(input.get("singleUse")),
                input.get("startDate") or self._now_iso(),
                input.get("endDate"),
            )
            return {"voucher": voucher_node(self.books.vouchers[pk]), "errors": []}

        def listing_update(_info: Any, id: str, input: dict) -> dict:
            need("MANAGE_DISCOUNTS")
            pk = _pk(id, "Voucher")
            found = self.books.vouchers.get(pk) if isinstance(pk, int) else None
            if found is None:
                return {
                    "voucher": None,
                    "errors": [{"field": "id", "message": f"Couldn't resolve to a node: {id}", "code": "NOT_FOUND"}],
                }
            for channel in input.get("addChannels") or []:
                found.value = Decimal(str(channel.get("discountValue")))
            return {"voucher": voucher_node(found), "errors": []}

        return {
            "products": products,
            "productVariant": product_variant,
            "vouchers": vouchers,
            "checkoutCreate": checkout_create,
            "checkoutLinesAdd": checkout_lines_add,
            "checkoutAddPromoCode": add_promo_code,
            "voucherCreate": voucher_create,
            "voucherChannelListingUpdate": listing_update,
            "channel": lambda _info, id=None, slug=None: (
                _channel(currency) if slug in (None, "default-channel") else None
            ),
        }

    def _app_node(self, app: _App) -> dict:
        return {
            "__typename": "App",
            "id": app.id,
            "name": app.name,
            "identifier": app.identifier,
            "isActive": app.active,
            "permissions": [{"code": p, "name": p} for p in app.permissions],
            **_metadata_fields(app.metadata, {}),
        }

    def _user_node(self, user: dict, caller: _Caller | None = None) -> dict:
        def orders(_info: Any, first: int | None = None, last: int | None = None, **_: Any) -> dict:
            # Another user's orders need MANAGE_ORDERS (saleor/graphql/account/types.py::resolve_orders).
            if caller is not None and "MANAGE_ORDERS" not in caller.permissions:
                raise permission_denied("orders", ["OWNER", "MANAGE_ORDERS"])
            mine = [o for o in self._orders.values() if o["user"] is user]
            mine.sort(key=lambda o: int(o["number"]), reverse=True)  # Saleor lists a user's orders newest first
            page = mine[:first] if first is not None else mine[-last:] if last else mine
            nodes = [self._order_node(o, caller) for o in page]
            return {
                "edges": [{"node": n, "cursor": base64.b64encode(n["number"].encode()).decode()} for n in nodes],
                "pageInfo": {
                    "hasNextPage": len(mine) > len(page),
                    "hasPreviousPage": False,
                    "startCursor": None,
                    "endCursor": None,
                },
                "totalCount": len(mine),
            }

        return {
            "__typename": "User",
            "id": _gid("User", user["pk"]),
            "email": user["email"],
            "firstName": user["first_name"],
            "lastName": user["last_name"],
            "isActive": True,
            "isStaff": user["is_staff"],
            "dateJoined": user["joined"],
            "updatedAt": user["updated"],
            "orders": orders,
            **_metadata_fields(user["metadata"], {}),
        }

    def _checkout_node(self, checkout: dict) -> dict:
        currency = checkout["currency"]
        lines = [
            {
                "id": _gid("CheckoutLine", line["id"]),
                "quantity": line["quantity"],
                "variant": {
                    "id": line.get("variant_gid") or _gid("ProductVariant", line["id"][:8]),
                    "name": line["variant"],
                    "sku": line["sku"],
                    "product": {"id": _gid("Product", line["id"][:8]), "name": line["name"]},
                },
                "unitPrice": _taxed(line["price"], currency),
                "totalPrice": _taxed(line["price"] * line["quantity"], currency),
            }
            for line in checkout["lines"]
        ]
        total = sum((line["price"] * line["quantity"] for line in checkout["lines"]), Decimal(0))
        return {
            "__typename": "Checkout",
            "id": _gid("Checkout", checkout["token"]),
            "token": checkout["token"],
            "email": checkout["email"],
            "created": checkout["created"],
            "updatedAt": checkout["updated"],
            "user": self._user_node(checkout["user"]) if checkout["user"] else None,
            "channel": _channel(currency),
            "lines": lines,
            "quantity": sum(line["quantity"] for line in checkout["lines"]),
            "totalPrice": _taxed(total, currency),
            "subtotalPrice": _taxed(total, currency),
            **_metadata_fields(checkout["metadata"], checkout["private_metadata"]),
        }

    def _order_node(self, order: dict, caller: _Caller | None = None) -> dict:
        currency = order["currency"]
        charged, total = order["charged"], order["total"]
        charge = (
            "NONE" if charged == 0 else "FULL" if charged == total else "PARTIAL" if charged < total else "OVERCHARGED"
        )
        payment = (
            "FULLY_REFUNDED"
            if order["refunded"] and order["refunded"] >= total
            else "PARTIALLY_REFUNDED"
            if order["refunded"]
            else "FULLY_CHARGED"
            if charge == "FULL"
            else "NOT_CHARGED"
        )
        return {
            "__typename": "Order",
            "id": _gid("Order", order["pk"]),
            "number": order["number"],
            "created": order["created"],
            "updatedAt": order["updated"],
            "status": order["status"],
            "user": self._user_node(order["user"], caller) if order["user"] else None,
            "userEmail": order["email"],
            "checkoutId": _gid("Checkout", order["checkout_token"]) if order["checkout_token"] else None,
            "channel": _channel(currency),
            "lines": [
                {
                    "id": _gid("OrderLine", line["id"]),
                    "productName": line["name"],
                    "variantName": line["variant"],
                    "quantity": line["quantity"],
                    "totalPrice": _taxed(line["price"] * line["quantity"], currency),
                    "variant": {"id": line["variant_gid"], "name": line["variant"], "sku": line["sku"]}
                    if line.get("variant_gid")
                    else None,
                }
                for line in order["lines"]
            ],
            "total": _taxed(total, currency),
            "undiscountedTotal": _taxed(total + order.get("discount", Decimal(0)), currency),
            "voucherCode": order.get("voucher_code"),
            "isPaid": charge == "FULL",
            "paymentStatus": payment,
            "chargeStatus": charge,
            "totalCharged": _money(charged, currency),
            "totalRefunded": _money(order["refunded"], currency),
            **_metadata_fields(order["metadata"], order["private_metadata"]),
        }

    def _now_iso(self) -> str:
        return datetime.fromtimestamp(self._clock(), UTC).isoformat()


# ---- small pure helpers ---------------------------------------------------------


def _gid(kind: str, pk: object) -> str:
    return base64.b64encode(f"{kind}:{pk}".encode()).decode()


def _split_gid(value: str) -> tuple[str | None, str]:
    try:
        kind, _, pk = base64.b64decode(value + "=" * (-len(value) % 4), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, ""
    return (kind, pk) if kind.isidentifier() and pk else (None, "")


def _pk(value: str, kind: str) -> Any:
    found, pk = _split_gid(value)
    if found != kind:
        return None
    return int(pk) if pk.isdigit() else pk


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _money(amount: Decimal, currency: str) -> dict:
    # Saleor's Money.amount is a GraphQL Float: a JSON number on the wire.
    return {"amount": float(amount), "currency": currency}


def _taxed(amount: Decimal, currency: str) -> dict:
    money = _money(amount, currency)
    return {"currency": currency, "gross": money, "net": money, "tax": _money(Decimal(0), currency)}


def _channel(currency: str) -> dict:
    return {"id": _gid("Channel", 1), "slug": "default-channel", "name": "Default Channel", "currencyCode": currency}


def _metadata_fields(public: dict[str, str], private: dict[str, str]) -> dict:
    return {
        "metadata": [{"key": k, "value": v} for k, v in public.items()],
        "metafield": lambda _info, key: public.get(key),
        "privateMetadata": [{"key": k, "value": v} for k, v in private.items()],
        "privateMetafield": lambda _info, key: private.get(key),
    }


def _saleor_error(error: GraphQLError) -> dict:
    formatted = dict(error.formatted)
    formatted.setdefault("extensions", {"exception": {"code": "GraphQLError"}})
    return formatted


def _saleor_wording(message: str) -> str:
    # Saleor runs graphql-core 2, which quotes names with double quotes
    # ([OBS] `Cannot query field "email" on type "Order". Did you mean "userEmail"?`).
    return re.sub(r"'(\w+)'", r'"\1"', message)


def _cost(requested: int) -> dict:
    return {"cost": {"requestedQueryCost": requested, "maximumAvailable": MAX_COST}}


def _rough_cost(query: str) -> int:
    # Saleor weighs fields by its COST_MAP; a count of selections is close enough for a stand-in.
    return max(1, query.count("{") - 1)


def _install_error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        message = body["error"]["message"]
        if isinstance(message, str):
            return message
    except (ValueError, KeyError, TypeError):
        pass
    return f"App responded with status {response.status_code}"


def _json(body: Any, status: int) -> flask.Response:
    response = flask.Response(json.dumps(body), status=status, mimetype="application/json")
    return response
