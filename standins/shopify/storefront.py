"""The stand-in's Online Store: what a shopper's browser meets on a Shopify store
with Parley's app embed switched on, offline.

Served under `/store/<shop>/` on the stand-in's own origin (never Parley's, so the
widget's cross-origin calls meet real CORS):

- theme pages (`/`, `/products/<handle>`, `/cart`) from a tiny Liquid theme, with the
  REAL app embed block `extensions/parley-chat/blocks/parley-embed.liquid` rendered
  by python-liquid and the block schema's `javascript`/`stylesheet` injected the way
  Shopify injects them;
- the Ajax Cart API (`cart.js`, `cart/add.js`, `cart/change.js`, `cart/update.js`,
  `cart/clear.js`) with Shopify's shapes: money in minor units, a `token` with a
  `?key=` suffix, one cart per browser through the `cart` cookie;
- the app proxy: `/<prefix>/<subpath>/<path>` is forwarded to Parley's
  `<app_url>/proxy/<path>` with Shopify's signed query, cookies stripped both ways;
- customer accounts reduced to one "sign in as the demo customer" switch. The
  customer's id reaches Parley only through the proxy signature, as on Shopify;
- a one-click checkout: "Check out" turns the cart into an order (the cart's
  attributes become its `note_attributes`), shows the order status page and empties
  the cart;
- webhooks as Shopify sends them, HMAC-signed, to Parley's `/webhooks/commerce`:
  `carts/create` / `carts/update` on every cart write and `orders/create` on checkout.
  One background thread sends them in order with a short timeout; Parley being down
  is logged and never breaks the storefront.

Like standin.py it imports nothing of Parley's own (only the stand-in itself and its
webhook bodies, standin_payloads.py).
"""

from __future__ import annotations

import gzip
import hashlib
import html
import importlib
import json
import logging
import queue
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypedDict, TypeVar
from urllib.parse import urlencode

import flask
import httpx
import liquid
from liquid.filter import with_context
from werkzeug.datastructures import MultiDict
from werkzeug.security import safe_join
from werkzeug.wrappers import Response as BaseResponse

from standins.shopify import payloads
from standins.shopify.standin import ShopifyStandin

log = logging.getLogger(__name__)
_R = TypeVar("_R", bound=BaseResponse)  # a response handed back as it came

EXTENSION_DIR = Path(__file__).resolve().parents[2] / "extensions" / "parley-chat"
DEFAULT_LOCALE = "en"
ENDONYMS = {"en": "English", "ar": "العربية", "et": "Eesti", "he": "עברית", "pl": "Polski", "ru": "Русский"}
CURRENCY_SYMBOLS = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "CAD": "$",
    "AUD": "$",
    "NZD": "$",
    "JPY": "¥",
    "PLN": "zł",
    "SEK": "kr",
    "NOK": "kr",
    "DKK": "kr",
    "CHF": "CHF ",
    "INR": "₹",
}
ASSET_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".wasm": "application/wasm",
}
# What Shopify adds to the proxied query; a shopper cannot smuggle in their own values.
PROXY_PARAMS = ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature")
# Request headers a proxy forwards; Cookie is never among them (shopify.md §6).
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept", "Accept-Language", "User-Agent", "X-Requested-With")
DROPPED_RESPONSE_HEADERS = {
    "set-cookie",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "server",
    "date",
}
SCHEMA_TAG = re.compile(r"{%-?\s*schema\s*-?%}(?P<json>.*?){%-?\s*endschema\s*-?%}", re.S)
CART_COOKIE = "cart"
CUSTOMER_COOKIE = "_stand_in_customer_session"
LOCALE_COOKIE = "localization"
PROXY_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# Shopify gives an app 5 seconds to answer a webhook; the stand-in waits no longer.
WEBHOOK_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
FIRST_ORDER_NUMBER = 1001


@dataclass(frozen=True)
class Product:
    handle: str
    title: str
    description: str
    product_id: int
    variant_id: int
    price: int  # minor units, in the shop's currency
    hue: int  # the colour of its generated picture
    vendor: str = "Parley Demo"
    grams: int = 300


DEMO_PRODUCTS = (
    Product(
        "wool-beanie",
        "Fjord Wool Beanie",
        "Merino rib knit, warm without the itch. One size.",
        8001,
        4400001,
        2900,
        205,
    ),
    Product(
        "rain-jacket",
        "Harbour Rain Jacket",
        "Taped seams, 10,000 mm waterproof, packs into its own pocket.",
        8002,
        4400002,
        12990,
        12,
        grams=650,
    ),
    Product(
        "trail-mug",
        "Enamel Trail Mug",
        "Steel enamel, 350 ml. Campfire-proof, dishwasher-safe.",
        8003,
        4400003,
        1490,
        160,
        grams=180,
    ),
    Product(
        "canvas-tote",
        "Waxed Canvas Tote",
        "Waxed cotton canvas with leather handles; fits a laptop.",
        8004,
        4400004,
        4900,
        35,
        grams=500,
    ),
)


class _DemoCustomer(TypedDict):
    id: int
    first_name: str
    last_name: str
    email: str


DEFAULT_CUSTOMER: _DemoCustomer = {"id": 7001, "first_name": "Mari", "last_name": "Tamm", "email": "mari@example.com"}


@dataclass
class _Line:
    variant_id: int
    quantity: int
    properties: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        digest = hashlib.md5(json.dumps(self.properties, sort_keys=True).encode()).hexdigest()
        return f"{self.variant_id}:{digest}"


@dataclass
class _Cart:
    shop: str
    token: str
    key: str
    lines: list[_Line] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    discount_code: str | None = None  # from a permalink's ?discount=, applied at checkout

    @property
    def full_token(self) -> str:
        return f"{self.token}?key={self.key}"


class CartError(Exception):
    def __init__(self, status: int | str, message: str, description: str, http_status: int):
        super().__init__(description)
        self.body = {"status": status, "message": message, "description": description}
        self.http_status = http_status


class Storefront:
    """Online Store pages, the Ajax cart and the app proxy for every shop of a stand-in."""

    def __init__(
        self,
        standin: ShopifyStandin,
        app_url: str,
        extension_dir: Path | str = EXTENSION_DIR,
        *,
        products: tuple[Product, ...] = DEMO_PRODUCTS,
        proxy_prefix: str = "apps",
        proxy_subpath: str = "parley",
        proxy_path: str = "/proxy",
        deliver_webhooks: bool = True,
    ):
        self.standin = standin
        self.app_url = app_url  # may be set later, before the first proxied request
        self.extension_dir = Path(extension_dir)
        self.products = {product.handle: product for product in products}
        self.proxy_prefix = proxy_prefix
        self.proxy_subpath = proxy_subpath
        self.proxy_path = proxy_path
        self.block_settings: dict[str, Any] = {}  # overrides of the embed's schema defaults
        self.embed_enabled = True  # the merchant's App embeds switch
        # Shopify's edge compresses theme pages and its CDN the extension's assets (brotli or
        # gzip); off by default so tests read plain bodies, on for bench/lighthouse.py.
        self.compress = False
        # Every attributes write through the Ajax API: {"shop", "token", "attributes"} (after the write).
        self.attribute_writes: list[dict] = []
        self.proxied: list[dict] = []  # {"method", "path", "status"} of each forwarded request
        # Commerce webhooks to Parley: on by default, so the demo's Support page follows carts and orders.
        self.deliver_webhooks = deliver_webhooks
        self.webhooks: list[dict] = []  # {"topic", "shop", "status", "error"} of each delivery, in order sent
        self.orders: list[dict] = []  # the orders/create body of every checkout, oldest first
        self._outbox: queue.Queue = queue.Queue()
        self._sender: threading.Thread | None = None
        self._webhook_http = httpx.Client(timeout=WEBHOOK_TIMEOUT, follow_redirects=False)
        self._lock = threading.RLock()
        self._carts: dict[str, _Cart] = {}
        self._customers: dict[str, dict] = {}  # shop -> the customer "Sign in" logs in as
        self._sessions: dict[str, tuple[str, int]] = {}  # customer session cookie -> (shop, customer id)
        self._environments: dict[str, liquid.Environment] = {}
        self._http = httpx.Client(timeout=PROXY_TIMEOUT, follow_redirects=False)
        self._register(standin.app)
        for shop in list(standin._shops):
            self.stock(shop)

    # ---- test and demo setup -------------------------------------------------------

    def add_demo_customer(
        self,
        shop: str,
        customer_id: int = DEFAULT_CUSTOMER["id"],
        *,
        first_name: str = DEFAULT_CUSTOMER["first_name"],
        last_name: str = DEFAULT_CUSTOMER["last_name"],
        email: str = DEFAULT_CUSTOMER["email"],
        orders: list[dict] | None = None,
    ) -> dict:
        """The customer the storefront's sign-in switch logs in as; known to the Admin API too."""
        self.standin.add_customer(
            shop, customer_id, first_name=first_name, last_name=last_name, email=email, orders=orders
        )
        customer = {"id": customer_id, "first_name": first_name, "last_name": last_name, "email": email}
        with self._lock:
            self._customers[shop] = customer
        return customer

    def stock(self, shop: str, inventory: int | None = 25) -> None:
        """The shop's Admin API catalogue holds the storefront's products (same ids), so what
        the agent finds is what `cart/add.js` takes; `inventory` units of each."""
        for product in self.products.values():
            self.standin.add_product(
                shop,
                product.product_id,
                product.handle,
                product.title,
                [
                    {
                        "id": product.variant_id,
                        "title": "Default Title",
                        "sku": product.handle.upper(),
                        "price": str(_major(product.price)),
                        "inventory": inventory,
                    }
                ],
                image_url=self.url(shop, f"cdn/products/{product.handle}.svg"),
                url=self.url(shop, f"products/{product.handle}"),
            )

    def carts(self, shop: str) -> list[dict]:
        """Every cart of the shop as `/cart.js` shows it."""
        with self._lock:
            return [self._cart_json(cart) for cart in self._carts.values() if cart.shop == shop]

    def url(self, shop: str, path: str = "") -> str:
        """A storefront path, relative to the stand-in's origin."""
        return f"/store/{shop}/{path.lstrip('/')}"

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """True once every queued webhook has been sent (or has failed); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._outbox.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self) -> None:
        if self._sender is not None:
            self._outbox.put(None)
            self._sender.join(timeout=WEBHOOK_TIMEOUT.read or 5.0)
        self._http.close()
        self._webhook_http.close()

    # ---- routes --------------------------------------------------------------------

    def _register(self, app: flask.Flask) -> None:
        store = "/store/<shop>"
        rules: list[tuple[str, str, Any, list[str]]] = [
            ("/", "home", self._home, ["GET"]),
            ("/products/<handle>", "product", self._product, ["GET"]),
            ("/cart", "cart_page", self._cart_page, ["GET"]),
            ("/cart.js", "cart_js", self._cart_js, ["GET"]),
            ("/cart.json", "cart_json", self._cart_js, ["GET"]),
            ("/cart/add.js", "cart_add_js", self._cart_add, ["POST"]),
            ("/cart/add", "cart_add_form", self._cart_add_form, ["POST"]),
            ("/cart/change.js", "cart_change_js", self._cart_change, ["POST"]),
            ("/cart/update.js", "cart_update_js", self._cart_update, ["POST"]),
            ("/cart/clear.js", "cart_clear_js", self._cart_clear, ["POST"]),
            ("/cart/<items>", "cart_permalink", self._cart_permalink, ["GET"]),
            ("/checkout", "checkout", self._checkout, ["POST"]),
            ("/orders/<int:order_id>", "order_status", self._order_status, ["GET"]),
            ("/account/login", "account_login", self._login, ["POST"]),
            ("/account/logout", "account_logout", self._logout, ["GET", "POST"]),
            ("/cdn/assets/<path:filename>", "extension_asset", self._asset, ["GET"]),
            ("/cdn/products/<handle>.svg", "product_image", self._product_image, ["GET"]),
        ]
        for path, name, view, methods in rules:
            app.add_url_rule(f"{store}{path}", f"storefront_{name}", view, methods=methods)
        # Keep a proxied body intact: the stand-in's request log reads forms, which would drain it.
        app.before_request_funcs.setdefault(None, []).insert(0, _keep_proxied_body)
        proxy = f"{store}/{self.proxy_prefix}/{self.proxy_subpath}"
        every = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        app.add_url_rule(
            proxy,
            "storefront_proxy_root",
            self._proxy,
            methods=every,
            defaults={"path": ""},
            provide_automatic_options=False,
        )
        app.add_url_rule(
            f"{proxy}/<path:path>", "storefront_proxy", self._proxy, methods=every, provide_automatic_options=False
        )

    # ---- theme pages ---------------------------------------------------------------

    def _home(self, shop: str) -> flask.Response:
        return self._page(shop, "index", {"products": [self._product_drop(shop, p) for p in self.products.values()]})

    def _product(self, shop: str, handle: str) -> flask.Response:
        product = self.products.get(handle)
        if product is None:
            return self._page(shop, "404", {}, status=404)
        return self._page(shop, "product", {"product": self._product_drop(shop, product)})

    def _cart_page(self, shop: str) -> flask.Response:
        return self._page(shop, "cart", {})

    def _page(self, shop: str, template: str, assigns: dict, status: int = 200) -> flask.Response:
        locale = self._locale()
        env = self._environment(locale)
        context = self._liquid_context(shop, locale)
        content = env.from_string(THEME_TEMPLATES[template]).render(**context, **assigns)
        head, body_end = self._app_embed(shop, env, context)
        page = env.from_string(THEME_LAYOUT).render(
            **context,
            content_for_layout=content,
            content_for_header=self._content_for_header(shop, locale) + head,
            app_embeds=body_end,
            page_template=template,
        )
        response = flask.Response(page, status, mimetype="text/html")
        if flask.request.args.get("locale") == locale:
            response.set_cookie(LOCALE_COOKIE, locale, path=self.url(shop).rstrip("/"), samesite="Lax")
        return self._compressed(response)

    def _compressed(self, response: flask.Response) -> flask.Response:
        if not self.compress:
            return response
        accept = flask.request.accept_encodings
        brotli = _brotli()
        if brotli is not None and accept.quality("br") > 0:
            response.set_data(brotli.compress(response.get_data(), quality=11))
            response.headers["Content-Encoding"] = "br"
        elif accept.quality("gzip") > 0:
            response.set_data(gzip.compress(response.get_data(), compresslevel=9))
            response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept-Encoding"
        return response

    def _locale(self) -> str:
        available = self._available_locales()
        for candidate in (flask.request.args.get("locale"), flask.request.cookies.get(LOCALE_COOKIE)):
            if candidate in available:
                return candidate
        return DEFAULT_LOCALE

    def _available_locales(self) -> list[str]:
        found = []
        for path in sorted((self.extension_dir / "locales").glob("*.json")):
            name = path.name.removesuffix(".json")
            if not name.endswith(".schema"):
                found.append(name.removesuffix(".default"))
        return found or [DEFAULT_LOCALE]

    def _liquid_context(self, shop: str, locale: str) -> dict:
        record = self.standin._shop(shop)  # the stand-in's own record of the shop (same package)
        root = self.url(shop).rstrip("/")
        customer = self._signed_in_customer(shop)
        origin = flask.request.host_url.rstrip("/")
        cart = self._current_cart(shop)
        return {
            "shop": {
                "name": record.name,
                "permanent_domain": shop,
                "domain": flask.request.host,
                "url": origin + root,
                "currency": record.currency,
                "money_format": self._money_format(record.currency),
            },
            "request": {
                "locale": {
                    "iso_code": locale,
                    "endonym_name": ENDONYMS.get(locale, locale),
                    "primary": locale == DEFAULT_LOCALE,
                    "root_url": root,
                },
                "host": flask.request.host,
                "path": flask.request.path,
                "design_mode": False,
                "visual_preview_mode": False,
            },
            # Shopify's root_url has no trailing slash ("/" or "/fr"); the stand-in's shop lives under /store/<shop>.
            "routes": {
                "root_url": root,
                "cart_url": f"{root}/cart",
                "cart_add_url": f"{root}/cart/add",
                "cart_change_url": f"{root}/cart/change",
                "cart_update_url": f"{root}/cart/update",
                "checkout_url": f"{root}/checkout",
                "account_login_url": f"{root}/account/login",
                "account_logout_url": f"{root}/account/logout",
            },
            "customer": (
                {**customer, "name": f"{customer['first_name']} {customer['last_name']}".strip()} if customer else None
            ),
            "demo_customer": self._customers.get(shop) or DEFAULT_CUSTOMER,
            "cart": self._cart_drop(cart),
            "localization": {
                "available_languages": [
                    {"iso_code": code, "endonym_name": ENDONYMS.get(code, code)} for code in self._available_locales()
                ],
                "language": {"iso_code": locale},
            },
        }

    def _content_for_header(self, shop: str, locale: str) -> str:
        record = self.standin._shop(shop)
        shopify = {
            "shop": shop,
            "locale": locale,
            "currency": {"active": record.currency, "rate": "1.0"},
            "country": "EE",
            "theme": {"name": "Stand-in", "id": 1, "role": "main"},
            "routes": {"root": self.url(shop)},
            "designMode": False,
        }
        return f"<script>window.Shopify = window.Shopify || {{}}; Object.assign(window.Shopify, {_script_json(shopify)});</script>\n"

    def _app_embed(self, shop: str, env: liquid.Environment, context: dict) -> tuple[str, str]:
        """(tags for <head>, markup for the end of <body>) of the app embed block, as Shopify injects them."""
        block_file = self.extension_dir / "blocks" / "parley-embed.liquid"
        if not self.embed_enabled or not block_file.exists():
            return "", ""
        source = block_file.read_text(encoding="utf-8")  # read per page so widget edits show at once
        schema, markup = _split_schema(source)
        settings = {s["id"]: s.get("default") for s in schema.get("settings", []) if "id" in s}
        settings.update(self.block_settings)
        rendered = env.from_string(markup).render(**context, block={"id": "parley-embed", "settings": settings})
        head = ""
        if schema.get("stylesheet"):
            head += f'<link rel="stylesheet" href="{html.escape(self._asset_url(shop, schema["stylesheet"]))}">\n'
        if schema.get("javascript"):
            head += f'<script src="{html.escape(self._asset_url(shop, schema["javascript"]))}" defer></script>\n'
        wrapped = f'<div id="shopify-block-parley-embed" class="shopify-block shopify-app-block">{rendered}</div>'
        if schema.get("target") == "head":
            return head + rendered, ""
        return head, wrapped

    def _asset_url(self, shop: str, filename: str) -> str:
        return self.url(shop, f"cdn/assets/{filename}")

    def _asset(self, shop: str, filename: str) -> flask.Response:
        path = safe_join(str(self.extension_dir / "assets"), filename)
        suffix = Path(filename).suffix.lower()
        if path is None or suffix not in ASSET_TYPES or not Path(path).is_file():
            return flask.Response("Not Found", 404, mimetype="text/plain")
        response = flask.Response(Path(path).read_bytes(), mimetype=ASSET_TYPES[suffix])
        response.headers["Cache-Control"] = "no-cache"  # the widget is edited while the demo runs
        response.headers["Access-Control-Allow-Origin"] = "*"  # like Shopify's CDN
        response.headers["Timing-Allow-Origin"] = "*"  # so is this: sizes show in Resource Timing
        return self._compressed(response)

    def _product_image(self, shop: str, handle: str) -> flask.Response:
        product = self.products.get(handle)
        if product is None:
            return flask.Response("Not Found", 404, mimetype="text/plain")
        response = flask.Response(_product_svg(product), mimetype="image/svg+xml")
        response.headers["Cache-Control"] = "max-age=3600"
        return response

    def _product_drop(self, shop: str, product: Product) -> dict:
        return {
            "handle": product.handle,
            "title": product.title,
            "description": product.description,
            "id": product.product_id,
            "variant_id": product.variant_id,
            "price": product.price,
            "vendor": product.vendor,
            "url": self.url(shop, f"products/{product.handle}"),
            "image": self.url(shop, f"cdn/products/{product.handle}.svg"),
        }

    def _environment(self, locale: str) -> liquid.Environment:
        with self._lock:
            env = self._environments.get(locale)
            if env is None:
                env = self._environments[locale] = self._build_environment(locale)
            return env

    def _build_environment(self, locale: str) -> liquid.Environment:
        env = liquid.Environment()  # strict filters: a filter Shopify has and we lack fails loudly
        translations = self._translations(locale)
        fallback = self._translations(DEFAULT_LOCALE) if locale != DEFAULT_LOCALE else {}

        def translate(key: object, **variables: object) -> str:
            return _translate(str(key), locale, translations, fallback, variables)

        @with_context
        def asset_url(filename: object, *, context: Any) -> str:
            shop = context.resolve("shop")
            return self._asset_url(shop["permanent_domain"], str(filename))

        @with_context
        def money(amount: object, *, context: Any) -> str:
            return _format_money(amount, context.resolve("shop")["currency"])

        env.add_filter("t", translate)
        env.add_filter("translate", translate)
        env.add_filter("asset_url", asset_url)
        env.add_filter("money", money)
        env.add_filter("json", lambda value: _script_json(value))
        return env

    def _translations(self, locale: str) -> dict:
        locales = self.extension_dir / "locales"
        for name in (f"{locale}.json", f"{locale}.default.json"):
            if (locales / name).exists():
                return json.loads((locales / name).read_text(encoding="utf-8"))
        return {}

    @staticmethod
    def _money_format(currency: str) -> str:
        return CURRENCY_SYMBOLS.get(currency, f"{currency} ") + "{{amount}}"

    # ---- customer accounts ---------------------------------------------------------

    def _signed_in_customer(self, shop: str) -> dict | None:
        session = flask.request.cookies.get(CUSTOMER_COOKIE)
        with self._lock:
            found = self._sessions.get(session or "")
            if found is None or found[0] != shop:
                return None
            customer = self._customers.get(shop)
        return customer if customer and customer["id"] == found[1] else None

    def _login(self, shop: str) -> BaseResponse:
        with self._lock:
            customer = self._customers.get(shop)
        if customer is None:
            customer = self.add_demo_customer(shop)
        session = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[session] = (shop, customer["id"])
        response = flask.redirect(self._back(shop), 303)
        response.set_cookie(CUSTOMER_COOKIE, session, path=self.url(shop).rstrip("/"), httponly=True, samesite="Lax")
        return response

    def _logout(self, shop: str) -> BaseResponse:
        with self._lock:
            self._sessions.pop(flask.request.cookies.get(CUSTOMER_COOKIE, ""), None)
        response = flask.redirect(self._back(shop), 303)
        response.delete_cookie(CUSTOMER_COOKIE, path=self.url(shop).rstrip("/"))
        return response

    def _back(self, shop: str) -> str:
        """Where to return after signing in or out: the page asked for, if it is on this shop."""
        target = flask.request.values.get("return_to") or ""
        return target if target.startswith(self.url(shop)) else self.url(shop)

    # ---- the Ajax Cart API ---------------------------------------------------------

    def _current_cart(self, shop: str) -> _Cart | None:
        value = flask.request.cookies.get(CART_COOKIE, "")
        token, _, key = value.partition("?key=")
        with self._lock:
            cart = self._carts.get(token)
        return cart if cart is not None and cart.shop == shop and secrets.compare_digest(cart.key, key) else None

    def _cart_for_write(self, shop: str) -> tuple[_Cart, bool]:
        """The browser's cart, created on the first write (the response then sets the cookie)."""
        cart = self._current_cart(shop)
        if cart is not None:
            return cart, False
        cart = _Cart(shop, f"c1-{secrets.token_hex(16)}", secrets.token_hex(16))
        with self._lock:
            self._carts[cart.token] = cart
        return cart, True

    def _cart_js(self, shop: str) -> flask.Response:
        cart = self._current_cart(shop)
        # Before the first write Shopify answers a fresh, unsaved cart, with a new token each call.
        shown = cart or _Cart(shop, f"c1-{secrets.token_hex(16)}", secrets.token_hex(16))
        return _json(self._cart_json(shown))

    def _cart_add(self, shop: str) -> flask.Response:
        data = _ajax_body()
        items = data.get("items")
        single = items is None
        if single:
            items = [{"id": data.get("id"), "quantity": data.get("quantity", 1), "properties": data.get("properties")}]
        cart, created = self._cart_for_write(shop)
        try:
            added = self._add_items(cart, items)
        except CartError as error:
            return _json(error.body, error.http_status)
        answer = self._line_json(cart, added[0]) if single else {"items": [self._line_json(cart, ln) for ln in added]}
        return self._cart_written(_json(answer), cart, created)

    def _cart_add_form(self, shop: str) -> BaseResponse:
        """The theme's no-JavaScript add-to-cart form: add, then show the cart."""
        cart, created = self._cart_for_write(shop)
        try:
            self._add_items(
                cart, [{"id": flask.request.form.get("id"), "quantity": flask.request.form.get("quantity", 1)}]
            )
        except CartError:
            pass  # the cart page shows what is in the cart
        return self._cart_written(flask.redirect(self.url(shop, "cart"), 303), cart, created)

    def _add_items(self, cart: _Cart, items: Any) -> list[_Line]:
        if not isinstance(items, list) or not items:
            raise CartError(422, "Cart Error", "Required parameter missing or invalid: items", 422)
        added = []
        with self._lock:
            for item in items:
                variant = _int(item.get("id") if isinstance(item, dict) else None)
                quantity = _int(item.get("quantity", 1)) if isinstance(item, dict) else None
                if variant is None or self._variant(variant) is None:
                    raise CartError(422, "Cart Error", "Cannot find variant", 422)
                self._check_stock(cart.shop, variant)
                if quantity is None or quantity < 1:
                    raise CartError(422, "Cart Error", "Quantity must be a positive number", 422)
                properties = item.get("properties") or {}
                line = _Line(variant, 0, dict(properties) if isinstance(properties, dict) else {})
                existing = next((ln for ln in cart.lines if ln.key == line.key), None)
                if existing is None:
                    cart.lines.append(line)
                    existing = line
                existing.quantity += quantity
                added.append(existing)
        return added

    def _check_stock(self, shop: str, variant_id: int) -> None:
        """What the Admin catalogue says now: a removed product is gone, a sold-out one refused."""
        try:
            books = self.standin.catalogue(shop)
        except KeyError:
            return
        with books.lock:
            hit = books.variant(variant_id)
        if hit is None:
            raise CartError(422, "Cart Error", "Cannot find variant", 422)
        product, variant = hit
        if not variant.for_sale or (variant.inventory is not None and variant.inventory <= 0):
            raise CartError(422, "Cart Error", f"The product '{product.title}' is already sold out.", 422)

    def _cart_permalink(self, shop: str, items: str) -> BaseResponse:
        """A cart permalink, /cart/<variant>:<qty>,…?attributes[k]=v&discount=CODE: a new cart
        with exactly those items, then on to checkout (here: the cart page, whose button checks out)."""
        lines = []
        for part in items.split(","):
            variant, _, quantity = part.partition(":")
            lines.append({"id": variant, "quantity": quantity or 1})
        cart = _Cart(shop, f"c1-{secrets.token_hex(16)}", secrets.token_hex(16))
        try:
            self._add_items(cart, lines)
        except CartError as error:
            return self._page(shop, "404", {"message": error.body["description"]}, status=422)
        with self._lock:
            self._carts[cart.token] = cart
            for key, value in flask.request.args.items():
                if key.startswith("attributes[") and key.endswith("]"):
                    cart.attributes[key[len("attributes[") : -1]] = value
            code = flask.request.args.get("discount")
            if code:
                cart.discount_code = code
        response = flask.redirect(self.url(shop, "cart"), 303)
        response.set_cookie(
            CART_COOKIE, cart.full_token, path=self.url(shop).rstrip("/"), max_age=14 * 86400, samesite="Lax"
        )
        return self._cart_written(response, cart, True)

    def _cart_change(self, shop: str) -> flask.Response:
        data = _ajax_body()
        cart, created = self._cart_for_write(shop)
        quantity = _int(data.get("quantity"))
        with self._lock:
            line = None
            if data.get("line") is not None:
                index = _int(data.get("line"))
                if index is not None and 1 <= index <= len(cart.lines):
                    line = cart.lines[index - 1]
            elif data.get("id") is not None:
                wanted = str(data["id"])
                line = next((ln for ln in cart.lines if ln.key == wanted or str(ln.variant_id) == wanted), None)
            if line is None or quantity is None or quantity < 0:
                error = {
                    "status": "bad_request",
                    "message": "no valid id or line parameter",
                    "description": "no valid id or line parameter",
                }
                return _json(error, 400)
            line.quantity = quantity
            cart.lines = [ln for ln in cart.lines if ln.quantity > 0]
            self._apply_attributes(cart, data)
        return self._cart_written(_json(self._cart_json(cart)), cart, created)

    def _cart_update(self, shop: str) -> flask.Response:
        data = _ajax_body()
        cart, created = self._cart_for_write(shop)
        with self._lock:
            updates = data.get("updates")
            if isinstance(updates, list):
                for line, quantity in zip(cart.lines, updates, strict=False):
                    line.quantity = max(_int(quantity) or 0, 0)
            elif isinstance(updates, dict):
                for wanted, quantity in updates.items():
                    count = max(_int(quantity) or 0, 0)
                    found = next(
                        (ln for ln in cart.lines if ln.key == str(wanted) or str(ln.variant_id) == str(wanted)), None
                    )
                    if found is not None:
                        found.quantity = count
                    elif count and self._variant(_int(wanted) or 0) is not None:
                        cart.lines.append(_Line(int(wanted), count))
            cart.lines = [ln for ln in cart.lines if ln.quantity > 0]
            if "note" in data:
                cart.note = None if data["note"] is None else str(data["note"])
            self._apply_attributes(cart, data)
        return self._cart_written(_json(self._cart_json(cart)), cart, created)

    def _cart_clear(self, shop: str) -> flask.Response:
        cart, created = self._cart_for_write(shop)
        with self._lock:
            cart.lines = []  # attributes and note stay, as on Shopify
        return self._cart_written(_json(self._cart_json(cart)), cart, created)

    def _apply_attributes(self, cart: _Cart, data: dict) -> None:
        attributes = data.get("attributes")
        if not isinstance(attributes, dict):
            return
        for name, value in attributes.items():
            if value is None or value == "":
                cart.attributes.pop(str(name), None)  # a blank value removes the attribute
            else:
                cart.attributes[str(name)] = value if isinstance(value, str) else json.dumps(value)
        self.attribute_writes.append({"shop": cart.shop, "token": cart.full_token, "attributes": dict(cart.attributes)})

    def _cart_written(self, response: _R, cart: _Cart, created: bool) -> _R:
        """After a cart write: Shopify's carts/create or carts/update webhook, and the cookie of a new cart."""
        with self._lock:
            body = payloads.cart_payload(cart.token, self._payload_lines(cart))
        self._deliver("carts/create" if created else "carts/update", cart.shop, body)
        if created:
            response.set_cookie(
                CART_COOKIE, cart.full_token, path=self.url(cart.shop).rstrip("/"), max_age=14 * 86400, samesite="Lax"
            )
        return response

    def _variant(self, variant_id: int) -> Product | None:
        return next((p for p in self.products.values() if p.variant_id == variant_id), None)

    def _cart_json(self, cart: _Cart) -> dict:
        currency = self.standin._shop(cart.shop).currency
        items = [self._line_json(cart, line) for line in cart.lines]
        total = sum(item["line_price"] for item in items)
        return {
            "token": cart.full_token,
            "note": cart.note,
            "attributes": dict(cart.attributes),
            "original_total_price": total,
            "total_price": total,
            "total_discount": 0,
            "total_weight": sum(item["grams"] * item["quantity"] for item in items),
            "item_count": sum(item["quantity"] for item in items),
            "items": items,
            "requires_shipping": bool(items),
            "currency": currency,
            "items_subtotal_price": total,
            "cart_level_discount_applications": [],
        }

    def _line_json(self, cart: _Cart, line: _Line) -> dict:
        product = self._variant(line.variant_id)
        assert product is not None
        price, line_price = product.price, product.price * line.quantity
        image = self.url(cart.shop, f"cdn/products/{product.handle}.svg")
        return {
            "id": line.variant_id,
            "properties": dict(line.properties),
            "quantity": line.quantity,
            "variant_id": line.variant_id,
            "key": line.key,
            "title": product.title,
            "price": price,
            "original_price": price,
            "discounted_price": price,
            "line_price": line_price,
            "original_line_price": line_price,
            "total_discount": 0,
            "discounts": [],
            "sku": product.handle.upper(),
            "grams": product.grams,
            "vendor": product.vendor,
            "taxable": True,
            "product_id": product.product_id,
            "product_has_only_default_variant": True,
            "gift_card": False,
            "final_price": price,
            "final_line_price": line_price,
            "url": self.url(cart.shop, f"products/{product.handle}?variant={line.variant_id}"),
            "featured_image": {"url": image, "alt": product.title, "aspect_ratio": 1.0, "width": 600, "height": 600},
            "image": image,
            "handle": product.handle,
            "requires_shipping": True,
            "product_type": "",
            "product_title": product.title,
            "product_description": product.description,
            "variant_title": None,
            "variant_options": ["Default Title"],
            "options_with_values": [{"name": "Title", "value": "Default Title"}],
            "line_level_discount_allocations": [],
            "line_level_total_discount": 0,
        }

    def _cart_drop(self, cart: _Cart | None) -> dict:
        """The Liquid `cart` object."""
        if cart is None:
            return {"item_count": 0, "total_price": 0, "items": [], "attributes": {}, "note": None}
        shown = self._cart_json(cart)
        return {**shown, "attributes": dict(cart.attributes)}

    def _payload_lines(self, cart: _Cart) -> list[dict]:
        """The cart's lines as standin_payloads takes them (money as decimal text)."""
        lines = []
        for line in cart.lines:
            product = self._variant(line.variant_id)
            assert product is not None
            lines.append(
                {
                    "title": product.title,
                    "price": str(_major(product.price)),
                    "quantity": line.quantity,
                    "variant_id": product.variant_id,
                    "product_id": product.product_id,
                    "sku": product.handle.upper(),
                }
            )
        return lines

    # ---- checkout ------------------------------------------------------------------

    def _checkout(self, shop: str) -> BaseResponse:
        """One click from cart to paid order: no payment step, nothing leaves the machine."""
        cart = self._current_cart(shop)
        if cart is None or not cart.lines:
            return flask.redirect(self.url(shop, "cart"), 303)
        order = self._place_order(cart, self._signed_in_customer(shop))
        response = flask.redirect(self.url(shop, f"orders/{order['id']}"), 303)
        # The order used the cart up: the next add-to-cart starts a new one, as on Shopify.
        response.delete_cookie(CART_COOKIE, path=self.url(shop).rstrip("/"))
        return response

    def _place_order(self, cart: _Cart, customer: dict | None) -> dict:
        """The orders/create body of the cart's order; it is queued for Parley and the cart is gone."""
        with self._lock:
            record = self.standin._shop(cart.shop)
            lines = [
                payloads.line_item(
                    line["title"],
                    line["price"],
                    line["quantity"],
                    currency=record.currency,
                    variant_id=line["variant_id"],
                    product_id=line["product_id"],
                )
                for line in self._payload_lines(cart)
            ]
            for line, product in zip(lines, (self._variant(ln.variant_id) for ln in cart.lines), strict=False):
                line["vendor"], line["grams"] = product.vendor, product.grams  # type: ignore[union-attr]
            buyer = (
                payloads.customer(customer["id"], customer["email"], customer["first_name"], customer["last_name"])
                if customer
                else None
            )
            applied: list[dict] = []
            if cart.discount_code:
                subtotal = sum((Decimal(p["price"]) * p["quantity"] for p in lines), Decimal(0))
                found = self.standin.catalogue(cart.shop).discount_for(cart.discount_code, subtotal)
                if found is not None:
                    code, off = found
                    code.used += 1
                    kind = "percentage" if code.percentage is not None else "fixed_amount"
                    applied.append({"code": code.code, "amount": f"{off:.2f}", "type": kind})
            for sold in cart.lines:  # the order takes its units out of stock
                hit = self.standin.catalogue(cart.shop).variant(sold.variant_id)
                if hit is not None and hit[1].inventory is not None:
                    hit[1].inventory = max(hit[1].inventory - sold.quantity, 0)
            # A random 13-digit id like Shopify's: the demo's database outlives the stand-in's
            # memory, and an id used before a restart would update that old order instead.
            order = payloads.order_payload(
                discount_codes=applied,
                order_id=10**12 + secrets.randbelow(9 * 10**12),
                number=self._next_order_number(cart.shop),
                lines=lines,
                currency=record.currency,
                note_attributes=dict(cart.attributes),
                cart_token=cart.token,
                buyer=buyer,
            )
            order["note"] = cart.note
            self._carts.pop(cart.token, None)
            self.orders.append({"shop": cart.shop, "order": order})
        if customer is not None:
            self._add_to_order_history(cart.shop, customer["id"], order)
        self._deliver("orders/create", cart.shop, order)
        return order

    def _next_order_number(self, shop: str) -> int:
        """After the shop's highest order name (#1001, #1002 …), so a new order never repeats one."""
        with self.standin._lock:
            names = [order["name"] for order in self.standin._shop(shop).orders.values()]
        names += [placed["order"]["name"] for placed in self.orders if placed["shop"] == shop]
        numbers = [int(name.lstrip("#")) for name in names if name.lstrip("#").isdigit()]
        return max([FIRST_ORDER_NUMBER - 1, *numbers]) + 1

    def _add_to_order_history(self, shop: str, customer_id: int, order: dict) -> None:
        """The Admin API knows the order too, so the customer's panel in Parley lists it."""
        standin = self.standin
        record = standin._shop(shop)
        stored = standin._normalize_order(
            {
                "id": order["id"],
                "name": order["name"],
                "created_at": order["created_at"],
                "total": order["total_price"],
                "currency": order["currency"],
                "financial_status": order["financial_status"],
                "fulfillment_status": order["fulfillment_status"],
                "note_attributes": order["note_attributes"],
            },
            customer_id,
        )
        with standin._lock:
            if customer_id in record.customers:
                record.orders[stored["id"]] = stored
                record.customers[customer_id]["order_ids"].append(stored["id"])

    def _order_status(self, shop: str, order_id: int) -> flask.Response:
        with self._lock:
            order = next(
                (
                    placed["order"]
                    for placed in self.orders
                    if placed["shop"] == shop and placed["order"]["id"] == order_id
                ),
                None,
            )
        if order is None:
            return self._page(shop, "404", {}, status=404)
        shown = {
            "name": order["name"],
            "total": _minor(order["total_price"]),
            "customer": order["customer"],
            "attributes": order["note_attributes"],
            "items": [
                {
                    "title": line["title"],
                    "quantity": line["quantity"],
                    "line_price": _minor(line["price"]) * line["quantity"],
                }
                for line in order["line_items"]
            ],
        }
        return self._page(shop, "order", {"order": shown})

    # ---- webhooks to Parley ---------------------------------------------------------

    def _deliver(self, topic: str, shop: str, payload: dict) -> None:
        """Queue one signed webhook; the sender thread posts it to Parley's /webhooks/commerce."""
        if not self.deliver_webhooks or not self.app_url:
            return
        body = json.dumps(payload).encode()
        self._outbox.put((topic, shop, body, self.standin.webhook_headers(topic, shop, body)))
        with self._lock:
            if self._sender is None:
                self._sender = threading.Thread(target=self._send_webhooks, name="standin-webhooks", daemon=True)
                self._sender.start()

    def _send_webhooks(self) -> None:
        # One sender keeps deliveries in the order the shopper made them (an older
        # carts/update never lands after a newer one).
        while True:
            item = self._outbox.get()
            if item is None:
                self._outbox.task_done()
                return
            topic, shop, body, headers = item
            entry: dict[str, Any] = {"topic": topic, "shop": shop, "status": None, "error": None}
            target = f"{self.app_url.rstrip('/')}/webhooks/commerce"
            try:
                answer = self._webhook_http.post(target, content=body, headers=headers)
                entry["status"] = answer.status_code
                if answer.status_code >= 300:
                    log.warning(
                        "stand-in webhook %s for %s: %s answered HTTP %s", topic, shop, target, answer.status_code
                    )
            except Exception as error:  # noqa: BLE001 - Parley down or closing: log it, keep the storefront up
                entry["error"] = repr(error)
                log.warning("stand-in webhook %s for %s not delivered to %s: %r", topic, shop, target, error)
            finally:
                with self._lock:
                    self.webhooks.append(entry)
                self._outbox.task_done()

    # ---- the app proxy -------------------------------------------------------------

    def _proxy(self, shop: str, path: str) -> flask.Response:
        request = flask.request
        customer = self._signed_in_customer(shop)
        own = [(k, v) for k, v in request.args.items(multi=True) if k not in PROXY_PARAMS]
        query = self.standin.proxy_query(
            shop,
            logged_in_customer_id=str(customer["id"]) if customer else "",
            path_prefix=f"/{self.proxy_prefix}/{self.proxy_subpath}",
            extra=own,
        )
        target = f"{self.app_url.rstrip('/')}{self.proxy_path}" + (f"/{path}" if path else "")
        headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
        headers["X-Forwarded-For"] = request.remote_addr or ""
        try:
            answer = self._http.request(
                request.method, f"{target}?{urlencode(query)}", headers=headers, content=request.get_data()
            )
        except httpx.HTTPError as error:
            with self._lock:
                self.proxied.append({"method": request.method, "path": path, "status": None, "error": repr(error)})
            return flask.Response(
                "<!doctype html><title>Error</title><p>There was an error in the third-party application.</p>",
                502,
                mimetype="text/html",
            )
        with self._lock:
            self.proxied.append({"method": request.method, "path": path, "status": answer.status_code})
        content_type = answer.headers.get("Content-Type", "")
        if content_type.startswith("application/liquid"):
            return self._proxied_liquid(shop, answer)
        response = flask.Response(answer.content, answer.status_code, content_type=content_type or None)
        for name, value in answer.headers.multi_items():
            if name.lower() not in DROPPED_RESPONSE_HEADERS and name.lower() != "content-type":
                response.headers.add(name, value)
        return response

    def _proxied_liquid(self, shop: str, answer: httpx.Response) -> flask.Response:
        """`application/liquid` answers are rendered inside the theme layout, like Shopify does."""
        locale = self._locale()
        env = self._environment(locale)
        context = self._liquid_context(shop, locale)
        content = env.from_string(answer.text).render(**context)
        head, body_end = self._app_embed(shop, env, context)
        page = env.from_string(THEME_LAYOUT).render(
            **context,
            content_for_layout=content,
            content_for_header=self._content_for_header(shop, locale) + head,
            app_embeds=body_end,
            page_template="proxy",
        )
        return flask.Response(page, answer.status_code, mimetype="text/html")


def _brotli() -> Any:
    try:
        return importlib.import_module("brotli")
    except ImportError:  # gzip alone, then
        return None


def enable_storefront(
    standin: ShopifyStandin, app_url: str, extension_dir: Path | str = EXTENSION_DIR, **options: Any
) -> Storefront:
    """Give every shop of `standin` an Online Store; call before the stand-in serves its first request."""
    storefront = Storefront(standin, app_url, extension_dir, **options)
    standin.storefront = storefront
    return storefront


def _keep_proxied_body() -> None:
    if (flask.request.endpoint or "").startswith("storefront_proxy"):
        flask.request.get_data(cache=True)  # form parsing then reads this copy


# ---- small pure helpers ---------------------------------------------------------------


def _split_schema(source: str) -> tuple[dict, str]:
    """(the block's schema JSON, the block's Liquid without it)."""
    match = SCHEMA_TAG.search(source)
    if match is None:
        return {}, source
    return json.loads(match.group("json")), source[: match.start()] + source[match.end() :]


_INTERPOLATION = re.compile(r"{{\s*(\w+)\s*}}")


def _translate(key: str, locale: str, translations: dict, fallback: dict, variables: dict) -> str:
    """Shopify's `t`: a dotted key, `{{ var }}` interpolation, `count` plurals, and HTML escaping
    unless the key ends in `_html`."""
    value = _lookup(translations, key)
    if value is None:
        value = _lookup(fallback, key)
    if value is None:
        return html.escape(f"translation missing: {locale}.{key}")
    if isinstance(value, dict):
        count = variables.get("count")
        value = value.get("one" if count in (1, "1") else "other", "")
    text = _INTERPOLATION.sub(lambda m: str(variables.get(m.group(1), m.group(0))), str(value))
    return text if key.endswith("_html") else html.escape(text)


def _lookup(translations: dict, key: str) -> Any:
    node: Any = translations
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _format_money(amount: object, currency: str) -> str:
    try:
        minor = int(amount)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""
    return CURRENCY_SYMBOLS.get(currency, f"{currency} ") + f"{Decimal(minor).scaleb(-2):,.2f}"


def _major(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2)


def _minor(amount: str) -> int:
    return int(Decimal(amount).scaleb(2))


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _json(body: Any, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(body), status, mimetype="application/json")


def _ajax_body() -> dict:
    """The Ajax API takes JSON or a form (`attributes[k]=v`, `updates[id]=n`, `items[][id]=…`)."""
    request = flask.request
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return _nest_form(request.form)


_BRACKETS = re.compile(r"^(?P<name>[^\[]+)\[(?P<key>[^\]]*)\](?:\[(?P<sub>[^\]]+)\])?$")


def _nest_form(form: MultiDict) -> dict:
    data: dict[str, Any] = {}
    for name, value in form.items(multi=True):
        match = _BRACKETS.match(name)
        if match is None:
            data[name] = value
        elif match["key"] == "":  # items[][id]=1&items[][quantity]=2
            items = data.setdefault(match["name"], [])
            if not items or match["sub"] in items[-1]:
                items.append({})
            items[-1][match["sub"]] = value
        else:
            data.setdefault(match["name"], {})[match["key"]] = value
    return data


def _product_svg(product: Product) -> str:
    hue = product.hue
    initial = html.escape(product.title[:1])
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 600" width="600" height="600">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue},55%,86%)"/><stop offset="1" stop-color="hsl({(hue + 40) % 360},60%,70%)"/>'
        '</linearGradient></defs><rect width="600" height="600" fill="url(#g)"/>'
        f'<circle cx="300" cy="300" r="170" fill="hsl({hue},45%,96%)" opacity=".55"/>'
        f'<text x="300" y="350" text-anchor="middle" font-family="Georgia,serif" font-size="150" '
        f'fill="hsl({hue},40%,30%)">{initial}</text></svg>'
    )


# ---- the theme ---------------------------------------------------------------------------

THEME_LAYOUT = """<!doctype html>
<html lang="{{ request.locale.iso_code }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{{ shop.name | escape }}</title>
  {{ content_for_header }}
  <style>
    :root { --ink:#1f2328; --muted:#5f6b76; --line:#e6e2dc; --paper:#fbf9f6; --brand:#2d4a3e; }
    * { box-sizing: border-box; }
    body { margin:0; font:16px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif;
           color:var(--ink); background:var(--paper); }
    a { color:inherit; }
    .announce { background:var(--brand); color:#fff; text-align:center; font-size:13px; padding:6px 12px; }
    header.site { display:flex; align-items:center; gap:16px; flex-wrap:wrap; padding:16px 24px;
                  border-bottom:1px solid var(--line); background:#fff; }
    .logo { font:600 22px/1 Georgia, serif; text-decoration:none; margin-inline-end:auto; }
    header.site nav { display:flex; gap:14px; align-items:center; flex-wrap:wrap; font-size:14px; }
    .locales a { text-decoration:none; padding:2px 6px; border-radius:6px; }
    .locales a[aria-current] { background:var(--line); }
    .pill { display:inline-block; min-width:20px; text-align:center; background:var(--brand); color:#fff;
            border-radius:10px; font-size:12px; padding:0 6px; }
    main { max-width:1040px; margin:0 auto; padding:32px 24px 120px; }
    h1 { font:600 30px/1.2 Georgia, serif; margin:0 0 8px; }
    .lede { color:var(--muted); margin:0 0 28px; }
    .grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(220px, 1fr)); gap:24px; }
    .card { background:#fff; border:1px solid var(--line); border-radius:14px; overflow:hidden; display:flex;
            flex-direction:column; }
    .card img, .product img { width:100%; height:auto; aspect-ratio:1; display:block; object-fit:cover; }
    .card .body { padding:14px 16px 16px; display:flex; flex-direction:column; gap:8px; flex:1; }
    .card h2 { font-size:16px; margin:0; }
    .card h2 a { text-decoration:none; }
    .price { font-weight:600; }
    .muted { color:var(--muted); font-size:14px; }
    button, .button { font:inherit; border:0; border-radius:10px; padding:10px 16px; background:var(--ink);
                      color:#fff; cursor:pointer; text-decoration:none; display:inline-block; }
    button.secondary { background:transparent; color:var(--ink); border:1px solid var(--ink); padding:6px 12px;
                       font-size:14px; }
    button[disabled] { opacity:.6; cursor:default; }
    .card form { margin-top:auto; }
    .card form button { width:100%; }
    .product { display:grid; grid-template-columns:minmax(0,1fr) minmax(0,1fr); gap:40px; align-items:start; }
    .product img { border-radius:16px; border:1px solid var(--line); }
    .product form { display:flex; gap:12px; align-items:center; margin:20px 0; }
    .product input[type=number] { width:72px; font:inherit; padding:8px; border:1px solid var(--line);
                                  border-radius:10px; }
    table.cart { width:100%; border-collapse:collapse; background:#fff; border-radius:14px; overflow:hidden; }
    table.cart th, table.cart td { text-align:start; padding:12px; border-bottom:1px solid var(--line); }
    dl.attributes { display:grid; grid-template-columns:max-content 1fr; gap:4px 16px; font-size:14px; }
    dl.attributes dt { color:var(--muted); } dl.attributes dd { margin:0; font-family:monospace; }
    @media (max-width: 700px) { .product { grid-template-columns:1fr; } }
  </style>
</head>
<body class="template-{{ page_template }}">
  <div class="announce">Demo storefront served by the local Shopify stand-in. Nothing here reaches the internet.</div>
  <header class="site">
    <a class="logo" href="{{ routes.root_url }}/">{{ shop.name | escape }}</a>
    <nav aria-label="Store">
      <a href="{{ routes.root_url }}/">Shop</a>
      <a href="{{ routes.cart_url }}" id="cart-link">Cart <span class="pill" data-cart-count>{{ cart.item_count }}</span></a>
      <span class="locales" aria-label="Language">
        {%- for language in localization.available_languages %}
        <a href="?locale={{ language.iso_code }}" lang="{{ language.iso_code }}" hreflang="{{ language.iso_code }}"
           {% if language.iso_code == request.locale.iso_code %}aria-current="true"{% endif %}>{{ language.endonym_name }}</a>
        {%- endfor %}
      </span>
      {%- if customer %}
      <span data-customer-id="{{ customer.id }}">Signed in as {{ customer.name | escape }}</span>
      <form method="post" action="{{ routes.account_logout_url }}" style="display:inline">
        <input type="hidden" name="return_to" value="{{ request.path | escape }}">
        <button class="secondary" type="submit" id="sign-out">Sign out</button>
      </form>
      {%- else %}
      <form method="post" action="{{ routes.account_login_url }}" style="display:inline">
        <input type="hidden" name="customer[email]" value="{{ demo_customer.email | escape }}">
        <input type="hidden" name="return_to" value="{{ request.path | escape }}">
        <button class="secondary" type="submit" id="sign-in">Sign in as demo customer</button>
      </form>
      {%- endif %}
    </nav>
  </header>
  <main>
    {{ content_for_layout }}
  </main>
  <script>
  (function () {
    // The theme's add-to-cart, as themes do it: the Ajax API, then refresh the cart count.
    var root = window.Shopify.routes.root;
    function showCount(cart) {
      document.querySelectorAll('[data-cart-count]').forEach(function (el) { el.textContent = cart.item_count; });
    }
    document.addEventListener('submit', function (event) {
      var form = event.target.closest('form[data-add-to-cart]');
      if (!form) return;
      event.preventDefault();
      var button = form.querySelector('button');
      var quantity = form.elements.quantity ? Number(form.elements.quantity.value) || 1 : 1;
      button.disabled = true;
      fetch(root + 'cart/add.js', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ items: [{ id: Number(form.elements.id.value), quantity: quantity }] })
      }).then(function (r) { if (!r.ok) throw new Error('add failed'); return fetch(root + 'cart.js'); })
        .then(function (r) { return r.json(); })
        .then(function (cart) {
          showCount(cart);
          button.textContent = 'Added ✓';
          document.dispatchEvent(new CustomEvent('cart:updated', { detail: { cart: cart } }));
        })
        .catch(function () { button.textContent = 'Try again'; })
        .finally(function () { button.disabled = false; });
    });
    document.addEventListener('click', function (event) {
      var remove = event.target.closest('[data-remove-line]');
      if (!remove) return;
      fetch(root + 'cart/change.js', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ line: Number(remove.dataset.removeLine), quantity: 0 })
      }).then(function () { location.reload(); });
    });
  })();
  </script>
  {{ app_embeds }}
</body>
</html>
"""

THEME_TEMPLATES = {
    "index": """
<h1>Made for weather</h1>
<p class="lede">A handful of things for wet harbours and cold fjords. Questions? The chat is in the corner.</p>
<div class="grid">
  {%- for product in products %}
  <article class="card" data-product-handle="{{ product.handle }}">
    <a href="{{ product.url }}"><img src="{{ product.image }}" alt="{{ product.title | escape }}" width="600" height="600"></a>
    <div class="body">
      <h2><a href="{{ product.url }}">{{ product.title | escape }}</a></h2>
      <span class="price">{{ product.price | money }}</span>
      <form method="post" action="{{ routes.cart_add_url }}" data-add-to-cart>
        <input type="hidden" name="id" value="{{ product.variant_id }}">
        <button type="submit">Add to cart</button>
      </form>
    </div>
  </article>
  {%- endfor %}
</div>
""",
    "product": """
<div class="product" data-product-handle="{{ product.handle }}">
  <img src="{{ product.image }}" alt="{{ product.title | escape }}" width="600" height="600">
  <div>
    <p class="muted">{{ product.vendor | escape }}</p>
    <h1>{{ product.title | escape }}</h1>
    <p class="price">{{ product.price | money }}</p>
    <p>{{ product.description | escape }}</p>
    <form method="post" action="{{ routes.cart_add_url }}" data-add-to-cart>
      <input type="hidden" name="id" value="{{ product.variant_id }}">
      <label>Quantity <input type="number" name="quantity" value="1" min="1"></label>
      <button type="submit">Add to cart</button>
    </form>
    <p><a href="{{ routes.root_url }}/">← All products</a></p>
  </div>
</div>
""",
    "cart": """
<h1>Your cart</h1>
{%- if cart.item_count == 0 %}
<p class="lede">Your cart is empty. <a href="{{ routes.root_url }}/">Keep shopping</a></p>
{%- else %}
<table class="cart">
  <thead><tr><th>Product</th><th>Quantity</th><th>Total</th><th></th></tr></thead>
  <tbody>
  {%- for item in cart.items %}
    <tr><td><a href="{{ item.url }}">{{ item.title | escape }}</a></td><td>{{ item.quantity }}</td>
        <td>{{ item.line_price | money }}</td>
        <td><button class="secondary" type="button" data-remove-line="{{ forloop.index }}">Remove</button></td></tr>
  {%- endfor %}
  </tbody>
  <tfoot><tr><th colspan="2">Subtotal</th><th colspan="2">{{ cart.total_price | money }}</th></tr></tfoot>
</table>
<form method="post" action="{{ routes.checkout_url }}">
  <p><button type="submit" id="checkout">Check out</button>
     <span class="muted">Demo checkout: no payment, the order is placed at once.</span></p>
</form>
{%- endif %}
{%- if cart.attributes.size > 0 %}
<h2>Cart attributes</h2>
<p class="muted">They travel with the order as <code>note_attributes</code>.</p>
<dl class="attributes">
  {%- for attribute in cart.attributes %}
  <dt>{{ attribute[0] | escape }}</dt><dd>{{ attribute[1] | escape }}</dd>
  {%- endfor %}
</dl>
{%- endif %}
""",
    "order": """
<h1 data-order-name="{{ order.name | escape }}">Order {{ order.name | escape }} placed</h1>
<p class="lede">Thank you{% if order.customer %}, {{ order.customer.first_name | escape }}{% endif %}! Your order is confirmed.</p>
<table class="cart">
  <thead><tr><th>Product</th><th>Quantity</th><th>Total</th></tr></thead>
  <tbody>
  {%- for item in order.items %}
    <tr><td>{{ item.title | escape }}</td><td>{{ item.quantity }}</td><td>{{ item.line_price | money }}</td></tr>
  {%- endfor %}
  </tbody>
  <tfoot><tr><th colspan="2">Total</th><th>{{ order.total | money }}</th></tr></tfoot>
</table>
<p class="muted">The stand-in sent Parley a signed <code>orders/create</code> webhook{% if order.attributes.size > 0 %}
  carrying the cart's attributes as <code>note_attributes</code>{% endif %}: the order appears beside the
  conversation in the Support page and in Insights.</p>
<p><a href="{{ routes.root_url }}/">Continue shopping</a></p>
""",
    "404": """
<h1>Page not found</h1>
<p class="lede"><a href="{{ routes.root_url }}/">Continue shopping</a></p>
""",
}
