"""`parley demo`: Parley plus the local Shopify stand-in and an installed demo shop.

Development only: the settings refuse `demo` and the stand-in in production.
"""

from __future__ import annotations

from app.config import load_settings

DEMO_SHOP = "parley-demo.myshopify.com"
DEMO_SHOP_NAME = "Parley Demo Store"
SECOND_SHOP = "parley-second.myshopify.com"


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
    app = create_app(settings)
    app.extensions["parley.demo_standin"] = standin
    return app, standin


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
    base = f"http://{host}:{port}"
    print(
        "\n".join(
            [
                "",
                "Parley demo is running (development mode, Shopify stand-in).",
                f"  Demo page            {base}/demo",
                f"  Merchant app (admin) {base}/demo/admin",
                f"  Landing page         {base}/",
                f"  Health               {base}/healthz",
                f"  Shopify stand-in     http://{host}:{port + 1}/store/{DEMO_SHOP}/admin/oauth/authorize (API only)",
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
