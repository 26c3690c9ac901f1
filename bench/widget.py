"""Storefront widget weight: what the Parley theme app extension costs a shopper.

A page view downloads one file, the loader (the block fetches it after the page has
loaded; the launcher's styles ride inside it). The stylesheet, the chat panel script and
the API calls come only with the first open. Sizes are compressed as a CDN serves them
(gzip -9, and brotli as Parley's own /widget/ and Shopify's CDN serve Chromium); the
baseline is Shopify's cap of 10,000 compressed bytes per app-embed script, so the ratios
read as "share of the budget one script may use". bench/lighthouse.py measures the same
page in a browser.
"""

from __future__ import annotations

import gzip
import importlib
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent.parent / "extensions" / "parley-chat" / "assets"
SHOPIFY_SCRIPT_CAP = 10_000  # bytes, compressed, per JavaScript file of a theme app extension
PAGE_VIEW_BUDGET = 4_000  # bytes, compressed: issue 11's goal for a page view

PAGE_VIEW_FILES = ("parley-loader.js",)
FIRST_OPEN_FILES = ("parley-panel.js", "parley.css")
# On first open: the panel script and its stylesheet, then POST {proxy}/session, GET
# /messages, the /stream event source and one read of cart.js. A shopper without a
# conversation yet skips /messages and /stream until the first message.
FIRST_OPEN_REQUESTS = ("parley-panel.js", "parley.css", "POST session", "GET messages", "GET stream", "GET cart.js")


def _brotli() -> Any:
    try:
        return importlib.import_module("brotli")
    except ImportError:
        return None


def gzip_size(path: Path, level: int = 9) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=level, mtime=0))


def _sizes(name: str) -> dict:
    path = ASSETS / name
    sizes = {"raw": path.stat().st_size, "gzip_9": gzip_size(path, 9), "gzip_6": gzip_size(path, 6)}
    brotli = _brotli()
    if brotli is not None:
        sizes["br"] = len(brotli.compress(path.read_bytes(), quality=11))
    return sizes


def run() -> dict:
    page_files = {name: _sizes(name) for name in PAGE_VIEW_FILES}
    open_files = {name: _sizes(name) for name in FIRST_OPEN_FILES}
    page_view_gzip = sum(sizes["gzip_9"] for sizes in page_files.values())
    open_gzip = sum(sizes["gzip_9"] for sizes in open_files.values())
    loader_gzip = page_files["parley-loader.js"]["gzip_9"]
    panel_gzip = open_files["parley-panel.js"]["gzip_9"]
    result = {
        "what": "compressed bytes the Parley embed adds to a storefront page, and to the first chat open",
        "page_view": {
            "files": page_files,
            "bytes_gzip": page_view_gzip,
            "requests": len(PAGE_VIEW_FILES),
            "budget": PAGE_VIEW_BUDGET,
        },
        "first_open": {
            "files": open_files,
            "bytes_gzip": page_view_gzip + open_gzip,
            "added_bytes_gzip": open_gzip,
            "requests": len(FIRST_OPEN_REQUESTS),
            "request_list": list(FIRST_OPEN_REQUESTS),
            "requests_without_conversation": 4,  # panel script, stylesheet, session, cart.js
        },
        "shopify_script_cap": SHOPIFY_SCRIPT_CAP,
        "page_view_ratio": round(page_view_gzip / SHOPIFY_SCRIPT_CAP, 3),
        "loader_ratio": round(loader_gzip / SHOPIFY_SCRIPT_CAP, 3),
        "panel_ratio": round(panel_gzip / SHOPIFY_SCRIPT_CAP, 3),
    }
    if _brotli() is not None:
        result["page_view"]["bytes_br"] = sum(sizes["br"] for sizes in page_files.values())
        result["first_open"]["added_bytes_br"] = sum(sizes["br"] for sizes in open_files.values())
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
