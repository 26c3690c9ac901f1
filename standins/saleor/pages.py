"""Two demo pages the Saleor stand-in serves for `make demo`. Development only.

- `/dashboard/` plays the Saleor Dashboard's app page. It iframes
  `{APP_URL}/saleor/app?saleorApiUrl=…&id=<app id>&theme=light` and speaks the
  Dashboard's side of the postMessage protocol (saleor.md §A4,
  app/web/static/admin/host-saleor.js). It sends a `handshake` with a freshly minted
  Dashboard token when the frame loads and after every `notifyReady`, and a
  `tokenRefresh` 30 s before the token ends. Every action with an `actionId` gets
  `{type: "response", payload: {actionId, ok: true}}`; `redirect` and
  `notification` are carried out.
- `/storefront/` plays a Saleor storefront. It lists a few products, and "Add to cart"
  creates (then grows) a checkout in the stand-in. "Sign in as demo customer" mints a
  customer access token, and "Place order" runs `checkoutComplete`. The page carries
  Parley's one-line widget snippet and passes the checkout and the customer to it with
  `window.Parley.setCheckout(id)` and `window.Parley.identify(token)`.

Like standin.py it imports nothing of Parley's own. It refuses to run under
PARLEY_ENV=production.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import flask

from standins.saleor.standin import ACCESS_TTL, VERSION, SaleorStandin

CURRENCY = "EUR"
CUSTOMER = {"email": "kadri@example.com", "first_name": "Kadri", "last_name": "Kask"}
STAFF = {"email": "staff@parley-demo.example", "first_name": "Demo", "last_name": "Staff"}
SANDBOX = "allow-same-origin allow-forms allow-scripts allow-downloads allow-popups"  # the Dashboard's


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    name: str
    sku: str
    price: str  # gross unit price in CURRENCY
    hue: int


DEMO_PRODUCTS = (
    DemoProduct("aurora-parka", "Aurora Down Parka", "AUR-PARKA", "189.00", 220),
    DemoProduct("birch-mittens", "Birch Wool Mittens", "BIRCH-MIT", "34.00", 30),
    DemoProduct("old-town-tea", "Old Town Tea Tin", "TEA-TIN", "12.50", 140),
)


class ProductionRefused(RuntimeError):
    pass


class DemoPages:
    """The Dashboard and storefront pages of one SaleorStandin, wired to one Parley."""

    def __init__(self, standin: SaleorStandin, app_url: str, products: tuple[DemoProduct, ...] = DEMO_PRODUCTS):
        self.standin = standin
        self.app_url = app_url.rstrip("/")
        self.products = {product.slug: product for product in products}
        self.customer_id = standin.add_customer(
            CUSTOMER["email"], first_name=CUSTOMER["first_name"], last_name=CUSTOMER["last_name"]
        )
        self.staff_id = standin.add_customer(
            STAFF["email"], first_name=STAFF["first_name"], last_name=STAFF["last_name"], is_staff=True
        )
        # The same products in the stand-in's catalogue, so the agent finds and sends them.
        for number, product in enumerate(products, start=1):
            standin.add_product(
                900 + number,
                product.name,
                product.slug,
                [{"pk": 9000 + number, "name": "", "sku": product.sku, "price": product.price, "stock": 20}],
                thumbnail=f"/storefront/products/{product.slug}.svg",
            )
        self._register(standin.app)

    def _register(self, app: flask.Flask) -> None:
        rules: list[tuple[str, str, Any, list[str]]] = [
            ("/dashboard/", "demo_dashboard", self._dashboard, ["GET"]),
            ("/dashboard/token", "demo_dashboard_token", self._dashboard_token, ["POST"]),
            ("/storefront/", "demo_storefront", self._storefront, ["GET"]),
            ("/storefront/products/<slug>.svg", "demo_product_picture", self._picture, ["GET"]),
            ("/storefront/api/checkout/<checkout_id>", "demo_checkout", self._checkout, ["GET"]),
            ("/storefront/api/cart", "demo_cart_add", self._add_to_cart, ["POST"]),
            ("/storefront/api/sign-in", "demo_sign_in", self._sign_in, ["POST"]),
            ("/storefront/api/order", "demo_place_order", self._place_order, ["POST"]),
        ]
        for path, name, view, methods in rules:
            app.add_url_rule(path, name, view, methods=methods)

    # ---- the Dashboard -----------------------------------------------------------

    def app_page_url(self) -> str | None:
        """The iframe's URL as the Dashboard builds it; None before Parley is installed."""
        app = self.standin.installed_app
        if app is None:
            return None
        query = urlencode({"saleorApiUrl": self.standin.api_url, "id": app.id, "theme": "light"})
        return f"{self.app_url}/saleor/app?{query}"

    def _dashboard(self) -> flask.Response:
        src = self.app_page_url()
        if src is None:
            body = (
                '<p class="notice">Parley is not installed in this Saleor yet. `make demo` installs it '
                "right after Parley starts: reload in a moment.</p>"
            )
        else:
            body = f'<iframe id="app" title="Parley" src="{html.escape(src)}" sandbox="{SANDBOX}"></iframe>'
        app_id = ""
        if src:
            app = self.standin.installed_app
            assert app is not None  # app_page_url gives a URL only while an app is installed
            app_id = app.id
        config = {
            "appUrl": f"{self.app_url}/saleor/app",
            "appId": app_id,
            "version": VERSION,
        }
        page = (
            DASHBOARD_PAGE.replace("{{STAFF}}", html.escape(STAFF["email"]))
            .replace("{{BODY}}", body)
            .replace("{{CONFIG}}", _script_json(config))
        )
        return _html(page)

    def _dashboard_token(self) -> flask.Response:
        token = self.standin.mint_dashboard_token(email=STAFF["email"], user_id=self.staff_id)
        return _json({"token": token, "expires_in": ACCESS_TTL})

    # ---- the storefront ----------------------------------------------------------

    def _picture(self, slug: str) -> flask.Response:
        """The product's tile as a picture, for the thumbnails Saleor's API answers."""
        product = self.products.get(slug)
        if product is None:
            return _json({"error": "not_found", "message": "no such product"}, 404)
        hue = product.hue
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160" viewBox="0 0 160 160">'
            f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({hue},55%,86%)"/>'
            f'<stop offset="1" stop-color="hsl({(hue + 40) % 360},60%,70%)"/></linearGradient></defs>'
            '<rect width="160" height="160" fill="url(#g)"/>'
            f'<text x="80" y="104" font-size="72" text-anchor="middle" font-family="serif" fill="#444">{html.escape(product.name[:1])}</text>'
            "</svg>"
        )
        return flask.Response(svg, mimetype="image/svg+xml")

    def _storefront(self) -> flask.Response:
        cards = "".join(
            f'<article class="card" data-product="{html.escape(p.slug)}">'
            f'<div class="picture" style="background:linear-gradient(135deg,hsl({p.hue},55%,86%),hsl({(p.hue + 40) % 360},60%,70%))">'
            f"{html.escape(p.name[:1])}</div>"
            f'<h2>{html.escape(p.name)}</h2><p class="price">€{html.escape(p.price)}</p>'
            f'<button type="button" class="add" data-add="{html.escape(p.slug)}">Add to cart</button></article>'
            for p in self.products.values()
        )
        snippet = (
            f'<script src="{html.escape(self.app_url)}/widget/parley.js" '
            f'data-shop="{html.escape(self.standin.api_url)}" async></script>'
        )
        page = (
            STOREFRONT_PAGE.replace("{{PRODUCTS}}", cards)
            .replace("{{SNIPPET}}", snippet)
            .replace("{{CONFIG}}", _script_json({"apiUrl": self.standin.api_url, "customer": CUSTOMER}))
        )
        return _html(page)

    def _checkout(self, checkout_id: str) -> flask.Response:
        summary = self._summary(checkout_id)
        if summary is None:
            return _json({"error": "checkout_not_found", "message": "There is no such checkout (any more)."}, 404)
        return _json(summary)

    def _add_to_cart(self) -> flask.Response:
        data = flask.request.get_json(silent=True) or {}
        product = self.products.get(str(data.get("product")))
        if product is None:
            return _json({"error": "unknown_product", "message": "There is no such product."}, 400)
        line = {"name": product.name, "sku": product.sku, "quantity": 1, "price": product.price}
        checkout_id = data.get("checkout_id")
        if isinstance(checkout_id, str) and self._summary(checkout_id) is not None:
            self.standin.add_checkout_line(checkout_id, line)  # checkoutLinesAdd
        else:  # checkoutCreate, for the signed-in customer when the request carries their token
            user_id = self.customer_id if self._signed_in() else None
            checkout_id = self.standin.add_checkout([line], currency=CURRENCY, user_id=user_id)
        return _json(self._summary(checkout_id))

    def _sign_in(self) -> flask.Response:
        """What `tokenCreate` answers the storefront: the customer's access token."""
        token = self.standin.mint_customer_token(self.customer_id)
        name = f"{CUSTOMER['first_name']} {CUSTOMER['last_name']}"
        return _json({"token": token, "expires_in": ACCESS_TTL, "email": CUSTOMER["email"], "name": name})

    def _place_order(self) -> flask.Response:
        checkout_id = (flask.request.get_json(silent=True) or {}).get("checkout_id")
        if not isinstance(checkout_id, str) or self._summary(checkout_id) is None:
            return _json({"error": "checkout_not_found", "message": "There is no such checkout (any more)."}, 404)
        order_id = self.standin.complete_checkout(checkout_id)  # fires ORDER_CREATED
        order = self.standin.order(order_id)
        return _json(
            {
                "order_id": order_id,
                "number": order["number"],
                "total": f"{order['total']:.2f}",
                "currency": order["currency"],
            }
        )

    def _signed_in(self) -> bool:
        caller = self.standin._caller(flask.request.headers.get("Authorization", ""))  # same package
        return caller.user is not None and caller.user["email"] == CUSTOMER["email"]

    def _summary(self, checkout_id: str) -> dict | None:
        try:
            checkout = self.standin.checkout(checkout_id)
        except (KeyError, TypeError):
            return None
        lines = [
            {"name": line["name"], "quantity": line["quantity"], "total": f"{line['price'] * line['quantity']:.2f}"}
            for line in checkout["lines"]
        ]
        total = sum((line["price"] * line["quantity"] for line in checkout["lines"]), Decimal(0))
        return {
            "id": checkout_id,
            "token": checkout["token"],
            "lines": lines,
            "total": f"{total:.2f}",
            "currency": checkout["currency"],
            "quantity": sum(line["quantity"] for line in checkout["lines"]),
        }


def enable_demo_pages(standin: SaleorStandin, app_url: str, environ: Mapping[str, str] | None = None) -> DemoPages:
    """Add the demo pages to `standin`; call before it serves its first request."""
    env = os.environ if environ is None else environ
    if env.get("PARLEY_ENV", "").strip().lower() == "production":
        raise ProductionRefused("the Saleor stand-in's demo pages are refused in production (PARLEY_ENV=production)")
    pages = DemoPages(standin, app_url)
    standin.demo_pages = pages  # type: ignore[attr-defined]
    return pages


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _html(page: str) -> flask.Response:
    response = flask.Response(page, 200, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _json(body: Any, status: int = 200) -> flask.Response:
    return flask.Response(json.dumps(body), status, mimetype="application/json")


DASHBOARD_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Saleor Dashboard (stand-in)</title>
  <style>
    * { box-sizing: border-box; }
    body { margin:0; height:100vh; display:grid; grid-template-columns:220px minmax(0,1fr);
           font:14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif; color:#1f2328;
           background:#f5f6f8; }
    nav { background:#fff; border-inline-end:1px solid #e3e6ea; padding:18px 14px; display:flex;
          flex-direction:column; gap:4px; }
    .brand { font-weight:700; font-size:16px; margin:0 8px 14px; }
    .brand small { display:block; font-weight:400; color:#6b7480; font-size:12px; }
    nav a { color:inherit; text-decoration:none; padding:7px 8px; border-radius:6px; }
    nav a[aria-current] { background:#eceff3; font-weight:600; }
    nav .foot { margin-top:auto; color:#6b7480; font-size:12px; padding:0 8px; }
    main { display:flex; flex-direction:column; min-width:0; }
    header { display:flex; align-items:center; gap:12px; padding:10px 18px; background:#fff;
             border-bottom:1px solid #e3e6ea; }
    header h1 { font-size:16px; margin:0; margin-inline-end:auto; }
    iframe { flex:1; width:100%; border:0; background:#fff; }
    .notice { padding:24px; }
    #toasts { position:fixed; inset-inline-end:16px; bottom:16px; display:flex; flex-direction:column; gap:8px; }
    .toast { background:#1f2328; color:#fff; padding:10px 14px; border-radius:8px; max-width:340px; }
  </style>
</head>
<body>
  <nav aria-label="Dashboard">
    <div class="brand">Saleor Dashboard<small>stand-in for the demo</small></div>
    <a href="#">Home</a><a href="#">Orders</a><a href="#">Customers</a>
    <a href="#" aria-current="page">Apps › Parley</a>
    <a href="/storefront/" target="_blank" rel="noopener">Open the storefront ↗</a>
    <div class="foot">Signed in as {{STAFF}}</div>
  </nav>
  <main>
    <header><h1>Parley</h1><label><input type="checkbox" id="dark"> Dark theme</label></header>
    {{BODY}}
  </main>
  <div id="toasts" aria-live="polite"></div>
  <script>
  (function () {
    'use strict';
    // The Dashboard's side of the app protocol (saleor.md section A4). It keeps what
    // the app sent in window.actions for whoever is looking (and the tests).
    var config = {{CONFIG}};
    var frame = document.getElementById('app');
    window.actions = [];
    if (!frame) return;
    var appOrigin = new URL(frame.src).origin;
    var carried = new URL(frame.src).search;
    var theme = 'light';
    var refreshTimer = null;

    function send(message) {
      if (frame.contentWindow) frame.contentWindow.postMessage(message, appOrigin);
    }

    // A fresh token from the stand-in, as the Dashboard keeps one for its staff member;
    // a new one goes to the app about 30 seconds before this one ends.
    function mint() {
      return fetch('token', { method: 'POST' })
        .then(function (r) { return r.json(); })
        .then(function (answer) {
          clearTimeout(refreshTimer);
          refreshTimer = setTimeout(function () {
            mint().then(function (token) { send({ type: 'tokenRefresh', payload: { token: token } }); });
          }, Math.max(5, answer.expires_in - 30) * 1000);
          return answer.token;
        });
    }

    function handshake() {
      return mint().then(function (token) {
        send({ type: 'handshake', payload: { token: token, version: 1, saleorVersion: config.version,
                                             dashboardVersion: config.version } });
        send({ type: 'theme', payload: { theme: theme } });
      });
    }

    function toast(title, text) {
      var box = document.createElement('div');
      box.className = 'toast';
      box.textContent = title + (text ? ': ' + text : '');
      document.getElementById('toasts').appendChild(box);
      setTimeout(function () { box.remove(); }, 4000);
    }

    // `to` is a Dashboard path: /apps/<app id>/app/<rest> opens <appUrl>/<rest> in the frame.
    function redirect(to) {
      var prefix = '/apps/' + config.appId + '/app';
      if (typeof to !== 'string') return;
      if (to.indexOf(prefix) === 0) frame.src = config.appUrl + to.slice(prefix.length) + carried;
      else if (/^https?:/.test(to)) window.open(to, '_blank', 'noopener');
    }

    window.addEventListener('message', function (event) {
      if (event.origin !== appOrigin || event.source !== frame.contentWindow) return;
      var data = event.data || {};
      var payload = data.payload || {};
      window.actions.push(data);
      if (!payload.actionId) return; // the Dashboard ignores an action without one
      if (data.type === 'notifyReady') handshake();
      else if (data.type === 'notification') toast(payload.title || '', payload.text || '');
      else if (data.type === 'redirect') redirect(payload.to);
      send({ type: 'response', payload: { actionId: payload.actionId, ok: true } });
    });
    frame.addEventListener('load', handshake);
    document.getElementById('dark').addEventListener('change', function (event) {
      theme = event.target.checked ? 'dark' : 'light';
      send({ type: 'theme', payload: { theme: theme } });
    });
  })();
  </script>
</body>
</html>
"""

STOREFRONT_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Saleor storefront (stand-in)</title>
  <style>
    * { box-sizing: border-box; }
    body { margin:0; font:16px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif;
           color:#1c1f24; background:#fafaf7; }
    .announce { background:#3b2f63; color:#fff; text-align:center; font-size:13px; padding:6px 12px; }
    header { display:flex; align-items:center; gap:14px; flex-wrap:wrap; padding:16px 24px; background:#fff;
             border-bottom:1px solid #e7e5df; }
    .logo { font:600 22px/1 Georgia, serif; margin-inline-end:auto; }
    main { max-width:1080px; margin:0 auto; padding:28px 24px 120px; display:grid;
           grid-template-columns:minmax(0,1fr) 320px; gap:32px; align-items:start; }
    .grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(200px, 1fr)); gap:20px; }
    .card { background:#fff; border:1px solid #e7e5df; border-radius:14px; padding:14px; display:flex;
            flex-direction:column; gap:8px; }
    .picture { aspect-ratio:1; border-radius:10px; display:grid; place-items:center;
               font:600 64px Georgia, serif; color:rgba(0,0,0,.45); }
    .card h2 { font-size:16px; margin:0; }
    .price { font-weight:600; margin:0; }
    button { font:inherit; border:0; border-radius:10px; padding:9px 14px; background:#1c1f24; color:#fff;
             cursor:pointer; }
    button.secondary { background:transparent; color:#1c1f24; border:1px solid #1c1f24; padding:6px 12px;
                       font-size:14px; }
    button[disabled] { opacity:.5; cursor:default; }
    aside { background:#fff; border:1px solid #e7e5df; border-radius:14px; padding:18px; position:sticky; top:16px; }
    aside h2 { margin:0 0 10px; font-size:18px; }
    aside ul { list-style:none; padding:0; margin:0 0 10px; }
    aside li { display:flex; justify-content:space-between; gap:8px; padding:4px 0; border-bottom:1px solid #f0eee9; }
    .muted { color:#646b75; font-size:13px; }
    code { font-size:12px; word-break:break-all; }
    #placed { font-weight:600; color:#1f6f43; }
    @media (max-width: 760px) { main { grid-template-columns:1fr; } }
  </style>
</head>
<body>
  <div class="announce">Demo Saleor storefront served by the local Saleor stand-in. Nothing here reaches the internet.</div>
  <header>
    <span class="logo">Nordic Goods</span>
    <span id="who" class="muted"></span>
    <button type="button" class="secondary" id="sign-in">Sign in as demo customer</button>
    <button type="button" class="secondary" id="sign-out" hidden>Sign out</button>
  </header>
  <main>
    <section>
      <h1>Warm things for cold days</h1>
      <p class="muted">Questions? The chat in the corner is Parley, loaded by one line of HTML.</p>
      <div class="grid">{{PRODUCTS}}</div>
    </section>
    <aside aria-label="Checkout">
      <h2>Checkout</h2>
      <ul id="lines"></ul>
      <p id="empty" class="muted">Your checkout is empty.</p>
      <p><strong>Total <span id="total"></span></strong></p>
      <button type="button" id="place-order" disabled>Place order</button>
      <p id="placed" role="status"></p>
      <p class="muted">Checkout id: <code id="checkout-id">none yet</code></p>
    </aside>
  </main>
  <script>
  (function () {
    'use strict';
    // The storefront's own code: the checkout id and the customer's token live in
    // localStorage (a real storefront keeps them in cookies), and Parley hears of both.
    var config = {{CONFIG}};
    var KEY = 'saleor-standin-demo:' + config.apiUrl;
    var state = {};
    try { state = JSON.parse(localStorage.getItem(KEY) || '{}') || {}; } catch (e) { state = {}; }
    function save() { try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ } }
    function $(id) { return document.getElementById(id); }
    function money(amount, currency) { return (currency === 'EUR' ? '€' : currency + ' ') + amount; }

    // Parley's widget loads async: before it has run, plain values on window.Parley count.
    var parley = window.Parley = window.Parley || {};
    function setCheckout(id) {
      if (typeof parley.setCheckout === 'function') parley.setCheckout(id);
      else parley.checkoutId = id;
    }
    function identify(token) {
      if (typeof parley.identify === 'function') parley.identify(token);
      else parley.customerToken = token;
    }
    // An agent's checkout link from the chat (?checkout=<id>), or a card's add-to-cart,
    // hands this storefront a checkout Parley created: it becomes the shopper's cart.
    var linked = new URLSearchParams(location.search).get('checkout');
    if (linked) { state.checkoutId = linked; save(); }
    window.addEventListener('parley:checkout', function (event) {
      state.checkoutId = event.detail.checkoutId;
      save();
      call('GET', 'api/checkout/' + encodeURIComponent(state.checkoutId)).then(function (answer) {
        if (answer.ok) showCheckout(answer.data);
      });
    });
    var tokenValid = state.token && state.tokenExpires > Date.now() / 1000 + 30;
    if (tokenValid) parley.customerToken = state.token;
    if (state.checkoutId) parley.checkoutId = state.checkoutId;

    function call(method, path, body) {
      var headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
      if (state.token) headers.Authorization = 'Bearer ' + state.token;
      return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); });
    }

    function showCheckout(checkout) {
      var lines = $('lines');
      lines.textContent = '';
      (checkout ? checkout.lines : []).forEach(function (line) {
        var li = document.createElement('li');
        var name = document.createElement('span');
        name.textContent = line.quantity + ' × ' + line.name;
        var total = document.createElement('span');
        total.textContent = money(line.total, checkout.currency);
        li.append(name, total);
        lines.appendChild(li);
      });
      $('empty').hidden = !!(checkout && checkout.lines.length);
      $('total').textContent = checkout ? money(checkout.total, checkout.currency) : '';
      $('place-order').disabled = !(checkout && checkout.lines.length);
      $('checkout-id').textContent = checkout ? checkout.id : 'none yet';
    }

    function showCustomer() {
      $('who').textContent = state.name ? 'Signed in as ' + state.name : '';
      $('sign-in').hidden = !!state.name;
      $('sign-out').hidden = !state.name;
    }

    function signIn() {
      return call('POST', 'api/sign-in').then(function (answer) {
        state.token = answer.data.token;
        state.tokenExpires = Date.now() / 1000 + answer.data.expires_in;
        state.name = answer.data.name;
        save();
        showCustomer();
        identify(state.token);
      });
    }

    document.addEventListener('click', function (event) {
      var add = event.target.closest('[data-add]');
      if (!add) return;
      add.disabled = true;
      call('POST', 'api/cart', { checkout_id: state.checkoutId || null, product: add.dataset.add })
        .then(function (answer) {
          if (!answer.ok) throw new Error(answer.data.message);
          if (answer.data.id !== state.checkoutId) {
            state.checkoutId = answer.data.id;
            save();
            setCheckout(state.checkoutId);
          }
          $('placed').textContent = '';
          showCheckout(answer.data);
          add.textContent = 'Added ✓';
        })
        .catch(function () { add.textContent = 'Try again'; })
        .finally(function () { add.disabled = false; });
    });

    $('place-order').addEventListener('click', function () {
      $('place-order').disabled = true;
      call('POST', 'api/order', { checkout_id: state.checkoutId }).then(function (answer) {
        if (!answer.ok) throw new Error(answer.data.message);
        $('placed').textContent = 'Order #' + answer.data.number + ' placed (' +
          money(answer.data.total, answer.data.currency) + ')';
        delete state.checkoutId;
        save();
        setCheckout(null);
        showCheckout(null);
      }).catch(function (error) { $('placed').textContent = String(error.message || error); });
    });

    $('sign-in').addEventListener('click', signIn);
    $('sign-out').addEventListener('click', function () {
      delete state.token; delete state.tokenExpires; delete state.name;
      save();
      showCustomer();
      identify(null);
    });

    showCustomer();
    if (state.name && !tokenValid) signIn(); // customer tokens live 5 minutes: a fresh one per visit
    if (state.checkoutId) {
      call('GET', 'api/checkout/' + encodeURIComponent(state.checkoutId)).then(function (answer) {
        if (answer.ok) return showCheckout(answer.data);
        delete state.checkoutId; // completed or gone (the stand-in restarted)
        save();
        setCheckout(null);
      });
    }
  })();
  </script>
  <!-- Parley: the one line a Saleor storefront adds (docs/storefront-api.md) -->
  {{SNIPPET}}
</body>
</html>
"""
