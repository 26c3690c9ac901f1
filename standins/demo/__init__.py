"""`parley demo`: Parley plus two local stand-ins, each with an installed demo shop.

- port N: Parley;
- port N+1: the Shopify stand-in with its demo storefront (Liquid theme, Ajax cart,
  app proxy, one-click checkout sending orders/create and carts/update webhooks);
- port N+2: the Saleor stand-in with a "Saleor Dashboard" page that iframes Parley
  and a Saleor storefront page carrying Parley's one-line widget snippet.

Development only: Parley is wired to the stand-ins through the seams `create_app`
takes (a Shopify transport, development origins, the sign-in without App Bridge),
which production settings refuse; the Saleor stand-in's demo pages refuse
PARLEY_ENV=production themselves.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from app import create_app
from app.config import load_settings
from app.db import make_engine
from app.migrate import upgrade
from app.models import Platform
from app.notify.mail_in import controller
from standins.demo import pages
from standins.demo.names import (
    DEMO_CUSTOMER_ID,
    DEMO_SHOP,
    DEMO_SHOP_NAME,
    SECOND_SHOP,
    SIGN_IN_PATH,
    saleor_pages,
    storefront_url,
)
from standins.saleor.standin import SaleorStandin
from standins.shopify.standin import ShopifyStandin
from standins.shopify.transport import standin_http

__all__ = [
    "DEMO_CUSTOMER_ID",
    "DEMO_SHOP",
    "SECOND_SHOP",
    "build_demo",
    "demo_settings",
    "install_demo_shop",
    "install_saleor_demo",
    "run_demo",
    "saleor_pages",
    "storefront_url",
    "with_demo_pages",
]


def demo_settings(app_url: str, shopify_url: str, **overrides: Any) -> dict[str, Any]:
    """Parley's settings for a local admin and storefront served by the Shopify stand-in."""
    return {
        "app_url": app_url,
        "dev_storefront_origins": shopify_url,
        "shopify_app_bridge": False,
        "dev_sign_in_url": SIGN_IN_PATH,
        **overrides,
    }


def with_demo_pages(app: Flask, standin: ShopifyStandin, saleor: SaleorStandin | None = None) -> Flask:
    """Parley's app with the demo's own pages (/demo: sign-in, minimal inbox) added."""
    app.extensions["parley.demo_standin"] = standin
    if saleor is not None:
        app.extensions["parley.demo_saleor"] = saleor
    app.register_blueprint(pages.bp)
    return app


def build_demo(port: int, host: str = "127.0.0.1", database_url: str | None = None) -> tuple[Flask, ShopifyStandin]:
    """The demo's Parley app and stand-ins, wired together; nothing is served yet."""
    shopify_url = f"http://{host}:{port + 1}"
    overrides = demo_settings(f"http://{host}:{port}", shopify_url)
    if database_url:
        overrides["database_url"] = database_url
    settings = load_settings(**overrides)
    upgrade(make_engine(settings.database_url))
    standin = ShopifyStandin(settings.shopify_api_key, settings.shopify_api_secret)
    standin.url = shopify_url
    standin.add_shop(DEMO_SHOP, name=DEMO_SHOP_NAME)
    standin.add_shop(SECOND_SHOP, name="Parley Second Store")
    add_demo_storefront(standin, settings.app_url)
    app = create_app(settings, shopify_http=standin_http(shopify_url))
    with_demo_pages(app, standin, add_saleor_standin(settings.app_url, f"http://{host}:{port + 2}"))
    return app, standin


def add_saleor_standin(app_url: str, saleor_url: str) -> SaleorStandin:
    """The Saleor stand-in at `saleor_url` with its demo pages; Parley is not installed yet
    (install_saleor_demo does that once Parley serves). Webhooks go out as soon as they
    are queued, as Saleor's workers send them."""
    from standins.saleor.pages import enable_demo_pages

    saleor = SaleorStandin(auto_deliver=True)
    saleor.url = saleor_url.rstrip("/")
    enable_demo_pages(saleor, app_url)
    return saleor


def install_saleor_demo(app: Flask, saleor: SaleorStandin) -> dict[str, Any]:
    """Install Parley into the Saleor stand-in the real way: the stand-in GETs
    `{APP_URL}/saleor/manifest` and POSTs its app token to /saleor/register, where
    Parley checks it against the stand-in's GraphQL and fetches its JWKS. Parley must
    already be serving on APP_URL. Returns the stand-in's {status, message, app_id}."""
    from app.chat.shop_settings import put_setting
    from app.web.origins import known_origins

    services = app.extensions["parley"]
    outcome = saleor.install_app(f"{services.settings.app_url}/saleor/manifest")
    if outcome["status"] != "installed":
        return outcome
    # The widget on the stand-in's storefront page calls Parley cross-origin: allow its
    # origin, as a merchant would in Settings (which asks for https://; the stand-in is
    # plain http on loopback, so the demo writes the setting directly).
    origin = saleor.url.rstrip("/")
    with services.db.transaction() as session:
        shop = services.saleor.apps.find(session, saleor.api_url)
        put_setting(session, shop.id, "storefront_origins", [origin], services.now())
        # The agent's checkout links open the demo storefront's page with the checkout.
        put_setting(session, shop.id, "checkout_url", f"{origin}/storefront/?checkout={{checkout_id}}", services.now())
    with app.app_context():
        known_origins().forget()  # CORS preflights re-read the origins
    _demo_alerts(app, Platform.saleor, saleor.api_url)
    return outcome


def add_demo_storefront(standin: ShopifyStandin, app_url: str) -> Any:
    """The stand-in's Online Store with Parley's app embed on, and a customer who can sign in."""
    from standins.shopify.storefront import enable_storefront

    storefront = enable_storefront(standin, app_url)
    storefront.add_demo_customer(
        DEMO_SHOP,
        DEMO_CUSTOMER_ID,
        first_name="Mari",
        last_name="Tamm",
        email="mari@example.com",
        orders=[
            {
                "id": 5001,
                "name": "#1001",
                "created_at": "2026-10-02T09:30:00Z",
                "total": "129.90",
                "currency": "EUR",
                "financial_status": "paid",
                "fulfillment_status": "fulfilled",
            },
            {
                "id": 5002,
                "name": "#1002",
                "created_at": "2026-11-12T15:05:00Z",
                "total": "43.80",
                "currency": "EUR",
                "financial_status": "paid",
                "fulfillment_status": None,
            },
        ],
    )
    return storefront


DEMO_ALERTS = "team@parley-demo.test"


def install_demo_shop(app: Flask, standin: ShopifyStandin) -> int:
    """Install the demo shop through the real App Home flow: ID token, then token exchange;
    its alerts go to a demo address (the console mailer keeps them at /demo/mail)."""
    token = standin.mint_id_token(DEMO_SHOP)
    response = app.test_client().get("/", query_string={"embedded": "1", "shop": DEMO_SHOP, "id_token": token})
    if response.status_code == 200:
        _demo_alerts(app, Platform.shopify, DEMO_SHOP)
    return response.status_code


def _demo_alerts(app: Flask, platform: Platform, domain: str) -> None:
    from app import shops
    from app.notify.settings import put_notify_settings

    services = app.extensions["parley"]
    with services.db.transaction() as session:
        shop = shops.find_installed_shop(session, platform, domain)
        if shop is not None and shop.id is not None:
            put_notify_settings(
                session, shop.id, {"alert_emails": [DEMO_ALERTS], "alert_batch_minutes": 1}, services.now()
            )


def run_demo(port: int, host: str = "127.0.0.1") -> int:
    from gevent.pywsgi import WSGIServer

    app, standin = build_demo(port, host)
    saleor = app.extensions["parley.demo_saleor"]
    standin_server = WSGIServer((host, port + 1), standin.app, log=None)
    standin_server.start()
    saleor_server = WSGIServer((host, port + 2), saleor.app, log=None)
    saleor_server.start()
    status = install_demo_shop(app, standin)
    services = app.extensions["parley"]
    services.inbound.start_worker()
    services.notify.outbox.start()
    services.auto_replies.start()
    # Replies by e-mail: point any SMTP client at port N+3 (e.g. swaks --server host:port).
    mail_in = controller(services.notify.inbound, host, port + 3)
    mail_in.start()
    server = WSGIServer((host, port), app, log=None)
    server.start()
    # Saleor's install calls Parley, which calls Saleor back: all three must be serving.
    # `parley demo` runs under gevent's monkey patching, so this wait yields to them.
    try:
        saleor_outcome = install_saleor_demo(app, saleor)
    except Exception as exc:  # noqa: BLE001 - the Shopify half of the demo still works
        saleor_outcome = {"status": "failed", "message": f"{type(exc).__name__}: {exc}"}
    # The shop's assistant in six languages, the store's pages to import, a tracked order.
    from standins.demo.answers import seed_demo_assistant

    seed_demo_assistant(app, standin, saleor if saleor_outcome["status"] == "installed" else None)
    base = f"http://{host}:{port}"
    shopify_url = f"http://{host}:{port + 1}"
    pages = saleor_pages(saleor.url)
    saleor_state = (
        "installed" if saleor_outcome["status"] == "installed" else f"install failed: {saleor_outcome['message']}"
    )
    print(
        "\n".join(
            [
                "",
                "Parley demo is running (development mode, Shopify and Saleor stand-ins).",
                f"  Demo page                     {base}/demo",
                f"  Demo storefront               {storefront_url(shopify_url)}  (shopper: chat, add to cart, check out)",
                f"  Demo inbox                    {base}/demo/inbox  (merchant: reply to shoppers)",
                f"  Support page                  {base}/demo/support",
                f"  Mail Parley sent              {base}/demo/mail  (alerts, replies by e-mail, resume links)",
                f"  Replies by e-mail (SMTP)      {host}:{port + 3}  (answer a reply's Reply-To address here)",
                f"  Saleor Dashboard (stand-in)   {pages['dashboard']}  (merchant: Parley inside the Dashboard)",
                f"  Saleor storefront (stand-in)  {pages['storefront']}  (shopper: one-line widget, place order)",
                f"  Landing page                  {base}/",
                f"  Health                        {base}/healthz",
                f"  Demo shop                     {DEMO_SHOP} ({'installed' if status == 200 else f'install failed: HTTP {status}'})",
                f"  Saleor demo shop              {saleor.api_url} ({saleor_state})",
                "Press Ctrl+C to stop.",
                "",
            ]
        ),
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop(timeout=1)
        mail_in.stop()
        standin_server.stop(timeout=1)
        saleor_server.stop(timeout=1)
        assert standin.storefront is not None  # build_demo added the storefront
        standin.storefront.close()
        saleor.client.close()
    return 0
