"""`parley demo`: Parley plus the local Shopify stand-in and an installed demo shop.

Development only: the settings refuse `demo` and the stand-in in production.
"""

from __future__ import annotations

from app.config import load_settings

DEMO_SHOP = "parley-demo.myshopify.com"
DEMO_SHOP_NAME = "Parley Demo Store"
SECOND_SHOP = "parley-second.myshopify.com"
DEMO_CUSTOMER_ID = 7001


def build_demo(port: int, host: str = "127.0.0.1", database_url: str | None = None):
    """The demo's Parley app and stand-in, wired together; nothing is served yet."""
    from app import create_app
    from app.db import make_engine
    from app.migrate import upgrade
    from app.platforms.shopify.standin import ShopifyStandin

    overrides = {"demo": True, "app_url": f"http://{host}:{port}", "shopify_standin_url": f"http://{host}:{port + 1}"}
    if database_url:
        overrides["database_url"] = database_url
    settings = load_settings(**overrides)
    upgrade(make_engine(settings.database_url))
    standin = ShopifyStandin(settings.shopify_api_key, settings.shopify_api_secret)
    standin.add_shop(DEMO_SHOP, name=DEMO_SHOP_NAME)
    standin.add_shop(SECOND_SHOP, name="Parley Second Store")
    add_demo_storefront(standin, settings.app_url)
    app = create_app(settings)
    app.extensions["parley.demo_standin"] = standin
    return app, standin


def add_demo_storefront(standin, app_url: str):
    """The stand-in's Online Store with Parley's app embed on, and a customer who can sign in."""
    from app.platforms.shopify.standin_storefront import enable_storefront

    storefront = enable_storefront(standin, app_url)
    storefront.add_demo_customer(
        DEMO_SHOP,
        DEMO_CUSTOMER_ID,
        first_name="Mari",
        last_name="Tamm",
        email="mari@example.com",
        orders=[
            {"id": 5001, "name": "#1001", "created_at": "2026-10-02T09:30:00Z", "total": "129.90", "currency": "EUR",
             "financial_status": "paid", "fulfillment_status": "fulfilled"},
            {"id": 5002, "name": "#1002", "created_at": "2026-11-12T15:05:00Z", "total": "43.80", "currency": "EUR",
             "financial_status": "paid", "fulfillment_status": None},
        ],
    )
    return storefront


def storefront_url(standin_url: str, shop: str = DEMO_SHOP) -> str:
    return f"{standin_url.rstrip('/')}/store/{shop}/"


def install_demo_shop(app, standin) -> int:
    """Install the demo shop through the real App Home flow: ID token, then token exchange."""
    token = standin.mint_id_token(DEMO_SHOP)
    response = app.test_client().get("/", query_string={"embedded": "1", "shop": DEMO_SHOP, "id_token": token})
    return response.status_code


def run_demo(port: int, host: str = "127.0.0.1") -> int:
    from gevent.pywsgi import WSGIServer

    app, standin = build_demo(port, host)
    standin_server = WSGIServer((host, port + 1), standin.app, log=None)
    standin_server.start()
    status = install_demo_shop(app, standin)
    app.extensions["parley"].start_event_worker()
    base = f"http://{host}:{port}"
    print(
        "\n".join(
            [
                "",
                "Parley demo is running (development mode, Shopify stand-in).",
                f"  Demo page            {base}/demo",
                f"  Demo storefront      {storefront_url(f'http://{host}:{port + 1}')}  (shopper: the chat widget)",
                f"  Demo inbox           {base}/demo/inbox  (merchant: reply to shoppers)",
                f"  Support page         {base}/demo/support",
                f"  Landing page         {base}/",
                f"  Health               {base}/healthz",
                f"  Shopify stand-in     http://{host}:{port + 1}/store/{DEMO_SHOP}/admin/oauth/authorize",
                f"  Demo shop            {DEMO_SHOP} ({'installed' if status == 200 else f'install failed: HTTP {status}'})",
                "Press Ctrl+C to stop.",
                "",
            ]
        ),
        flush=True,
    )
    try:
        WSGIServer((host, port), app, log=None).serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        standin_server.stop()
    return 0
