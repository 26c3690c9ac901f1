"""Storefront widget weight: what the Parley theme app extension costs a shopper.

A page view downloads the two files Shopify injects for the app embed (the loader
and the stylesheet). The chat panel script and the API calls come only with the
first open. Sizes are gzip-compressed as a CDN would serve them; the baseline is
Shopify's cap of 10,000 compressed bytes per app-embed script, so the ratios read
as "share of the budget one script may use".
"""

from __future__ import annotations

import gzip
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "extensions" / "parley-chat" / "assets"
SHOPIFY_SCRIPT_CAP = 10_000  # bytes, compressed, per JavaScript file of a theme app extension

PAGE_VIEW_FILES = ("parley-loader.js", "parley.css")
PANEL_FILE = "parley-panel.js"
# On first open: the panel script, then POST {proxy}/session, GET /messages, the
# /stream event source and one read of cart.js. A shopper without a conversation yet
# skips /messages and /stream until the first message.
FIRST_OPEN_REQUESTS = ("parley-panel.js", "POST session", "GET messages", "GET stream", "GET cart.js")


def gzip_size(path: Path, level: int = 9) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=level, mtime=0))


def _sizes(name: str) -> dict:
    path = ASSETS / name
    return {"raw": path.stat().st_size, "gzip_9": gzip_size(path, 9), "gzip_6": gzip_size(path, 6)}


def run() -> dict:
    page_files = {name: _sizes(name) for name in PAGE_VIEW_FILES}
    panel = _sizes(PANEL_FILE)
    page_view_gzip = sum(sizes["gzip_9"] for sizes in page_files.values())
    loader_gzip = page_files["parley-loader.js"]["gzip_9"]
    return {
        "what": "gzip -9 bytes the Parley embed adds to a storefront page, and to the first chat open",
        "page_view": {
            "files": page_files,
            "bytes_gzip": page_view_gzip,
            "requests": len(PAGE_VIEW_FILES),
        },
        "first_open": {
            "panel": panel,
            "bytes_gzip": page_view_gzip + panel["gzip_9"],
            "added_bytes_gzip": panel["gzip_9"],
            "requests": len(FIRST_OPEN_REQUESTS),
            "request_list": list(FIRST_OPEN_REQUESTS),
            "requests_without_conversation": 3,  # panel script, session, cart.js
        },
        "shopify_script_cap": SHOPIFY_SCRIPT_CAP,
        "page_view_ratio": round(page_view_gzip / SHOPIFY_SCRIPT_CAP, 3),
        "loader_ratio": round(loader_gzip / SHOPIFY_SCRIPT_CAP, 3),
        "panel_ratio": round(panel["gzip_9"] / SHOPIFY_SCRIPT_CAP, 3),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
