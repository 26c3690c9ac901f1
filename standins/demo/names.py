"""The demo's shops and where their pages are."""

from __future__ import annotations

DEMO_SHOP = "parley-demo.myshopify.com"
DEMO_SHOP_NAME = "Parley Demo Store"
SECOND_SHOP = "parley-second.myshopify.com"
DEMO_CUSTOMER_ID = 7001
# Where Parley's development sign-in lives (standins/demo/pages.py), as DEV_SIGN_IN_URL.
SIGN_IN_PATH = "/demo"


def storefront_url(standin_url: str, shop: str = DEMO_SHOP) -> str:
    return f"{standin_url.rstrip('/')}/store/{shop}/"


def saleor_pages(saleor_url: str) -> dict[str, str]:
    base = saleor_url.rstrip("/")
    return {"dashboard": f"{base}/dashboard/", "storefront": f"{base}/storefront/"}
